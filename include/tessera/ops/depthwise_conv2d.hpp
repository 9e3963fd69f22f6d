/// @file depthwise_conv2d.hpp
/// Depthwise 2-D convolution (TFLite DEPTHWISE_CONV_2D): fp32, int8 (s8 or s4 weights) and 16x8
/// (int16 activations, int8 weights), NHWC activations, TFLite filter layout [1, KH, KW, OC].
///
///   out[n][oy][ox][o] = act( bias[o] + sum_{ky,kx} (in[n][iy][ix][o / M] - input_zp) * w[ky][kx][o] )
///   iy = oy * stride_h - pad_top + ky * dilation_h     (likewise ix),   M = out_c / in_c
///
/// taps outside the input count as the input zero point (contribute 0). Integer variants requantize
/// exactly as TFLite's reference kernels (tests/conformance/README.md, docs/quantization.md).
///
/// Usage: describe the layer with a `conv_geometry` (make_conv_geometry: SAME / VALID / explicit
/// padding), pack the weights once into a caller-owned buffer of `packed_weights_bytes(g)` bytes,
/// then `run` with `workspace_bytes(g)` bytes of caller-owned scratch:
///
///   using dw = depthwise_conv2d_s8<>;
///   std::vector<std::int32_t> packed(dw::packed_weights_bytes(g) / 4 + 1), ws(dw::workspace_bytes(g) / 4 + 1);
///   dw::pack_weights(g, filter, bias, input_zp, packed.data(), packed.size() * 4);
///   dw::run(g, in, packed.data(), out, stage, input_zp, ws.data(), ws.size() * 4);
///
/// How it runs: per output row the operator writes into the workspace the indirection pointers of
/// that row (out_w * KH * KW, one per pixel and tap, see kernels/dwconv/op.hpp) and, once, a "zero
/// row" of input zero points that padding taps point at; then it calls the microkernel once per
/// output row (pixels = out_w, in_step = KH * KW). Stride, dilation and padding live only in the
/// pointers. 3x3 layers with dilation 1 and stride 1 or 2 along x (fp32 and int8) run on a row
/// kernel instead (direct addressing, no pointers; neighbouring outputs share input loads).
///
/// Depth multiplier M = out_c / in_c > 1 runs on the same microkernels as M = 1: the operator
/// copies each input row it needs into the workspace "expanded" to out_c channels (channel o =
/// input channel o / M; with in_c = 1 a broadcast), so the kernels see the multiplier-1 layer on
/// the expanded input with the same packed weights. Which path runs depends on the workspace given
/// (all paths give identical results: int8/int16 equal TFLite's reference, fp32 equals the same
/// kernel on the equivalent multiplier-1 layer):
///
///   workspace >= workspace_bytes(g) (the fastest path):
///     - fp32 3x3 row geometries with M = 1 on a tag whose pitched row kernel is preferred (the
///       avx512_vnni tag): channel groups of that kernel's group_channels() (twice that on
///       narrow rows, see detail::dw::group_channels_for), each on its own ring
///       of zero-padded rows of the group's channels (detail::dw::group_rows), one pitched
///       row-kernel call per group and output row;
///     - 3x3 row geometries, fp32 and int8, dilation_h <= 3 (M > 1; or M = 1 at stride_h 1, int8
///       always, fp32 on x86-64 on rows of at most 32 pixels or 512-channel pitches, see
///       detail::dw::padded_rows_pay): a cache of 2 * dilation_h + 1 zero-point-padded rows of
///       out_c channels (staggered across L1 sets), each input row
///       copied (expanded) once per image, and one row-kernel call per output row (no edge calls);
///     - other layers with M > 1: a ring of (KH - 1) * dilation_h + 1 expanded rows, each input
///       row expanded once per image, tap pointers into it, one unipass call per output row;
///     - M = 1 otherwise: as below.
///   min_workspace_bytes(g) <= workspace < workspace_bytes(g):
///     - M = 1, 3x3 row geometries: only the pixels whose windows lie inside the input go to the
///       row kernel, the edges take pointers and the unipass kernel;
///     - M > 1: the expanded ring if the workspace holds it (3x3 geometries), else a portable
///       scalar loop over tap pointers into the input (untuned; for tiny scratch budgets).
/// Less than min_workspace_bytes(g) is refused (buffer_too_small).
///
/// `conv_geometry::groups` is ignored (a depthwise layer is defined by in_c and out_c alone);
/// out_c must be a multiple of in_c. Packed buffers start with a `depthwise_packed_header` that
/// lets `run` check them against the geometry, the kernel's channel tile and the input zero point.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <tessera/core/dtype.hpp>
#include <tessera/core/status.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>
#include <tessera/kernels/dwconv/registry.hpp>
#include <tessera/ops/conv2d.hpp>
#include <tessera/ops/conv_geometry.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera {

/// Leading 32 bytes of every depthwise packed-weight buffer; the op.hpp blocks follow it (so they
/// keep the buffer's 8-byte alignment). Written by `pack_weights`, checked by `run`.
struct depthwise_packed_header {
  static constexpr std::uint32_t magic_f32 = 0x33667764u;   ///< "dwf3" in little-endian bytes
  static constexpr std::uint32_t magic_s8 = 0x38737764u;    ///< "dws8"
  static constexpr std::uint32_t magic_s16 = 0x36317764u;   ///< "dw16"
  std::uint32_t magic = 0;
  std::uint32_t acc_bits = 0;        ///< s16: 64 (int64 + MBQM64) or 32 (int32 + MBQM32); s8: 32; f32: 0
  std::uint32_t cr = 0;              ///< channel tile the blocks were packed for
  std::uint32_t channels = 0;        ///< output channels
  std::uint32_t kernel_h = 0, kernel_w = 0;
  std::int32_t input_zp = 0;         ///< folded into the s8 bias'; `run` must get the same value
  /// 0: the op.hpp depthwise blocks follow; else the in_c = 1 GEMM route (see gemm_route): a
  /// conv2d packed buffer starts this many bytes into the buffer (the first 16-byte aligned
  /// address after the header).
  std::uint32_t gemm_offset = 0;
};
static_assert(sizeof(depthwise_packed_header) == 32, "the header keeps the blocks 8-byte aligned");

namespace detail::dw {

constexpr std::size_t max_dim = conv_geometry::max_dim;
constexpr std::size_t max_elems = conv_geometry::max_elems;

/// Checks a geometry (also a hand-made one): not transposed, out_c a multiple of in_c, and
/// check_conv_geometry's rules for the grouped conv with one group per input channel.
inline status check_geometry(const conv_geometry& g) noexcept {
  constexpr auto bad = status_code::invalid_argument;
  if (g.transposed) return {bad, "depthwise_conv2d: a transposed geometry is not supported (use transpose_conv2d)"};
  if (g.in_c != 0 && g.out_c % g.in_c != 0)
    return {bad, "depthwise_conv2d: output channels must be a multiple of input channels (depth multiplier)"};
  // A depthwise layer is the grouped conv with one group per input channel (`groups` is ignored).
  conv_geometry grouped = g;
  grouped.groups = g.in_c;
  return check_conv_geometry(grouped);
}

/// Workspace bytes for element type T: out_w * KH * KW pointers (at the aligned start), the zero
/// row (in_c elements, flush with the end of the caller's workspace so guard pages see over-reads
/// of it) and alignment slack. 0 if the geometry is invalid or the size overflows size_t.
template <class T> std::size_t workspace_bytes(const conv_geometry& g) noexcept {
  if (!check_geometry(g)) return 0;
  std::size_t n = 0;
  constexpr std::size_t lim = std::numeric_limits<std::size_t>::max() / 4;
  if (!tessera::detail::mul_within(g.out_w, g.taps(), lim / sizeof(void*), n)) return 0;
  const std::size_t bytes = n * sizeof(void*) + g.in_c * sizeof(T) + (alignof(const T*) - 1) + (alignof(T) - 1);
  return bytes > lim ? 0 : bytes;
}

/// Bytes of a packed buffer (header + op.hpp blocks); 0 if invalid or too large for size_t.
inline std::size_t packed_bytes(const conv_geometry& g, std::size_t cr, std::size_t bias_size,
                                std::size_t w_size) noexcept {
  if (!check_geometry(g) || cr == 0) return 0;
  const std::uint64_t ks = g.taps(), blocks = (g.out_c + cr - 1) / cr;
  const std::uint64_t raw = cr * bias_size + ks * cr * w_size;
  const std::uint64_t block = (raw + bias_size - 1) / bias_size * bias_size;
  const std::uint64_t total = sizeof(depthwise_packed_header) + blocks * block;  // < 2^24 * 2^59: no wrap
  return total > std::numeric_limits<std::size_t>::max() / 2 ? 0 : static_cast<std::size_t>(total);
}

/// Checks the arguments of a pack_weights call.
inline status check_pack(const conv_geometry& g, const void* filter, void* packed, std::size_t bytes,
                         std::size_t need, std::size_t align) noexcept {
  TESSERA_TRY(check_geometry(g));
  if (filter == nullptr || packed == nullptr)
    return {status_code::invalid_argument, "depthwise_conv2d: null filter or packed buffer"};
  if (reinterpret_cast<std::uintptr_t>(packed) % align != 0)
    return {status_code::invalid_argument,
            align == 8 ? "depthwise_conv2d: the packed buffer must be 8-byte aligned"
                       : "depthwise_conv2d: the packed buffer must be 4-byte aligned"};
  if (need == 0) return {status_code::overflow, "depthwise_conv2d: the packed size overflows size_t"};
  if (bytes < need)
    return {status_code::buffer_too_small, "depthwise_conv2d: packed buffer smaller than packed_weights_bytes()"};
  return status::success();
}

/// Writes the header of a packed buffer.
inline void write_header(const conv_geometry& g, std::uint32_t magic, std::uint32_t acc_bits, std::size_t cr,
                         std::int32_t input_zp, void* packed) noexcept {
  depthwise_packed_header h;
  h.magic = magic;
  h.acc_bits = acc_bits;
  h.cr = static_cast<std::uint32_t>(cr);
  h.channels = static_cast<std::uint32_t>(g.out_c);
  h.kernel_h = static_cast<std::uint32_t>(g.kernel_h);
  h.kernel_w = static_cast<std::uint32_t>(g.kernel_w);
  h.input_zp = input_zp;
  *static_cast<depthwise_packed_header*>(packed) = h;
}

/// The op.hpp blocks of a packed buffer (what kernels receive).
inline const void* blocks(const void* packed) noexcept {
  return static_cast<const std::uint8_t*>(packed) + sizeof(depthwise_packed_header);
}

/// The checks `run` starts with on either path: geometry, buffers, the packed buffer's alignment.
template <class T>
status check_run_buffers(const conv_geometry& g, const T* in, const void* packed, const T* out,
                         std::size_t align) noexcept {
  TESSERA_TRY(check_geometry(g));
  if (in == nullptr || packed == nullptr || out == nullptr)
    return {status_code::invalid_argument, "depthwise_conv2d: null input, packed or output buffer"};
  if (reinterpret_cast<std::uintptr_t>(packed) % align != 0)
    return {status_code::invalid_argument,
            align == 8 ? "depthwise_conv2d: the packed buffer must be 8-byte aligned"
                       : "depthwise_conv2d: the packed buffer must be 4-byte aligned"};
  return status::success();
}
/// The packed header's checks on either path: operator, channel tile, kernel size and out_c.
inline status check_run_header(const conv_geometry& g, const depthwise_packed_header& h, std::uint32_t magic,
                               std::size_t cr) noexcept {
  if (h.magic != magic)
    return {status_code::invalid_argument, "depthwise_conv2d: the packed buffer was not made by this operator's pack_weights"};
  if (h.cr != cr)
    return {status_code::invalid_argument, "depthwise_conv2d: the packed buffer was made for another kernel (channel tile)"};
  if (h.channels != g.out_c || h.kernel_h != g.kernel_h || h.kernel_w != g.kernel_w)
    return {status_code::shape_mismatch, "depthwise_conv2d: the packed buffer was made for another kernel size or out_c"};
  return status::success();
}

/// Checks the common arguments of `run`: geometry, buffers, workspace, packed header.
template <class T>
status check_run(const conv_geometry& g, const T* in, const void* packed, const T* out, std::uint32_t magic,
                 std::size_t cr, std::size_t align, const void* workspace, std::size_t workspace_size) noexcept {
  TESSERA_TRY(check_run_buffers(g, in, packed, out, align));
  const std::size_t need = workspace_bytes<T>(g);
  if (need == 0) return {status_code::overflow, "depthwise_conv2d: the workspace size overflows size_t"};
  if (workspace == nullptr || workspace_size < need)
    return {status_code::buffer_too_small, "depthwise_conv2d: workspace smaller than workspace_bytes()"};
  const auto& h = *static_cast<const depthwise_packed_header*>(packed);
  TESSERA_TRY(check_run_header(g, h, magic, cr));
  if (h.gemm_offset != 0)
    return {status_code::invalid_argument,
            "depthwise_conv2d: the packed buffer was made for the in_c = 1 GEMM route, this geometry runs depthwise"};
  return status::success();
}

/// The workspace's pointer area and its zero row (in_c copies of `zero`), laid out as sized by
/// workspace_bytes: pointers at the aligned start, the zero row flush with the end.
template <class T> struct row_scratch {
  const T** ptrs;
  const T* zero_row;
};
template <class T>
row_scratch<T> make_scratch(const conv_geometry& g, T zero, void* workspace, std::size_t workspace_size) noexcept {
  const auto start = reinterpret_cast<std::uintptr_t>(workspace);
  const T** ptrs = reinterpret_cast<const T**>((start + alignof(const T*) - 1) / alignof(const T*) * alignof(const T*));
  const std::uintptr_t zero_at = (start + workspace_size - g.in_c * sizeof(T)) / alignof(T) * alignof(T);
  T* zero_row = reinterpret_cast<T*>(zero_at);  // after the pointers: workspace_size >= workspace_bytes()
  for (std::size_t c = 0; c < g.in_c; ++c) zero_row[c] = zero;
  return {ptrs, zero_row};
}

/// Writes the tap pointers of output pixels [ox0, ox1) of output row `oy` to `ptrs`: pointer
/// (ox, ky, kx) at ptrs[(ox - ox0) * ks + ky * kw + kx], padding taps at `zero_row`. `base(iy)`
/// gives pixel 0 of input row iy (0 <= iy < in_h) whose pixels lie `c` elements apart. Rows are
/// filled tap row by tap row; windows inside the image in x need no range checks.
template <class T, class Base>
void tap_pointers(const conv_geometry& g, std::size_t oy, std::size_t ox0, std::size_t ox1, std::size_t c,
                  Base&& base_of, const T* zero_row, const T** ptrs) noexcept {
  const std::size_t ks = g.kernel_h * g.kernel_w, kw = g.kernel_w;
  const std::size_t kstep = g.dilation_w * c;
  const auto ih = static_cast<std::int64_t>(g.in_h), iw = static_cast<std::int64_t>(g.in_w);
  const auto span = static_cast<std::int64_t>((kw - 1) * g.dilation_w);
  for (std::size_t ky = 0; ky < g.kernel_h; ++ky) {
    const std::int64_t iy = static_cast<std::int64_t>(oy * g.stride_h + ky * g.dilation_h) - static_cast<std::int64_t>(g.pad_top);
    const T** p = ptrs + ky * kw;
    if (iy < 0 || iy >= ih) {
      for (std::size_t ox = ox0; ox < ox1; ++ox, p += ks)
        for (std::size_t kx = 0; kx < kw; ++kx) p[kx] = zero_row;
      continue;
    }
    const T* base = base_of(static_cast<std::size_t>(iy));
    std::int64_t ix0 = static_cast<std::int64_t>(ox0 * g.stride_w) - static_cast<std::int64_t>(g.pad_left);
    for (std::size_t ox = ox0; ox < ox1; ++ox, p += ks, ix0 += static_cast<std::int64_t>(g.stride_w)) {
      if (ix0 >= 0 && ix0 + span < iw) {
        const T* q = base + static_cast<std::size_t>(ix0) * c;
        for (std::size_t kx = 0; kx < kw; ++kx, q += kstep) p[kx] = q;
      } else {
        for (std::size_t kx = 0; kx < kw; ++kx) {
          const std::int64_t ix = ix0 + static_cast<std::int64_t>(kx * g.dilation_w);
          p[kx] = (ix >= 0 && ix < iw) ? base + static_cast<std::size_t>(ix) * c : zero_row;
        }
      }
    }
  }
}

/// tap_pointers into the NHWC `image` itself (in_c channels per pixel).
template <class T>
void row_pointers(const conv_geometry& g, const T* image, std::size_t oy, std::size_t ox0, std::size_t ox1,
                  const T* zero_row, const T** ptrs) noexcept {
  const std::size_t pitch = g.in_w * g.in_c;
  tap_pointers(g, oy, ox0, ox1, g.in_c, [&](std::size_t iy) { return image + iy * pitch; }, zero_row, ptrs);
}

/// Runs `row(ptrs, o0)` for every output row of every image: `ptrs` holds out_w * KH * KW tap
/// pointers (pixel-major, taps in ky, kx order), padding taps pointing at a zero row of in_c
/// copies of `zero`; `o0` is the index of the row's first output element. Workspace as sized above.
template <class T, class Row>
void for_each_row(const conv_geometry& g, const T* in, T zero, void* workspace, std::size_t workspace_size,
                  Row&& row) noexcept {
  const row_scratch<T> s = make_scratch(g, zero, workspace, workspace_size);
  for (std::size_t n = 0; n < g.batch; ++n) {
    const T* image = in + n * g.in_h * g.in_w * g.in_c;
    for (std::size_t oy = 0; oy < g.out_h; ++oy) {
      row_pointers(g, image, oy, 0, g.out_w, s.zero_row, s.ptrs);
      row(static_cast<const T* const*>(s.ptrs), (n * g.out_h + oy) * g.out_w * g.out_c);
    }
  }
}

/// Depth multiplier M = out_c / in_c of a checked geometry.
inline std::size_t multiplier(const conv_geometry& g) noexcept { return g.out_c / g.in_c; }

/// True when `g`'s window suits the KxK row kernels (kernels/dwconv/op.hpp): KxK, dilation 1 and
/// stride 1 or 2 along x (any stride and dilation along y), whatever the depth multiplier.
inline bool row_window(const conv_geometry& g, std::size_t k) noexcept {
  return g.kernel_h == k && g.kernel_w == k && g.dilation_w == 1 && (g.stride_w == 1 || g.stride_w == 2);
}
/// True when `g`'s window suits the 3x3 row kernels, whatever the depth multiplier.
inline bool row3x3_window(const conv_geometry& g) noexcept { return row_window(g, 3); }
/// True when the KxK row kernels can read `g`'s input directly: a row_window with multiplier 1.
inline bool row_applies(const conv_geometry& g, std::size_t k) noexcept { return g.out_c == g.in_c && row_window(g, k); }
/// The 5x5 row kernels serve multiplier 1 only (the 3x3 ones also expanded rows, multiplier > 1).
inline bool row5x5_applies(const conv_geometry& g) noexcept { return row_applies(g, 5); }

/// Copies `elems` values to `dst`, each repeated `m` times: an input row (in_w pixels x in_c)
/// becomes the "expanded" row of in_w pixels x out_c channels, channel o = input channel o / m
/// (input element x * in_c + c lands at (x * in_c + c) * m, the first of its m copies). With
/// in_c = 1 that is a broadcast of each pixel to all out_c channels. m = 1 is a plain copy.
template <std::size_t M, class T> void repeat_values(const T* src, std::size_t elems, T* dst) noexcept {
  for (std::size_t i = 0; i < elems; ++i, dst += M) {
    const T v = src[i];
    for (std::size_t j = 0; j < M; ++j) dst[j] = v;
  }
}
/// As repeat_values for a run-time m that is a multiple of C: C copies at a time (vector stores).
template <std::size_t C, class T> void repeat_chunked(const T* src, std::size_t elems, std::size_t m, T* dst) noexcept {
  for (std::size_t i = 0; i < elems; ++i, dst += m) {
    const T v = src[i];
    for (std::size_t k = 0; k < m; k += C)
      for (std::size_t j = 0; j < C; ++j) dst[k + j] = v;
  }
}
template <class T> void expand_values(const T* src, std::size_t elems, std::size_t m, T* dst) noexcept {
  switch (m) {
    case 1: std::memcpy(dst, src, elems * sizeof(T)); return;
    case 2: repeat_values<2>(src, elems, dst); return;
    case 3: repeat_values<3>(src, elems, dst); return;
    case 4: repeat_values<4>(src, elems, dst); return;
    case 8: repeat_values<8>(src, elems, dst); return;
    case 16: repeat_values<16>(src, elems, dst); return;
    default:  // wide multipliers, typically in_c = 1 (first layers: m = out_c)
      if (m % 16 == 0) repeat_chunked<16>(src, elems, m, dst);
      else if (m % 8 == 0) repeat_chunked<8>(src, elems, m, dst);
      else if (m % 4 == 0) repeat_chunked<4>(src, elems, m, dst);
      else
        for (std::size_t i = 0; i < elems; ++i) std::fill_n(dst + i * m, m, src[i]);
  }
}

/// The padded-row path of 3x3 layers (and of fp32 5x5 multiplier-1 layers, for the 5x5 row kernel):
/// the operator keeps the last `span` = (KH - 1) * dilation_h + 1
/// input rows it used, each copied once into a row of `width` = pad_left + in_w + right padding
/// pixels of out_c channels (expanded by the depth multiplier, expand_values) whose padding holds
/// the zero point, plus one such row of zero points only for taps above or below the image. Every
/// output row then is one row-kernel call over whole padded rows: no tap pointers, no edge pixels,
/// no separate top and bottom rows.
struct padded_rows {
  static constexpr std::size_t max_span = 7;  ///< 3x3: dilation_h <= 3, 5x5: 1; others take the split path
  std::size_t span = 0, width = 0;
};
inline padded_rows padded_layout(const conv_geometry& g) noexcept {
  padded_rows r;
  r.span = (g.kernel_h - 1) * g.dilation_h + 1;
  const std::size_t reach = (g.out_w - 1) * g.stride_w + g.kernel_w;  // padded pixels the windows cover
  r.width = std::max(reach, g.pad_left + g.in_w);
  return r;
}
/// Whether multiplier-1 fp32 layers take the padded-row cache (where padded_rows_pay says so): on
/// x86-64, where it was timed (bench_conv, tessera against tessera_min_ws). On Arm the whole-operator
/// instruction counts are mixed (3x3 s1 SAME, per MAC, cache against split path: 14x14x32 Neon
/// -4%, SVE-128 -19%, Helium -5%; 28x28x32 Neon 0%, SVE -13%, Helium +5%; 14x14x512 Neon +19%,
/// SVE -6%), so fp32 keeps the split path there.
#if defined(__x86_64__)
inline constexpr bool f32_padded_rows = true;
#else
inline constexpr bool f32_padded_rows = false;
#endif

/// Where the padded-row cache pays (whole-operator measures in docs/performance.md): int8 at
/// stride_h 1 (host 1.05-1.21x), whose unipass edge calls redo the requantization set-up of every
/// channel block; on x86-64 (f32_padded_rows) fp32 at stride_h 1 on narrow rows (out_w <= 32,
/// where the edge pixels are a large share: 14x14x128 1.23x, 28x28x256 1.03-1.07x) and where
/// pixels are a multiple of 2 KiB apart (512 channels: the cache's staggered rows keep a
/// row-kernel tile's input columns out of one pair of L1 sets; 14x14x512 1.37x, 7x7x1024 2.1x).
/// Wide fp32 rows (112x32 0.95-1.0x, 56x128 0.97x) and stride 2 (0.74-0.90x: each input row is
/// copied for a quarter of the MACs) lose more to the row copies than they save. fp32 5x5 layers
/// (K = 5) take the same rule on every arch: 2 padding columns and rows on each side leave far
/// more edge pixels (14x14x672 on the host 1.25-1.43x; 28x28x32 and 14x14x32 in instructions per
/// MAC, cache against split path: Neon 0.423 / 0.511 and 0.458 / 0.650, SVE-128 0.478 / 0.863
/// and 0.528 / 1.234, Helium GCC 0.779 / 0.961 and 0.905 / 1.280). With depth multiplier > 1
/// every path copies (expands) each input row anyway, so the padded rows and the row kernel
/// always pay there.
template <class T, std::size_t K = 3> constexpr bool padded_rows_pay(const conv_geometry& g) noexcept {
  if (g.out_c != g.in_c) return true;
  if (g.stride_h != 1) return false;
  if (sizeof(T) == 1) return true;
  return (K == 5 || f32_padded_rows) && (g.out_w <= 32 || g.in_c * sizeof(T) % 2048 == 0);
}

/// Elements from one cached row to the next: the row in whole cache lines, plus as many lines as
/// it takes for the next three rows to start at least 256 bytes away from it modulo 2 KiB. Rows
/// at one offset modulo 2 KiB, with pixels a multiple of 2 KiB apart (512 fp32 channels), would
/// put every input column of a row-kernel tile into the same two L1 sets (14x14x512 fp32: 37
/// GFLOP/s on the split path, 50 here). Costs at most 31 lines per row.
template <class T> constexpr std::size_t padded_slot_elems(std::size_t row_elems) noexcept {
  const auto apart = [](std::size_t bytes) { return bytes % 2048 >= 256 && bytes % 2048 <= 2048 - 256; };
  std::size_t pitch = (row_elems * sizeof(T) + 63) / 64 * 64;
  while (!(apart(pitch) && apart(2 * pitch) && apart(3 * pitch))) pitch += 64;
  return pitch / sizeof(T);
}
static_assert(padded_slot_elems<float>(16 * 512) == 16 * 512 + 64 && padded_slot_elems<std::int8_t>(400) == 448,
              "staggered cache rows");

/// Bytes of the padded-row cache (`span` staggered rows, the zero row, 64-byte alignment slack)
/// for the KxK row kernels (K = 3: row3x3_window, K = 5: row5x5_applies); 0 when the path does
/// not apply.
template <class T, std::size_t K = 3> std::size_t padded_rows_bytes(const conv_geometry& g) noexcept {
  static_assert(K == 3 || K == 5, "row kernels exist for 3x3 and 5x5 windows");
  if (!check_geometry(g) || !(K == 3 ? row3x3_window(g) : row5x5_applies(g)) || !padded_rows_pay<T, K>(g)) return 0;
  const padded_rows r = padded_layout(g);
  if (r.span > padded_rows::max_span) return 0;
  std::size_t row = 0;
  constexpr std::size_t lim = std::numeric_limits<std::size_t>::max() / 64;
  if (!tessera::detail::mul_within(r.width, g.out_c, lim / sizeof(T), row)) return 0;
  return (r.span * padded_slot_elems<T>(row) + row) * sizeof(T) + 63;
}

/// The ring of cached padded input rows behind the padded-row cache and the channel-group path:
/// `span` slots of `slot` elements from the workspace's first 64-byte boundary, then a zero row of
/// `row` elements; input row iy lives in slot iy % span, so a window's rows never share one. Each
/// slot's first `row` elements are [left padding | interior | right padding]; the padding holds
/// `zero` for good (copies write only the interior), and the zero row is filled when a tap first
/// falls above or below the image.
template <class T> class row_ring {
 public:
  row_ring(void* workspace, std::size_t span, std::size_t slot, std::size_t row, std::size_t left,
           std::size_t interior, T zero) noexcept
      : span_(span), slot_(slot), row_(row), left_(left), zero_(zero) {
    const auto start = reinterpret_cast<std::uintptr_t>(workspace);
    cache_ = reinterpret_cast<T*>((start + 63) / 64 * 64);
    for (std::size_t k = 0; k < span; ++k) {
      std::fill_n(cache_ + k * slot, left, zero);
      std::fill_n(cache_ + k * slot + left + interior, row - left - interior, zero);
    }
    forget();
  }
  /// Drops the cached rows (a new image, or a new channel group).
  void forget() noexcept {
    for (auto& t : tag_) t = -1;
  }
  /// rows[ky] (padded column 0) for the K taps of output row oy; `copy(iy, dst)` fills the
  /// interior of input row iy's slot when it is not cached.
  template <std::size_t K, class Copy>
  void window(const conv_geometry& g, std::size_t oy, const T** rows, Copy&& copy) noexcept {
    const auto ih = static_cast<std::int64_t>(g.in_h);
    for (std::size_t ky = 0; ky < K; ++ky) {
      const std::int64_t iy = static_cast<std::int64_t>(oy * g.stride_h + ky * g.dilation_h) -
                              static_cast<std::int64_t>(g.pad_top);
      if (iy < 0 || iy >= ih) {
        T* zero_row = cache_ + span_ * slot_;
        if (!zero_ready_) std::fill_n(zero_row, row_, zero_);
        zero_ready_ = true;
        rows[ky] = zero_row;
        continue;
      }
      const std::size_t k = static_cast<std::size_t>(iy) % span_;
      T* dst = cache_ + k * slot_;
      if (tag_[k] != iy) {
        copy(static_cast<std::size_t>(iy), dst + left_);
        tag_[k] = iy;
      }
      rows[ky] = dst;
    }
  }

 private:
  T* cache_ = nullptr;
  std::size_t span_, slot_, row_, left_;
  T zero_;
  bool zero_ready_ = false;
  std::int64_t tag_[padded_rows::max_span];
};

/// For geometries with padded_rows_bytes<T, K> > 0 and a workspace of at least that: calls
/// `rowk(rows, pixels = out_w, o)` once per output row, rows[ky] pointing at padded column 0
/// (input column -pad_left) of tap row ky's cached padded row (or the zero-point row); pixels are
/// out_c channels apart.
template <std::size_t K, class T, class RowK>
void for_each_row_padded(const conv_geometry& g, const T* in, T zero, void* workspace, RowK&& rowk) noexcept {
  const padded_rows r = padded_layout(g);
  const std::size_t c = g.out_c, m = multiplier(g), in_row = g.in_w * g.in_c, row_elems = r.width * c;
  row_ring<T> ring(workspace, r.span, padded_slot_elems<T>(row_elems), row_elems, g.pad_left * c, g.in_w * c, zero);
  for (std::size_t n = 0; n < g.batch; ++n) {
    const T* image = in + n * g.in_h * in_row;
    ring.forget();
    for (std::size_t oy = 0; oy < g.out_h; ++oy) {
      const T* rows[K];
      ring.template window<K>(g, oy, rows,
                              [&](std::size_t iy, T* dst) { expand_values(image + iy * in_row, in_row, m, dst); });
      rowk(static_cast<const T* const*>(rows), g.out_w, (n * g.out_h + oy) * g.out_w * g.out_c);
    }
  }
}

/// Depth multiplier > 1 on the unipass kernel: the workspace holds the tap pointers of one output
/// row (at the aligned start), a ring of `span` = (KH - 1) * dilation_h + 1 expanded input rows
/// (in_w pixels x out_c channels, expand_values; input row iy in slot iy % span, so the rows of a
/// window never share a slot) and a zero row of out_c zero points (flush with the end). Each
/// output row expands the rows of its window not yet in the ring, points its taps into the ring
/// and makes one kernel call of out_c channels: the multiplier-1 problem on the expanded input.
inline std::size_t expanded_span(const conv_geometry& g) noexcept { return (g.kernel_h - 1) * g.dilation_h + 1; }

/// Bytes of that workspace (alignment slack included); 0 for multiplier 1, an invalid geometry or
/// a size past size_t / 4.
template <class T> std::size_t expanded_rows_bytes(const conv_geometry& g) noexcept {
  static_assert(alignof(const T*) >= alignof(T), "the ring follows the pointers without padding");
  if (!check_geometry(g) || g.out_c == g.in_c) return 0;
  constexpr std::size_t lim = std::numeric_limits<std::size_t>::max() / 4;
  std::size_t np = 0, ne = 0;
  if (!tessera::detail::mul_within(g.out_w, g.taps(), lim / sizeof(void*), np)) return 0;
  if (!tessera::detail::mul_within(expanded_span(g), g.in_w, lim, ne) ||
      !tessera::detail::mul_within(ne + 1, g.out_c, lim / sizeof(T), ne))  // + 1: the zero row
    return 0;
  const std::size_t bytes = np * sizeof(void*) + ne * sizeof(T) + (alignof(const T*) - 1) + (alignof(T) - 1);
  return bytes > lim ? 0 : bytes;
}

/// For multiplier > 1 with a workspace of at least expanded_rows_bytes: calls
/// `unipass(ptrs, pixels = out_w, o)` once per output row, the out_w * KH * KW tap pointers
/// reading out_c channels from the expanded rows (or the zero row).
template <class T, class Unipass>
void for_each_row_expanded(const conv_geometry& g, const T* in, T zero, void* workspace, std::size_t workspace_size,
                           Unipass&& unipass) noexcept {
  const std::size_t c = g.out_c, m = multiplier(g), span = expanded_span(g);
  const std::size_t in_row = g.in_w * g.in_c, row_elems = g.in_w * c;
  const auto start = reinterpret_cast<std::uintptr_t>(workspace);
  const T** ptrs = reinterpret_cast<const T**>((start + alignof(const T*) - 1) / alignof(const T*) * alignof(const T*));
  T* ring = reinterpret_cast<T*>(ptrs + g.out_w * g.taps());
  const std::uintptr_t zero_at = (start + workspace_size - c * sizeof(T)) / alignof(T) * alignof(T);
  T* zero_row = reinterpret_cast<T*>(zero_at);  // after the ring: workspace_size >= expanded_rows_bytes()
  std::fill_n(zero_row, c, zero);
  const auto ih = static_cast<std::int64_t>(g.in_h), sp = static_cast<std::int64_t>(span);
  for (std::size_t n = 0; n < g.batch; ++n) {
    const T* image = in + n * g.in_h * in_row;
    // Rows [hi - span, hi) of this image that were expanded are still in the ring; windows move
    // down, so each output row expands the window's rows [max(hi, top), bottom) in order.
    std::int64_t hi = 0;
    for (std::size_t oy = 0; oy < g.out_h; ++oy) {
      const std::int64_t top = static_cast<std::int64_t>(oy * g.stride_h) - static_cast<std::int64_t>(g.pad_top);
      const std::int64_t end = std::min(top + sp, ih);
      for (std::int64_t iy = std::max(hi, top); iy < end; ++iy)
        expand_values(image + static_cast<std::size_t>(iy) * in_row, in_row, m,
                      ring + static_cast<std::size_t>(iy % sp) * row_elems);
      hi = std::max(hi, end);
      tap_pointers(g, oy, 0, g.out_w, c, [&](std::size_t iy) { return ring + (iy % span) * row_elems; },
                   static_cast<const T*>(zero_row), ptrs);
      unipass(static_cast<const T* const*>(ptrs), g.out_w, (n * g.out_h + oy) * g.out_w * c);
    }
  }
}

/// As for_each_row, for a KxK window with dilation_w 1, stride_w 1 or 2 and multiplier 1
/// (row_applies(g, K)): in each output row the pixels whose windows lie inside
/// the input go to `rowk(rows, pixels, o)` (rows[ky]: the first such window's input pixel in tap
/// row ky; o: its first output element), the others (left and right edges, and whole rows whose
/// window crosses the top or bottom) to `unipass(ptrs, pixels, o)`. With a `rowk2` (not nullptr),
/// two neighbouring output rows whose windows both lie inside the input go to one
/// `rowk2(rows, pixels, o)` (rows and o those of the first row; the caller pairs only geometries
/// its kernel serves), their edges to unipass as before.
template <std::size_t K, class T, class Unipass, class RowK, class RowK2 = std::nullptr_t>
void for_each_row_kxk(const conv_geometry& g, const T* in, T zero, void* workspace, std::size_t workspace_size,
                      Unipass&& unipass, RowK&& rowk, RowK2&& rowk2 = nullptr) noexcept {
  constexpr bool pairs = !std::is_null_pointer_v<std::remove_cvref_t<RowK2>>;
  const row_scratch<T> s = make_scratch(g, zero, workspace, workspace_size);
  const std::size_t sw = g.stride_w, pl = g.pad_left, c = g.in_c;
  // Interior pixels: ox * sw >= pl and ox * sw - pl + K - 1 < in_w.
  const std::size_t lo = (pl + sw - 1) / sw;
  std::size_t hi = g.in_w + pl >= K ? (g.in_w + pl - K) / sw + 1 : 0;
  if (hi > g.out_w) hi = g.out_w;
  const bool any = lo < hi;
  auto inside = [&](std::size_t oy) {
    const std::size_t iy0 = oy * g.stride_h;  // + ky * dilation_h - pad_top
    return iy0 >= g.pad_top && iy0 - g.pad_top + (K - 1) * g.dilation_h < g.in_h;
  };
  for (std::size_t n = 0; n < g.batch; ++n) {
    const T* image = in + n * g.in_h * g.in_w * c;
    for (std::size_t oy = 0; oy < g.out_h; ++oy) {
      const std::size_t o0 = (n * g.out_h + oy) * g.out_w * g.out_c;
      if (!inside(oy) || !any) {
        row_pointers(g, image, oy, 0, g.out_w, s.zero_row, s.ptrs);
        unipass(static_cast<const T* const*>(s.ptrs), g.out_w, o0);
        continue;
      }
      const bool pair = pairs && oy + 1 < g.out_h && inside(oy + 1);
      for (std::size_t y = oy; y <= oy + pair; ++y) {
        const std::size_t oy0 = o0 + (y - oy) * g.out_w * g.out_c;
        if (lo > 0) {
          row_pointers(g, image, y, 0, lo, s.zero_row, s.ptrs);
          unipass(static_cast<const T* const*>(s.ptrs), lo, oy0);
        }
        if (hi < g.out_w) {
          row_pointers(g, image, y, hi, g.out_w, s.zero_row, s.ptrs);
          unipass(static_cast<const T* const*>(s.ptrs), g.out_w - hi, oy0 + hi * g.out_c);
        }
      }
      const T* rows[K];
      rows[0] = image + ((oy * g.stride_h - g.pad_top) * g.in_w + (lo * sw - pl)) * c;
      for (std::size_t ky = 1; ky < K; ++ky) rows[ky] = rows[ky - 1] + g.dilation_h * g.in_w * c;
      if constexpr (pairs) {
        if (pair) {
          rowk2(static_cast<const T* const*>(rows), hi - lo, o0 + lo * g.out_c);
          ++oy;
          continue;
        }
      }
      rowk(static_cast<const T* const*>(rows), hi - lo, o0 + lo * g.out_c);
    }
  }
}

/// Depth multiplier > 1, portable and untuned: for `pixels` pixels of the row, output channel o
/// reads input channel o / mult through the same tap pointers and the same packed blocks (Bias,
/// W per op.hpp, tile cr). `mac(acc, x, w)` accumulates, `store(o, acc)` finishes channel o.
template <class Acc, class Bias, class W, class T, class Mac, class Store>
void multiplier_row(std::size_t out_c, std::size_t mult, std::size_t pixels, std::size_t ks, const T* const* ptrs,
                    const void* blocks, std::size_t cr, Mac&& mac, Store&& store) noexcept {
  const std::size_t block = kernels::packed_dw_block_bytes(cr, ks, sizeof(Bias), sizeof(W));
  for (std::size_t px = 0; px < pixels; ++px, ptrs += ks)
    for (std::size_t o = 0; o < out_c; ++o) {
      const auto* blk = static_cast<const std::uint8_t*>(blocks) + (o / cr) * block;
      const std::size_t j = o % cr, ic = o / mult;
      const auto* w = reinterpret_cast<const W*>(blk + cr * sizeof(Bias)) + j;
      Acc acc = static_cast<Acc>(reinterpret_cast<const Bias*>(blk)[j]);
      for (std::size_t t = 0; t < ks; ++t) acc = mac(acc, ptrs[t][ic], w[t * cr]);
      store(px, o, acc);
    }
}

/// Workspace bytes of the fastest path for `g` (rows: the op's KxK row kernel shares the unipass
/// kernel's channel tile): the padded-row cache where it applies and pays, else for multiplier > 1
/// the expanded-row ring, else 0 (the minimum is the fastest).
template <class T, std::size_t K = 3> std::size_t fast_workspace_bytes(const conv_geometry& g, bool rows) noexcept {
  const std::size_t padded = rows ? padded_rows_bytes<T, K>(g) : 0;
  if (padded != 0) return padded;
  return check_geometry(g) && g.out_c != g.in_c ? expanded_rows_bytes<T>(g) : 0;
}

/// Runs every output row of a layer on the path the workspace allows, with the op's KxK row
/// kernel (`rows`: it exists and shares the unipass kernel's channel tile); all paths give
/// identical results (the kernels' contracts and the tests guarantee it). In order of preference:
///   1. padded rows (padded_rows_bytes<T, K>, `rows` true): one `rowk(rows, pixels, o)` per row;
///   2. multiplier > 1, expanded rows (expanded_rows_bytes): one `unipass(ptrs, pixels, o)` per row;
///   3. multiplier > 1, less workspace: `portable(ptrs, o)` per row (tap pointers into the input);
///   4. multiplier 1, row_applies(g, K) and `rows`: interior pixels on rowk (pairs of rows on
///      `rowk2` when given, for_each_row_kxk), edges on unipass;
///   5. multiplier 1: one unipass call per row.
/// Paths 3-5 need only the minimum workspace (workspace_bytes<T>).
template <std::size_t K, class T, class Unipass, class RowK, class Portable, class RowK2 = std::nullptr_t>
void run_rows(const conv_geometry& g, const T* in, T zero, bool rows, void* workspace, std::size_t workspace_size,
              Unipass&& unipass, RowK&& rowk, Portable&& portable, RowK2&& rowk2 = nullptr) noexcept {
  const std::size_t padded = rows ? padded_rows_bytes<T, K>(g) : 0;
  if (padded != 0 && workspace_size >= padded) {
    for_each_row_padded<K>(g, in, zero, workspace, rowk);
  } else if (g.out_c != g.in_c) {
    const std::size_t expanded = expanded_rows_bytes<T>(g);
    if (expanded != 0 && workspace_size >= expanded)
      for_each_row_expanded(g, in, zero, workspace, workspace_size, unipass);
    else
      for_each_row(g, in, zero, workspace, workspace_size, portable);
  } else if (rows && row_applies(g, K)) {
    for_each_row_kxk<K>(g, in, zero, workspace, workspace_size, unipass, rowk, rowk2);
  } else {
    for_each_row(g, in, zero, workspace, workspace_size,
                 [&](const T* const* ptrs, std::size_t o) { unipass(ptrs, g.out_w, o); });
  }
}

/// The channel-group path (fp32, multiplier 1, 3x3 row windows, on a tag whose pitched row kernel
/// is `preferred`, kernels/dwconv/op.hpp): the channels are taken in groups of the kernel's
/// group_channels() (or twice that, group_channels_for), and each group runs the padded-row
/// scheme on its own. A ring of `span` padded rows holds only the group's channels (pixel pitch
/// `pitch` = the group rounded up to whole cache lines; left and right padding columns zero for
/// good) plus a zero row for taps above or below the image; each input row's group is copied in
/// once, and each output row is one pitched row-kernel call writing the group's channels of that
/// row in place. A group's rows stay in L1 (512 channels of 14 pixels in groups of 64: 3 x 4 KiB),
/// where the padded-row cache of all channels (3 x 32 KiB) did not.
struct group_rows {
  std::size_t span = 0, width = 0;  ///< as padded_rows
  std::size_t pitch = 0;            ///< elements per cached pixel (the group in whole cache lines)
  std::size_t slot = 0;             ///< elements per cached row (width * pitch + one line of stagger)
};
template <class T> group_rows group_layout(const conv_geometry& g, std::size_t group) noexcept {
  const padded_rows r = padded_layout(g);
  constexpr std::size_t line = 64 / sizeof(T);
  group_rows q;
  q.span = r.span, q.width = r.width;
  q.pitch = (std::min(group, g.out_c) + line - 1) / line * line;
  q.slot = r.width * q.pitch + line;  // the line keeps the rows' same pixels out of one 4 KiB alias
  return q;
}
/// True when the channel-group path can run `g`: multiplier 1 and a 3x3 row window with at most
/// padded_rows::max_span cached rows.
inline bool group_rows_apply(const conv_geometry& g) noexcept {
  return check_geometry(g) && g.out_c == g.in_c && row3x3_window(g) &&
         (g.kernel_h - 1) * g.dilation_h + 1 <= padded_rows::max_span;
}
/// Where that path was measured faster than the padded-row cache or the split path (AVX-512 build,
/// tools/x86-probe/dw_slab.cpp and bench_conv, docs/performance.md): stride 1 with at least two
/// groups (14x14x512 1.45x, 7x7x1024 1.5x, 28x28x256 1.4x, 56x56x128 1.1x against the AVX2 rows;
/// the operator gives rows wider than 32 pixels to the pitched row path where that applies); a
/// single group is the padded-row scheme plus copies (112x112x32 0.95x). At stride 2 only where
/// pixels are a multiple of 2 KiB apart (14x14x512 1.35x; 112x112x64, 56x56x128 0.65-0.7x: each row
/// copied for a quarter of its MACs, as for the padded-row cache).
inline bool group_rows_pay(const conv_geometry& g, std::size_t group, std::size_t elem) noexcept {
  if (g.out_c <= group) return false;
  if (g.stride_h == 1 && g.stride_w == 1) return true;
  return g.out_c * elem % 2048 == 0;
}
/// Where a `preferred` pitched row kernel also serves the row path (pitches = channels) in place of
/// the tag's row kernel, as measured on the AVX-512 build (tools/x86-probe/dw_rows_ab.cpp,
/// docs/performance.md): whole blocks of `cr` channels and at most 128 floats of input per output
/// step (against the AVX2 row kernel: 112x112x32 s1 1.04-1.11x, 56x56x48 s1 1.07-1.23x, 112x112x64
/// s2 1.12-1.17x, 56x56x128 s1 1.12-1.31x; 56x56x128 s2 0.94-0.96x with g++, 1.04-1.07x with clang;
/// 28x28x256 s2 0.94-0.96x; 24 channels 0.95x).
inline bool pitched_rows_pay(const conv_geometry& g, std::size_t cr) noexcept {
  return cr != 0 && g.out_c % cr == 0 && g.out_c * g.stride_w <= 128;
}
/// Where the pitched kernel's two-row entry pays on the row path at stride 2 (AVX-512 build,
/// tools/x86-probe/dw_rows_ab.cpp, 64-byte aligned input, docs/performance.md): channels equal to
/// the kernel's group, the pixel pitch its two-row tile has as a compile-time constant (64 channels:
/// 112x112 1.12-1.21x, 56x56 1.08-1.25x, 14x14 1.03-1.14x, 28x28 0.96-1.07x over one row per call,
/// both compilers). At run-time pitches clang lost (16 and 32 channels: 0.88-0.98x) where g++ gained.
inline bool paired_rows_pay(const conv_geometry& g, std::size_t group) noexcept { return g.out_c == group; }
/// The channels per group on that path for a kernel of group `base`: twice `base` where the ring of
/// doubled groups stays within 16 KiB, half of L1, and leaves more than one group (7x7x1024 in
/// groups of 128: 1.08-1.1x over 64 in tools/x86-probe/dw_rows_ab.cpp; 14x14x512 level, whose
/// doubled ring is 24 KiB; 28x28x256 0.9x at 46 KiB).
template <class T> std::size_t group_channels_for(const conv_geometry& g, std::size_t base) noexcept {
  const std::size_t twice = 2 * base;
  if (base == 0 || twice >= g.out_c || !group_rows_apply(g)) return base;
  const group_rows q = group_layout<T>(g, twice);
  return q.span * q.slot * sizeof(T) <= 16384 ? twice : base;
}
/// True for a pitched row kernel that declares `every_geometry` (tests do, to run the path
/// wherever it applies rather than where it pays).
template <class K> inline constexpr bool every_geometry = requires { K::every_geometry; };
/// True for a pitched row kernel that offers op.hpp's optional two-row entry `run2`.
template <class K> inline constexpr bool has_run2 = requires { &K::run2; };
/// Bytes of that path's workspace (span + 1 cached rows, 64-byte alignment slack); 0 when it does
/// not apply or the size overflows.
template <class T> std::size_t group_rows_bytes(const conv_geometry& g, std::size_t group) noexcept {
  if (group == 0 || !group_rows_apply(g)) return 0;
  const group_rows q = group_layout<T>(g, group);
  std::size_t row = 0, elems = 0;  // q.slot is row plus one line: row is checked first
  constexpr std::size_t lim = std::numeric_limits<std::size_t>::max() / 64;
  if (!tessera::detail::mul_within(q.width, q.pitch, lim, row) ||
      !tessera::detail::mul_within(q.slot, q.span + 1, lim / sizeof(T), elems))
    return 0;
  return elems * sizeof(T) + 63;
}
/// Copies `n` elements of each of `pixels` pixels from src (pitch sp) to dst (pitch dp); n equal
/// to `full` (the group) is a fixed-size copy the compiler turns into vector moves.
template <class T>
void copy_group_pixels(const T* src, std::size_t sp, T* dst, std::size_t dp, std::size_t pixels, std::size_t n,
                       std::size_t full) noexcept {
  if (n == full && full * sizeof(T) == 256) {
    for (std::size_t x = 0; x < pixels; ++x) std::memcpy(dst + x * dp, src + x * sp, 256);
  } else if (n == full && full * sizeof(T) == 512) {
    for (std::size_t x = 0; x < pixels; ++x) std::memcpy(dst + x * dp, src + x * sp, 512);
  } else {
    for (std::size_t x = 0; x < pixels; ++x) std::memcpy(dst + x * dp, src + x * sp, n * sizeof(T));
  }
}
/// For group_rows_apply(g) and a workspace of at least group_rows_bytes<T>(g, group): calls
/// `rowk(c0, channels, rows, pitch, pixels = out_w, o)` once per channel group and output row,
/// rows[ky] pointing at padded column 0 of tap row ky's cached row (channel c0 at offset 0,
/// pixels `pitch` apart) and o at the output row's element of channel c0.
template <class T, class RowK>
void for_each_row_grouped(const conv_geometry& g, const T* in, std::size_t group, void* workspace, RowK&& rowk) noexcept {
  const group_rows q = group_layout<T>(g, group);
  const std::size_t c = g.out_c, in_row = g.in_w * c;
  row_ring<T> ring(workspace, q.span, q.slot, q.width * q.pitch, g.pad_left * q.pitch, g.in_w * q.pitch, T(0));
  for (std::size_t n = 0; n < g.batch; ++n) {
    const T* image = in + n * g.in_h * in_row;
    for (std::size_t c0 = 0; c0 < c; c0 += group) {
      const std::size_t gc = std::min(group, c - c0);
      ring.forget();
      for (std::size_t oy = 0; oy < g.out_h; ++oy) {
        const T* rows[3];
        ring.template window<3>(g, oy, rows, [&](std::size_t iy, T* dst) {
          copy_group_pixels(image + iy * in_row + c0, c, dst, q.pitch, g.in_w, gc, group);
        });
        rowk(c0, gc, static_cast<const T* const*>(rows), q.pitch, (n * g.out_h + oy) * g.out_w * c + c0);
      }
    }
  }
}

template <class Q> constexpr std::size_t stage_channels(std::size_t out_c) noexcept {
  return std::is_same_v<Q, requant::per_tensor> ? 1 : out_c;
}

// ---- in_c = 1: the GEMM route ------------------------------------------------------------------
// A depthwise layer with one input channel and multiplier M is the ordinary convolution with
// in_c = 1, out_c = M, groups = 1: its filter [M][KH][KW][1] is the depthwise filter
// [1][KH][KW][M] transposed. Where the depthwise kernels lose to conv2d's panel gather + GEMM
// (gemm_route), the operator packs and runs that conv2d instead; its packed buffer sits at the
// first 16-byte aligned address after the depthwise header (conv2d wants 16, depthwise callers
// give 4 or 8) and its workspace at the first address aligned for T.

/// The conv2d geometry of an in_c = 1 depthwise geometry.
inline conv_geometry as_conv(const conv_geometry& g) noexcept {
  conv_geometry c = g;
  c.groups = 1;
  return c;
}
/// Where the conv2d buffer starts in a depthwise packed buffer at `packed`.
inline std::size_t gemm_offset(const void* packed) noexcept {
  const auto a = reinterpret_cast<std::uintptr_t>(packed) + sizeof(depthwise_packed_header);
  return sizeof(depthwise_packed_header) + static_cast<std::size_t>((16 - a % 16) % 16);
}
/// Packed bytes of the route: header, the worst-case gap to 16-byte alignment for a buffer aligned
/// to `align` (the op's pack_weights contract), the conv2d buffer `conv_bytes` (0: overflow).
inline std::size_t gemm_packed_bytes(std::size_t conv_bytes, std::size_t align) noexcept {
  if (conv_bytes == 0 || conv_bytes > std::numeric_limits<std::size_t>::max() / 2) return 0;
  return sizeof(depthwise_packed_header) + (16 - align) + conv_bytes;
}
/// Workspace bytes of the route: conv2d's `conv_bytes` plus the gap to alignof(T).
template <class T> std::size_t gemm_workspace_bytes(std::size_t conv_bytes) noexcept {
  return conv_bytes == 0 ? 0 : conv_bytes + alignof(T) - 1;
}
/// Checks a run on the route (geometry, buffers, workspace size, header) and gives the conv2d
/// packed buffer and the aligned workspace.
template <class T>
status check_gemm_run(const conv_geometry& g, const T* in, const void* packed, const T* out, std::uint32_t magic,
                      std::size_t cr, std::size_t align, void* workspace, std::size_t workspace_size,
                      std::size_t need, const void*& conv_packed, void*& ws, std::size_t& ws_size) noexcept {
  TESSERA_TRY(check_run_buffers(g, in, packed, out, align));
  if (need == 0) return {status_code::overflow, "depthwise_conv2d: the workspace size overflows size_t"};
  if (workspace == nullptr || workspace_size < need)
    return {status_code::buffer_too_small, "depthwise_conv2d: workspace smaller than min_workspace_bytes()"};
  const auto& h = *static_cast<const depthwise_packed_header*>(packed);
  TESSERA_TRY(check_run_header(g, h, magic, cr));
  if (h.gemm_offset == 0)
    return {status_code::invalid_argument,
            "depthwise_conv2d: the packed buffer was made for the depthwise kernels, this in_c = 1 geometry runs on the GEMM"};
  if (h.gemm_offset != gemm_offset(packed))
    return {status_code::invalid_argument,
            "depthwise_conv2d: the packed buffer (in_c = 1 GEMM route) was moved to another 16-byte alignment; pack it in place"};
  conv_packed = static_cast<const std::uint8_t*>(packed) + h.gemm_offset;
  const auto start = reinterpret_cast<std::uintptr_t>(workspace);
  const std::size_t gap = static_cast<std::size_t>((alignof(T) - start % alignof(T)) % alignof(T));
  ws = static_cast<std::uint8_t*>(workspace) + gap;
  ws_size = workspace_size - gap;
  return status::success();
}

/// The shapes the route can take: a valid geometry with in_c = 1, multiplier >= 2, and not
/// pointwise (1x1, stride 1, no padding: conv2d would need no workspace).
inline bool gemm_route_shape(const conv_geometry& g) noexcept {
  return check_geometry(g).ok() && g.in_c == 1 && g.out_c >= 2 && !as_conv(g).is_pointwise();
}
/// int8 and 16x8 (bit-exact either way): where conv2d's GEMM measured faster than the depthwise
/// kernel `Arch` (docs/design.md, "Depthwise convolution"):
///   simd:   multiplier below the kernel's channel tile `cr` (16): the depthwise kernels run such a
///           layer in channel tails (host, g++ / clang, 56x56 3x3: int8 M = 4, 8: 1.32-1.53x;
///           16x8: 2.4-3.5x), while at M >= cr they are 1.5-4x faster than the GEMM (K = 9 is
///           too short for a GEMM tile);
///   helium: int8 only (`s8`), strides >= 2 both ways (28x28 3x3 s2 M = 32: 2.50 against 3.63
///           instructions per MAC); at stride 1 the two are even (2.46 / 2.49);
///   others: never (Neon, SVE: the GEMM takes 1.2-5x the instructions on every layer measured).
template <class Arch> bool gemm_route_int(const conv_geometry& g, std::size_t cr, bool s8) noexcept {
  if (!gemm_route_shape(g)) return false;
  if constexpr (std::is_same_v<Arch, arch::simd>) return g.out_c < cr;
  else if constexpr (std::is_same_v<Arch, arch::helium>) return s8 && g.stride_h >= 2 && g.stride_w >= 2;
  else return false;
}

/// A `run` call's path: `gemm` (the operator's uses_gemm) and, once checked, the conv2d packed
/// buffer and the aligned workspace the route runs on.
struct route_call {
  bool gemm = false;
  const void* conv_packed = nullptr;
  void* ws = nullptr;
  std::size_t ws_size = 0;
};

/// The in_c = 1 GEMM route of the integer operators, shared by depthwise_conv2d_s8 and _s16:
/// activations T, packed buffers aligned to `Align` (the operator's pack_weights contract),
/// conv2d `GemmOp`. Sizes and packing apply where the operator's uses_gemm(g) holds.
template <class GemmOp, class T, std::size_t Align> struct gemm_route {
  static std::size_t packed_weights_bytes(const conv_geometry& g) noexcept {
    return gemm_packed_bytes(GemmOp::packed_weights_bytes(as_conv(g)), Align);
  }
  static std::size_t workspace_bytes(const conv_geometry& g) noexcept {
    return gemm_workspace_bytes<T>(GemmOp::workspace_bytes(as_conv(g)));
  }
  static std::size_t min_workspace_bytes(const conv_geometry& g) noexcept {
    return gemm_workspace_bytes<T>(GemmOp::min_workspace_bytes(as_conv(g)));
  }
  /// After the operator's header: records gemm_offset and packs the filter transposed (conv
  /// filter [o][t] (in_c = 1) = depthwise filter [t][o]) with GemmOp::pack_weights_at, which gets
  /// `bias` and `extra` (s8: bias pointer and input zero point; 16x8: bias and accumulator bits).
  template <class WAt, class Bias, class Extra>
  static status pack(const conv_geometry& g, WAt&& w_at, Bias&& bias, Extra extra, void* packed,
                     std::size_t bytes) noexcept {
    const std::size_t oc = g.out_c, ks = g.taps();
    const std::size_t off = gemm_offset(packed);
    static_cast<depthwise_packed_header*>(packed)->gemm_offset = static_cast<std::uint32_t>(off);
    return GemmOp::pack_weights_at(
        as_conv(g), [&](std::size_t i) { return w_at((i % ks) * oc + i / ks); }, bias, extra,
        static_cast<std::uint8_t*>(packed) + off, bytes - off);
  }
  /// `run`'s argument checks on the path `call.gemm` says (check_gemm_run or check_run); fills
  /// `call` for the route.
  static status check_run(const conv_geometry& g, const T* in, const void* packed, const T* out, std::uint32_t magic,
                          std::size_t cr, void* workspace, std::size_t workspace_size, route_call& call) noexcept {
    if (call.gemm)
      return check_gemm_run(g, in, packed, out, magic, cr, Align, workspace, workspace_size, min_workspace_bytes(g),
                            call.conv_packed, call.ws, call.ws_size);
    return dw::check_run(g, in, packed, out, magic, cr, Align, workspace, workspace_size);
  }
  /// Runs a checked call on the route.
  template <class Q>
  static status run(const conv_geometry& g, const T* in, const route_call& call, T* out,
                    const output_stage<Q>& stage) noexcept {
    return GemmOp::run(as_conv(g), in, call.conv_packed, out, stage, call.ws, call.ws_size);
  }
};

}  // namespace detail::dw

// ---- fp32 -------------------------------------------------------------------------------------

/// fp32 depthwise convolution with bias and clamp on the microkernel `Kernel` (by default the one
/// selected for `Tag`). Results of different kernels may differ in the last bits (fma order).
/// `RowKernel` serves the pixels of 3x3 layers whose windows lie inside the input (op.hpp's row
/// contract) when its channel tile equals `Kernel`'s, and `Row5Kernel` those of 5x5 layers with
/// multiplier 1 (dilation_w 1, stride_w 1 or 2) likewise; the rest run on `Kernel`.
template <class Tag = arch::native, class Kernel = select_t<op::dwconv_f32, Tag>,
          class RowKernel = select_t<op::dwconv3x3_f32, typename Kernel::arch>,
          class Row5Kernel = select_t<op::dwconv5x5_f32, typename Kernel::arch>,
          class GroupKernel = select_t<op::dwconv3x3p_f32, Tag>>
struct depthwise_conv2d_f32 {
  using kernel = Kernel;
  using row_kernel = RowKernel;
  using row5_kernel = Row5Kernel;
  using group_kernel = GroupKernel;
  /// True when `g` runs on the channel-group path given workspace_bytes(g) (detail::dw::group_rows):
  /// a multiplier-1 3x3 row geometry where that path pays (group_rows_pay), on a tag whose pitched
  /// row kernel is `preferred` and reads `Kernel`'s packed blocks.
  /// Rows wider than 32 pixels that the pitched row kernel serves take the row path instead
  /// (56x56x128: 1.1x over the groups, whose ring of three 56-pixel rows overflows L1).
  static bool uses_groups(const conv_geometry& g) noexcept {
    if (!pitched_kernel_serves() || !detail::dw::group_rows_apply(g)) return false;
    if (detail::dw::every_geometry<GroupKernel>) return true;
    return detail::dw::group_rows_pay(g, GroupKernel::group_channels(), sizeof(float)) &&
           !(g.out_w > 32 && uses_pitched_rows(g));
  }
  /// Channels per group on the channel-group path (detail::dw::group_channels_for).
  static std::size_t group_channels(const conv_geometry& g) noexcept {
    return detail::dw::group_channels_for<float>(g, GroupKernel::group_channels());
  }
  /// True when the row path of `g` (the 3x3 windows inside the input, off the channel-group path)
  /// runs on the pitched row kernel, both pitches `out_c`, instead of `RowKernel`: on a tag whose
  /// pitched kernel is `preferred` and reads `Kernel`'s packed blocks, where that pays
  /// (detail::dw::pitched_rows_pay).
  static bool uses_pitched_rows(const conv_geometry& g) noexcept {
    return pitched_kernel_serves() && g.out_c == g.in_c && detail::dw::row3x3_window(g) &&
           (detail::dw::every_geometry<GroupKernel> || detail::dw::pitched_rows_pay(g, GroupKernel::cr()));
  }
  /// True when the pitched row path of `g` takes two output rows per call (op.hpp's two-row entry,
  /// which the pitched kernel offers): 3x3 at stride 2 in both directions, dilation_h 1, where
  /// detail::dw::paired_rows_pay (every geometry for a kernel that declares every_geometry).
  static bool uses_paired_rows(const conv_geometry& g) noexcept {
    if constexpr (detail::dw::has_run2<GroupKernel>)
      return uses_pitched_rows(g) && g.stride_h == 2 && g.stride_w == 2 && g.dilation_h == 1 &&
             (detail::dw::every_geometry<GroupKernel> || detail::dw::paired_rows_pay(g, GroupKernel::group_channels()));
    else
      return false;
  }
  /// True when the pitched row kernel may serve this operator at all: it is `preferred` on its tag
  /// and reads `Kernel`'s packed blocks (equal channel tiles).
  static bool pitched_kernel_serves() noexcept {
    return GroupKernel::preferred && GroupKernel::cr() == Kernel::cr();
  }
  /// True when `g`'s interior pixels go to the 5x5 row kernel (row5x5_applies, matching tiles).
  static bool uses_rows5(const conv_geometry& g) noexcept {
    return detail::dw::row5x5_applies(g) && Row5Kernel::cr() == Kernel::cr();
  }
  /// True when `g`'s pixels go to the row kernel (a 3x3 row window and matching channel tiles;
  /// with depth multiplier > 1 only given workspace_bytes(g), which expands the input rows).
  static bool uses_rows(const conv_geometry& g) noexcept {
    return detail::dw::row3x3_window(g) && rows_match();
  }
  /// True when RowKernel reads `Kernel`'s packed blocks (equal channel tiles).
  static bool rows_match() noexcept { return RowKernel::cr() == Kernel::cr(); }

  /// Bytes of packed weights for `g` (header + blocks); 0 if `g` is invalid or too large.
  static std::size_t packed_weights_bytes(const conv_geometry& g) noexcept {
    return detail::dw::packed_bytes(g, Kernel::cr(), sizeof(float), sizeof(float));
  }
  /// Scratch bytes for the fastest path: with depth multiplier M > 1, a cache of input rows
  /// expanded to out_c channels (3x3 row geometries: about (2 * dilation_h + 2) * (in_w + 2) *
  /// out_c floats, for the row kernel; others: (KH - 1) * dilation_h + 1 rows of in_w * out_c
  /// floats plus one row of tap pointers, for `Kernel`); with M = 1 the same padded-row cache
  /// where it pays (x86-64: 3x3, and 5x5 on the 5x5 row kernel, at stride_h 1 on rows of at most
  /// 32 pixels or 512-channel pitches, see detail::dw::padded_rows_pay), else
  /// `min_workspace_bytes`; on the channel-group path (uses_groups) its ring of 2 * dilation_h + 2
  /// padded rows of one group. 0 if `g` is invalid.
  static std::size_t workspace_bytes(const conv_geometry& g) noexcept {
    const std::size_t min = min_workspace_bytes(g);
    if (min == 0) return 0;
    if (uses_groups(g)) return std::max(min, detail::dw::group_rows_bytes<float>(g, group_channels(g)));
    if (uses_rows5(g)) return std::max(min, detail::dw::fast_workspace_bytes<float, 5>(g, true));
    return std::max(min, detail::dw::fast_workspace_bytes<float>(g, rows_match()));
  }
  /// The smallest scratch `run` accepts (tap pointers of one output row + a zero row of in_c).
  /// With less than workspace_bytes, M > 1 runs on a portable scalar loop (same results).
  static std::size_t min_workspace_bytes(const conv_geometry& g) noexcept {
    return detail::dw::workspace_bytes<float>(g);
  }

  /// Packs `filter[1][KH][KW][out_c]` and `bias[out_c]` (nullable: zeros).
  /// @param[out] packed  4-byte aligned, `bytes` >= packed_weights_bytes(g)
  static status pack_weights(const conv_geometry& g, const float* filter, const float* bias, void* packed,
                             std::size_t bytes) noexcept {
    TESSERA_TRY(detail::dw::check_pack(g, filter, packed, bytes, packed_weights_bytes(g), alignof(float)));
    const std::size_t oc = g.out_c;
    detail::dw::write_header(g, depthwise_packed_header::magic_f32, 0, Kernel::cr(), 0, packed);
    kernels::pack_dw<float, float>(
        oc, g.taps(), Kernel::cr(), [&](std::size_t t, std::size_t o) { return filter[t * oc + o]; },
        [&](std::size_t o) { return bias != nullptr ? bias[o] : 0.0f; },
        static_cast<std::uint8_t*>(packed) + sizeof(depthwise_packed_header));
    return status::success();
  }

  /// out (NHWC, batch x out_h x out_w x out_c) = clamp(depthwise(in (NHWC)) + bias).
  /// @param packed     pack_weights() output for the same geometry and kernel
  /// @param clamp      min <= max (no NaN)
  /// @param workspace  workspace_bytes(g) bytes of scratch (any alignment)
  static status run(const conv_geometry& g, const float* in, const void* packed, float* out, const f32_clamp& clamp,
                    void* workspace, std::size_t workspace_size) noexcept {
    TESSERA_TRY(detail::dw::check_run(g, in, packed, out, depthwise_packed_header::magic_f32, Kernel::cr(),
                                      alignof(float), workspace, workspace_size));
    if (!(clamp.min <= clamp.max))
      return {status_code::invalid_argument, "depthwise_conv2d_f32: clamp needs min <= max (and no NaN)"};
    const void* blocks = detail::dw::blocks(packed);
    const std::size_t ks = g.taps(), oc = g.out_c, mult = g.out_c / g.in_c;
    auto unipass = [&](const float* const* ptrs, std::size_t pixels, std::size_t o) {
      Kernel::run(oc, pixels, ks, ptrs, ks, blocks, out + o, oc, clamp);
    };
    const bool pitched = uses_pitched_rows(g);
    auto row3 = [&](const float* const* r, std::size_t pixels, std::size_t o) {
      if (pitched)
        GroupKernel::run(oc, pixels, g.stride_w, r[0], r[1], r[2], oc, blocks, out + o, oc, clamp);
      else
        RowKernel::run(oc, pixels, g.stride_w, r[0], r[1], r[2], blocks, out + o, clamp);
    };
    auto row5 = [&](const float* const* r, std::size_t pixels, std::size_t o) {
      Row5Kernel::run(oc, pixels, g.stride_w, r, blocks, out + o, clamp);
    };
    auto portable = [&](const float* const* ptrs, std::size_t o0) {
      float* orow = out + o0;
      detail::dw::multiplier_row<float, float, float>(
          oc, mult, g.out_w, ks, ptrs, blocks, Kernel::cr(), [](float acc, float x, float w) { return std::fma(x, w, acc); },
          [&](std::size_t px, std::size_t o, float acc) {
            const float v = acc < clamp.min ? clamp.min : acc;
            orow[px * oc + o] = v > clamp.max ? clamp.max : v;
          });
    };
    if (uses_groups(g)) {
      const std::size_t group = group_channels(g);
      const std::size_t bytes = detail::dw::group_rows_bytes<float>(g, group);
      if (bytes != 0 && workspace_size >= bytes) {
        const std::size_t block = kernels::packed_dw_block_bytes(Kernel::cr(), 9, sizeof(float), sizeof(float));
        const auto* base = static_cast<const std::uint8_t*>(blocks);
        detail::dw::for_each_row_grouped(
            g, in, group, workspace,
            [&](std::size_t c0, std::size_t gc, const float* const* r, std::size_t pitch, std::size_t o) {
              GroupKernel::run(gc, g.out_w, g.stride_w, r[0], r[1], r[2], pitch, base + c0 / Kernel::cr() * block,
                               out + o, oc, clamp);
            });
        return status::success();
      }
    }
    if (uses_rows5(g)) {
      detail::dw::run_rows<5>(g, in, 0.0f, true, workspace, workspace_size, unipass, row5, portable);
    } else if (uses_paired_rows(g)) {
      if constexpr (detail::dw::has_run2<GroupKernel>) {
        const std::size_t row_pitch = g.in_w * g.in_c, out_row = g.out_w * oc;
        auto row3x2 = [&](const float* const* r, std::size_t pixels, std::size_t o) {
          GroupKernel::run2(oc, pixels, r[0], row_pitch, oc, blocks, out + o, out_row, oc, clamp);
        };
        detail::dw::run_rows<3>(g, in, 0.0f, rows_match(), workspace, workspace_size, unipass, row3, portable, row3x2);
      }
    } else {
      detail::dw::run_rows<3>(g, in, 0.0f, rows_match(), workspace, workspace_size, unipass, row3, portable);
    }
    return status::success();
  }
};

// ---- int8 -------------------------------------------------------------------------------------

/// int8 depthwise convolution (s8 or s4 weights, int32 bias, per-channel or per-tensor output
/// stage) on the microkernel `Kernel` (by default the one selected for `Tag`). Weight zero point 0.
/// The input zero point is folded into the packed bias (`bias - input_zp * sum w`); `run` must be
/// given the same input_zp (it fills the zero row with it, and checks it against the packing).
/// `RowKernel` serves the pixels of 3x3 layers whose windows lie inside the input (op.hpp's row
/// contract) when its channel tile equals `Kernel`'s, and `Row5Kernel` those of 5x5 layers with
/// multiplier 1 (dilation_w 1, stride_w 1 or 2) likewise; the rest run on `Kernel`.
template <class Tag = arch::native, class Kernel = select_t<op::dwconv_qs8, Tag>,
          class RowKernel = select_t<op::dwconv3x3_qs8, typename Kernel::arch>,
          class Row5Kernel = select_t<op::dwconv5x5_qs8, typename Kernel::arch>>
struct depthwise_conv2d_s8 {
  using kernel = Kernel;
  using row_kernel = RowKernel;
  using row5_kernel = Row5Kernel;
  /// True when `g`'s interior pixels go to the 5x5 row kernel (row5x5_applies, matching tiles).
  static bool uses_rows5(const conv_geometry& g) noexcept {
    return detail::dw::row5x5_applies(g) && Row5Kernel::cr() == Kernel::cr();
  }
  /// True when `g`'s pixels go to the row kernel (a 3x3 row window and matching channel tiles;
  /// with depth multiplier > 1 only given workspace_bytes(g), which expands the input rows).
  static bool uses_rows(const conv_geometry& g) noexcept {
    return detail::dw::row3x3_window(g) && rows_match();
  }
  /// True when RowKernel reads `Kernel`'s packed blocks (equal channel tiles).
  static bool rows_match() noexcept { return RowKernel::cr() == Kernel::cr(); }

  /// The conv2d that runs in_c = 1 layers where `uses_gemm` (the GEMM route).
  using gemm_op = conv2d_s8<Tag>;
  /// True when `g` (in_c = 1, depth multiplier M) runs as the ordinary convolution in_c = 1,
  /// out_c = M on gemm_op (panel gather, K = KH * KW, N = M): where that measured faster than
  /// `Kernel` (detail::dw::gemm_route_int). Results are the same bits either way.
  static bool uses_gemm(const conv_geometry& g) noexcept {
    return detail::dw::gemm_route_int<typename Kernel::arch>(g, Kernel::cr(), true);
  }

  /// Bytes of packed weights for `g` (header + blocks, or on the GEMM route header + conv2d's
  /// packed filter + alignment gap); 0 if `g` is invalid or too large.
  static std::size_t packed_weights_bytes(const conv_geometry& g) noexcept {
    if (uses_gemm(g)) return route::packed_weights_bytes(g);
    return detail::dw::packed_bytes(g, Kernel::cr(), sizeof(std::int32_t), sizeof(std::int8_t));
  }
  /// Scratch bytes for the fastest path: for 3x3 layers on a row kernel (and 5x5 multiplier-1
  /// layers on the 5x5 row kernel), a cache of padded input rows (about (2 * dilation_h + 2) *
  /// (in_w + 2) * out_c bytes, 5x5: 6 rows of in_w + 4 pixels; multiplier 1: at stride_h 1
  /// only); for other layers with depth multiplier M > 1, (KH - 1) * dilation_h + 1 input rows
  /// expanded to in_w * out_c bytes plus one row of tap pointers; else `min_workspace_bytes`.
  /// 0 if `g` is invalid.
  /// On the GEMM route (uses_gemm): gemm_op's workspace_bytes.
  static std::size_t workspace_bytes(const conv_geometry& g) noexcept {
    if (uses_gemm(g)) return route::workspace_bytes(g);
    const std::size_t min = min_workspace_bytes(g);
    if (min == 0) return 0;
    if (uses_rows5(g)) return std::max(min, detail::dw::fast_workspace_bytes<std::int8_t, 5>(g, true));
    return std::max(min, detail::dw::fast_workspace_bytes<std::int8_t>(g, rows_match()));
  }
  /// The smallest scratch `run` accepts (tap pointers of one output row + a zero row of in_c);
  /// with less than workspace_bytes, 3x3 layers of multiplier 1 send only interior pixels to the
  /// row kernel and M > 1 runs on a portable scalar loop (same results). On the GEMM route:
  /// gemm_op's min_workspace_bytes (one panel row).
  static std::size_t min_workspace_bytes(const conv_geometry& g) noexcept {
    if (uses_gemm(g)) return route::min_workspace_bytes(g);
    return detail::dw::workspace_bytes<std::int8_t>(g);
  }

  /// Packs int8 `filter[1][KH][KW][out_c]` and `bias[out_c]` (nullable) for input zero point `input_zp`.
  /// @param[out] packed  4-byte aligned, `bytes` >= packed_weights_bytes(g)
  static status pack_weights(const conv_geometry& g, const std::int8_t* filter, const std::int32_t* bias,
                             std::int32_t input_zp, void* packed, std::size_t bytes) noexcept {
    TESSERA_TRY(check_pack(g, filter, input_zp, packed, bytes));
    return pack(g, [&](std::size_t i) { return filter[i]; }, bias, input_zp, packed, bytes);
  }
  /// Packs int4 weights: `filter_s4` holds KH*KW*out_c values two per byte over the flattened
  /// [1][KH][KW][out_c] index (element 2i in the low nibble, CMSIS-NN order; see dtype.hpp).
  static status pack_weights_s4(const conv_geometry& g, const std::uint8_t* filter_s4, const std::int32_t* bias,
                                std::int32_t input_zp, void* packed, std::size_t bytes) noexcept {
    TESSERA_TRY(check_pack(g, filter_s4, input_zp, packed, bytes));
    return pack(g, [&](std::size_t i) { return s4_at(filter_s4, i); }, bias, input_zp, packed, bytes);
  }

  /// As below, with the input zero point the weights were packed with (conv2d_s8's signature).
  template <class Q>
  static status run(const conv_geometry& g, const std::int8_t* in, const void* packed, std::int8_t* out,
                    const output_stage<Q>& stage, void* workspace, std::size_t workspace_size) noexcept {
    if (packed == nullptr) return {status_code::invalid_argument, "depthwise_conv2d_s8: null packed buffer"};
    return run(g, in, packed, out, stage, static_cast<const depthwise_packed_header*>(packed)->input_zp, workspace,
               workspace_size);
  }

  /// out (NHWC int8) = clamp(MBQM(bias + sum (in - input_zp) * w) + zero_point).
  /// @param packed     pack_weights() / pack_weights_s4() output for the same geometry, kernel and input_zp
  /// @param stage      per_tensor, or per_channel with out_c entries; shifts in [-31, 30]
  /// @param workspace  workspace_bytes(g) bytes of scratch (any alignment)
  template <class Q>
  static status run(const conv_geometry& g, const std::int8_t* in, const void* packed, std::int8_t* out,
                    const output_stage<Q>& stage, std::int32_t input_zp, void* workspace,
                    std::size_t workspace_size) noexcept {
    detail::dw::route_call call{uses_gemm(g)};
    TESSERA_TRY(route::check_run(g, in, packed, out, depthwise_packed_header::magic_s8, Kernel::cr(), workspace,
                                 workspace_size, call));
    if (input_zp < -128 || input_zp > 127)
      return {status_code::invalid_argument, "depthwise_conv2d_s8: input zero point outside int8"};
    if (static_cast<const depthwise_packed_header*>(packed)->input_zp != input_zp)
      return {status_code::invalid_argument,
              "depthwise_conv2d_s8: input zero point differs from the one the weights were packed with"};
    TESSERA_TRY(validate<std::int8_t>(stage, detail::dw::stage_channels<Q>(g.out_c), -31, 30));
    if (call.gemm) return route::run(g, in, call, out, stage);
    const void* blocks = detail::dw::blocks(packed);
    const std::size_t ks = g.taps(), oc = g.out_c, mult = g.out_c / g.in_c;
    const auto zero = static_cast<std::int8_t>(input_zp);
    auto unipass = [&](const std::int8_t* const* ptrs, std::size_t pixels, std::size_t o) {
      Kernel::run(oc, pixels, ks, ptrs, ks, blocks, out + o, oc, stage);
    };
    auto row3 = [&](const std::int8_t* const* r, std::size_t pixels, std::size_t o) {
      RowKernel::run(oc, pixels, g.stride_w, r[0], r[1], r[2], blocks, out + o, stage);
    };
    auto row5 = [&](const std::int8_t* const* r, std::size_t pixels, std::size_t o) {
      Row5Kernel::run(oc, pixels, g.stride_w, r, blocks, out + o, stage);
    };
    auto portable = [&](const std::int8_t* const* ptrs, std::size_t o0) {
      std::int8_t* orow = out + o0;
      detail::dw::multiplier_row<std::uint32_t, std::int32_t, std::int8_t>(
          oc, mult, g.out_w, ks, ptrs, blocks, Kernel::cr(),
          [](std::uint32_t acc, std::int8_t x, std::int8_t w) {
            return acc + static_cast<std::uint32_t>(std::int32_t{x} * std::int32_t{w});
          },
          [&](std::size_t px, std::size_t o, std::uint32_t acc) {
            orow[px * oc + o] = requantize_one<std::int8_t>(static_cast<std::int32_t>(acc), stage, o);
          });
    };
    if (uses_rows5(g))
      detail::dw::run_rows<5>(g, in, zero, true, workspace, workspace_size, unipass, row5, portable);
    else
      detail::dw::run_rows<3>(g, in, zero, rows_match(), workspace, workspace_size, unipass, row3, portable);
    return status::success();
  }

 private:
  using route = detail::dw::gemm_route<gemm_op, std::int8_t, alignof(std::int32_t)>;

  static status check_pack(const conv_geometry& g, const void* filter, std::int32_t input_zp, void* packed,
                           std::size_t bytes) noexcept {
    TESSERA_TRY(detail::dw::check_pack(g, filter, packed, bytes, packed_weights_bytes(g), alignof(std::int32_t)));
    if (input_zp < -128 || input_zp > 127)
      return {status_code::invalid_argument, "depthwise_conv2d_s8: input zero point outside int8"};
    return status::success();
  }
  /// bias' = bias - input_zp * sum_t w[t] in wrapping int32. On the GEMM route: the header (with
  /// gemm_offset) and gemm_op's packing of the transposed filter (it folds input_zp likewise).
  template <class WAt>
  static status pack(const conv_geometry& g, WAt&& w_at, const std::int32_t* bias, std::int32_t input_zp,
                     void* packed, std::size_t bytes) noexcept {
    const std::size_t oc = g.out_c, ks = g.taps();
    detail::dw::write_header(g, depthwise_packed_header::magic_s8, 32, Kernel::cr(), input_zp, packed);
    if (uses_gemm(g)) return route::pack(g, w_at, bias, input_zp, packed, bytes);
    kernels::pack_dw<std::int32_t, std::int8_t>(
        oc, ks, Kernel::cr(), [&](std::size_t t, std::size_t o) { return w_at(t * oc + o); },
        [&](std::size_t o) {
          std::uint32_t s = 0;
          for (std::size_t t = 0; t < ks; ++t) s += static_cast<std::uint32_t>(std::int32_t{w_at(t * oc + o)});
          const std::uint32_t b = bias != nullptr ? static_cast<std::uint32_t>(bias[o]) : 0u;
          return static_cast<std::int32_t>(b - static_cast<std::uint32_t>(input_zp) * s);
        },
        static_cast<std::uint8_t*>(packed) + sizeof(depthwise_packed_header));
    return status::success();
  }
};

// ---- 16x8 -------------------------------------------------------------------------------------

/// 16x8 depthwise convolution (int16 activations, int8 weights, int16 output; zero points 0) on
/// the microkernel `Kernel` (by default the one selected for `Tag`). As in TFLite the bias type
/// picks the accumulator: int64 bias (or none) -> int64 + MBQM64; int32 bias -> wrapping int32 +
/// MBQM32. `pack_weights` records the choice in the packed header (`accumulator_bits`), so `run`
/// takes no extra argument and cannot mix them up.
template <class Tag = arch::native, class Kernel = select_t<op::dwconv_qs16, Tag>>
struct depthwise_conv2d_s16 {
  using kernel = Kernel;
  /// Largest int64 bias magnitude accepted: keeps the accumulator inside MBQM64's domain (+-2^47).
  static constexpr std::int64_t max_abs_bias64 = std::int64_t{1} << 46;

  /// The conv2d that runs in_c = 1 layers where `uses_gemm` (the GEMM route).
  using gemm_op = conv2d_s16<Tag>;
  /// True when `g` (in_c = 1, depth multiplier M) runs as the ordinary convolution in_c = 1,
  /// out_c = M on gemm_op: where that measured faster than `Kernel` (detail::dw::gemm_route_int).
  /// Results are the same bits either way.
  static bool uses_gemm(const conv_geometry& g) noexcept {
    return detail::dw::gemm_route_int<typename Kernel::arch>(g, Kernel::cr(), false);
  }

  /// Bytes of packed weights for `g` (header + blocks, or on the GEMM route header + conv2d's
  /// packed filter + alignment gap); 0 if `g` is invalid or too large.
  static std::size_t packed_weights_bytes(const conv_geometry& g) noexcept {
    if (uses_gemm(g)) return route::packed_weights_bytes(g);
    return detail::dw::packed_bytes(g, Kernel::cr(), sizeof(std::int64_t), sizeof(std::int8_t));
  }
  /// Scratch bytes for the fastest path: with depth multiplier M > 1, (KH - 1) * dilation_h + 1
  /// input rows expanded to in_w * out_c int16 plus one row of tap pointers (for `Kernel`); else
  /// `min_workspace_bytes`. 0 if `g` is invalid.
  /// On the GEMM route (uses_gemm): gemm_op's workspace_bytes.
  static std::size_t workspace_bytes(const conv_geometry& g) noexcept {
    if (uses_gemm(g)) return route::workspace_bytes(g);
    const std::size_t min = min_workspace_bytes(g);
    return min == 0 ? 0 : std::max(min, detail::dw::fast_workspace_bytes<std::int16_t>(g, false));
  }
  /// The smallest scratch `run` accepts (tap pointers of one output row + a zero row of in_c);
  /// with less than workspace_bytes, M > 1 runs on a portable scalar loop (same results). On the
  /// GEMM route: gemm_op's min_workspace_bytes (one panel row).
  static std::size_t min_workspace_bytes(const conv_geometry& g) noexcept {
    if (uses_gemm(g)) return route::min_workspace_bytes(g);
    return detail::dw::workspace_bytes<std::int16_t>(g);
  }

  /// int64 bias (nullable; each in [-2^46, 2^46]): int64 accumulator, MBQM64.
  /// @param[out] packed  8-byte aligned, `bytes` >= packed_weights_bytes(g)
  static status pack_weights(const conv_geometry& g, const std::int8_t* filter, const std::int64_t* bias, void* packed,
                             std::size_t bytes) noexcept {
    TESSERA_TRY(detail::dw::check_pack(g, filter, packed, bytes, packed_weights_bytes(g), alignof(std::int64_t)));
    if (bias != nullptr)
      for (std::size_t o = 0; o < g.out_c; ++o)
        if (bias[o] < -max_abs_bias64 || bias[o] > max_abs_bias64)
          return {status_code::invalid_argument, "depthwise_conv2d_s16: an int64 bias is outside [-2^46, 2^46]"};
    return pack(g, filter, [&](std::size_t o) { return bias != nullptr ? bias[o] : std::int64_t{0}; }, 64, packed,
                bytes);
  }
  /// int32 bias (nullable): wrapping int32 accumulator, MBQM32.
  static status pack_weights(const conv_geometry& g, const std::int8_t* filter, const std::int32_t* bias, void* packed,
                             std::size_t bytes) noexcept {
    TESSERA_TRY(detail::dw::check_pack(g, filter, packed, bytes, packed_weights_bytes(g), alignof(std::int64_t)));
    return pack(g, filter, [&](std::size_t o) { return std::int64_t{bias != nullptr ? bias[o] : 0}; }, 32, packed,
                bytes);
  }
  /// No bias: TFLite's default for 16x8 (int64 accumulator, MBQM64).
  static status pack_weights(const conv_geometry& g, const std::int8_t* filter, std::nullptr_t, void* packed,
                             std::size_t bytes) noexcept {
    return pack_weights(g, filter, static_cast<const std::int64_t*>(nullptr), packed, bytes);
  }

  /// Accumulator width a packed buffer was made for: 64, 32, or 0 if it is not a 16x8 depthwise buffer.
  static unsigned accumulator_bits(const void* packed) noexcept {
    if (packed == nullptr) return 0;
    const auto& h = *static_cast<const depthwise_packed_header*>(packed);
    return h.magic == depthwise_packed_header::magic_s16 ? h.acc_bits : 0;
  }

  /// out (NHWC int16) = clamp(MBQM(bias + sum in * w) + zero_point).
  /// @param packed     pack_weights() output for the same geometry and kernel (8-byte aligned)
  /// @param stage      per_tensor or per_channel (out_c entries); int64 packing needs shifts in
  ///                   [-31, 7] and multipliers >= 0, int32 packing shifts in [-31, 30]
  /// @param workspace  workspace_bytes(g) bytes of scratch (any alignment)
  template <class Q>
  static status run(const conv_geometry& g, const std::int16_t* in, const void* packed, std::int16_t* out,
                    const output_stage<Q>& stage, void* workspace, std::size_t workspace_size) noexcept {
    detail::dw::route_call call{uses_gemm(g)};
    TESSERA_TRY(route::check_run(g, in, packed, out, depthwise_packed_header::magic_s16, Kernel::cr(), workspace,
                                 workspace_size, call));
    const std::size_t channels = detail::dw::stage_channels<Q>(g.out_c);
    const unsigned bits = accumulator_bits(packed);
    if (bits == 64) {
      TESSERA_TRY(validate<std::int16_t>(stage, channels, -31, 7));
      for (std::size_t c = 0; c < channels; ++c)
        if (channel_multiplier(stage, c).multiplier < 0)
          return {status_code::invalid_argument, "depthwise_conv2d_s16: an MBQM64 multiplier is negative"};
      if (call.gemm) return route::run(g, in, call, out, stage);
      run_acc<std::int64_t>(g, in, packed, out, stage, workspace, workspace_size);
    } else if (bits == 32) {
      TESSERA_TRY(validate<std::int16_t>(stage, channels, -31, 30));
      if (call.gemm) return route::run(g, in, call, out, stage);
      run_acc<std::int32_t>(g, in, packed, out, stage, workspace, workspace_size);
    } else {
      return {status_code::invalid_argument, "depthwise_conv2d_s16: the packed header has no valid accumulator width"};
    }
    return status::success();
  }

 private:
  using route = detail::dw::gemm_route<gemm_op, std::int16_t, alignof(std::int64_t)>;

  template <class BiasAt>
  static status pack(const conv_geometry& g, const std::int8_t* filter, BiasAt&& bias_at, std::uint32_t acc_bits,
                     void* packed, std::size_t bytes) noexcept {
    const std::size_t oc = g.out_c, ks = g.taps();
    detail::dw::write_header(g, depthwise_packed_header::magic_s16, acc_bits, Kernel::cr(), 0, packed);
    if (uses_gemm(g))  // the header (with gemm_offset), then gemm_op's packing of the transposed filter
      return route::pack(g, [&](std::size_t i) { return filter[i]; }, bias_at, acc_bits, packed, bytes);
    kernels::pack_dw<std::int64_t, std::int8_t>(
        oc, ks, Kernel::cr(), [&](std::size_t t, std::size_t o) { return filter[t * oc + o]; }, bias_at,
        static_cast<std::uint8_t*>(packed) + sizeof(depthwise_packed_header));
    return status::success();
  }
  template <class Acc, class Q>
  static void run_acc(const conv_geometry& g, const std::int16_t* in, const void* packed, std::int16_t* out,
                      const output_stage<Q>& stage, void* workspace, std::size_t workspace_size) noexcept {
    // int64: exact; int32: wraps like TFLite's AccumScalar = int32 sum (computed in uint32).
    using Sum = std::conditional_t<std::is_same_v<Acc, std::int64_t>, std::int64_t, std::uint32_t>;
    const void* blocks = detail::dw::blocks(packed);
    const std::size_t ks = g.taps(), oc = g.out_c, mult = g.out_c / g.in_c;
    detail::dw::run_rows<3>(
        g, in, std::int16_t{0}, false, workspace, workspace_size,
        [&](const std::int16_t* const* ptrs, std::size_t pixels, std::size_t o) {
          Kernel::template run<Acc>(oc, pixels, ks, ptrs, ks, blocks, out + o, oc, stage);
        },
        [](const std::int16_t* const*, std::size_t, std::size_t) {},  // no row kernel
        [&](const std::int16_t* const* ptrs, std::size_t o0) {
          std::int16_t* orow = out + o0;
          detail::dw::multiplier_row<Sum, std::int64_t, std::int8_t>(
              oc, mult, g.out_w, ks, ptrs, blocks, Kernel::cr(),
              [](Sum acc, std::int16_t x, std::int8_t w) { return acc + static_cast<Sum>(std::int32_t{x} * std::int32_t{w}); },
              [&](std::size_t px, std::size_t o, Sum acc) {
                orow[px * oc + o] = requantize_one<std::int16_t>(static_cast<Acc>(acc), stage, o);
              });
        });
  }
};

}  // namespace tessera
