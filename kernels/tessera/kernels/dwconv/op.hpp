/// @file op.hpp
/// Depthwise convolution op descriptors, their packed-weight formats and the microkernel contract
/// shared by every variant (XNNPACK-style "unipass" depthwise over an indirection buffer).
///
/// A depthwise microkernel computes `pixels` output pixels of `channels` channels (channel
/// multiplier 1: output channel c reads input channel c). For pixel p and tap t (t < ks, the
/// kernel's positions in row-major ky, kx order) `in[p * in_step + t]` points at the `channels`
/// contiguous input values of that tap; a tap that falls in the padding points at a caller-owned
/// "zero row" of at least `channels` elements holding the input zero point (0 for f32/s16). So the
/// kernel never sees geometry: stride, dilation and padding live in the pointers, and one kernel
/// serves 3x3 stride 1 and stride 2 alike. Output pixel p is written at `out + p * out_stride`.
///
/// Packed weights, per block of `cr` channels (cr = the kernel's channel tile; padded channels 0):
///
///     f32:  float        bias[cr]    then float  w[ks][cr]
///     s8:   int32        bias'[cr]   then int8   w[ks][cr]       bias' = bias - input_zp * sum_t w[t]
///     s16:  int64        bias[cr]    then int8   w[ks][cr]       (s16 zero points are 0)
///
/// Each block starts at a multiple of the bias element's alignment: blocks are padded at their
/// end to it (`packed_dw_bytes`). With the input zero point folded into bias', the s8 kernel
/// accumulates `bias' + sum_t in[t][c] * w[t][c]` in wrapping int32, which equals TFLite's
/// `bias + sum (in - zin) * w` bit for bit (padding taps read zin and cancel exactly).
///
/// Microkernel entry points (all `noexcept`, stateless, no allocation, reading only
/// `channels` elements per pointer and writing only `channels` outputs per pixel):
///
///     static std::size_t cr() noexcept;                     // channel tile (may depend on the SVE VL)
///     // f32
///     static void run(size_t channels, size_t pixels, size_t ks, const float* const* in, size_t in_step,
///                     const void* packed, float* out, size_t out_stride, const f32_clamp& clamp) noexcept;
///     // s8 (Q = requant::per_tensor or per_channel; per-channel arrays indexed by channel)
///     template <class Q>
///     static void run(size_t channels, size_t pixels, size_t ks, const int8_t* const* in, size_t in_step,
///                     const void* packed, int8_t* out, size_t out_stride, const output_stage<Q>& p) noexcept;
///     // s16 (Acc = int64_t: MBQM64, int64 bias; int32_t: MBQM32, bias truncated to int32 as TFLite's
///     // AccumScalar=int32 instantiation)
///     template <class Acc, class Q>
///     static void run(size_t channels, size_t pixels, size_t ks, const int16_t* const* in, size_t in_step,
///                     const void* packed, int16_t* out, size_t out_stride, const output_stage<Q>& p) noexcept;
///
/// Kernels specialise ks = 9 (3x3) and ks = 25 (5x5) at compile time through `dispatch_taps` and
/// fall back to a general ks loop; all three must give identical results.
///
/// Row microkernels for 3x3 windows (ops `dwconv3x3_f32`, `dwconv3x3_qs8`; registered per tag
/// like the unipass kernels, scalar ones serve every chain). A row kernel computes `pixels`
/// neighbouring output pixels of one output row whose 3x3 windows lie wholly inside the input,
/// with dilation 1 and stride S = `stride` (1 or 2) along x, by direct addressing instead of tap
/// pointers, so neighbouring outputs can share input loads:
///
///     acc[j][c] = bias[c] + sum_{ky < 3, kx < 3} r_ky[(j * S + kx) * channels + c] * w[ky * 3 + kx][c]
///     out[j * channels + c] = stage(acc[j][c])                     (j < pixels, c < channels)
///
/// r_ky points at the first window's input pixel in tap row ky (channel 0): the row pitch,
/// stride_h and dilation_h live in the three pointers. Channel multiplier 1: input and output
/// pixel pitches are both `channels`. Packed weights are the unipass blocks above with ks = 9,
/// and `cr()` must equal the unipass kernel's of the same tag (the operator uses a row kernel only
/// when the two agree). A row kernel reads only r_ky[0, ((pixels - 1) * S + 3) * channels) and
/// writes only out[0, pixels * channels). Results equal the scalar unipass kernel's on the same
/// pixels bit for bit (f32: the accumulator starts at the bias and takes the nine taps in ky, kx
/// order, one fma each; the clamp may turn -0.0 into +0.0).
///
///     static std::size_t cr() noexcept;
///     static void run(size_t channels, size_t pixels, size_t stride, const float* r0, const float* r1,
///                     const float* r2, const void* packed, float* out, const f32_clamp& clamp) noexcept;
///     template <class Q>
///     static void run(size_t channels, size_t pixels, size_t stride, const int8_t* r0, const int8_t* r1,
///                     const int8_t* r2, const void* packed, int8_t* out, const output_stage<Q>& p) noexcept;
///
/// Row microkernels for 5x5 windows (op `dwconv5x5_f32`) follow the same contract with five tap
/// rows, passed as an array `rows[0..4]` (rows[ky]: tap row ky at the first window's input pixel),
/// ks = 25 packed blocks and 25 taps in ky, kx order:
///
///     acc[j][c] = bias[c] + sum_{ky < 5, kx < 5} rows[ky][(j * S + kx) * channels + c] * w[ky * 5 + kx][c]
///
/// reading only rows[ky][0, ((pixels - 1) * S + 5) * channels) and writing only out[0, pixels * channels):
///
///     static void run(size_t channels, size_t pixels, size_t stride, const float* const* rows,
///                     const void* packed, float* out, const f32_clamp& clamp) noexcept;
///
/// The int8 5x5 row kernels (op `dwconv5x5_qs8`) likewise, with the s8 unipass kernel's packed
/// blocks (ks = 25, bias' with the input zero point folded in), its wrapping int32 sums and its
/// output stage, so results equal the scalar unipass kernel's bit for bit:
///
///     template <class Q>
///     static void run(size_t channels, size_t pixels, size_t stride, const int8_t* const* rows,
///                     const void* packed, int8_t* out, const output_stage<Q>& p) noexcept;
///
/// Pitched 3x3 row microkernels (op `dwconv3x3p_f32`) take the row contract's arguments plus the
/// pixel pitches of the input rows and of the output, in elements (>= channels each), so that a
/// kernel can serve one group of channels of a wider layer (the operator's channel-group path:
/// rows of `group_channels()` channels copied out of the NHWC input, output written in place):
///
///     acc[j][c] = bias[c] + sum_{ky < 3, kx < 3} r_ky[(j * S + kx) * in_pitch + c] * w[ky * 3 + kx][c]
///     out[j * out_pitch + c] = clamp(acc[j][c])                      (j < pixels, c < channels)
///
/// reading only the `channels` elements of each pixel r_ky[p * in_pitch, ...) for p < (pixels - 1)
/// * S + 3 and writing only the `channels` elements of each output pixel. `packed` points at the
/// group's first block (blocks of `cr()` channels, the unipass kernel's); results equal the scalar
/// unipass kernel's bit for bit, as for the row kernels. `group_channels()` (a multiple of cr) is
/// the group the operator gives each call (or twice it, on rows narrow enough), and `preferred`
/// says whether the operator uses the kernel on its tag at all: for the channel-group path, and
/// with both pitches equal to the channels for the row path, each where it was measured faster
/// (a kernel that also declares `static constexpr bool every_geometry` is taken wherever it
/// applies, as the tests' wrappers do):
///
///     static std::size_t cr() noexcept;
///     static std::size_t group_channels() noexcept;
///     static constexpr bool preferred;
///     static void run(size_t channels, size_t pixels, size_t stride, const float* r0, const float* r1,
///                     const float* r2, size_t in_pitch, const void* packed, float* out, size_t out_pitch,
///                     const f32_clamp& clamp) noexcept;
///
/// A pitched kernel may also offer two output rows per call at stride 2 in both directions (the
/// operator's row path then pairs the rows whose windows lie inside the input): output row i < 2
/// at `out + i * out_row_pitch` from the tap rows r_{2i}, r_{2i+1}, r_{2i+2}, where r_k = r0 + k *
/// row_pitch, exactly as run(channels, pixels, 2, r_{2i}, r_{2i+1}, r_{2i+2}, in_pitch, packed,
/// out + i * out_row_pitch, out_pitch, clamp) would write it, with the same reads:
///
///     static void run2(size_t channels, size_t pixels, const float* r0, size_t row_pitch,
///                      size_t in_pitch, const void* packed, float* out, size_t out_row_pitch,
///                      size_t out_pitch, const f32_clamp& clamp) noexcept;
#pragma once
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <tessera/kernels/gemm/op_f32.hpp>  // f32_clamp

namespace tessera::op {
struct dwconv_f32 {};   ///< fp32 depthwise with bias and clamp
struct dwconv_qs8 {};   ///< int8 depthwise, fused TFLite requantization
struct dwconv_qs16 {};  ///< int16 x int8 depthwise (16x8)
struct dwconv3x3_f32 {};  ///< fp32 3x3 depthwise row kernel (windows inside the input, stride 1 or 2)
struct dwconv3x3p_f32 {};  ///< fp32 3x3 depthwise row kernel with input and output pixel pitches
struct dwconv3x3_qs8 {};  ///< int8 3x3 depthwise row kernel, fused TFLite requantization
struct dwconv5x5_f32 {};  ///< fp32 5x5 depthwise row kernel (windows inside the input, stride 1 or 2)
struct dwconv5x5_qs8 {};  ///< int8 5x5 depthwise row kernel, fused TFLite requantization
}  // namespace tessera::op

namespace tessera::kernels {

/// The tap counts every depthwise kernel specialises at compile time: calls `f` with
/// std::integral_constant<size_t, 9> (3x3), <25> (5x5), or <0> (the run-time ks loop), so the
/// policy lives here once.
template <class F> inline void dispatch_taps(std::size_t ks, F&& f) {
  if (ks == 9) f(std::integral_constant<std::size_t, 9>{});
  else if (ks == 25) f(std::integral_constant<std::size_t, 25>{});
  else f(std::integral_constant<std::size_t, 0>{});
}

/// For row kernels built on a unipass kernel: calls `f(ptrs, j0, n)` for chunks of n <= 16
/// consecutive pixels j0.. of a KxK row-kernel call (tap rows rows[0..K)), with `ptrs` holding
/// their K * K tap pointers each (pixel-major, ky, kx order) as the unipass contract wants them.
template <std::size_t K, class T, class F>
void for_each_row_chunk(std::size_t channels, std::size_t pixels, std::size_t stride, const T* const* rows,
                        F&& f) noexcept {
  constexpr std::size_t chunk = 16;
  const T* ptrs[chunk * K * K];
  for (std::size_t j0 = 0; j0 < pixels; j0 += chunk) {
    const std::size_t n = pixels - j0 < chunk ? pixels - j0 : chunk;
    for (std::size_t j = 0; j < n; ++j)
      for (std::size_t ky = 0; ky < K; ++ky)
        for (std::size_t kx = 0; kx < K; ++kx)
          ptrs[(j * K + ky) * K + kx] = rows[ky] + ((j0 + j) * stride + kx) * channels;
    f(static_cast<const T* const*>(ptrs), j0, n);
  }
}
/// The 3x3 form (tap rows r0, r1, r2).
template <class T, class F>
void for_each_row_chunk(std::size_t channels, std::size_t pixels, std::size_t stride, const T* r0, const T* r1,
                        const T* r2, F&& f) noexcept {
  const T* rows[3] = {r0, r1, r2};
  for_each_row_chunk<3>(channels, pixels, stride, static_cast<const T* const*>(rows), f);
}

namespace dw_detail {
template <std::size_t K, class F> [[gnu::always_inline]] inline void pixel_rest(std::size_t rest, std::size_t p, F& f) noexcept {
  if constexpr (K > 0) {
    if (rest == K) f(std::integral_constant<std::size_t, K>{}, p);
    else pixel_rest<K - 1>(rest, p, f);
  }
}
}  // namespace dw_detail

/// For row kernels with register tiles of N pixels: calls f(integral_constant<N>, p) for the
/// groups of N pixels p.. of a row, then f(integral_constant<n>, p) for the n = 1..N-1 remaining
/// pixels.
template <std::size_t N, class F> [[gnu::always_inline]] inline void for_each_pixel_group(std::size_t pixels, F&& f) noexcept {
  static_assert(N >= 1, "a register tile holds at least one pixel");
  std::size_t p = 0;
  for (; p + N <= pixels; p += N) f(std::integral_constant<std::size_t, N>{}, p);
  dw_detail::pixel_rest<N - 1>(pixels - p, p, f);
}

/// Bytes of one packed block of `cr` channels, `ks` taps: bias then weights, padded to `bias_size`.
constexpr std::size_t packed_dw_block_bytes(std::size_t cr, std::size_t ks, std::size_t bias_size,
                                            std::size_t weight_size) noexcept {
  const std::size_t raw = cr * bias_size + ks * cr * weight_size;
  return (raw + bias_size - 1) / bias_size * bias_size;
}

/// Bytes of packed depthwise weights for `channels` channels and `ks` taps in blocks of `cr`.
constexpr std::size_t packed_dw_bytes(std::size_t channels, std::size_t ks, std::size_t cr, std::size_t bias_size,
                                      std::size_t weight_size) noexcept {
  return (channels + cr - 1) / cr * packed_dw_block_bytes(cr, ks, bias_size, weight_size);
}

/// Packs `w_at(t, c)` (tap t, channel c) and `bias_at(c)` into the format above. `Bias` is float,
/// int32_t or int64_t; `W` is float or int8_t. For s8, pass the folded bias' through `bias_at`.
template <class Bias, class W, class WAt, class BiasAt>
void pack_dw(std::size_t channels, std::size_t ks, std::size_t cr, WAt&& w_at, BiasAt&& bias_at, void* packed) noexcept {
  auto* out = static_cast<std::uint8_t*>(packed);
  const std::size_t block = packed_dw_block_bytes(cr, ks, sizeof(Bias), sizeof(W));
  for (std::size_t c0 = 0; c0 < channels; c0 += cr, out += block) {
    auto* b = reinterpret_cast<Bias*>(out);
    for (std::size_t j = 0; j < cr; ++j) b[j] = c0 + j < channels ? static_cast<Bias>(bias_at(c0 + j)) : Bias{0};
    auto* w = reinterpret_cast<W*>(out + cr * sizeof(Bias));
    for (std::size_t t = 0; t < ks; ++t)
      for (std::size_t j = 0; j < cr; ++j) *w++ = c0 + j < channels ? static_cast<W>(w_at(t, c0 + j)) : W{0};
    for (auto* pad = reinterpret_cast<std::uint8_t*>(w); pad < out + block; ++pad) *pad = 0;
  }
}

}  // namespace tessera::kernels
