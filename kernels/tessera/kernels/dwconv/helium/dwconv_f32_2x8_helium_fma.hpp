/// @file dwconv_f32_2x8_helium_fma.hpp
/// fp32 depthwise convolution (channel multiplier 1) on Cortex-M55/M85 Helium (MVE with floating
/// point). Contract and packed format: dwconv/op.hpp.
///
/// Tile: 2 pixels x 8 channels (two float32x4 per pixel); cr() = 8, packed blocks
/// `float bias[8]; float w[ks][8]`.
/// Loop order: channel block outer, pixel pairs inner (an odd last pixel runs alone).
/// Per tap and pixel pair: 2 weight VLDRW, 2 pointer loads (+ channel offset), 4 input VLDRW and
/// 4 VFMA for 16 MACs (4 accumulators + 2 weights + 1 input of the 8 Q registers). ks = 9 and
/// ks = 25 are fully unrolled compile-time tap counts of the same loop.
/// Accumulation order is the scalar kernel's (bias, then fused multiply-adds for t = 0..ks-1), so
/// results equal dwconv_f32_scalar's bit for bit.
/// Tails: whole blocks run unpredicated; the last block of `channels % 8` channels runs a
/// VCTP32-predicated instance (zeroing input loads, predicated stores): nothing at or past
/// `channels` is read or written. Bias and weights are read as whole zero-padded blocks.
/// ISA: Armv8.1-M MVE with floating point (MVE-F).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_HELIUM_FP
#error "dwconv_f32_2x8_helium_fma.hpp needs Helium with floating point (MVE-F): compile for e.g. -mcpu=cortex-m55"
#endif

#include <arm_mve.h>
#include <cstddef>
#include <cstdint>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>

namespace tessera::kernels {

struct dwconv_f32_2x8_helium_fma {
  using arch = tessera::arch::helium;
  static constexpr const char* name = "dwconv_f32_2x8_helium_fma";
  /// Channel tile of the packed weights.
  static std::size_t cr() noexcept { return CR; }

  /// out[p][c] = clamp(bias[c] + sum_t in[p * in_step + t][c] * w[t][c]) for p < pixels, c < channels.
  /// @param[in]  in       pixels * in_step tap pointers (in_step >= ks), each to `channels` floats
  /// @param[in]  packed   op.hpp f32 blocks packed with cr() = 8 (4-byte aligned)
  /// @param[out] out      output pixel p at out + p * out_stride (`channels` floats written)
  /// @param[in]  clamp    output bounds (min <= max)
  static void run(std::size_t channels, std::size_t pixels, std::size_t ks, const float* const* in,
                  std::size_t in_step, const void* packed, float* out, std::size_t out_stride,
                  const f32_clamp& clamp) noexcept {
    dispatch_taps(ks, [&](auto taps) { run_ks<decltype(taps)::value>(channels, pixels, ks, in, in_step, packed, out, out_stride, clamp); });
  }

 private:
  static constexpr std::size_t CR = 8;

  /// Compiler scheduling fence (emits nothing): loads are not moved across it and the accumulators
  /// are materialised at it. Without it GCC 12 hoists the unrolled taps' weight loads out of the
  /// pixel loop and spills them.
  [[gnu::always_inline]] static inline void schedule_fence(float32x4_t& a0, float32x4_t& a1, float32x4_t& b0,
                                                           float32x4_t& b1) noexcept {
    __asm__ volatile("" : "+w"(a0), "+w"(a1), "+w"(b0), "+w"(b1) : : "memory");
  }

  /// One tap of P (1 or 2) pixels: (a0, a1) += x0[0..8) * w, (b0, b1) += x1[0..8) * w.
  template <int P, bool Tail>
  [[gnu::always_inline]] static inline void tap(float32x4_t& a0, float32x4_t& a1, float32x4_t& b0, float32x4_t& b1,
                                                const float* x0, const float* x1, const float* wt, mve_pred16_t p0,
                                                mve_pred16_t p1) noexcept {
    const float32x4_t w0 = vldrwq_f32(wt), w1 = vldrwq_f32(wt + 4);
    if constexpr (Tail) {
      a0 = vfmaq_f32(a0, vldrwq_z_f32(x0, p0), w0);
      a1 = vfmaq_f32(a1, vldrwq_z_f32(x0 + 4, p1), w1);
      if constexpr (P > 1) {
        b0 = vfmaq_f32(b0, vldrwq_z_f32(x1, p0), w0);
        b1 = vfmaq_f32(b1, vldrwq_z_f32(x1 + 4, p1), w1);
      }
    } else {
      a0 = vfmaq_f32(a0, vldrwq_f32(x0), w0);
      a1 = vfmaq_f32(a1, vldrwq_f32(x0 + 4), w1);
      if constexpr (P > 1) {
        b0 = vfmaq_f32(b0, vldrwq_f32(x1), w0);
        b1 = vfmaq_f32(b1, vldrwq_f32(x1 + 4), w1);
      }
    }
    schedule_fence(a0, a1, b0, b1);
  }

  /// Clamps and stores one pixel's 8 (Tail: p0/p1 lanes of) channels.
  template <bool Tail>
  [[gnu::always_inline]] static inline void store(float* o, float32x4_t a0, float32x4_t a1, mve_pred16_t p0,
                                                  mve_pred16_t p1, float32x4_t lo, float32x4_t hi) noexcept {
    a0 = vminnmq_f32(vmaxnmq_f32(a0, lo), hi);
    a1 = vminnmq_f32(vmaxnmq_f32(a1, lo), hi);
    if constexpr (Tail) {
      vstrwq_p_f32(o, a0, p0);
      vstrwq_p_f32(o + 4, a1, p1);
    } else {
      vstrwq_f32(o, a0);
      vstrwq_f32(o + 4, a1);
    }
  }

  /// P pixels (ip, ip + in_step) of the block at c0.
  template <std::size_t KS, int P, bool Tail>
  [[gnu::always_inline]] static inline void pixels_p(std::size_t ks, const float* const* ip, std::size_t in_step,
                                                     std::size_t c0, const float* w, float32x4_t bias0,
                                                     float32x4_t bias1, float* o, std::size_t out_stride,
                                                     mve_pred16_t p0, mve_pred16_t p1, float32x4_t lo,
                                                     float32x4_t hi) noexcept {
    const float* const* ip1 = P > 1 ? ip + in_step : ip;
    __asm__("" : "+r"(w));  // taps address the weights with immediate offsets, not hoisted pointers
    float32x4_t a0 = bias0, a1 = bias1, b0 = bias0, b1 = bias1;
    if constexpr (KS != 0) {
#pragma GCC unroll 25
      for (std::size_t t = 0; t < KS; ++t) tap<P, Tail>(a0, a1, b0, b1, ip[t] + c0, ip1[t] + c0, w + t * CR, p0, p1);
    } else {
      for (std::size_t t = 0; t < ks; ++t) tap<P, Tail>(a0, a1, b0, b1, ip[t] + c0, ip1[t] + c0, w + t * CR, p0, p1);
    }
    store<Tail>(o, a0, a1, p0, p1, lo, hi);
    if constexpr (P > 1) store<Tail>(o + out_stride, b0, b1, p0, p1, lo, hi);
  }

  /// Every pixel of the channel block at c0 (Tail: rem < 8 channels left).
  template <std::size_t KS, bool Tail>
  [[gnu::always_inline]] static inline void block(std::size_t c0, std::size_t rem, std::size_t pixels, std::size_t ks, const float* const* ip,
                    std::size_t in_step, const float* blk, float* o, std::size_t out_stride, float32x4_t lo,
                    float32x4_t hi) noexcept {
    const auto r = static_cast<std::uint32_t>(rem);
    const mve_pred16_t p0 = vctp32q(r), p1 = vctp32q(r > 4 ? r - 4 : 0);  // VCTP saturates at 4 lanes
    const float32x4_t bias0 = vldrwq_f32(blk), bias1 = vldrwq_f32(blk + 4);
    const float* w = blk + CR;
    o += c0;
    std::size_t px = pixels;
    for (; px >= 2; px -= 2, ip += 2 * in_step, o += 2 * out_stride)
      pixels_p<KS, 2, Tail>(ks, ip, in_step, c0, w, bias0, bias1, o, out_stride, p0, p1, lo, hi);
    if (px != 0) pixels_p<KS, 1, Tail>(ks, ip, in_step, c0, w, bias0, bias1, o, out_stride, p0, p1, lo, hi);
  }

  /// KS > 0: the tap count is a compile-time constant; KS = 0: it is `ks_rt`.
  template <std::size_t KS>
  static void run_ks(std::size_t channels, std::size_t pixels, std::size_t ks_rt, const float* const* in,
                     std::size_t in_step, const void* packed, float* out, std::size_t out_stride,
                     const f32_clamp& clamp) noexcept {
    const std::size_t ks = KS != 0 ? KS : ks_rt;
    const std::size_t block_floats = packed_dw_block_bytes(CR, ks, sizeof(float), sizeof(float)) / sizeof(float);
    const float32x4_t lo = vdupq_n_f32(clamp.min), hi = vdupq_n_f32(clamp.max);
    const float* blk = static_cast<const float*>(packed);
    std::size_t c0 = 0;
    for (; channels - c0 >= CR; c0 += CR, blk += block_floats)
      block<KS, false>(c0, CR, pixels, ks, in, in_step, blk, out, out_stride, lo, hi);
    if (c0 != channels) block<KS, true>(c0, channels - c0, pixels, ks, in, in_step, blk, out, out_stride, lo, hi);
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv_f32, tessera::arch::helium> {
  using type = tessera::kernels::dwconv_f32_2x8_helium_fma;
};
