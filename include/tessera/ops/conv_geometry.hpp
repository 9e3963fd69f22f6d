/// @file conv_geometry.hpp
/// The geometry of a 2-D convolution (conv2d, depthwise, pooling windows): sizes, stride,
/// dilation, padding, groups, checked once into a `conv_geometry` that every conv operator takes.
///
///   conv_shape s{.batch = 1, .in_h = 224, .in_w = 224, .in_c = 3, .out_c = 32,
///                .kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2};
///   conv_geometry g;
///   if (status st = make_conv_geometry(s, padding::same, g); !st) return st;   // 112 x 112 out
///
/// Padding follows TFLite: `same` pads `total = max(0, (out-1)*stride + (k-1)*dil + 1 - in)` with
/// `before = total / 2` (the odd extra row/column goes bottom/right), `valid` pads nothing, and
/// `explicit_pads` takes pad_top/left/bottom/right from the shape. Output element (n, oy, ox, o)
/// reads input rows `iy = oy*stride_h - pad_top + ky*dilation_h` (likewise x); rows outside the input
/// contribute as if they held the input zero point.
#pragma once
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <tessera/core/status.hpp>

namespace tessera {

/// How the padding of a convolution is given.
enum class padding : std::uint8_t {
  same,           ///< TFLite SAME: out = ceil(in / stride), padding split as above
  valid,          ///< TFLite VALID: no padding, out = (in - effective_kernel) / stride + 1
  explicit_pads,  ///< pad_top/left/bottom/right as given; out from them unless out_h/out_w are set
};

/// A convolution as the caller describes it. Signed fields so that a negative size is reported,
/// not wrapped. `groups` divides in_c and out_c (depthwise operators ignore it).
struct conv_shape {
  std::int64_t batch = 1, in_h = 0, in_w = 0, in_c = 0, out_c = 0;
  std::int64_t kernel_h = 1, kernel_w = 1;
  std::int64_t stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  std::int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;  ///< explicit_pads only
  std::int64_t out_h = 0, out_w = 0;  ///< explicit_pads only: 0 = computed from the pads
  std::int64_t groups = 1;
};

/// A checked convolution geometry: every size positive, every product below `conv_geometry::max_elems`.
struct conv_geometry {
  static constexpr std::size_t max_dim = std::size_t{1} << 24;    ///< bound of one size
  static constexpr std::size_t max_elems = std::size_t{1} << 31;  ///< bound of any tensor's element count
  std::size_t batch = 0, in_h = 0, in_w = 0, in_c = 0;
  std::size_t out_h = 0, out_w = 0, out_c = 0;
  std::size_t kernel_h = 0, kernel_w = 0, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  std::size_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  std::size_t groups = 1;
  /// A transposed convolution (make_transpose_conv_geometry): output row oy receives input row iy
  /// through tap ky when oy = iy*stride_h - pad_top + ky (likewise x); dilation is 1.
  bool transposed = false;

  constexpr std::size_t group_in_c() const noexcept { return in_c / groups; }    ///< input channels per group
  constexpr std::size_t group_out_c() const noexcept { return out_c / groups; }  ///< output channels per group
  constexpr std::size_t taps() const noexcept { return kernel_h * kernel_w; }    ///< kernel positions
  constexpr std::size_t depth() const noexcept { return taps() * group_in_c(); } ///< GEMM K of one group
  constexpr std::size_t out_pixels() const noexcept { return batch * out_h * out_w; }  ///< GEMM M
  constexpr std::size_t in_elems() const noexcept { return batch * in_h * in_w * in_c; }
  constexpr std::size_t out_elems() const noexcept { return out_pixels() * out_c; }
  /// True when the input, read as an (out_pixels x in_c) matrix, is already the GEMM's A.
  constexpr bool is_pointwise() const noexcept {
    return kernel_h == 1 && kernel_w == 1 && stride_h == 1 && stride_w == 1 && pad_top == 0 && pad_left == 0 &&
           pad_bottom == 0 && pad_right == 0 && out_h == in_h && out_w == in_w;
  }
};

namespace detail {
/// a * b, or false when it exceeds `limit`.
constexpr bool mul_within(std::size_t a, std::size_t b, std::size_t limit, std::size_t& out) noexcept {
  if (a != 0 && b > limit / a) return false;
  out = a * b;
  return out <= limit;
}

/// One spatial dimension: output size and padding. 0 on success, else a message.
constexpr const char* conv_dim(std::int64_t in, std::int64_t k, std::int64_t stride, std::int64_t dil, padding mode,
                               std::int64_t& before, std::int64_t& after, std::int64_t& out) noexcept {
  const std::int64_t eff = (k - 1) * dil + 1;
  switch (mode) {
    case padding::same: {
      out = (in + stride - 1) / stride;
      const std::int64_t total = (out - 1) * stride + eff - in;
      before = total > 0 ? total / 2 : 0;
      after = total > 0 ? total - before : 0;
      return nullptr;
    }
    case padding::valid:
      before = after = 0;
      if (eff > in) return "conv: the (dilated) kernel is larger than the input (VALID padding)";
      out = (in - eff) / stride + 1;
      return nullptr;
    case padding::explicit_pads: {
      if (before < 0 || after < 0) return "conv: padding must be >= 0";
      if (eff > in + before + after) return "conv: the (dilated) kernel is larger than the padded input";
      const std::int64_t full = (in + before + after - eff) / stride + 1;
      if (out == 0) out = full;
      if (out < 1 || out > full) return "conv: the output size does not fit the padded input";
      // The padding the last window actually touches (TFLite/CMSIS pad_bottom); never more than given.
      const std::int64_t touched = (out - 1) * stride + eff - in - before;
      after = touched > 0 ? touched : 0;
      return nullptr;
    }
  }
  return "conv: unknown padding mode";
}
}  // namespace detail

/// Checks a geometry however it was made (make_* or by hand): every size, stride, dilation and
/// `groups` >= 1 and at most 2^24, paddings at most 2^24, groups dividing in_c and out_c, input,
/// output and filter (out_c x kh x kw x in_c/groups) below 2^31 elements, kh*kw*in_c/groups at most
/// 2^24, and for forward geometries every window inside the padded input. Operators call it before
/// any size arithmetic, so a hand-made geometry gets a status, never a division by zero.
constexpr status check_conv_geometry(const conv_geometry& g) noexcept {
  constexpr auto bad = status_code::invalid_argument;
  constexpr std::size_t dim = conv_geometry::max_dim, cap = conv_geometry::max_elems;
  const std::size_t sizes[] = {g.batch,    g.in_h,     g.in_w,     g.in_c,     g.out_h,      g.out_w,      g.out_c,
                               g.kernel_h, g.kernel_w, g.stride_h, g.stride_w, g.dilation_h, g.dilation_w, g.groups};
  for (std::size_t v : sizes)
    if (v == 0) return {bad, "conv geometry: every size, stride, dilation and groups must be >= 1"};
  for (std::size_t v : sizes)
    if (v > dim) return {status_code::overflow, "conv geometry: a size is larger than 2^24"};
  for (std::size_t v : {g.pad_top, g.pad_left, g.pad_bottom, g.pad_right})
    if (v > dim) return {status_code::overflow, "conv geometry: a padding is larger than 2^24"};
  if (g.in_c % g.groups != 0 || g.out_c % g.groups != 0)
    return {bad, "conv geometry: groups must divide both input and output channels"};
  std::size_t t = 0;
  using detail::mul_within;
  if (!mul_within(g.batch, g.in_h, cap, t) || !mul_within(t, g.in_w, cap, t) || !mul_within(t, g.in_c, cap, t))
    return {status_code::overflow, "conv geometry: the input has more than 2^31 elements"};
  if (!mul_within(g.batch, g.out_h, cap, t) || !mul_within(t, g.out_w, cap, t) || !mul_within(t, g.out_c, cap, t))
    return {status_code::overflow, "conv geometry: the output has more than 2^31 elements"};
  if (!mul_within(g.kernel_h, g.kernel_w, dim, t) || !mul_within(t, g.group_in_c(), dim, t))
    return {status_code::overflow, "conv geometry: kernel_h * kernel_w * input channels per group is larger than 2^24"};
  if (!mul_within(t, g.out_c, cap, t)) return {status_code::overflow, "conv geometry: the filter has more than 2^31 elements"};
  if constexpr (sizeof(std::size_t) < 8) {
    // 32-bit targets (Cortex-M): the byte sizes the operators derive from a geometry (packed
    // filters with padded tiles and bias, rows of tap pointers, depthwise rows expanded to out_c
    // channels) must fit a 32-bit size_t, so those element counts stay below 2^26.
    constexpr std::size_t lim32 = std::size_t{1} << 26;
    std::size_t f = 0, p = 0, e = 0;
    if (!mul_within(g.kernel_h, g.kernel_w, lim32, f) || !mul_within(f, g.in_c, lim32, f) ||
        !mul_within(f, g.out_c, lim32, f) || !mul_within(g.kernel_h * g.kernel_w, g.out_w, lim32, p) ||
        !mul_within(g.in_w + g.pad_left + g.pad_right, g.out_c, lim32, e))
      return {status_code::overflow,
              "conv geometry: on a 32-bit target the filter, a row of tap pointers and an expanded input row "
              "are limited to 2^26 elements"};
  }
  if (!g.transposed) {
    // Every window lies in the padded input (all factors <= 2^24: exact in 64 bits).
    auto fits = [](std::uint64_t out, std::uint64_t stride, std::uint64_t k, std::uint64_t dil, std::uint64_t in,
                   std::uint64_t before, std::uint64_t after) {
      return (out - 1) * stride + (k - 1) * dil + 1 <= in + before + after;
    };
    if (!fits(g.out_h, g.stride_h, g.kernel_h, g.dilation_h, g.in_h, g.pad_top, g.pad_bottom) ||
        !fits(g.out_w, g.stride_w, g.kernel_w, g.dilation_w, g.in_w, g.pad_left, g.pad_right))
      return {bad, "conv geometry: the (dilated) kernel windows reach past the padded input"};
  }
  return status::success();
}

/// Checks `s` and computes output size and padding into `g`.
/// Errors: a size, stride or dilation < 1; groups not dividing in_c and out_c; a kernel larger
/// than the padded input; sizes past 2^24 or tensors past 2^31 elements (overflow).
constexpr status make_conv_geometry(const conv_shape& s, padding mode, conv_geometry& g) noexcept {
  constexpr auto bad = status_code::invalid_argument;
  if (s.batch < 1 || s.in_h < 1 || s.in_w < 1 || s.in_c < 1 || s.out_c < 1)
    return {bad, "conv: batch, input height/width/channels and output channels must be >= 1"};
  if (s.kernel_h < 1 || s.kernel_w < 1) return {bad, "conv: kernel height and width must be >= 1"};
  if (s.stride_h < 1 || s.stride_w < 1) return {bad, "conv: strides must be >= 1"};
  if (s.dilation_h < 1 || s.dilation_w < 1) return {bad, "conv: dilations must be >= 1"};
  if (s.groups < 1) return {bad, "conv: groups must be >= 1"};
  const std::int64_t lim = static_cast<std::int64_t>(conv_geometry::max_dim);
  for (std::int64_t v : {s.batch, s.in_h, s.in_w, s.in_c, s.out_c, s.kernel_h, s.kernel_w, s.stride_h, s.stride_w,
                         s.dilation_h, s.dilation_w, s.groups, s.pad_top, s.pad_left, s.pad_bottom, s.pad_right,
                         s.out_h, s.out_w})
    if (v > lim) return {status_code::overflow, "conv: a size is larger than 2^24"};
  if (s.in_c % s.groups != 0 || s.out_c % s.groups != 0)
    return {bad, "conv: groups must divide both input and output channels"};
  if (mode == padding::explicit_pads && (s.out_h < 0 || s.out_w < 0)) return {bad, "conv: output size must be >= 0"};
  std::int64_t pt = s.pad_top, pb = s.pad_bottom, pl = s.pad_left, pr = s.pad_right, oh = s.out_h, ow = s.out_w;
  if (mode != padding::explicit_pads) oh = ow = 0;
  if (const char* e = detail::conv_dim(s.in_h, s.kernel_h, s.stride_h, s.dilation_h, mode, pt, pb, oh)) return {bad, e};
  if (const char* e = detail::conv_dim(s.in_w, s.kernel_w, s.stride_w, s.dilation_w, mode, pl, pr, ow)) return {bad, e};
  conv_geometry r;
  r.batch = static_cast<std::size_t>(s.batch);
  r.in_h = static_cast<std::size_t>(s.in_h);
  r.in_w = static_cast<std::size_t>(s.in_w);
  r.in_c = static_cast<std::size_t>(s.in_c);
  r.out_h = static_cast<std::size_t>(oh);
  r.out_w = static_cast<std::size_t>(ow);
  r.out_c = static_cast<std::size_t>(s.out_c);
  r.kernel_h = static_cast<std::size_t>(s.kernel_h);
  r.kernel_w = static_cast<std::size_t>(s.kernel_w);
  r.stride_h = static_cast<std::size_t>(s.stride_h);
  r.stride_w = static_cast<std::size_t>(s.stride_w);
  r.dilation_h = static_cast<std::size_t>(s.dilation_h);
  r.dilation_w = static_cast<std::size_t>(s.dilation_w);
  r.pad_top = static_cast<std::size_t>(pt);
  r.pad_left = static_cast<std::size_t>(pl);
  r.pad_bottom = static_cast<std::size_t>(pb);
  r.pad_right = static_cast<std::size_t>(pr);
  r.groups = static_cast<std::size_t>(s.groups);
  TESSERA_TRY(check_conv_geometry(r));
  std::size_t t = 0;  // the filter bound of make_conv_geometry counts every input channel
  if (!detail::mul_within(r.kernel_h, r.kernel_w, conv_geometry::max_elems, t) ||
      !detail::mul_within(t, r.in_c, conv_geometry::max_elems, t) ||
      !detail::mul_within(t, r.out_c, conv_geometry::max_elems, t))
    return {status_code::overflow, "conv: the filter has more than 2^31 elements"};
  g = r;
  return status::success();
}

/// A transposed convolution (TFLite TRANSPOSE_CONV) as the caller describes it: the output size
/// is given (TFLite's `output_shape`), the filter is [out_c][kernel_h][kernel_w][in_c].
struct transpose_conv_shape {
  std::int64_t batch = 1, in_h = 0, in_w = 0, in_c = 0, out_h = 0, out_w = 0, out_c = 0;
  std::int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  std::int64_t pad_top = 0, pad_left = 0;  ///< explicit_pads only
};

/// Checks `s` into a geometry with `transposed` set. Padding as TFLite's transpose_conv.cc: the
/// padding a forward conv from an out_h x out_w input would use (`same`: total = max(0, (ceil(out/stride)
/// - 1) * stride + k - out), top = total / 2; `valid`: 0), or pad_top/left as given.
constexpr status make_transpose_conv_geometry(const transpose_conv_shape& s, padding mode, conv_geometry& g) noexcept {
  constexpr auto bad = status_code::invalid_argument;
  if (s.batch < 1 || s.in_h < 1 || s.in_w < 1 || s.in_c < 1 || s.out_h < 1 || s.out_w < 1 || s.out_c < 1)
    return {bad, "transpose_conv: batch, input and output sizes and channels must be >= 1"};
  if (s.kernel_h < 1 || s.kernel_w < 1) return {bad, "transpose_conv: kernel height and width must be >= 1"};
  if (s.stride_h < 1 || s.stride_w < 1) return {bad, "transpose_conv: strides must be >= 1"};
  if (s.pad_top < 0 || s.pad_left < 0) return {bad, "transpose_conv: padding must be >= 0"};
  const std::int64_t lim = static_cast<std::int64_t>(conv_geometry::max_dim);
  for (std::int64_t v : {s.batch, s.in_h, s.in_w, s.in_c, s.out_h, s.out_w, s.out_c, s.kernel_h, s.kernel_w,
                         s.stride_h, s.stride_w, s.pad_top, s.pad_left})
    if (v > lim) return {status_code::overflow, "transpose_conv: a size is larger than 2^24"};
  auto pad_of = [&](std::int64_t out, std::int64_t k, std::int64_t stride, std::int64_t given) -> std::int64_t {
    if (mode == padding::explicit_pads) return given;
    if (mode == padding::valid) return 0;
    const std::int64_t n = (out + stride - 1) / stride, total = (n - 1) * stride + k - out;
    return total > 0 ? total / 2 : 0;
  };
  conv_geometry r;
  r.transposed = true;
  r.batch = static_cast<std::size_t>(s.batch);
  r.in_h = static_cast<std::size_t>(s.in_h);
  r.in_w = static_cast<std::size_t>(s.in_w);
  r.in_c = static_cast<std::size_t>(s.in_c);
  r.out_h = static_cast<std::size_t>(s.out_h);
  r.out_w = static_cast<std::size_t>(s.out_w);
  r.out_c = static_cast<std::size_t>(s.out_c);
  r.kernel_h = static_cast<std::size_t>(s.kernel_h);
  r.kernel_w = static_cast<std::size_t>(s.kernel_w);
  r.stride_h = static_cast<std::size_t>(s.stride_h);
  r.stride_w = static_cast<std::size_t>(s.stride_w);
  r.pad_top = static_cast<std::size_t>(pad_of(s.out_h, s.kernel_h, s.stride_h, s.pad_top));
  r.pad_left = static_cast<std::size_t>(pad_of(s.out_w, s.kernel_w, s.stride_w, s.pad_left));
  if (r.pad_top >= r.kernel_h + (r.in_h - 1) * r.stride_h || r.pad_left >= r.kernel_w + (r.in_w - 1) * r.stride_w)
    return {bad, "transpose_conv: the padding removes every output the input reaches"};
  TESSERA_TRY(check_conv_geometry(r));
  g = r;
  return status::success();
}

}  // namespace tessera
