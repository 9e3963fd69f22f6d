/// @file dwconv_qs16_8c_neon_mlal.hpp
/// 16x8 depthwise convolution (int16 activations x int8 weights -> int16, channel multiplier 1)
/// with fused TFLite requantization on AArch64 Neon (Armv8.0: SMLAL/SMLAL2 of int16 into int32).
/// Contract and packed format: dwconv/op.hpp.
///
/// Tile: cr = 8 channels; packed blocks `int64 bias[8]; int8 w[ks][8]` (8-byte aligned).
/// Loop order: channel block outer, pixels inner. The block's weights are sign-extended to int16
/// (SXTL) once per block for ks = 9 (nine q registers) and once per tap otherwise.
/// Per pixel, tap and 8 channels (8 MACs), ks = 9: 1 pointer load, 1 LDR q (inputs),
/// SMLAL + SMLAL2 into two int32x4 partial sums (|in * w| <= 2^22, exact in int32).
/// Acc = int32_t: the int64 bias truncated to int32 (UZP1 of the low words), the sum wrapping in
/// int32 (Neon adds are modular), vector MBQM32 (neon_ops::mbqm32 with the shift split once per
/// block), exactly as dwconv_qs16_scalar.
/// Acc = int64_t: the products are summed in int32 in runs of at most 256 taps (|sum| <= 2^30,
/// exact). MBQM64 = (int32)((x * rm + 2^(t-1)) >> t) with x = bias + sum, rm the 16-bit multiplier
/// (neon_ops::mbqm64_multiplier), t = 15 - s: x * rm = bias * rm + sum * rm exactly in int64, so
/// bias * rm is formed once per block (8 scalar multiplies) and each run's int32 sum is multiplied
/// in with SMLAL/SMLAL2 (32x32->64), then SRSHL by -t rounds exactly as the scalar shift: the same
/// arithmetic as neon_ops::mbqm64 (requant_s64_neon) without its per-pixel 64-bit split multiply,
/// bit for bit equal to dwconv_qs16_scalar for |x| < 2^47 (bias within +-2^46, as the op checks).
/// Epilogue: + zero point (wrapping), int32 clamp, UZP1 to int16, one 16-byte store.
/// Tails: the last block's 1-7 channels read inputs through a zeroed 8-lane bounce buffer
/// (memcpy of exactly the live lanes), per-channel parameters likewise, outputs through a bounce
/// buffer and memcpy: nothing at or past `channels` is read or written (the packed block is read
/// whole). ks = 9 and ks = 25 are compile-time tap counts of the general loop.
/// ISA: Armv8-A Advanced SIMD (no dotprod).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_NEON
#error "dwconv_qs16_8c_neon_mlal.hpp needs AArch64 Advanced SIMD (TESSERA_HAS_NEON)"
#endif

#include <arm_neon.h>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <tessera/arch/neon/fixedpoint.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct dwconv_qs16_8c_neon_mlal {
  using arch = tessera::arch::neon;
  static constexpr const char* name = "dwconv_qs16_8c_neon_mlal";
  /// Channels per packed block.
  static std::size_t cr() noexcept { return CR; }

  /// out[p][c] = requant(bias[c] + sum_t in[p * in_step + t][c] * w[t][c]) for p < pixels, c < channels.
  /// @tparam Acc         int64_t (MBQM64) or int32_t (wrapping int32 sum, MBQM32)
  /// @param[in]  in      pixels * in_step tap pointers (in_step >= ks), each to `channels` int16 values
  /// @param[in]  packed  op.hpp s16 blocks packed with cr() = 8 (8-byte aligned)
  /// @param[out] out     output pixel p at out + p * out_stride (`channels` values written)
  /// @param[in]  p       output stage (MBQM32: shifts in [-31, 30]; MBQM64: multipliers >= 0, shifts
  ///                     in [-31, 7]); per-channel arrays indexed by channel
  template <class Acc, class Q>
  static void run(std::size_t channels, std::size_t pixels, std::size_t ks, const std::int16_t* const* in,
                  std::size_t in_step, const void* packed, std::int16_t* out, std::size_t out_stride,
                  const output_stage<Q>& p) noexcept {
    static_assert(std::is_same_v<Acc, std::int64_t> || std::is_same_v<Acc, std::int32_t>,
                  "dwconv_qs16: the accumulator is int64_t or int32_t");
    dispatch_taps(ks, [&](auto taps) { run_ks<decltype(taps)::value, Acc>(channels, pixels, ks, in, in_step, packed, out, out_stride, p); });
  }

 private:
  static constexpr std::size_t CR = 8;

  /// The 8 int16 inputs of channels c..c+7 (Full) or the first r (1..7) of them, zero elsewhere.
  template <bool Full>
  [[gnu::always_inline]] static inline int16x8_t load_x(const std::int16_t* x, std::size_t r) noexcept {
    if constexpr (Full) {
      (void)r;
      return vld1q_s16(x);
    } else {
      alignas(16) std::int16_t b[CR] = {};
      std::memcpy(b, x, r * sizeof(std::int16_t));
      return vld1q_s16(b);
    }
  }

  /// a0 (channels 0-3) and a1 (4-7) += x * w (SMLAL, SMLAL2; wrapping int32 adds).
  [[gnu::always_inline]] static inline void mac(int32x4_t& a0, int32x4_t& a1, int16x8_t x, int16x8_t w) noexcept {
    a0 = vmlal_s16(a0, vget_low_s16(x), vget_low_s16(w));
    a1 = vmlal_high_s16(a1, x, w);
  }

  /// Taps [t0, t1) of one pixel added to (a0, a1). KS = 9: the weights are w9 (whole tap range).
  template <std::size_t KS, bool Full>
  [[gnu::always_inline]] static inline void taps(int32x4_t& a0, int32x4_t& a1, const std::int16_t* const* ip,
                                                 std::size_t t0, std::size_t t1, std::size_t c0, std::size_t r,
                                                 const std::int8_t* w, const int16x8_t* w9) noexcept {
    if constexpr (KS == 9) {
      (void)t0, (void)t1, (void)w;
#pragma GCC unroll 9
      for (std::size_t t = 0; t < 9; ++t) {
        // Opaque copy: otherwise GCC hoists vget_low_s16(w9[t]) out of the pixel loop into a
        // second register per tap (18 live weight registers, spilled with the MBQM64 epilogue).
        int16x8_t wt = w9[t];
        __asm__("" : "+w"(wt));
        mac(a0, a1, load_x<Full>(ip[t] + c0, r), wt);
      }
    } else {
#pragma GCC unroll 25
      for (std::size_t t = t0; t < t1; ++t)
        mac(a0, a1, load_x<Full>(ip[t] + c0, r), vmovl_s8(vld1_s8(w + t * CR)));
    }
  }

  /// + zero point, clamp, narrow and store 8 (Full) or r outputs.
  template <bool Full>
  [[gnu::always_inline]] static inline void put(std::int16_t* o, int32x4_t y0, int32x4_t y1, int32x4_t zp, int32x4_t lo,
                                                int32x4_t hi, std::size_t r) noexcept {
    namespace ops = tessera::arch::neon_ops;
    const int16x8_t v = ops::narrow_s16(ops::clamp(vaddq_s32(y0, zp), lo, hi), ops::clamp(vaddq_s32(y1, zp), lo, hi));
    if constexpr (Full) {
      (void)r;
      vst1q_s16(o, v);
    } else {
      alignas(16) std::int16_t b[CR];
      vst1q_s16(b, v);
      std::memcpy(o, b, r * sizeof(std::int16_t));
    }
  }

  /// KS > 0: the tap count is a compile-time constant; KS = 0: it is `ks_rt`.
  template <std::size_t KS, class Acc, class Q>
  static void run_ks(std::size_t channels, std::size_t pixels, std::size_t ks_rt, const std::int16_t* const* in,
                     std::size_t in_step, const void* packed, std::int16_t* out, std::size_t out_stride,
                     const output_stage<Q>& p) noexcept {
    const std::size_t ks = KS != 0 ? KS : ks_rt;
    const std::size_t bytes = packed_dw_block_bytes(CR, ks, sizeof(std::int64_t), sizeof(std::int8_t));
    const auto* blk = static_cast<const std::uint8_t*>(packed);
    const std::size_t cfull = channels / CR * CR;
    std::size_t c0 = 0;
    for (; c0 < cfull; c0 += CR, blk += bytes)
      block<KS, true, Acc>(ks, CR, c0, pixels, in, in_step, blk, out + c0, out_stride, p);
    if (c0 < channels) block<KS, false, Acc>(ks, channels - c0, c0, pixels, in, in_step, blk, out + c0, out_stride, p);
  }

  /// One block of channels c0..c0+r-1 (r = 8 when Full) over every pixel.
  template <std::size_t KS, bool Full, class Acc, class Q>
  static void block(std::size_t ks, std::size_t r, std::size_t c0, std::size_t pixels, const std::int16_t* const* ip,
                    std::size_t in_step, const std::uint8_t* blk, std::int16_t* o, std::size_t out_stride,
                    const output_stage<Q>& p) noexcept {
    namespace ops = tessera::arch::neon_ops;
    constexpr bool per_tensor = std::is_same_v<Q, requant::per_tensor>;
    const auto* bias = reinterpret_cast<const std::int64_t*>(blk);
    const auto* w = reinterpret_cast<const std::int8_t*>(blk + CR * sizeof(std::int64_t));
    // Parameters in locals: the stores may alias anything, so p's members would be reloaded.
    const int32x4_t zp = vdupq_n_s32(p.zero_point), lo = vdupq_n_s32(p.act_min), hi = vdupq_n_s32(p.act_max);
    int32x4_t m0, m1, s0, s1;
    if constexpr (per_tensor) {
      m0 = m1 = vdupq_n_s32(p.q.multiplier);
      s0 = s1 = vdupq_n_s32(p.q.shift);
    } else {
      alignas(16) std::int32_t mb[CR] = {}, sb[CR] = {};  // zero-padded: nothing past `channels` is read
      std::memcpy(mb, p.q.multiplier + c0, r * sizeof(std::int32_t));
      std::memcpy(sb, p.q.shift + c0, r * sizeof(std::int32_t));
      m0 = vld1q_s32(mb), m1 = vld1q_s32(mb + 4), s0 = vld1q_s32(sb), s1 = vld1q_s32(sb + 4);
    }
    // ks = 9: the block's weights sign-extended once, kept in registers across pixels.
    [[maybe_unused]] int16x8_t w9[KS == 9 ? 9 : 1];
    if constexpr (KS == 9) {
#pragma GCC unroll 9
      for (std::size_t t = 0; t < 9; ++t) w9[t] = vmovl_s8(vld1_s8(w + t * CR));
    }
    if constexpr (std::is_same_v<Acc, std::int32_t>) {
      const int64x2_t b00 = vld1q_s64(bias), b01 = vld1q_s64(bias + 2), b10 = vld1q_s64(bias + 4),
                      b11 = vld1q_s64(bias + 6);
      // int64 bias truncated to int32: the low word of each lane, in channel order.
      const int32x4_t bb0 = vuzp1q_s32(vreinterpretq_s32_s64(b00), vreinterpretq_s32_s64(b01));
      const int32x4_t bb1 = vuzp1q_s32(vreinterpretq_s32_s64(b10), vreinterpretq_s32_s64(b11));
      const int32x4_t zero = vdupq_n_s32(0);
      const int32x4_t l0 = vmaxq_s32(s0, zero), r0 = vminq_s32(s0, zero);
      const int32x4_t l1 = vmaxq_s32(s1, zero), r1 = vminq_s32(s1, zero);
      for (std::size_t px = pixels; px != 0; --px, ip += in_step, o += out_stride) {
        int32x4_t a0 = bb0, a1 = bb1;
        taps<KS, Full>(a0, a1, ip, 0, ks, c0, r, w, w9);
        put<Full>(o, ops::mbqm32(a0, m0, l0, r0), ops::mbqm32(a1, m1, l1, r1), zp, lo, hi, r);
      }
    } else {
      // MBQM64 = (int32)((x * rm + 2^(t-1)) >> t), x = bias + sum, rm = the 16-bit multiplier,
      // t = 15 - s. x * rm = bias * rm + sum * rm exactly in int64 (|x| < 2^47, |rm| <= 2^15), so
      // bias * rm is formed once per block (scalar) and each int32 partial sum is multiplied in by
      // SMLAL/SMLAL2 (32x32->64); SRSHL by -t then rounds as the scalar shift does.
      alignas(16) std::int64_t brm[CR];
      alignas(16) std::int32_t rms[CR];
      const int32x4_t rm0 = ops::mbqm64_multiplier(m0), rm1 = ops::mbqm64_multiplier(m1);
      vst1q_s32(rms, rm0), vst1q_s32(rms + 4, rm1);
      for (std::size_t j = 0; j < CR; ++j) brm[j] = bias[j] * rms[j];
      const int64x2_t b00 = vld1q_s64(brm), b01 = vld1q_s64(brm + 2), b10 = vld1q_s64(brm + 4),
                      b11 = vld1q_s64(brm + 6);
      const int32x4_t fifteen = vdupq_n_s32(15);
      const int32x4_t nt0 = vsubq_s32(s0, fifteen), nt1 = vsubq_s32(s1, fifteen);
      const int64x2_t n00 = vmovl_s32(vget_low_s32(nt0)), n01 = vmovl_high_s32(nt0);
      const int64x2_t n10 = vmovl_s32(vget_low_s32(nt1)), n11 = vmovl_high_s32(nt1);
      for (std::size_t px = pixels; px != 0; --px, ip += in_step, o += out_stride) {
        int64x2_t x00 = b00, x01 = b01, x10 = b10, x11 = b11;
        for (std::size_t t0 = 0; t0 < ks; t0 += 256) {
          const std::size_t t1 = ks - t0 < 256 ? ks : t0 + 256;
          int32x4_t a0 = vdupq_n_s32(0), a1 = a0;
          taps<KS, Full>(a0, a1, ip, t0, t1, c0, r, w, w9);
          x00 = vmlal_s32(x00, vget_low_s32(a0), vget_low_s32(rm0)), x01 = vmlal_high_s32(x01, a0, rm0);
          x10 = vmlal_s32(x10, vget_low_s32(a1), vget_low_s32(rm1)), x11 = vmlal_high_s32(x11, a1, rm1);
        }
        const int32x4_t y0 = vuzp1q_s32(vreinterpretq_s32_s64(vrshlq_s64(x00, n00)),
                                        vreinterpretq_s32_s64(vrshlq_s64(x01, n01)));
        const int32x4_t y1 = vuzp1q_s32(vreinterpretq_s32_s64(vrshlq_s64(x10, n10)),
                                        vreinterpretq_s32_s64(vrshlq_s64(x11, n11)));
        put<Full>(o, y0, y1, zp, lo, hi, r);
      }
    }
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv_qs16, tessera::arch::neon> {
  using type = tessera::kernels::dwconv_qs16_8c_neon_mlal;
};
