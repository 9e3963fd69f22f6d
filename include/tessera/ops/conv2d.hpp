/// @file conv2d.hpp
/// 2-D convolution (TFLite CONV_2D): NHWC input, OHWI filter [out_c][kh][kw][in_c/groups], stride,
/// dilation, SAME/VALID/explicit padding, groups, batch; fused bias, requantization and clamp.
///
///   conv2d_s8<>   int8 activations, s8 or s4 weights, per-channel or per-tensor, int32 bias
///   conv2d_s16<>  int16 activations, int8 weights, int64 or int32 bias (TFLite 16x8)
///   conv2d_f32<>  fp32, bias and clamp
///
/// Each runs on a GEMM microkernel (`Kernel`, by default the one selected for `Tag`), choosing
/// the algorithm from the shape, independently of the architecture:
///   * `conv_algorithm::pointwise_gemm`: 1x1, stride 1, no padding. The NHWC input already is the
///     GEMM's A (out_pixels x in_c, one group's channels at a column offset): no copy, no workspace.
///   * `conv_algorithm::panel_gemm`: everything else. Blocks of output pixels are gathered into a
///     (pixels x kh*kw*in_c/groups) panel in the caller's workspace (detail/conv_gather.hpp), then
///     multiplied. The panel holds as many rows as the workspace given to `run` allows (at least
///     one: `min_workspace_bytes`); `workspace_bytes` is a good default (about 64 KiB).
///
/// Transposed convolution (TFLite TRANSPOSE_CONV, f32 and s8 -- and s16) is the same operator on a
/// geometry from `make_transpose_conv_geometry`: each output pixel gathers the input pixels that
/// reach it (taps between input samples read the zero point), so a stride-s transposed conv does
/// s_h*s_w times the useful MACs. `transpose_conv2d_s8/_f32` name the same templates.
///
/// Usage: `make_conv_geometry` -> `packed_weights_bytes` -> `pack_weights` (once) -> `workspace_bytes`
/// -> `run` (many times). The packed buffer records the geometry's group sizes, the kernel's tile
/// and (s8) the input zero point it folded in; `run` checks them.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <tessera/core/dtype.hpp>
#include <tessera/core/status.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/registry.hpp>
#include <tessera/kernels/gemm/registry_s16.hpp>
#include <tessera/ops/conv_geometry.hpp>
#include <tessera/ops/detail/conv_gather.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera {

/// How a convolution is computed (chosen by shape; see the file comment).
enum class conv_algorithm : std::uint8_t { pointwise_gemm, panel_gemm };

/// The algorithm conv2d uses for `g`.
constexpr conv_algorithm choose_conv_algorithm(const conv_geometry& g) noexcept {
  return g.is_pointwise() ? conv_algorithm::pointwise_gemm : conv_algorithm::panel_gemm;
}

namespace detail {

/// Leading record of a packed conv2d filter: lets `run` reject a buffer packed for another
/// geometry, kernel or input zero point.
struct conv_packed_header {
  static constexpr std::uint32_t magic_value = 0x766e6f63u;  ///< "conv"
  std::uint32_t magic = magic_value;
  std::uint32_t dtype = 0;       ///< 8, 16 or 32 (activation bits)
  std::uint32_t groups = 0, group_out_c = 0, depth = 0;  ///< depth = kh * kw * in_c / groups
  std::uint32_t nr = 0, kr = 0;
  std::int32_t input_zp = 0;
  std::uint64_t group_bytes = 0;  ///< stride between groups' packed blocks
  std::uint32_t reserved[6] = {};
};
static_assert(sizeof(conv_packed_header) == 64, "the header keeps every group block 64-byte aligned");

constexpr std::size_t round64(std::size_t v) noexcept { return (v + 63) / 64 * 64; }

/// Bytes of a packed conv2d filter whose groups each take `group_bytes` (0 on overflow).
constexpr std::size_t conv_packed_bytes(std::size_t groups, std::size_t group_bytes) noexcept {
  if (groups == 0) return 0;
  const std::size_t gb = round64(group_bytes);
  if (group_bytes == 0 || gb / 64 > (std::size_t(-1) - 64) / 64 / groups) return 0;
  return sizeof(conv_packed_header) + groups * gb;
}

/// Panel rows for a workspace of `bytes` (0 when not even one row fits), at most all pixels.
constexpr std::size_t panel_rows(const conv_geometry& g, std::size_t elem, std::size_t bytes) noexcept {
  return std::min(bytes / (g.depth() * elem), g.out_pixels());
}

/// Default workspace: a ~64 KiB panel, at least min(16, pixels) rows; 0 for pointwise shapes.
constexpr std::size_t conv_workspace_bytes(const conv_geometry& g, std::size_t elem) noexcept {
  if (!check_conv_geometry(g).ok() || choose_conv_algorithm(g) == conv_algorithm::pointwise_gemm) return 0;
  const std::size_t row = g.depth() * elem;
  const std::size_t rows = std::min(std::max<std::size_t>(65536 / row, 16), g.out_pixels());
  return rows * row;
}

/// Validates the header against the geometry and kernel tile; returns it or a status.
inline status check_conv_packed(const conv_geometry& g, const void* packed, std::uint32_t bits, std::size_t nr,
                                std::size_t kr, const char* who, const conv_packed_header*& h) noexcept {
  TESSERA_TRY(check_conv_geometry(g));
  if (packed == nullptr || reinterpret_cast<std::uintptr_t>(packed) % 16 != 0)
    return {status_code::invalid_argument, who};
  h = static_cast<const conv_packed_header*>(packed);
  if (h->magic != conv_packed_header::magic_value || h->dtype != bits)
    return {status_code::invalid_argument, "conv2d: packed buffer was not made by this operator's pack_weights"};
  if (g.transposed && g.groups != 1) return {status_code::invalid_argument, "conv2d: a transposed conv has one group"};
  if (h->groups != g.groups || h->group_out_c != g.group_out_c() || h->depth != g.depth())
    return {status_code::shape_mismatch, "conv2d: packed buffer was made for another geometry"};
  if (h->nr != nr || h->kr != kr)
    return {status_code::invalid_argument, "conv2d: packed buffer was made for another kernel"};
  return status::success();
}

/// The y and x axes of `g` for the gather (forward or transposed, as `g` says).
inline conv_axis axis_y(const conv_geometry& g) noexcept {
  return {static_cast<std::int64_t>(g.stride_h), static_cast<std::int64_t>(g.dilation_h),
          static_cast<std::int64_t>(g.pad_top), static_cast<std::int64_t>(g.in_h), g.transposed};
}
inline conv_axis axis_x(const conv_geometry& g) noexcept {
  return {static_cast<std::int64_t>(g.stride_w), static_cast<std::int64_t>(g.dilation_w),
          static_cast<std::int64_t>(g.pad_left), static_cast<std::int64_t>(g.in_w), g.transposed};
}

/// Shared driver: for each block of output pixels and each group, gather (unless pointwise) and
/// call `gemm(first_pixel, rows, a, a_stride, group)`.
template <class T, class Gemm>
status conv_drive(const conv_geometry& g, const T* in, T fill, void* workspace, std::size_t workspace_bytes,
                  Gemm&& gemm) noexcept {
  const std::size_t m = g.out_pixels(), icg = g.group_in_c();
  if (choose_conv_algorithm(g) == conv_algorithm::pointwise_gemm) {
    for (std::size_t grp = 0; grp < g.groups; ++grp) gemm(std::size_t{0}, m, in + grp * icg, g.in_c, grp);
    return status::success();
  }
  const std::size_t rows = panel_rows(g, sizeof(T), workspace == nullptr ? 0 : workspace_bytes);
  if (rows == 0)
    return {status_code::buffer_too_small, "conv2d: workspace smaller than min_workspace_bytes() (one panel row)"};
  if (reinterpret_cast<std::uintptr_t>(workspace) % alignof(T) != 0)
    return {status_code::invalid_argument, "conv2d: workspace is not aligned for the element type"};
  T* panel = static_cast<T*>(workspace);
  const conv_axis ay = axis_y(g), ax = axis_x(g);
  for (std::size_t p0 = 0; p0 < m; p0 += rows) {
    const std::size_t r = std::min(rows, m - p0);
    for (std::size_t grp = 0; grp < g.groups; ++grp) {
      gather_panel(panel, p0, r, in, g.in_h, g.in_w, g.in_c, grp * icg, icg, g.out_h, g.out_w, g.kernel_h, g.kernel_w,
                   ay, ax, fill);
      gemm(p0, r, static_cast<const T*>(panel), g.depth(), grp);
    }
  }
  return status::success();
}

/// The output stage of group `grp`: per-channel arrays start at its first channel.
template <class Q> output_stage<Q> group_stage(const output_stage<Q>& s, std::size_t first_channel) noexcept {
  output_stage<Q> r = s;
  if constexpr (std::is_same_v<Q, requant::per_channel>) {
    r.q.multiplier += first_channel;
    r.q.shift += first_channel;
  } else {
    (void)first_channel;
  }
  return r;
}

inline status check_buffers(const void* in, const void* out, const char* who) noexcept {
  if (in == nullptr || out == nullptr) return {status_code::invalid_argument, who};
  return status::success();
}

}  // namespace detail

/// int8 conv2d (TFLite CONV_2D, int8 activations, symmetric s8 or s4 weights).
template <class Tag = arch::native, class Kernel = select_t<op::gemm_qs8, Tag>>
struct conv2d_s8 {
  using kernel = Kernel;

  /// Bytes of the packed filter for `g` (0 if it would overflow).
  static std::size_t packed_weights_bytes(const conv_geometry& g) noexcept {
    return check_conv_geometry(g).ok() ? detail::conv_packed_bytes(g.groups, group_bytes(g)) : 0;
  }
  /// Default workspace (0 for pointwise shapes); `run` accepts any size >= min_workspace_bytes.
  static constexpr std::size_t workspace_bytes(const conv_geometry& g) noexcept {
    return detail::conv_workspace_bytes(g, 1);
  }
  /// The smallest workspace `run` accepts: one panel row (0 for pointwise shapes).
  static constexpr std::size_t min_workspace_bytes(const conv_geometry& g) noexcept {
    if (!check_conv_geometry(g).ok()) return 0;
    return choose_conv_algorithm(g) == conv_algorithm::pointwise_gemm ? 0 : g.depth();
  }

  /// Packs `filter[out_c][kh][kw][in_c/groups]` and `bias[out_c]` (nullable). `packed` must be 16-byte aligned.
  static status pack_weights(const conv_geometry& g, const std::int8_t* filter, const std::int32_t* bias,
                             std::int32_t input_zp, void* packed, std::size_t packed_bytes) noexcept {
    TESSERA_TRY(check_pack(g, filter, input_zp, packed, packed_bytes));
    const std::size_t k = g.depth();
    pack(g, packed, input_zp, bias, [&](std::size_t grp, std::size_t o, std::size_t kk) {
      return filter[(grp * g.group_out_c() + o) * k + kk];
    });
    return status::success();
  }
  /// Packs int4 weights, two per byte over the flattened OHWI index (element 2i in the low nibble).
  static status pack_weights_s4(const conv_geometry& g, const std::uint8_t* filter_s4, const std::int32_t* bias,
                                std::int32_t input_zp, void* packed, std::size_t packed_bytes) noexcept {
    TESSERA_TRY(check_pack(g, filter_s4, input_zp, packed, packed_bytes));
    const std::size_t k = g.depth();
    pack(g, packed, input_zp, bias, [&](std::size_t grp, std::size_t o, std::size_t kk) {
      return s4_at(filter_s4, (grp * g.group_out_c() + o) * k + kk);
    });
    return status::success();
  }

  /// out = conv(in) through the output stage (per_tensor, or per_channel with out_c entries).
  template <class Q>
  static status run(const conv_geometry& g, const std::int8_t* in, const void* packed, std::int8_t* out,
                    const output_stage<Q>& stage, void* workspace, std::size_t workspace_size) noexcept {
    TESSERA_TRY(detail::check_buffers(in, out, "conv2d_s8: null input or output"));
    const detail::conv_packed_header* h = nullptr;
    TESSERA_TRY(detail::check_conv_packed(g, packed, 8, Kernel::nr(), Kernel::kr(),
                                          "conv2d_s8: packed buffer is null or not 16-byte aligned", h));
    TESSERA_TRY(validate<std::int8_t>(stage, std::is_same_v<Q, requant::per_tensor> ? 1 : g.out_c, -31, 30));
    const auto* blocks = static_cast<const std::uint8_t*>(packed) + sizeof(detail::conv_packed_header);
    const std::size_t ocg = g.group_out_c(), k = g.depth();
    return detail::conv_drive<std::int8_t>(
        g, in, static_cast<std::int8_t>(h->input_zp), workspace, workspace_size,
        [&](std::size_t p0, std::size_t rows, const std::int8_t* a, std::size_t a_stride, std::size_t grp) {
          const auto sg = detail::group_stage(stage, grp * ocg);
          Kernel::run(rows, ocg, k, a, a_stride, blocks + grp * h->group_bytes, nullptr, out + p0 * g.out_c + grp * ocg, g.out_c, sg);
        });
  }

 private:
  static std::size_t group_bytes(const conv_geometry& g) noexcept {
    return kernels::packed_qs8_bytes(g.group_out_c(), g.depth(), Kernel::nr(), Kernel::kr());
  }
  template <class WAt>
  static void pack(const conv_geometry& g, void* packed, std::int32_t input_zp, const std::int32_t* bias, WAt&& w_at) noexcept {
    auto* h = new (packed) detail::conv_packed_header{};
    h->dtype = 8;
    h->groups = static_cast<std::uint32_t>(g.groups);
    h->group_out_c = static_cast<std::uint32_t>(g.group_out_c());
    h->depth = static_cast<std::uint32_t>(g.depth());
    h->nr = static_cast<std::uint32_t>(Kernel::nr());
    h->kr = static_cast<std::uint32_t>(Kernel::kr());
    h->input_zp = input_zp;
    h->group_bytes = detail::round64(group_bytes(g));
    auto* blocks = static_cast<std::uint8_t*>(packed) + sizeof(detail::conv_packed_header);
    const std::size_t ocg = g.group_out_c();
    for (std::size_t grp = 0; grp < g.groups; ++grp)
      kernels::pack_qs8_weights(ocg, g.depth(), Kernel::nr(), Kernel::kr(),
                                [&](std::size_t o, std::size_t kk) { return w_at(grp, o, kk); },
                                bias ? bias + grp * ocg : nullptr, input_zp, 0, blocks + grp * h->group_bytes);
  }
  static status check_pack(const conv_geometry& g, const void* w, std::int32_t input_zp, void* packed,
                           std::size_t packed_bytes) noexcept {
    TESSERA_TRY(check_conv_geometry(g));
    if (w == nullptr || packed == nullptr) return {status_code::invalid_argument, "conv2d_s8: null filter or packed buffer"};
    if (reinterpret_cast<std::uintptr_t>(packed) % 16 != 0)
      return {status_code::invalid_argument, "conv2d_s8: packed buffer must be 16-byte aligned"};
    if (input_zp < -128 || input_zp > 127) return {status_code::invalid_argument, "conv2d_s8: input zero point outside int8"};
    const std::size_t need = packed_weights_bytes(g);
    if (need == 0) return {status_code::overflow, "conv2d_s8: packed size overflows"};
    if (packed_bytes < need)
      return {status_code::buffer_too_small, "conv2d_s8: packed buffer smaller than packed_weights_bytes()"};
    return status::success();
  }
};

/// fp32 conv2d with fused bias and clamp.
template <class Tag = arch::native, class Kernel = select_t<op::gemm_f32, Tag>>
struct conv2d_f32 {
  using kernel = Kernel;

  /// Bytes of the packed filter for `g` (0 if it would overflow).
  static std::size_t packed_weights_bytes(const conv_geometry& g) noexcept {
    return check_conv_geometry(g).ok() ? detail::conv_packed_bytes(g.groups, group_bytes(g)) : 0;
  }
  /// Default workspace (0 for pointwise shapes); `run` accepts any size >= min_workspace_bytes.
  static constexpr std::size_t workspace_bytes(const conv_geometry& g) noexcept {
    return detail::conv_workspace_bytes(g, sizeof(float));
  }
  /// The smallest workspace `run` accepts: one panel row (0 for pointwise shapes).
  static constexpr std::size_t min_workspace_bytes(const conv_geometry& g) noexcept {
    if (!check_conv_geometry(g).ok()) return 0;
    return choose_conv_algorithm(g) == conv_algorithm::pointwise_gemm ? 0 : g.depth() * sizeof(float);
  }
  /// Packs `filter[out_c][kh][kw][in_c/groups]` and `bias[out_c]` (nullable). `packed` must be 16-byte aligned.
  static status pack_weights(const conv_geometry& g, const float* filter, const float* bias, void* packed,
                             std::size_t packed_bytes) noexcept {
    TESSERA_TRY(check_conv_geometry(g));
    if (filter == nullptr || packed == nullptr) return {status_code::invalid_argument, "conv2d_f32: null filter or packed buffer"};
    if (reinterpret_cast<std::uintptr_t>(packed) % 16 != 0)
      return {status_code::invalid_argument, "conv2d_f32: packed buffer must be 16-byte aligned"};
    const std::size_t need = packed_weights_bytes(g);
    if (need == 0) return {status_code::overflow, "conv2d_f32: packed size overflows"};
    if (packed_bytes < need)
      return {status_code::buffer_too_small, "conv2d_f32: packed buffer smaller than packed_weights_bytes()"};
    auto* h = new (packed) detail::conv_packed_header{};
    h->dtype = 32;
    h->groups = static_cast<std::uint32_t>(g.groups);
    h->group_out_c = static_cast<std::uint32_t>(g.group_out_c());
    h->depth = static_cast<std::uint32_t>(g.depth());
    h->nr = static_cast<std::uint32_t>(Kernel::nr());
    h->group_bytes = detail::round64(group_bytes(g));
    auto* blocks = static_cast<std::uint8_t*>(packed) + sizeof(detail::conv_packed_header);
    const std::size_t ocg = g.group_out_c(), k = g.depth();
    for (std::size_t grp = 0; grp < g.groups; ++grp)
      kernels::pack_f32_b(ocg, k, Kernel::nr(),
                          [&](std::size_t kk, std::size_t o) { return filter[(grp * ocg + o) * k + kk]; },
                          bias ? bias + grp * ocg : nullptr,
                          reinterpret_cast<float*>(blocks + grp * h->group_bytes));
    return status::success();
  }
  /// out = clamp(conv(in) + bias).
  static status run(const conv_geometry& g, const float* in, const void* packed, float* out, const f32_clamp& clamp,
                    void* workspace, std::size_t workspace_size) noexcept {
    TESSERA_TRY(detail::check_buffers(in, out, "conv2d_f32: null input or output"));
    if (!(clamp.min <= clamp.max)) return {status_code::invalid_argument, "conv2d_f32: clamp min > max (or NaN)"};
    const detail::conv_packed_header* h = nullptr;
    TESSERA_TRY(detail::check_conv_packed(g, packed, 32, Kernel::nr(), 0,
                                          "conv2d_f32: packed buffer is null or not 16-byte aligned", h));
    const auto* blocks = static_cast<const std::uint8_t*>(packed) + sizeof(detail::conv_packed_header);
    const std::size_t ocg = g.group_out_c(), k = g.depth();
    return detail::conv_drive<float>(
        g, in, 0.0f, workspace, workspace_size,
        [&](std::size_t p0, std::size_t rows, const float* a, std::size_t a_stride, std::size_t grp) {
          Kernel::run(rows, ocg, k, a, a_stride, blocks + grp * h->group_bytes, out + p0 * g.out_c + grp * ocg,
                      g.out_c, clamp);
        });
  }

 private:
  static std::size_t group_bytes(const conv_geometry& g) noexcept {
    return kernels::packed_f32_bytes(g.group_out_c(), g.depth(), Kernel::nr());
  }
};

/// int16 x int8 conv2d (TFLite 16x8): zero points 0; int64 bias -> int64 accumulator and MBQM64,
/// int32 bias -> int32 accumulator and MBQM32 (op_s16.hpp), recorded in the packed buffer.
template <class Tag = arch::native, class Kernel = select_t<op::gemm_qs16_qs8, Tag>>
struct conv2d_s16 {
  using kernel = Kernel;

  /// Bytes of the packed filter for `g` (0 if it would overflow).
  static std::size_t packed_weights_bytes(const conv_geometry& g) noexcept {
    if (!check_conv_geometry(g).ok()) return 0;
    const std::size_t gb = kernels::packed_qs16_bytes(g.group_out_c(), g.depth(), Kernel::nr(), Kernel::kr());
    return gb == 0 ? 0 : detail::conv_packed_bytes(g.groups, gb);
  }
  /// Default workspace (0 for pointwise shapes); `run` accepts any size >= min_workspace_bytes.
  static constexpr std::size_t workspace_bytes(const conv_geometry& g) noexcept {
    return detail::conv_workspace_bytes(g, sizeof(std::int16_t));
  }
  /// The smallest workspace `run` accepts: one panel row (0 for pointwise shapes).
  static constexpr std::size_t min_workspace_bytes(const conv_geometry& g) noexcept {
    if (!check_conv_geometry(g).ok()) return 0;
    return choose_conv_algorithm(g) == conv_algorithm::pointwise_gemm ? 0 : g.depth() * sizeof(std::int16_t);
  }
  /// Packs the filter with an int64 bias (nullable): int64 accumulation, MBQM64.
  static status pack_weights(const conv_geometry& g, const std::int8_t* filter, const std::int64_t* bias, void* packed,
                             std::size_t packed_bytes) noexcept {
    return pack(g, filter, packed, packed_bytes, 64,
                [&](std::size_t c) { return bias ? bias[c] : std::int64_t{0}; });
  }
  /// Packs the filter with an int32 bias: int32 accumulation, MBQM32 (TFLite's AccumScalar=int32).
  static status pack_weights(const conv_geometry& g, const std::int8_t* filter, const std::int32_t* bias, void* packed,
                             std::size_t packed_bytes) noexcept {
    return pack(g, filter, packed, packed_bytes, 32,
                [&](std::size_t c) { return bias ? std::int64_t{bias[c]} : std::int64_t{0}; });
  }
  /// out = conv(in) through the output stage (per_tensor, or per_channel with out_c entries).
  template <class Q>
  static status run(const conv_geometry& g, const std::int16_t* in, const void* packed, std::int16_t* out,
                    const output_stage<Q>& stage, void* workspace, std::size_t workspace_size) noexcept {
    TESSERA_TRY(detail::check_buffers(in, out, "conv2d_s16: null input or output"));
    const detail::conv_packed_header* h = nullptr;
    TESSERA_TRY(detail::check_conv_packed(g, packed, 16, Kernel::nr(), Kernel::kr(),
                                          "conv2d_s16: packed buffer is null or not 16-byte aligned", h));
    const auto* blocks = static_cast<const std::uint8_t*>(packed) + sizeof(detail::conv_packed_header);
    const auto& first = *reinterpret_cast<const kernels::qs16_packed_header*>(blocks);
    const std::size_t channels = std::is_same_v<Q, requant::per_tensor> ? 1 : g.out_c;
    if (first.acc_bits == 64) {
      TESSERA_TRY(validate<std::int16_t>(stage, channels, -31, 7));
      return go<std::int64_t>(g, in, blocks, h->group_bytes, out, stage, workspace, workspace_size);
    }
    TESSERA_TRY(validate<std::int16_t>(stage, channels, -31, 30));
    return go<std::int32_t>(g, in, blocks, h->group_bytes, out, stage, workspace, workspace_size);
  }

 private:
  template <class Acc, class Q>
  static status go(const conv_geometry& g, const std::int16_t* in, const std::uint8_t* blocks, std::size_t gbytes,
                   std::int16_t* out, const output_stage<Q>& stage, void* workspace, std::size_t workspace_size) noexcept {
    const std::size_t ocg = g.group_out_c(), k = g.depth();
    return detail::conv_drive<std::int16_t>(
        g, in, std::int16_t{0}, workspace, workspace_size, [&](std::size_t p0, std::size_t rows, const std::int16_t* a, std::size_t a_stride, std::size_t grp) {
          Kernel::template run<Acc>(rows, ocg, k, a, a_stride, kernels::qs16_blocks(blocks + grp * gbytes),
                                    out + p0 * g.out_c + grp * ocg, g.out_c, detail::group_stage(stage, grp * ocg));
        });
  }
  template <class BiasAt>
  static status pack(const conv_geometry& g, const std::int8_t* filter, void* packed, std::size_t packed_bytes,
                     std::uint32_t acc_bits, BiasAt&& bias_at) noexcept {
    TESSERA_TRY(check_conv_geometry(g));
    if (filter == nullptr || packed == nullptr) return {status_code::invalid_argument, "conv2d_s16: null filter or packed buffer"};
    if (reinterpret_cast<std::uintptr_t>(packed) % 16 != 0)
      return {status_code::invalid_argument, "conv2d_s16: packed buffer must be 16-byte aligned"};
    const std::size_t need = packed_weights_bytes(g);
    if (need == 0) return {status_code::overflow, "conv2d_s16: packed size overflows"};
    if (packed_bytes < need)
      return {status_code::buffer_too_small, "conv2d_s16: packed buffer smaller than packed_weights_bytes()"};
    auto* h = new (packed) detail::conv_packed_header{};
    h->dtype = 16;
    h->groups = static_cast<std::uint32_t>(g.groups);
    h->group_out_c = static_cast<std::uint32_t>(g.group_out_c());
    h->depth = static_cast<std::uint32_t>(g.depth());
    h->nr = static_cast<std::uint32_t>(Kernel::nr());
    h->kr = static_cast<std::uint32_t>(Kernel::kr());
    h->group_bytes = detail::round64(kernels::packed_qs16_bytes(g.group_out_c(), g.depth(), Kernel::nr(), Kernel::kr()));
    auto* blocks = static_cast<std::uint8_t*>(packed) + sizeof(detail::conv_packed_header);
    const std::size_t ocg = g.group_out_c(), k = g.depth();
    for (std::size_t grp = 0; grp < g.groups; ++grp)
      kernels::pack_qs16_weights(ocg, k, Kernel::nr(), Kernel::kr(),
                                 [&](std::size_t o, std::size_t kk) { return filter[(grp * ocg + o) * k + kk]; },
                                 [&](std::size_t o) { return bias_at(grp * ocg + o); }, acc_bits,
                                 blocks + grp * h->group_bytes);
    return status::success();
  }
};

/// Transposed convolution operators: conv2d on a `make_transpose_conv_geometry` geometry.
template <class Tag = arch::native, class Kernel = select_t<op::gemm_qs8, Tag>>
using transpose_conv2d_s8 = conv2d_s8<Tag, Kernel>;
/// fp32 transposed convolution.
template <class Tag = arch::native, class Kernel = select_t<op::gemm_f32, Tag>>
using transpose_conv2d_f32 = conv2d_f32<Tag, Kernel>;

}  // namespace tessera
