/// @file conv_strided.hpp
/// The strided-segments driver behind conv2d_f32's `conv_algorithm::strided_gemm` (groups = 1,
/// dilation_w = 1): no panel copy and no pointer per pixel and tap. The output pixels of one output
/// row whose windows lie inside the input in x (the interior) form a strided matrix: row p of the
/// GEMM's A is kernel_h segments of kernel_w * in_c contiguous floats, segment ky at
///     in_row(oy * stride_h - pad_top + ky * dilation_h) + (ox0 + p) * stride_w * in_c - pad_left * in_c,
/// which a kernel with a strided entry (`kernels::has_strided_f32`) reads with one base pointer per
/// segment and a row stride of stride_w * in_c. A kernel row in the padding reads a zero row. The
/// edge columns (windows reaching past the left or right edge) read small zero-padded copies of the
/// input columns they cover (edge strips): per band of up to mr consecutive output rows, each edge
/// column is one call over the band's rows (whose outputs lie out_w pixels apart).
///
/// Workspace: the zero row (when some output row has a kernel row in the padding), then the left
/// and right strips of a band: zero + band * kh * (left + right) elements (strided_plan).
#pragma once
#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <tessera/core/status.hpp>
#include <tessera/kernels/gemm/op_f32.hpp>
#include <tessera/ops/conv_geometry.hpp>
#include <tessera/ops/detail/conv_gather.hpp>

namespace tessera::kernels {
/// True when an fp32 GEMM kernel K offers a strided-segments entry:
///
///     static void run_strided(m, n, ks, kc, const float* const* seg, a_stride, packed_b, c, c_stride, clamp) noexcept;
///
/// C = clamp(A B + bias) where row i of A is ks segments of kc floats, segment t at
/// seg[t] + i * a_stride (the packed B of depth ks * kc, op_f32.hpp).
template <class K>
concept has_strided_f32 = requires(const float* const* seg, const void* b, float* c, const f32_clamp& p) {
  { K::mr() } -> std::convertible_to<std::size_t>;
  K::run_strided(std::size_t{}, std::size_t{}, std::size_t{}, std::size_t{}, seg, std::size_t{}, b, c, std::size_t{}, p);
};
}  // namespace tessera::kernels

namespace tessera::detail {

/// The most kernel rows the strided driver takes (segment pointers live on the stack).
inline constexpr std::size_t strided_max_segments = 16;

/// True when `g` (a forward, non-pointwise geometry) can run on the strided driver.
constexpr bool strided_shape(const conv_geometry& g) noexcept {
  return !g.transposed && g.groups == 1 && g.dilation_w == 1 && g.kernel_h <= strided_max_segments;
}

/// How the strided driver splits a layer's output columns, and the sizes of its workspace parts
/// (in elements): output columns [lo, hi) have their windows inside the input in x (the interior;
/// lo == hi when none), [0, lo) and [hi, out_w) are the left and right edge columns. An edge strip
/// row holds the input columns an edge reads, zero-filled outside the input: `left` elements from
/// x = -pad_left, `right` elements from x = hi * stride_w - pad_left. `zero` elements of zeros
/// stand in for an input row above or below the input under the interior.
struct strided_plan {
  std::size_t lo = 0, hi = 0, left = 0, right = 0, zero = 0;
  /// Elements of a workspace for bands of `band` output rows.
  constexpr std::size_t elems(std::size_t band, std::size_t kh) const noexcept { return zero + band * kh * (left + right); }
};

constexpr strided_plan make_strided_plan(const conv_geometry& g) noexcept {
  strided_plan s;
  const std::size_t sw = g.stride_w, kw = g.kernel_w, c = g.in_c, out_w = g.out_w;
  const conv_axis ax{static_cast<std::int64_t>(sw), 1, static_cast<std::int64_t>(g.pad_left),
                     static_cast<std::int64_t>(g.in_w)};  // dilation_w 1 (strided_shape)
  const conv_axis::range inside = ax.interior(kw, out_w);
  s.lo = inside.lo, s.hi = inside.hi;
  s.left = s.lo == 0 ? 0 : ((s.lo - 1) * sw + kw) * c;
  s.right = s.hi == out_w ? 0 : ((out_w - 1 - s.hi) * sw + kw) * c;
  const bool padded_rows = g.pad_top != 0 || (g.out_h - 1) * g.stride_h + (g.kernel_h - 1) * g.dilation_h >= g.in_h + g.pad_top;
  s.zero = padded_rows && s.hi > s.lo ? ((s.hi - s.lo - 1) * sw + kw) * c : 0;
  return s;
}

/// Bytes of a strided workspace for bands of `band` output rows (taken as 1 to all the rows;
/// strided_drive uses at most mr).
template <class T>
constexpr std::size_t strided_workspace_bytes(const conv_geometry& g, std::size_t band) noexcept {
  return make_strided_plan(g).elems(std::max<std::size_t>(1, std::min(band, g.batch * g.out_h)), g.kernel_h) * sizeof(T);
}

/// Runs every output pixel of `g` (checked, strided_shape) through
/// `gemm(rows, seg, a_stride, p0, c_step)`: `rows` GEMM rows whose kernel row ky starts at
/// seg[ky] + i * a_stride for row i, written to output pixels p0 + i * c_step (flattened over batch,
/// rows, columns). Output rows go in bands of up to `mr` (as many as the workspace holds): each
/// band row's interior is one call reading the input in place (a zero row for kernel rows in the
/// padding), then each edge column is one call over the band's rows (outputs out_w pixels apart),
/// reading that band's edge strips (kernel row ky of band row b at strip row b * kh + ky).
template <class T, class Gemm>
status strided_drive(const conv_geometry& g, const T* in, T fill, std::size_t mr, void* workspace,
                     std::size_t ws_bytes, Gemm&& gemm) noexcept {
  const strided_plan s = make_strided_plan(g);
  const std::size_t kh = g.kernel_h, c = g.in_c, sw = g.stride_w, out_w = g.out_w, rows_total = g.batch * g.out_h;
  const std::size_t need = strided_workspace_bytes<T>(g, 1);
  if (need != 0 && (workspace == nullptr || ws_bytes < need))
    return {status_code::buffer_too_small, "conv2d: workspace smaller than min_workspace_bytes() (one band of edge strips)"};
  if (reinterpret_cast<std::uintptr_t>(workspace) % alignof(T) != 0)
    return {status_code::invalid_argument, "conv2d: workspace is not aligned for its elements"};
  T* const zero = static_cast<T*>(workspace);
  const std::size_t strip_row = kh * (s.left + s.right);  // elements of one band row's strips
  std::size_t band_max = std::min(std::max<std::size_t>(mr, 1), rows_total);
  if (strip_row != 0) band_max = std::min(band_max, (ws_bytes / sizeof(T) - s.zero) / strip_row);
  T* const lstrip = zero + s.zero;
  T* const rstrip = lstrip + band_max * kh * s.left;
  std::fill(zero, zero + s.zero, fill);
  const std::int64_t h_in = static_cast<std::int64_t>(g.in_h), w_in = static_cast<std::int64_t>(g.in_w);
  const std::int64_t xl0 = -static_cast<std::int64_t>(g.pad_left);
  const std::int64_t xr0 = static_cast<std::int64_t>(s.hi * sw) - static_cast<std::int64_t>(g.pad_left);
  // One strip row: `len` elements of input row `row` (null: a padding row) from column x0 on.
  auto strip = [&](T* d, const T* row, std::int64_t x0, std::size_t len) {
    if (len == 0) return;
    const std::int64_t x1 = x0 + static_cast<std::int64_t>(len / c);
    const std::int64_t a = row == nullptr ? x1 : std::min(std::max<std::int64_t>(x0, 0), x1);
    const std::int64_t b = row == nullptr ? x1 : std::max(std::min(x1, w_in), a);
    std::fill(d, d + static_cast<std::size_t>(a - x0) * c, fill);
    if (b > a)
      std::memcpy(d + static_cast<std::size_t>(a - x0) * c, row + static_cast<std::size_t>(a) * c,
                  static_cast<std::size_t>(b - a) * c * sizeof(T));
    std::fill(d + static_cast<std::size_t>(b - x0) * c, d + len, fill);
  };
  const T* seg[strided_max_segments];
  std::size_t n = 0, oy = 0;  // image and output row of `row`
  for (std::size_t row = 0; row < rows_total;) {
    const std::size_t band = std::min(band_max, rows_total - row);
    std::size_t bn = n, by = oy;
    for (std::size_t b = 0; b < band; ++b) {
      const T* image = in + bn * g.in_h * g.in_w * c;
      const std::int64_t iy0 = static_cast<std::int64_t>(by * g.stride_h) - static_cast<std::int64_t>(g.pad_top);
      for (std::size_t ky = 0; ky < kh; ++ky) {
        const std::int64_t iy = iy0 + static_cast<std::int64_t>(ky * g.dilation_h);
        const T* r = iy >= 0 && iy < h_in ? image + static_cast<std::size_t>(iy) * g.in_w * c : nullptr;
        strip(lstrip + (b * kh + ky) * s.left, r, xl0, s.left);
        strip(rstrip + (b * kh + ky) * s.right, r, xr0, s.right);
        if (s.hi > s.lo) seg[ky] = r == nullptr ? zero : r + (s.lo * sw - g.pad_left) * c;  // lo * sw >= pad_left
      }
      if (s.hi > s.lo) gemm(s.hi - s.lo, static_cast<const T* const*>(seg), sw * c, (row + b) * out_w + s.lo, std::size_t{1});
      if (++by == g.out_h) by = 0, ++bn;
    }
    for (std::size_t ox = 0; ox < s.lo; ++ox) {
      for (std::size_t ky = 0; ky < kh; ++ky) seg[ky] = lstrip + ky * s.left + ox * sw * c;
      gemm(band, static_cast<const T* const*>(seg), kh * s.left, row * out_w + ox, out_w);
    }
    for (std::size_t ox = s.hi; ox < out_w; ++ox) {
      for (std::size_t ky = 0; ky < kh; ++ky) seg[ky] = rstrip + ky * s.right + (ox - s.hi) * sw * c;
      gemm(band, static_cast<const T* const*>(seg), kh * s.right, row * out_w + ox, out_w);
    }
    row += band;
    n = bn, oy = by;
  }
  return status::success();
}

}  // namespace tessera::detail
