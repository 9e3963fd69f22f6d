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
///   * `conv_algorithm::panel_gemm`: every other forward shape. Blocks of output pixels are gathered
///     into a (pixels x kh*kw*in_c/groups) panel in the caller's workspace (detail/conv_gather.hpp),
///     then multiplied. The panel holds as many rows as the workspace given to `run` allows (at least
///     one: `min_workspace_bytes`); `workspace_bytes` is a good default (about 64 KiB).
///   * `conv_algorithm::indirect_gemm` (conv2d_f32, when its kernel has an indirect entry,
///     op_f32.hpp, and a group has >= `indirect_min_channels` (32) input channels): instead of the
///     panel, one pointer per output pixel and kernel tap (to the tap's input channels, or to a
///     zero row in the padding) in the workspace, and the microkernel reads the input through them
///     (detail/conv_indirect.hpp): no copy of the windows. bench/bench_conv_algo.cpp measures the
///     two on the same kernel; docs/performance.md has the figures behind the threshold.
///   * `conv_algorithm::strided_gemm` (conv2d_f32, when its kernel has a strided entry,
///     detail/conv_strided.hpp: the AVX-512 kernel; groups 1, dilation_w 1, out_w >=
///     `strided_min_width`; fewer than `indirect_min_channels` input channels, or more where
///     `strided_over_indirect` holds: few channels, rows without a costly tail tile): the output
///     pixels of an output row whose windows lie inside the input in x read it in place, as a
///     strided A of one segment per kernel row (row stride stride_w * in_c); edge columns read
///     small zero-padded copies of the input columns they cover. No panel copy, no pointers.
///   * `conv_algorithm::sub_pixel_gemm`: transposed convolution (TFLite TRANSPOSE_CONV, f32, s8/s4
///     and s16), the same operators on a geometry from `make_transpose_conv_geometry`, split into
///     s_h * s_w phases. Output pixel (oy, ox) has phase (py, px) = ((oy + pad_top) mod s_h,
///     (ox + pad_left) mod s_w) and receives only the taps ky = py (mod s_h), kx = px (mod s_w),
///     from input row iy = (oy + pad_top - ky) / s_h (likewise x). So each phase is a dense stride-1
///     correlation with a sub-filter of ceil or floor(k / s) taps per axis: `pack_weights` packs one
///     block per phase (GEMM K = its taps * in_c; for s8 the input zero point folded over that
///     phase's taps only), and `run` gathers panels of one phase's output pixels, which sit s_w
///     apart in an output row, and calls the GEMM with a C row stride of s_w * out_c (one call per
///     phase row, or per panel when stride_h is 1 and stride_w divides out_w; the simd int8 kernel
///     takes panels spanning phase rows through a staging area instead). No MAC is spent on a
///     tap between input samples; taps past the input's edge still read the zero point, which the
///     phase's folded bias cancels. Phases without taps (kernel smaller than the stride) multiply a
///     column of zero points by a depth-1 block of zero weights: bias only, through the kernel's own
///     epilogue. Results are bit-exact with TFLite's scatter reference for s8/s16.
///     `transpose_conv2d_s8/_f32` name the same templates; a 1x1 stride-1 transposed conv whose
///     output is its input's size is pointwise. Workspace: panels of the largest phase's depth.
///   * `conv_algorithm::sub_pixel_indirect` (conv2d_f32 on a transposed geometry, when its kernel
///     has an indirect entry and in_c >= `indirect_min_channels`): the same phases, packing and C
///     addressing, but each phase row's pixels are read through tap pointers (as indirect_gemm)
///     instead of a gathered panel. Workspace: the pointers of a phase row and a zero row.
///
/// Usage: `make_conv_geometry` -> `packed_weights_bytes` -> `pack_weights` (once) -> `workspace_bytes`
/// -> `run` (many times). The packed buffer records the geometry's group sizes, the kernel's tile,
/// (s8) the input zero point it folded in and, for the sub-pixel layout, kernel size and strides;
/// `run` checks them.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <type_traits>
#include <tessera/core/dtype.hpp>
#include <tessera/core/status.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/registry.hpp>
#include <tessera/kernels/gemm/registry_s16.hpp>
#include <tessera/ops/conv_geometry.hpp>
#include <tessera/ops/detail/conv_gather.hpp>
#include <tessera/ops/detail/conv_indirect.hpp>
#include <tessera/ops/detail/conv_strided.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera {

/// How a convolution is computed (chosen by shape; see the file comment).
enum class conv_algorithm : std::uint8_t {
  pointwise_gemm,
  panel_gemm,
  sub_pixel_gemm,
  indirect_gemm,
  sub_pixel_indirect,
  strided_gemm
};

/// The algorithm conv2d uses for `g` by shape alone (conv2d_f32::algorithm may then take
/// indirect_gemm instead of panel_gemm, or sub_pixel_indirect instead of sub_pixel_gemm,
/// depending on its kernel).
constexpr conv_algorithm choose_conv_algorithm(const conv_geometry& g) noexcept {
  if (g.is_pointwise()) return conv_algorithm::pointwise_gemm;
  return g.transposed ? conv_algorithm::sub_pixel_gemm : conv_algorithm::panel_gemm;
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
  std::uint64_t group_bytes = 0;  ///< stride between groups' packed blocks (sub-pixel: bytes of all phase blocks)
  std::uint32_t layout = 0;       ///< 0: one block per group; 1: one block per phase (sub_pixel_gemm)
  std::uint32_t kernel_h = 0, kernel_w = 0, stride_h = 0, stride_w = 0;  ///< sub-pixel layouts only
  std::uint32_t reserved = 0;
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

/// One axis of the sub-pixel split of a transposed conv (kernel k, stride s): phase p in [0, s)
/// owns the taps p, p + s, p + 2s, ... < k, i.e. q + (p < rem) of them (none when p >= k).
struct phase_axis {
  std::size_t s = 1, q = 0, rem = 0;
  constexpr phase_axis(std::size_t k, std::size_t stride) noexcept : s(stride), q(k / stride), rem(k % stride) {}
  constexpr std::size_t taps(std::size_t p) const noexcept { return q + (p < rem ? 1 : 0); }
  constexpr std::size_t max_taps() const noexcept { return q + (rem != 0 ? 1 : 0); }
};

/// Where each phase's packed block sits in a sub-pixel packed filter. Blocks follow phase order
/// (py, px) row-major, skipping phases without taps; a phase's block size depends only on its tap
/// counts, of which each axis has two (q + 1 for p < rem, q otherwise), so offsets are closed form.
/// When some phase has no taps (kernel smaller than the stride on an axis), one more block of depth
/// 1 and zero weights follows: those outputs are the GEMM of a fill column against it (bias only).
struct phase_layout {
  phase_axis y{1, 1}, x{1, 1};
  std::uint64_t block[2][2] = {};  ///< 64-aligned bytes of a block with q_y + i by q_x + j taps (0: none)
  std::uint64_t row[2] = {};       ///< bytes of all blocks of a phase row with q_y + i taps
  std::uint64_t bias_block = 0;    ///< offset of the bias-only block (when some phase is empty)
  std::uint64_t total = 0;         ///< bytes of all blocks; 0 when that overflows
  constexpr std::uint64_t offset(std::size_t py, std::size_t px) const noexcept {
    const std::uint64_t y1 = std::min(py, y.rem), x1 = std::min(px, x.rem);
    const std::size_t i = py < y.rem ? 1 : 0;
    return y1 * row[1] + (py - y1) * row[0] + x1 * block[i][1] + (px - x1) * block[i][0];
  }
};

constexpr bool add_u64(std::uint64_t a, std::uint64_t b, std::uint64_t& r) noexcept {
  r = a + b;
  return r >= a;
}
constexpr bool mul_u64(std::uint64_t a, std::uint64_t b, std::uint64_t& r) noexcept {
  if (a != 0 && b > ~std::uint64_t{0} / a) return false;
  r = a * b;
  return true;
}

/// The layout for a checked transposed geometry; `block_bytes(k)` is the kernel format's size of
/// out_c channels of depth k (0 on overflow).
template <class BlockBytes>
constexpr phase_layout make_phase_layout(const conv_geometry& g, BlockBytes&& block_bytes) noexcept {
  phase_layout l{phase_axis(g.kernel_h, g.stride_h), phase_axis(g.kernel_w, g.stride_w)};
  const std::uint64_t ny[2] = {l.y.s - l.y.rem, l.y.rem}, nx[2] = {l.x.s - l.x.rem, l.x.rem};
  bool ok = true;
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 2; ++j) {
      const std::size_t taps = (l.y.q + i) * (l.x.q + j);  // <= kernel_h * kernel_w when counted
      if (ny[i] == 0 || nx[j] == 0 || taps == 0) continue;
      const std::uint64_t b = block_bytes(taps * g.in_c);
      ok = ok && b != 0;
      l.block[i][j] = (b + 63) / 64 * 64;
    }
  std::uint64_t a = 0, b = 0;
  for (std::size_t i = 0; i < 2; ++i)
    ok = ok && mul_u64(nx[1], l.block[i][1], a) && mul_u64(nx[0], l.block[i][0], b) && add_u64(a, b, l.row[i]);
  ok = ok && mul_u64(ny[1], l.row[1], a) && mul_u64(ny[0], l.row[0], b) && add_u64(a, b, l.total);
  l.bias_block = l.total;
  if (l.y.q == 0 || l.x.q == 0) {
    const std::uint64_t bb = block_bytes(1);
    ok = ok && bb != 0 && add_u64(l.total, (bb + 63) / 64 * 64, l.total);
  }
  if (!ok) l.total = 0;
  return l;
}

/// Bytes of a sub-pixel packed filter (header included), 0 on overflow.
constexpr std::size_t phase_packed_bytes(const phase_layout& l) noexcept {
  if (l.total == 0 || l.total > std::uint64_t{~std::size_t{0}} - sizeof(conv_packed_header)) return 0;
  return sizeof(conv_packed_header) + static_cast<std::size_t>(l.total);
}

/// The largest phase depth (GEMM K) of a transposed conv: ceil(kh / s_h) * ceil(kw / s_w) * in_c.
constexpr std::size_t phase_depth_max(const conv_geometry& g) noexcept {
  return phase_axis(g.kernel_h, g.stride_h).max_taps() * phase_axis(g.kernel_w, g.stride_w).max_taps() * g.in_c;
}
/// True when a phase's output rows continue each other at the GEMM's C stride (stride_w * out_c):
/// stride_h 1 and stride_w dividing out_w. Then one GEMM call may span rows (and images).
constexpr bool phase_rows_chain(const conv_geometry& g) noexcept { return g.stride_h == 1 && g.out_w % g.stride_w == 0; }
/// The most output pixels of one phase (what one GEMM call can take when rows chain or are staged).
constexpr std::size_t phase_pixels_max(const conv_geometry& g) noexcept {
  return g.batch * ((g.out_h + g.stride_h - 1) / g.stride_h) * ((g.out_w + g.stride_w - 1) / g.stride_w);
}

/// Panel rows for a workspace of `bytes` (0 when not even one row fits), at most all pixels.
constexpr std::size_t panel_rows(const conv_geometry& g, std::size_t elem, std::size_t bytes) noexcept {
  return std::min(bytes / (g.depth() * elem), g.out_pixels());
}

/// Default workspace: a ~64 KiB panel, at least min(16, pixels) rows; 0 for pointwise shapes.
/// Sub-pixel: rows of the largest phase depth, with a staging row of outputs each when the
/// operator stages phase rows (`stage`, see sub_pixel_drive) and rows do not chain, at most a phase's pixels.
constexpr std::size_t conv_workspace_bytes(const conv_geometry& g, std::size_t elem, bool stage = false) noexcept {
  if (!check_conv_geometry(g).ok()) return 0;
  switch (choose_conv_algorithm(g)) {
    case conv_algorithm::pointwise_gemm: return 0;
    case conv_algorithm::sub_pixel_gemm: {
      if (g.groups != 1 || g.dilation_h != 1 || g.dilation_w != 1) return 0;
      // Panel rows of the largest phase plus, when staged, a staging row of outputs each.
      const bool chain = phase_rows_chain(g), staged = stage && !chain;
      const std::size_t row = (phase_depth_max(g) + (staged ? g.out_c : 0)) * elem;
      // Direct output: a GEMM call takes at most a phase row (all of a phase's pixels when rows chain).
      const std::size_t most = staged || chain ? phase_pixels_max(g) : (g.out_w + g.stride_w - 1) / g.stride_w;
      return std::min(std::max<std::size_t>(65536 / row, 16), most) * row;
    }
    case conv_algorithm::panel_gemm:
    case conv_algorithm::indirect_gemm:
    case conv_algorithm::sub_pixel_indirect:
    case conv_algorithm::strided_gemm: break;  // (not shape choices: conv2d_f32 sizes them itself)
  }
  const std::size_t row = g.depth() * elem;
  const std::size_t rows = std::min(std::max<std::size_t>(65536 / row, 16), g.out_pixels());
  return rows * row;
}

/// The smallest workspace `run` accepts: one panel row (the largest phase's for sub_pixel_gemm; 0 for
/// pointwise shapes and invalid geometries).
constexpr std::size_t conv_min_workspace_bytes(const conv_geometry& g, std::size_t elem) noexcept {
  if (!check_conv_geometry(g).ok()) return 0;
  switch (choose_conv_algorithm(g)) {
    case conv_algorithm::pointwise_gemm: return 0;
    case conv_algorithm::sub_pixel_gemm:
      return g.groups == 1 && g.dilation_h == 1 && g.dilation_w == 1 ? phase_depth_max(g) * elem : 0;
    case conv_algorithm::panel_gemm:
    case conv_algorithm::indirect_gemm:
    case conv_algorithm::sub_pixel_indirect:
    case conv_algorithm::strided_gemm: break;
  }
  return g.depth() * elem;
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
  if (choose_conv_algorithm(g) == conv_algorithm::sub_pixel_gemm && (g.dilation_h != 1 || g.dilation_w != 1))
    return {status_code::invalid_argument, "conv2d: a transposed conv has dilation 1"};
  if (h->groups != g.groups || h->group_out_c != g.group_out_c() || h->depth != g.depth())
    return {status_code::shape_mismatch, "conv2d: packed buffer was made for another geometry"};
  if (h->nr != nr || h->kr != kr)
    return {status_code::invalid_argument, "conv2d: packed buffer was made for another kernel"};
  const bool phases = choose_conv_algorithm(g) == conv_algorithm::sub_pixel_gemm;
  if (h->layout != (phases ? 1u : 0u) ||
      (phases && (h->kernel_h != g.kernel_h || h->kernel_w != g.kernel_w || h->stride_h != g.stride_h ||
                  h->stride_w != g.stride_w)))
    return {status_code::shape_mismatch, "conv2d: packed buffer was made for another geometry"};
  return status::success();
}

/// Fills the sub-pixel fields of a header.
inline void set_phase_header(conv_packed_header& h, const conv_geometry& g, const phase_layout& l) noexcept {
  h.layout = 1;
  h.kernel_h = static_cast<std::uint32_t>(g.kernel_h);
  h.kernel_w = static_cast<std::uint32_t>(g.kernel_w);
  h.stride_h = static_cast<std::uint32_t>(g.stride_h);
  h.stride_w = static_cast<std::uint32_t>(g.stride_w);
  h.group_bytes = l.total;
}

/// Packs every phase block of a transposed filter: `pack(dst, k, at)` packs out_c channels of depth
/// k whose element kk is filter element (o, at(kk)) of the OHWI filter (flattened ky, kx, c index),
/// or zero when at(kk) == npos (the bias-only block). Phase (py, px)'s element (a, b, c) is tap
/// ky = py + (th - 1 - a) * s_h, kx = px + (tw - 1 - b) * s_w: taps in reverse so that the gather
/// reads input columns in increasing order (input ix = q - (tw - 1) + b for output column q).
template <class Pack>
void pack_phases(const conv_geometry& g, const phase_layout& l, std::uint8_t* blocks, Pack&& pack) noexcept {
  const std::size_t ic = g.in_c;
  for (std::size_t py = 0; py < l.y.s && py < g.kernel_h; ++py)
    for (std::size_t px = 0; px < l.x.s && px < g.kernel_w; ++px) {
      const std::size_t th = l.y.taps(py), tw = l.x.taps(px);
      pack(blocks + l.offset(py, px), th * tw * ic, [&](std::size_t kk) {
        const std::size_t c = kk % ic, b = (kk / ic) % tw, a = kk / ic / tw;
        const std::size_t ky = py + (th - 1 - a) * g.stride_h, kx = px + (tw - 1 - b) * g.stride_w;
        return (ky * g.kernel_w + kx) * ic + c;
      });
    }
  if (l.y.q == 0 || l.x.q == 0) pack(blocks + l.bias_block, 1, [](std::size_t) { return ~std::size_t{0}; });
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
  gather_plan plan;
  plan.prepare<T>(g.in_c, icg, g.kernel_h, g.kernel_w, ay, ax);
  for (std::size_t p0 = 0; p0 < m; p0 += rows) {
    const std::size_t r = std::min(rows, m - p0);
    for (std::size_t grp = 0; grp < g.groups; ++grp) {
      gather_panel(panel, p0, r, in, g.in_h, g.in_w, g.in_c, grp * icg, icg, g.out_h, g.out_w, g.kernel_h, g.kernel_w,
                   ay, ax, fill, &plan);
      gemm(p0, r, static_cast<const T*>(panel), g.depth(), grp);
    }
  }
  return status::success();
}

/// One phase of a transposed conv's sub-pixel split (see sub_pixel_drive): its first output row and
/// column, tap counts, pixel grid, first input row and column (for tap 0, may be negative), and
/// packed block (the bias-only block when it has no taps).
struct phase_view {
  std::size_t oy0, ox0, th, tw, nh, nw;
  std::int64_t iy0, ix0;
  bool empty;
  std::uint64_t block;
};
/// Calls `f(phase_view)` for every phase that owns output pixels, in packed-block order.
template <class F> void for_each_phase(const conv_geometry& g, const phase_layout& l, F&& f) noexcept {
  const std::size_t sh = g.stride_h, sw = g.stride_w;
  for (std::size_t oy0 = 0; oy0 < sh && oy0 < g.out_h; ++oy0) {
    const std::size_t py = (oy0 + g.pad_top) % sh, th = l.y.taps(py), nh = (g.out_h - 1 - oy0) / sh + 1;
    const std::int64_t iy0 = static_cast<std::int64_t>((oy0 + g.pad_top) / sh) - static_cast<std::int64_t>(th) + 1;
    for (std::size_t ox0 = 0; ox0 < sw && ox0 < g.out_w; ++ox0) {
      const std::size_t px = (ox0 + g.pad_left) % sw, tw = l.x.taps(px), nw = (g.out_w - 1 - ox0) / sw + 1;
      const std::int64_t ix0 = static_cast<std::int64_t>((ox0 + g.pad_left) / sw) - static_cast<std::int64_t>(tw) + 1;
      const bool empty = th == 0 || tw == 0;
      f(phase_view{oy0, ox0, th, tw, nh, nw, iy0, ix0, empty, empty ? l.bias_block : l.offset(py, px)});
    }
  }
}

/// Sub-pixel driver of a transposed conv (groups 1): output pixel (oy, ox) has phase
/// py = (oy + pad_top) mod s_h, px = (ox + pad_left) mod s_w and receives tap ky = py + j*s_h
/// from input row (oy + pad_top - ky) / s_h (likewise x). Each phase is a stride-1 correlation
/// with its own sub-filter, over a (batch, nh, nw) grid of output pixels s_h rows and s_w columns
/// apart; its panels (gather_phase_panel) go to `gemm(block_offset, k, rows, a, a_stride, c, ldc)`.
/// Where a phase's pixels continue each other at one C stride (a phase row; every row when
/// phase_rows_chain) the GEMM writes `out` directly with ldc = s_w * out_c. With `Stage`, when
/// the workspace holds more than a phase row of panel rows plus their outputs, the GEMM takes
/// panels spanning phase rows and writes them to a staging area after the panel (ldc = out_c),
/// copied to their places after each call: fewer, longer GEMM calls, for kernels whose per-call
/// set-up one phase row of a small image does not amortize. conv2d_s8 stages for the simd int8
/// kernel, which widens every weight block once per call (bench_conv's 28x28 4x4 and 3x3 stride-2
/// layers: 6-7% fewer instructions, callgrind); the Neon/SVE int8 kernels ran 3-10% more
/// instructions staged (QEMU) and fp32 lost time to the copy, so they write directly.
/// Phases without taps multiply a column of `fill` by the bias-only block.
template <class T, bool Stage, class Gemm>
status sub_pixel_drive(const conv_geometry& g, const phase_layout& l, const T* in, T fill, T* out, void* workspace,
                       std::size_t workspace_bytes, Gemm&& gemm) noexcept {
  const std::size_t kmax = phase_depth_max(g);
  if (workspace == nullptr || workspace_bytes / sizeof(T) < kmax)
    return {status_code::buffer_too_small, "conv2d: workspace smaller than min_workspace_bytes() (one panel row)"};
  if (reinterpret_cast<std::uintptr_t>(workspace) % alignof(T) != 0)
    return {status_code::invalid_argument, "conv2d: workspace is not aligned for the element type"};
  T* panel = static_cast<T*>(workspace);
  const std::size_t cap = workspace_bytes / sizeof(T), sh = g.stride_h, sw = g.stride_w, oc = g.out_c;
  const bool chain = phase_rows_chain(g);
  for_each_phase(g, l, [&](const phase_view& ph) {
    const auto [oy0, ox0, th, tw, nh, nw, iy0, ix0, empty, block] = ph;
    const std::size_t k = empty ? 1 : th * tw * g.in_c, m = g.batch * nh * nw;
    // Staged when more panel rows (and their outputs) than a phase row fit.
    const bool staged = Stage && !chain && nw < m && cap / (k + oc) > nw;
    const std::size_t rows = staged ? cap / (k + oc) : cap / k;
    T* staging = panel + rows * k;
    if (empty) std::fill(panel, panel + std::min(rows, chain || staged ? m : nw), fill);
    auto at = [&](std::size_t p) {  // output element of phase pixel p
      const std::size_t r = p / nw, n = r / nh, oy = oy0 + (r % nh) * sh, ox = ox0 + (p % nw) * sw;
      return out + ((n * g.out_h + oy) * g.out_w + ox) * oc;
    };
    for (std::size_t p0 = 0; p0 < m;) {
      // This panel: up to `rows` pixels, within one phase row unless rows chain or are staged.
      const std::size_t cnt = std::min(rows, chain || staged ? m - p0 : nw - p0 % nw);
      if (!empty)
        gather_phase_panel(panel, p0, cnt, in, g.in_h, g.in_w, g.in_c, nh, nw, th, tw, iy0, ix0, fill);
      if (staged) {
        gemm(block, k, cnt, static_cast<const T*>(panel), k, staging, oc);
        for (std::size_t i = 0; i < cnt; ++i) std::memcpy(at(p0 + i), staging + i * oc, oc * sizeof(T));
      } else {
        gemm(block, k, cnt, static_cast<const T*>(panel), k, at(p0), sw * oc);
      }
      p0 += cnt;
    }
  });
  return status::success();
}

/// Bytes of sub_pixel_indirect_drive's workspace with `tiles` tiles of mr pixels: the pointers of
/// the largest phase's taps, then the zero row (in_c elements).
template <class T>
constexpr std::size_t sub_pixel_indirect_workspace_bytes(const conv_geometry& g, std::size_t mr,
                                                         std::size_t tiles) noexcept {
  const std::size_t ks = phase_axis(g.kernel_h, g.stride_h).max_taps() * phase_axis(g.kernel_w, g.stride_w).max_taps();
  return tiles * mr * std::max<std::size_t>(ks, 1) * sizeof(const T*) + g.in_c * sizeof(T);
}
/// Tiles in its default workspace: a whole phase row per GEMM call.
constexpr std::size_t sub_pixel_indirect_default_tiles(const conv_geometry& g, std::size_t mr) noexcept {
  return ((g.out_w + g.stride_w - 1) / g.stride_w + mr - 1) / mr;
}

/// Sub-pixel driver reading the input through tap pointers (conv_algorithm::sub_pixel_indirect):
/// the phases, packed blocks and C addressing of sub_pixel_drive, but for each phase row it
/// writes one pointer per pixel and tap (tile-major, tap-major inside a tile, as op_f32.hpp
/// defines; taps outside the input point at a zero row of `fill`) and calls
/// `gemm(block_offset, ks, kc, rows, ind, c, ldc)` with ldc = s_w * out_c, up to the workspace's
/// tiles of pixels per call. Phases without taps read the zero row through one pointer per pixel
/// (ks = kc = 1) against the bias-only block.
template <class T, class Gemm>
status sub_pixel_indirect_drive(const conv_geometry& g, const phase_layout& l, const T* in, T fill, T* out,
                                std::size_t mr, void* workspace, std::size_t workspace_bytes, Gemm&& gemm) noexcept {
  const std::size_t ks_max = std::max<std::size_t>(l.y.max_taps() * l.x.max_taps(), 1);
  indirect_buffers<T> b;
  TESSERA_TRY(carve_indirect_workspace(workspace, workspace_bytes, mr * ks_max * sizeof(const T*), g.in_c, fill, b));
  const T** ind = b.ind;
  const T* zero = b.zero;
  const std::size_t cap = b.tiles * mr;
  const std::size_t sh = g.stride_h, sw = g.stride_w, oc = g.out_c, ic = g.in_c;
  const auto ih = static_cast<std::int64_t>(g.in_h), iw = static_cast<std::int64_t>(g.in_w);
  for_each_phase(g, l, [&](const phase_view& ph) {
    const auto [oy0, ox0, th, tw, nh, nw, iy0, ix0, empty, block] = ph;
    const std::size_t ks = empty ? 1 : th * tw, kc = empty ? 1 : ic;
    for (std::size_t n = 0; n < g.batch; ++n)
      for (std::size_t r = 0; r < nh; ++r) {
        const T* image = in + n * g.in_h * g.in_w * ic;
        T* crow = out + ((n * g.out_h + oy0 + r * sh) * g.out_w + ox0) * oc;
        for (std::size_t c0 = 0; c0 < nw; c0 += cap) {
          const std::size_t cnt = std::min(cap, nw - c0);
          for (std::size_t i = 0; i < cnt; ++i) {
            const T** e = ind + (i / mr) * ks * mr + i % mr;
            if (empty) {
              e[0] = zero;
              continue;
            }
            const std::int64_t x0 = ix0 + static_cast<std::int64_t>(c0 + i);
            for (std::size_t a = 0; a < th; ++a) {
              const std::int64_t y = iy0 + static_cast<std::int64_t>(r + a);
              const bool row_in = y >= 0 && y < ih;
              const T* row = row_in ? image + static_cast<std::size_t>(y) * g.in_w * ic : nullptr;
              for (std::size_t b = 0; b < tw; ++b) {
                const std::int64_t x = x0 + static_cast<std::int64_t>(b);
                e[(a * tw + b) * mr] = row_in && x >= 0 && x < iw ? row + static_cast<std::size_t>(x) * ic : zero;
              }
            }
          }
          gemm(block, ks, kc, cnt, static_cast<const T* const*>(ind), crow + c0 * sw * oc, sw * oc);
        }
      }
  });
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

/// A sub-pixel (transposed) geometry must have one group and dilation 1 (as make_transpose_conv_geometry makes it).
inline status check_sub_pixel_groups(const conv_geometry& g) noexcept {
  if (choose_conv_algorithm(g) != conv_algorithm::sub_pixel_gemm) return status::success();
  if (g.groups != 1) return {status_code::invalid_argument, "conv2d: a transposed conv has one group"};
  if (g.dilation_h != 1 || g.dilation_w != 1)
    return {status_code::invalid_argument, "conv2d: a transposed conv has dilation 1"};
  return status::success();
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
  /// Transposed geometries: GEMM calls span phase rows through a staging area (sub_pixel_drive)
  /// for the simd kernel, whose per-call weight widening one phase row would not amortize.
  static constexpr bool stage_phase_rows = std::is_same_v<typename Kernel::arch, arch::simd>;

  /// Bytes of the packed filter for `g` (0 if it would overflow): one block per group, or per
  /// phase for a transposed geometry.
  static std::size_t packed_weights_bytes(const conv_geometry& g) noexcept {
    if (!check_conv_geometry(g).ok() || !detail::check_sub_pixel_groups(g).ok()) return 0;
    if (choose_conv_algorithm(g) == conv_algorithm::sub_pixel_gemm) return detail::phase_packed_bytes(layout(g));
    return detail::conv_packed_bytes(g.groups, group_bytes(g));
  }
  /// Default workspace (0 for pointwise shapes); `run` accepts any size >= min_workspace_bytes.
  static constexpr std::size_t workspace_bytes(const conv_geometry& g) noexcept {
    return detail::conv_workspace_bytes(g, 1, stage_phase_rows);
  }
  /// The smallest workspace `run` accepts: one panel row (0 for pointwise shapes).
  static constexpr std::size_t min_workspace_bytes(const conv_geometry& g) noexcept {
    return detail::conv_min_workspace_bytes(g, 1);
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
  /// Internal (depthwise_conv2d_s8's in_c = 1 route): as pack_weights with the filter read through
  /// `filter_at(i)` (int8 value of flattened OHWI index i) instead of an array.
  template <class FilterAt>
  static status pack_weights_at(const conv_geometry& g, FilterAt&& filter_at, const std::int32_t* bias,
                                std::int32_t input_zp, void* packed, std::size_t packed_bytes) noexcept {
    TESSERA_TRY(check_pack(g, &filter_at, input_zp, packed, packed_bytes));
    const std::size_t k = g.depth();
    pack(g, packed, input_zp, bias, [&](std::size_t grp, std::size_t o, std::size_t kk) {
      return static_cast<std::int8_t>(filter_at((grp * g.group_out_c() + o) * k + kk));
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
    if (choose_conv_algorithm(g) == conv_algorithm::sub_pixel_gemm)
      return detail::sub_pixel_drive<std::int8_t, stage_phase_rows>(
          g, layout(g), in, static_cast<std::int8_t>(h->input_zp), out, workspace, workspace_size,
          [&](std::uint64_t block, std::size_t k, std::size_t rows, const std::int8_t* a, std::size_t a_stride,
              std::int8_t* c, std::size_t ldc) {
            Kernel::run(rows, g.out_c, k, a, a_stride, blocks + block, nullptr, c, ldc, stage);
          });
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
  static detail::phase_layout layout(const conv_geometry& g) noexcept {
    return detail::make_phase_layout(
        g, [&](std::size_t k) { return kernels::packed_qs8_bytes(g.out_c, k, Kernel::nr(), Kernel::kr()); });
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
    if (choose_conv_algorithm(g) == conv_algorithm::sub_pixel_gemm) {
      // Each phase folds the input zero point over its own taps (the gather fills the rest with it).
      const detail::phase_layout l = layout(g);
      detail::set_phase_header(*h, g, l);
      detail::pack_phases(g, l, blocks, [&](std::uint8_t* dst, std::size_t k, auto&& at) {
        kernels::pack_qs8_weights(g.out_c, k, Kernel::nr(), Kernel::kr(), [&](std::size_t o, std::size_t kk) {
          const std::size_t i = at(kk);
          return i == ~std::size_t{0} ? std::int8_t{0} : static_cast<std::int8_t>(w_at(std::size_t{0}, o, i));
        }, bias, input_zp, 0, dst);
      });
      return;
    }
    const std::size_t ocg = g.group_out_c();
    for (std::size_t grp = 0; grp < g.groups; ++grp)
      kernels::pack_qs8_weights(ocg, g.depth(), Kernel::nr(), Kernel::kr(),
                                [&](std::size_t o, std::size_t kk) { return w_at(grp, o, kk); },
                                bias ? bias + grp * ocg : nullptr, input_zp, 0, blocks + grp * h->group_bytes);
  }
  static status check_pack(const conv_geometry& g, const void* w, std::int32_t input_zp, void* packed,
                           std::size_t packed_bytes) noexcept {
    TESSERA_TRY(check_conv_geometry(g));
    TESSERA_TRY(detail::check_sub_pixel_groups(g));
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

  /// Input channels per group from which a kernel with an indirect entry reads the input through
  /// tap pointers (indirect_gemm) rather than a gathered panel. bench_conv_algo (simd kernel, 3x3
  /// stride 1 -> 32 channels): indirect/panel 0.83x at 8 channels, 0.95x at 16, 1.01x at 24,
  /// 1.04x at 32, 1.11-1.23x at 32-256 channels on 3x3 and 5x5 layers, 0.56x on the RGB layer.
  static constexpr std::size_t indirect_min_channels = 32;
  /// Output widths from which a kernel with a strided entry (the AVX-512 kernel) reads a layer of
  /// fewer than indirect_min_channels input channels in place (strided_gemm) instead of gathering
  /// panels. Measured against the panel (docs/performance.md): layer a 1.18-1.24x, bench_conv_algo's
  /// layers of 3-24 channels 1.07-1.21x, in_c = 1 2.4-2.7x; 0.97-1.05x on 19-pixel rows of 96-128 output
  /// channels; 0.93-0.99x on outputs 3-7 pixels wide (tiny images: the edge strips cost more there).
  static constexpr std::size_t strided_min_width = 8;
  /// From indirect_min_channels input channels on, a kernel with a strided entry takes strided_gemm
  /// over indirect_gemm (strided_over_indirect) only while in_c * ceil(out_c / 32) <= this: 32-64
  /// input channels into at most 32 output channels, or 32 into at most 64. What the strided path
  /// saves (the indirect path's tap pointers) shrinks as in_c and the 32-column blocks of out_c
  /// grow; bench_conv_algo and tools/x86-probe/strided_vs_indirect.cpp (docs/performance.md, "strided_gemm
  /// from 32 input channels"), against indirect on the AVX-512 kernel, g++ 12 and clang 16: rows
  /// in whole tiles (below) 1.05-1.16x at 32 -> 32, 1.02-1.09x at 32 -> 64, 1.01-1.09x at 56 -> 32;
  /// past the bound 1.00-1.03x at 64-96 -> 64 in whole tiles, and on 56x56 3x3 layers 0.98-1.04x at
  /// 40 -> 64 and 48 -> 48, 0.99-1.01x at 96-128 -> 8-16.
  static constexpr std::size_t strided_max_channel_blocks = 64;
  /// Output widths from which strided_over_indirect can hold (rows of 8-10 pixels in whole tiles
  /// measured 0.97-1.12x: 0.97-1.02x on 7x7 kernels, 1.00-1.06x at 56 -> 32).
  static constexpr std::size_t strided_deep_min_width = 16;
  /// strided_over_indirect also needs out_w >= this * kernel_w * r, where r (0-3) is the rows that
  /// take the interior of an output row (the columns whose windows lie inside the input) up to a
  /// multiple of 4. The strided path runs each row's interior in 8-row tiles; a last tile of 5-7
  /// rows costs a whole 8-row tile and one of 1-2 rows a 2-row tile (slow with g++ 12), and at 32+
  /// channels that per-row tail costs about what the pointers save. Measured: r = 0 (whole 8- and
  /// 4-row tiles) 1.01-1.16x; r > 0 within the bound 1.00-1.14x (56x56 3x3 32 -> 32 1.08-1.12x, 48-56
  /// wide 3x3 64 -> 32 and 32 -> 64 1.00-1.04x); r > 0 below it from 0.86x (28x28 -> 14x14 stride
  /// 2), 0.92-0.96x (16x16 3x3) and 0.99-1.01x (52-wide 7x7 32 -> 64) to 1.10x (28x28 3x3 32 -> 32).
  static constexpr std::size_t strided_tail_width = 8;
  /// True when a kernel with a strided entry runs `g` (indirect_min_channels or more input channels
  /// per group; a strided shape: groups 1, dilation_w 1) faster as strided_gemm than as
  /// indirect_gemm: the three bounds above.
  static constexpr bool strided_over_indirect(const conv_geometry& g) noexcept {
    if (g.group_in_c() * ((g.out_c + 31) / 32) > strided_max_channel_blocks || g.out_w < strided_deep_min_width) return false;
    const detail::strided_plan s = detail::make_strided_plan(g);
    const std::size_t r = (4 - (s.hi - s.lo) % 4) % 4;
    return strided_tail_width * g.kernel_w * r <= g.out_w;
  }
  /// The algorithm `run` uses for `g` (see the file comment).
  static constexpr conv_algorithm algorithm(const conv_geometry& g) noexcept {
    const conv_algorithm a = choose_conv_algorithm(g);
    if (applies(g, conv_algorithm::strided_gemm) && g.out_w >= strided_min_width &&
        (g.group_in_c() < indirect_min_channels || strided_over_indirect(g)))
      return conv_algorithm::strided_gemm;
    if (applies(g, conv_algorithm::indirect_gemm) && g.group_in_c() >= indirect_min_channels)
      return conv_algorithm::indirect_gemm;
    if (applies(g, conv_algorithm::sub_pixel_indirect) && g.in_c >= indirect_min_channels)
      return conv_algorithm::sub_pixel_indirect;
    return a;
  }
  /// True when `run` can compute `g` with algorithm `a`: the shape's own algorithm
  /// (choose_conv_algorithm), or on a kernel with an indirect entry indirect_gemm in place of
  /// panel_gemm and sub_pixel_indirect in place of sub_pixel_gemm, or on a kernel with a strided
  /// entry strided_gemm in place of panel_gemm (groups 1, dilation_w 1, at most 16 kernel rows)
  /// (for benchmarks and tests that compare them on one kernel).
  static constexpr bool applies(const conv_geometry& g, conv_algorithm a) noexcept {
    const conv_algorithm shape = choose_conv_algorithm(g);
    if (a == conv_algorithm::indirect_gemm)
      return kernels::has_indirect_f32<Kernel> && shape == conv_algorithm::panel_gemm && g.groups != 0;
    if (a == conv_algorithm::sub_pixel_indirect)
      return kernels::has_indirect_f32<Kernel> && shape == conv_algorithm::sub_pixel_gemm && g.groups == 1 &&
             g.dilation_h == 1 && g.dilation_w == 1;
    if (a == conv_algorithm::strided_gemm)
      return kernels::has_strided_f32<Kernel> && shape == conv_algorithm::panel_gemm && detail::strided_shape(g);
    return a == shape;
  }

  /// Bytes of the packed filter for `g` (0 if it would overflow): one block per group, or per
  /// phase for a transposed geometry.
  static std::size_t packed_weights_bytes(const conv_geometry& g) noexcept {
    if (!check_conv_geometry(g).ok() || !detail::check_sub_pixel_groups(g).ok()) return 0;
    if (choose_conv_algorithm(g) == conv_algorithm::sub_pixel_gemm) return detail::phase_packed_bytes(layout(g));
    return detail::conv_packed_bytes(g.groups, group_bytes(g));
  }
  /// Default workspace (0 for pointwise shapes); `run` accepts any size >= min_workspace_bytes.
  /// indirect_gemm: the pointers of up to 256 output pixels and a zero row (pointer-aligned);
  /// sub_pixel_indirect: the pointers of a phase row and a zero row; strided_gemm: a zero row
  /// (when an output row has a kernel row in the padding) and the edge strips of mr output rows
  /// (detail/conv_strided.hpp; 0 when neither is needed).
  static std::size_t workspace_bytes(const conv_geometry& g) noexcept { return workspace_bytes(g, algorithm(g)); }
  /// The smallest workspace `run` accepts: one panel row (0 for pointwise shapes); indirect_gemm:
  /// one tile's pointers and the zero row; strided_gemm: the zero row and one output row's strips.
  static std::size_t min_workspace_bytes(const conv_geometry& g) noexcept { return min_workspace_bytes(g, algorithm(g)); }
  /// The same two sizes for algorithm `a` (see `applies`).
  static std::size_t workspace_bytes(const conv_geometry& g, conv_algorithm a) noexcept {
    return workspace_for(g, a, false);
  }
  static std::size_t min_workspace_bytes(const conv_geometry& g, conv_algorithm a) noexcept {
    return workspace_for(g, a, true);
  }
  /// Packs `filter[out_c][kh][kw][in_c/groups]` and `bias[out_c]` (nullable). `packed` must be 16-byte aligned.
  static status pack_weights(const conv_geometry& g, const float* filter, const float* bias, void* packed,
                             std::size_t packed_bytes) noexcept {
    if (filter == nullptr) return {status_code::invalid_argument, "conv2d_f32: null filter or packed buffer"};
    return pack_weights_at(g, [filter](std::size_t i) { return filter[i]; }, bias, packed, packed_bytes);
  }
  /// Internal (depthwise_conv2d_f32's in_c = 1 route): as pack_weights with the filter read through
  /// `filter_at(i)` (value of flattened OHWI index i) instead of an array.
  template <class FilterAt>
  static status pack_weights_at(const conv_geometry& g, FilterAt&& filter_at, const float* bias, void* packed,
                                std::size_t packed_bytes) noexcept {
    TESSERA_TRY(check_conv_geometry(g));
    TESSERA_TRY(detail::check_sub_pixel_groups(g));
    if (packed == nullptr) return {status_code::invalid_argument, "conv2d_f32: null filter or packed buffer"};
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
    if (choose_conv_algorithm(g) == conv_algorithm::sub_pixel_gemm) {
      const detail::phase_layout l = layout(g);
      detail::set_phase_header(*h, g, l);
      detail::pack_phases(g, l, blocks, [&](std::uint8_t* dst, std::size_t k, auto&& at) {
        kernels::pack_f32_b(g.out_c, k, Kernel::nr(), [&](std::size_t kk, std::size_t o) {
          const std::size_t i = at(kk);
          return i == ~std::size_t{0} ? 0.0f : static_cast<float>(filter_at(o * g.depth() + i));
        }, bias, reinterpret_cast<float*>(dst));
      });
      return status::success();
    }
    const std::size_t ocg = g.group_out_c(), k = g.depth();
    for (std::size_t grp = 0; grp < g.groups; ++grp)
      kernels::pack_f32_b(ocg, k, Kernel::nr(),
                          [&](std::size_t kk, std::size_t o) { return static_cast<float>(filter_at((grp * ocg + o) * k + kk)); },
                          bias ? bias + grp * ocg : nullptr,
                          reinterpret_cast<float*>(blocks + grp * h->group_bytes));
    return status::success();
  }
  /// out = clamp(conv(in) + bias).
  static status run(const conv_geometry& g, const float* in, const void* packed, float* out, const f32_clamp& clamp,
                    void* workspace, std::size_t workspace_size) noexcept {
    return run(g, in, packed, out, clamp, workspace, workspace_size, algorithm(g));
  }
  /// `run` through algorithm `a` where it `applies` (else a status); workspace as sized for `a`.
  static status run(const conv_geometry& g, const float* in, const void* packed, float* out, const f32_clamp& clamp,
                    void* workspace, std::size_t workspace_size, conv_algorithm a) noexcept {
    TESSERA_TRY(detail::check_buffers(in, out, "conv2d_f32: null input or output"));
    if (!(clamp.min <= clamp.max)) return {status_code::invalid_argument, "conv2d_f32: clamp min > max (or NaN)"};
    const detail::conv_packed_header* h = nullptr;
    TESSERA_TRY(detail::check_conv_packed(g, packed, 32, Kernel::nr(), 0,
                                          "conv2d_f32: packed buffer is null or not 16-byte aligned", h));
    if (!applies(g, a))
      return {status_code::invalid_argument, "conv2d_f32: the algorithm does not apply to this geometry or kernel"};
    const auto* blocks = static_cast<const std::uint8_t*>(packed) + sizeof(detail::conv_packed_header);
    if constexpr (kernels::has_indirect_f32<Kernel>)
      if (a == conv_algorithm::sub_pixel_indirect)
        return detail::sub_pixel_indirect_drive<float>(
            g, layout(g), in, 0.0f, out, Kernel::mr(), workspace, workspace_size,
            [&](std::uint64_t block, std::size_t ks, std::size_t kc, std::size_t rows, const float* const* ind, float* c,
                std::size_t ldc) { Kernel::run_indirect(rows, g.out_c, ks, kc, ind, blocks + block, c, ldc, clamp); });
    if (a == conv_algorithm::sub_pixel_gemm)
      return detail::sub_pixel_drive<float, false>(
          g, layout(g), in, 0.0f, out, workspace, workspace_size,
          [&](std::uint64_t block, std::size_t k, std::size_t rows, const float* a, std::size_t a_stride, float* c,
              std::size_t ldc) { Kernel::run(rows, g.out_c, k, a, a_stride, blocks + block, c, ldc, clamp); });
    const std::size_t ocg = g.group_out_c(), k = g.depth();
    if constexpr (kernels::has_strided_f32<Kernel>)
      if (a == conv_algorithm::strided_gemm)
        return detail::strided_drive<float>(
            g, in, 0.0f, Kernel::mr(), workspace, workspace_size,
            [&](std::size_t rows, const float* const* seg, std::size_t a_stride, std::size_t p0, std::size_t c_step) {
              Kernel::run_strided(rows, g.out_c, g.kernel_h, g.kernel_w * g.in_c, seg, a_stride, blocks,
                                  out + p0 * g.out_c, c_step * g.out_c, clamp);
            });
    if constexpr (kernels::has_indirect_f32<Kernel>)
      if (a == conv_algorithm::indirect_gemm)
        return detail::indirect_drive<float>(
            g, in, 0.0f, Kernel::mr(), workspace, workspace_size,
            [&](std::size_t p0, std::size_t rows, const float* const* ind, std::size_t grp) {
              Kernel::run_indirect(rows, ocg, g.taps(), g.group_in_c(), ind, blocks + grp * h->group_bytes,
                                   out + p0 * g.out_c + grp * ocg, g.out_c, clamp);
            });
    return detail::conv_drive<float>(
        g, in, 0.0f, workspace, workspace_size,
        [&](std::size_t p0, std::size_t rows, const float* a, std::size_t a_stride, std::size_t grp) {
          Kernel::run(rows, ocg, k, a, a_stride, blocks + grp * h->group_bytes, out + p0 * g.out_c + grp * ocg,
                      g.out_c, clamp);
        });
  }

 private:
  /// Default (`least` false) or smallest workspace of algorithm `a`: indirect_gemm, tiles of
  /// pointers and the zero row; otherwise the shape's panel sizes (0 for an invalid geometry or an
  /// algorithm that does not apply).
  static std::size_t workspace_for(const conv_geometry& g, conv_algorithm a, bool least) noexcept {
    if (!check_conv_geometry(g).ok() || !applies(g, a)) return 0;
    if constexpr (kernels::has_strided_f32<Kernel>)
      if (a == conv_algorithm::strided_gemm)
        return detail::strided_workspace_bytes<float>(g, least ? 1 : Kernel::mr());
    if constexpr (kernels::has_indirect_f32<Kernel>) {
      if (a == conv_algorithm::indirect_gemm)
        return detail::indirect_workspace_bytes<float>(g, Kernel::mr(),
                                                       least ? 1 : detail::indirect_default_tiles(g, Kernel::mr()));
      if (a == conv_algorithm::sub_pixel_indirect)
        return detail::sub_pixel_indirect_workspace_bytes<float>(
            g, Kernel::mr(), least ? 1 : detail::sub_pixel_indirect_default_tiles(g, Kernel::mr()));
    }
    return least ? detail::conv_min_workspace_bytes(g, sizeof(float)) : detail::conv_workspace_bytes(g, sizeof(float));
  }
  static std::size_t group_bytes(const conv_geometry& g) noexcept {
    return kernels::packed_f32_bytes(g.group_out_c(), g.depth(), Kernel::nr());
  }
  static detail::phase_layout layout(const conv_geometry& g) noexcept {
    return detail::make_phase_layout(g, [&](std::size_t k) { return kernels::packed_f32_bytes(g.out_c, k, Kernel::nr()); });
  }
};

/// int16 x int8 conv2d (TFLite 16x8): zero points 0; int64 bias -> int64 accumulator and MBQM64,
/// int32 bias -> int32 accumulator and MBQM32 (op_s16.hpp), recorded in the packed buffer.
template <class Tag = arch::native, class Kernel = select_t<op::gemm_qs16_qs8, Tag>>
struct conv2d_s16 {
  using kernel = Kernel;

  /// Bytes of the packed filter for `g` (0 if it would overflow).
  static std::size_t packed_weights_bytes(const conv_geometry& g) noexcept {
    if (!check_conv_geometry(g).ok() || !detail::check_sub_pixel_groups(g).ok()) return 0;
    if (choose_conv_algorithm(g) == conv_algorithm::sub_pixel_gemm) return detail::phase_packed_bytes(layout(g));
    const std::size_t gb = kernels::packed_qs16_bytes(g.group_out_c(), g.depth(), Kernel::nr(), Kernel::kr());
    return gb == 0 ? 0 : detail::conv_packed_bytes(g.groups, gb);
  }
  /// Default workspace (0 for pointwise shapes); `run` accepts any size >= min_workspace_bytes.
  static constexpr std::size_t workspace_bytes(const conv_geometry& g) noexcept {
    return detail::conv_workspace_bytes(g, sizeof(std::int16_t));
  }
  /// The smallest workspace `run` accepts: one panel row (0 for pointwise shapes).
  static constexpr std::size_t min_workspace_bytes(const conv_geometry& g) noexcept {
    return detail::conv_min_workspace_bytes(g, sizeof(std::int16_t));
  }
  /// Packs the filter with an int64 bias (nullable): int64 accumulation, MBQM64.
  static status pack_weights(const conv_geometry& g, const std::int8_t* filter, const std::int64_t* bias, void* packed,
                             std::size_t packed_bytes) noexcept {
    if (filter == nullptr) return {status_code::invalid_argument, "conv2d_s16: null filter or packed buffer"};
    return pack(g, [filter](std::size_t i) { return filter[i]; }, packed, packed_bytes, 64,
                [&](std::size_t c) { return bias ? bias[c] : std::int64_t{0}; });
  }
  /// Packs the filter with an int32 bias: int32 accumulation, MBQM32 (TFLite's AccumScalar=int32).
  static status pack_weights(const conv_geometry& g, const std::int8_t* filter, const std::int32_t* bias, void* packed,
                             std::size_t packed_bytes) noexcept {
    if (filter == nullptr) return {status_code::invalid_argument, "conv2d_s16: null filter or packed buffer"};
    return pack(g, [filter](std::size_t i) { return filter[i]; }, packed, packed_bytes, 32,
                [&](std::size_t c) { return bias ? std::int64_t{bias[c]} : std::int64_t{0}; });
  }
  /// Internal (depthwise_conv2d_s16's in_c = 1 route): packs with the filter read through
  /// `filter_at(i)` (int8 value of flattened OHWI index i), `bias_at(c)` (int64) and the
  /// accumulator width `acc_bits` (64: MBQM64, 32: MBQM32) as the two pack_weights record it.
  template <class FilterAt, class BiasAt>
  static status pack_weights_at(const conv_geometry& g, FilterAt&& filter_at, BiasAt&& bias_at, std::uint32_t acc_bits,
                                void* packed, std::size_t packed_bytes) noexcept {
    return pack(g, filter_at, packed, packed_bytes, acc_bits, bias_at);
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
  static detail::phase_layout layout(const conv_geometry& g) noexcept {
    return detail::make_phase_layout(
        g, [&](std::size_t k) { return kernels::packed_qs16_bytes(g.out_c, k, Kernel::nr(), Kernel::kr()); });
  }
  template <class Acc, class Q>
  static status go(const conv_geometry& g, const std::int16_t* in, const std::uint8_t* blocks, std::size_t gbytes,
                   std::int16_t* out, const output_stage<Q>& stage, void* workspace, std::size_t workspace_size) noexcept {
    if (choose_conv_algorithm(g) == conv_algorithm::sub_pixel_gemm)
      return detail::sub_pixel_drive<std::int16_t, false>(
          g, layout(g), in, std::int16_t{0}, out, workspace, workspace_size,
          [&](std::uint64_t block, std::size_t k, std::size_t rows, const std::int16_t* a, std::size_t a_stride,
              std::int16_t* c, std::size_t ldc) {
            Kernel::template run<Acc>(rows, g.out_c, k, a, a_stride, kernels::qs16_blocks(blocks + block), c, ldc, stage);
          });
    const std::size_t ocg = g.group_out_c(), k = g.depth();
    return detail::conv_drive<std::int16_t>(
        g, in, std::int16_t{0}, workspace, workspace_size, [&](std::size_t p0, std::size_t rows, const std::int16_t* a, std::size_t a_stride, std::size_t grp) {
          Kernel::template run<Acc>(rows, ocg, k, a, a_stride, kernels::qs16_blocks(blocks + grp * gbytes),
                                    out + p0 * g.out_c + grp * ocg, g.out_c, detail::group_stage(stage, grp * ocg));
        });
  }
  template <class FilterAt, class BiasAt>
  static status pack(const conv_geometry& g, FilterAt&& filter_at, void* packed, std::size_t packed_bytes,
                     std::uint32_t acc_bits, BiasAt&& bias_at) noexcept {
    TESSERA_TRY(check_conv_geometry(g));
    TESSERA_TRY(detail::check_sub_pixel_groups(g));
    if (packed == nullptr) return {status_code::invalid_argument, "conv2d_s16: null filter or packed buffer"};
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
    if (choose_conv_algorithm(g) == conv_algorithm::sub_pixel_gemm) {
      const detail::phase_layout l = layout(g);
      detail::set_phase_header(*h, g, l);
      detail::pack_phases(g, l, blocks, [&](std::uint8_t* dst, std::size_t k, auto&& at) {
        kernels::pack_qs16_weights(g.out_c, k, Kernel::nr(), Kernel::kr(), [&](std::size_t o, std::size_t kk) {
          const std::size_t i = at(kk);
          return i == ~std::size_t{0} ? std::int8_t{0} : static_cast<std::int8_t>(filter_at(o * g.depth() + i));
        }, bias_at, acc_bits, dst);
      });
      return status::success();
    }
    const std::size_t ocg = g.group_out_c(), k = g.depth();
    for (std::size_t grp = 0; grp < g.groups; ++grp)
      kernels::pack_qs16_weights(ocg, k, Kernel::nr(), Kernel::kr(),
                                 [&](std::size_t o, std::size_t kk) { return static_cast<std::int8_t>(filter_at((grp * ocg + o) * k + kk)); },
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
