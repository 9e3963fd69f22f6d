/// @file dwconv_f32_3x2v_simd_fma.hpp
/// fp32 depthwise convolution (unipass, indirection buffer) on xsimd (the `simd` tag) with FMA.
///
/// Channel tile cr = 2v, v = fp32 lanes of the xsimd arch (AVX2: cr = 16, Neon64: 8): packed blocks
/// (dwconv/op.hpp) of float bias[2v], then float w[ks][2v]. Register tile: 3 output pixels x 2v
/// channels (6 accumulators). Per pass over a block, every tap t = 0..ks-1 loads its 2 weight
/// vectors once and serves the 3 pixels with them: per tap 2 weight loads, 3 tap-pointer loads,
/// 6 input loads (FMA memory operands on AVX2) and 6 FMAs, against 4 loads per 2 FMAs for one
/// pixel at a time. Pixels p..p+2 form a group, blocks are the inner loop (each tap pointer's
/// channels are read in order); then clamp (max, min) and 2 stores per pixel. 1..2 remaining
/// pixels take the same code with a 2- or a 1-pixel tile. (Measured on Zen 3, AVX2: 3 pixels beat
/// 4 at 512 channels, where 4 pixels' 18 input lines 2 KiB apart share 2 L1 sets, and under
/// clang; 5-6 pixels spill; blocks-outer order lost 20-30%.) ks = 9 and ks = 25 are compile-time
/// specialisations (taps unrolled); any other ks runs the same code with a run-time tap loop.
/// Results: every accumulator starts at the bias and takes the taps t = 0..ks-1 in order, one fma
/// each: the scalar kernel's chain (std::fma), identical bit for bit to dwconv_f32_scalar, except
/// that the clamp uses max/min, which may return +0.0 where the scalar's comparisons keep -0.0
/// (both compare equal).
/// ISA: x86-64 AVX2+FMA (xsimd fma3<avx2>) or AArch64 Neon (xsimd neon64).
/// Tails: channels % 2v in the last block, per pixel: one v-lane step, then 1..v-1 channels with
/// scalar std::fma (same chain, same result); nothing at or past `channels` is read or written.
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SIMD
#error "dwconv_f32_3x2v_simd_fma.hpp needs the simd tag (TESSERA_USE_XSIMD=1 and AVX2+FMA on x86-64 or Neon on AArch64)"
#endif

#include <cmath>
#include <cstddef>
#include <tessera/arch/simd/xsimd_bridge.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>

namespace tessera::kernels {

struct dwconv_f32_3x2v_simd_fma {
  using arch = tessera::arch::simd;
  static constexpr const char* name = "dwconv_f32_3x2v_simd_fma";

 private:
  using f32 = xsimd::batch<float, tessera::arch::simd_arch>;
  static constexpr std::size_t V = f32::size;
  static constexpr std::size_t CR = 2 * V;
  static constexpr std::size_t NP = 3;  // pixels per register tile

 public:
  /// Channels per packed block.
  static std::size_t cr() noexcept { return CR; }

  /// out[p][c] = clamp(bias[c] + sum_t in[p * in_step + t][c] * w[t][c], clamp.min, clamp.max).
  /// @param[in]  in      pixels * in_step tap pointers (each to `channels` floats, or the zero row)
  /// @param[in]  packed  pack_dw<float, float>(channels, ks, cr(), ...) output
  /// @param[out] out     pixel p's `channels` outputs at out + p * out_stride
  static void run(std::size_t channels, std::size_t pixels, std::size_t ks, const float* const* in,
                  std::size_t in_step, const void* packed, float* out, std::size_t out_stride,
                  const f32_clamp& clamp) noexcept {
    dispatch_taps(ks, [&](auto taps) { run_ks<decltype(taps)::value>(channels, pixels, ks, in, in_step, packed, out, out_stride, clamp); });
  }

 private:
  template <std::size_t KS>
  static void run_ks(std::size_t channels, std::size_t pixels, std::size_t ks_rt, const float* const* in,
                     std::size_t in_step, const void* packed, float* out, std::size_t out_stride,
                     const f32_clamp& clamp) noexcept {
    const std::size_t ks = KS != 0 ? KS : ks_rt;
    const std::size_t block = CR * (ks + 1);
    const f32 lo(clamp.min), hi(clamp.max);
    const std::size_t cfull = channels / CR * CR;
    const float* w = static_cast<const float*>(packed);
    std::size_t p = 0;
    for (; p + NP <= pixels; p += NP) tiles<KS, NP>(cfull, ks, block, in + p * in_step, in_step, w, out + p * out_stride, out_stride, lo, hi);
    if (p + 2 <= pixels) {
      tiles<KS, 2>(cfull, ks, block, in + p * in_step, in_step, w, out + p * out_stride, out_stride, lo, hi);
      p += 2;
    }
    if (p < pixels) tiles<KS, 1>(cfull, ks, block, in + p * in_step, in_step, w, out + p * out_stride, out_stride, lo, hi);
    w += cfull / CR * block;  // the last (partial) block
    if (cfull == channels) return;
    const float lo_s = clamp.min, hi_s = clamp.max;
    for (std::size_t p = 0; p < pixels; ++p) {  // the last block's channels, one pixel at a time
      const float* const* ip = in + p * in_step;
      float* o = out + p * out_stride;
      std::size_t c = cfull;
      if (c + V <= channels) {  // one v-lane step
        f32 a = f32::load_unaligned(w);
        for (std::size_t t = 0; t < ks; ++t)
          a = xsimd::fma(f32::load_unaligned(ip[t] + c), f32::load_unaligned(w + CR * (t + 1)), a);
        xsimd::min(xsimd::max(a, lo), hi).store_unaligned(o + c);
        c += V;
      }
      for (; c < channels; ++c) {  // 1..v-1 channels: the same fma chain in scalar code
        const std::size_t jc = c - cfull;
        float a = w[jc];
        for (std::size_t t = 0; t < ks; ++t) a = std::fma(ip[t][c], w[CR * (t + 1) + jc], a);
        a = a < lo_s ? lo_s : a;
        o[c] = a > hi_s ? hi_s : a;
      }
    }
  }

  /// The full blocks (channels < cfull) of N pixels: blocks inner, so every tap pointer's channels
  /// are read in order (blocks outer would stride the L1 sets by the pixel pitch, 2 KiB at 512 channels).
  template <std::size_t KS, std::size_t N>
  static void tiles(std::size_t cfull, std::size_t ks, std::size_t block, const float* const* in, std::size_t in_step,
                    const float* w, float* out, std::size_t out_stride, const f32 lo, const f32 hi) noexcept {
    for (std::size_t c = 0; c < cfull; c += CR, w += block) tile<KS, N>(c, ks, in, in_step, w, out, out_stride, lo, hi);
  }

  /// Channels c..c+2v-1 (block at w) of N pixels (in[j * in_step + t], out + j * out_stride, j < N).
  template <std::size_t KS, std::size_t N>
  static void tile(std::size_t c, std::size_t ks_rt, const float* const* in, std::size_t in_step, const float* w,
                   float* out, std::size_t out_stride, const f32 lo, const f32 hi) noexcept {
    const std::size_t ks = KS != 0 ? KS : ks_rt;
    const f32 b0 = f32::load_unaligned(w), b1 = f32::load_unaligned(w + V);
    f32 a0[N], a1[N];
#pragma GCC unroll 4
    for (std::size_t j = 0; j < N; ++j) a0[j] = b0, a1[j] = b1;
    const float* wt = w + CR;
#pragma GCC unroll 32
    for (std::size_t t = 0; t < ks; ++t, wt += CR) {
      const f32 w0 = f32::load_unaligned(wt), w1 = f32::load_unaligned(wt + V);
#pragma GCC unroll 4
      for (std::size_t j = 0; j < N; ++j) {
        const float* x = in[j * in_step + t] + c;
        a0[j] = xsimd::fma(f32::load_unaligned(x), w0, a0[j]);
        a1[j] = xsimd::fma(f32::load_unaligned(x + V), w1, a1[j]);
      }
    }
#pragma GCC unroll 4
    for (std::size_t j = 0; j < N; ++j) {
      xsimd::min(xsimd::max(a0[j], lo), hi).store_unaligned(out + j * out_stride + c);
      xsimd::min(xsimd::max(a1[j], lo), hi).store_unaligned(out + j * out_stride + c + V);
    }
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv_f32, tessera::arch::simd> {
  using type = tessera::kernels::dwconv_f32_3x2v_simd_fma;
};
