/// @file fixedpoint.hpp
/// TFLite/gemmlowp fixed-point requantization primitives on AArch64 Advanced SIMD (Neon),
/// per lane bit-exact with tessera::fixedpoint (quant/fixedpoint.hpp) on its documented domain:
///   srdhm(a, b)                     SaturatingRoundingDoublingHighMul (SQRDMULH)
///   rdpot(x, e) / rdpot_neg(x, -e)  RoundingDivideByPOT, ties away from zero, e in [0, 31]
///   mbqm32(x, m, s)                 MultiplyByQuantizedMultiplier (int32), s in [-31, 30]
///   split_mbqm32(m, s)              one multiplier and shift split once for mbqm32(x, m, left, neg_right)
///   mbqm64(x0, x1, m, s)            MultiplyByQuantizedMultiplier (int64 acc), 4 lanes as 2 x int64x2
///   clamp(v, lo, hi), store_narrow(p, v...)   output-stage clamp and narrowing stores
/// Helpers are small inline functions meant to be reused by GEMM epilogues.
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_NEON
#error "tessera/arch/neon/fixedpoint.hpp needs AArch64 Advanced SIMD (TESSERA_HAS_NEON)"
#endif

#include <arm_neon.h>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace tessera::arch::neon_ops {

/// SaturatingRoundingDoublingHighMul per lane: round(a*b / 2^31), ties toward +inf,
/// INT32_MIN * INT32_MIN -> INT32_MAX. SQRDMULH is exactly TFLite's SRDHM.
/// @param[in] a, b  any int32 lanes
inline int32x4_t srdhm(int32x4_t a, int32x4_t b) noexcept { return vqrdmulhq_s32(a, b); }

/// RoundingDivideByPOT per lane, given the NEGATED exponent (-e, e in [0, 31]).
/// gemmlowp's trick: for x < 0 and e > 0 subtract 1 (saturating; INT32_MIN stays, which still
/// rounds to INT32_MIN >> e), so the ties-up rounding shift SRSHL (computed without overflow)
/// rounds ties away from zero. For e == 0, (x & 0) >> 31 == 0 and SRSHL by 0 is the identity.
/// @param[in] x      dividend lanes
/// @param[in] neg_e  -exponent per lane, in [-31, 0]
inline int32x4_t rdpot_neg(int32x4_t x, int32x4_t neg_e) noexcept {
  const int32x4_t fixup = vshrq_n_s32(vandq_s32(x, neg_e), 31);
  return vrshlq_s32(vqaddq_s32(x, fixup), neg_e);
}

/// RoundingDivideByPOT per lane, exponent e in [0, 31] per lane.
inline int32x4_t rdpot(int32x4_t x, int32x4_t e) noexcept { return rdpot_neg(x, vnegq_s32(e)); }

/// MultiplyByQuantizedMultiplier (int32) with the shift already split:
/// RDPOT(SRDHM(x << left, m), right). The left shift wraps (SSHL), like fixedpoint::shl_wrap.
/// @param[in] left       max(s, 0) per lane, in [0, 30]
/// @param[in] neg_right  min(s, 0) per lane (= -right), in [-31, 0]
inline int32x4_t mbqm32(int32x4_t x, int32x4_t m, int32x4_t left, int32x4_t neg_right) noexcept {
  return rdpot_neg(srdhm(vshlq_s32(x, left), m), neg_right);
}

/// MultiplyByQuantizedMultiplier (int32), per-lane multiplier m (any int32) and shift s in [-31, 30].
inline int32x4_t mbqm32(int32x4_t x, int32x4_t m, int32x4_t s) noexcept {
  const int32x4_t zero = vdupq_n_s32(0);
  return mbqm32(x, m, vmaxq_s32(s, zero), vminq_s32(s, zero));
}

/// One (per-tensor) multiplier and shift, broadcast and split for mbqm32(x, m, left, neg_right).
struct mbqm32_split {
  int32x4_t m;          ///< multiplier in every lane
  int32x4_t left;       ///< max(s, 0) in every lane
  int32x4_t neg_right;  ///< min(s, 0) (= -right) in every lane
};

/// Splits a per-tensor multiplier m and shift s in [-31, 30] once, outside the loops:
/// mbqm32(x, r.m, r.left, r.neg_right) == mbqm32(x, m, s) for r = split_mbqm32(m, s).
inline mbqm32_split split_mbqm32(std::int32_t m, std::int32_t s) noexcept {
  return {vdupq_n_s32(m), vdupq_n_s32(s > 0 ? s : 0), vdupq_n_s32(s > 0 ? 0 : s)};
}

/// The 16-bit multiplier of TFLite's int64 MBQM: m < 0x7FFF0000 ? (m + 2^15) >> 16 : 0x7FFF.
/// SRSHR rounds without overflow; for m >= 0x7FFF0000 it gives 0x7FFF or 0x8000, min -> 0x7FFF.
/// Exact for every int32 m.
inline int32x4_t mbqm64_multiplier(int32x4_t m) noexcept {
  return vminq_s32(vrshrq_n_s32(m, 16), vdupq_n_s32(0x7FFF));
}

/// MultiplyByQuantizedMultiplier (int64 accumulator) on 4 lanes held as x0 = lanes 0-1,
/// x1 = lanes 2-3, with prepared parameters: (int32)((x * rm + 2^(t-1)) >> t).
/// Neon has no 64x64 multiply: x = hi * 2^32 + lo (hi signed, lo unsigned), so
/// x * rm = (hi * rm) << 32 + lo * rm (SMULL/UMULL, exact for rm in [0, 2^31)), and SRSHL by -t
/// is exactly (p + 2^(t-1)) >> t. The result narrows by truncation (wraps), like the scalar cast.
/// @param[in] rm            mbqm64_multiplier(m) per lane, in [0, 0x7FFF]
/// @param[in] neg_t0/neg_t1 s - 15 per lane as int64 (lanes 0-1 / 2-3), t = 15 - s in [8, 46]
/// Domain: x in [-2^47, 2^47).
inline int32x4_t mbqm64(int64x2_t x0, int64x2_t x1, int32x4_t rm, int64x2_t neg_t0, int64x2_t neg_t1) noexcept {
  const int32x4_t a0 = vreinterpretq_s32_s64(x0), a1 = vreinterpretq_s32_s64(x1);
  const uint32x4_t lo = vreinterpretq_u32_s32(vuzp1q_s32(a0, a1));  // low words of lanes 0..3
  const int32x4_t hi = vuzp2q_s32(a0, a1);                            // high words of lanes 0..3
  const uint32x4_t rmu = vreinterpretq_u32_s32(rm);
  const int64x2_t p0 = vaddq_s64(vshlq_n_s64(vmull_s32(vget_low_s32(hi), vget_low_s32(rm)), 32),
                                 vreinterpretq_s64_u64(vmull_u32(vget_low_u32(lo), vget_low_u32(rmu))));
  const int64x2_t p1 = vaddq_s64(vshlq_n_s64(vmull_high_s32(hi, rm), 32),
                                 vreinterpretq_s64_u64(vmull_high_u32(lo, rmu)));
  return vuzp1q_s32(vreinterpretq_s32_s64(vrshlq_s64(p0, neg_t0)), vreinterpretq_s32_s64(vrshlq_s64(p1, neg_t1)));
}

/// MultiplyByQuantizedMultiplier (int64 accumulator), 4 lanes, per-lane m >= 0 and s in [-31, 7].
inline int32x4_t mbqm64(int64x2_t x0, int64x2_t x1, int32x4_t m, int32x4_t s) noexcept {
  const int32x4_t neg_t = vsubq_s32(s, vdupq_n_s32(15));
  return mbqm64(x0, x1, mbqm64_multiplier(m), vmovl_s32(vget_low_s32(neg_t)), vmovl_high_s32(neg_t));
}

/// MultiplyByQuantizedMultiplier (int64 accumulator), 2 lanes, per-lane m >= 0 and s in [-31, 7].
inline int32x2_t mbqm64(int64x2_t x, int32x2_t m, int32x2_t s) noexcept {
  return vget_low_s32(mbqm64(x, x, vcombine_s32(m, m), vcombine_s32(s, s)));
}

/// clamp(v, lo, hi) per lane (lo <= hi).
inline int32x4_t clamp(int32x4_t v, int32x4_t lo, int32x4_t hi) noexcept { return vminq_s32(vmaxq_s32(v, lo), hi); }

/// Keeps the low 16 bits of every lane of a (lanes 0-3) and b (lanes 4-7): one UZP1.
inline int16x8_t narrow_s16(int32x4_t a, int32x4_t b) noexcept {
  return vuzp1q_s16(vreinterpretq_s16_s32(a), vreinterpretq_s16_s32(b));
}

/// Stores the low 8/16 bits of 4 lanes to p[0..3] (truncation, like static_cast<Out>; callers
/// clamp first). Out is a 1- or 2-byte integer type. Nothing past p + 3 is written.
template <class Out> inline void store_narrow(Out* p, int32x4_t v) noexcept {
  static_assert(std::is_integral_v<Out> && (sizeof(Out) == 1 || sizeof(Out) == 2), "Out: 8- or 16-bit integer");
  if constexpr (sizeof(Out) == 1) {
    const int16x8_t h = vcombine_s16(vmovn_s32(v), vmovn_s32(v));
    const std::uint32_t w = vget_lane_u32(vreinterpret_u32_s8(vmovn_s16(h)), 0);
    std::memcpy(p, &w, sizeof w);
  } else {
    vst1_s16(reinterpret_cast<std::int16_t*>(p), vmovn_s32(v));
  }
}

/// Stores the low 8/16 bits of 8 lanes (a = 0-3, b = 4-7) to p[0..7].
template <class Out> inline void store_narrow(Out* p, int32x4_t a, int32x4_t b) noexcept {
  static_assert(std::is_integral_v<Out> && (sizeof(Out) == 1 || sizeof(Out) == 2), "Out: 8- or 16-bit integer");
  if constexpr (sizeof(Out) == 1) vst1_s8(reinterpret_cast<std::int8_t*>(p), vmovn_s16(narrow_s16(a, b)));
  else vst1q_s16(reinterpret_cast<std::int16_t*>(p), narrow_s16(a, b));
}

/// Stores the low 8/16 bits of 16 lanes (a, b, c, d = lanes 0-3, 4-7, 8-11, 12-15) to p[0..15].
template <class Out> inline void store_narrow(Out* p, int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) noexcept {
  static_assert(std::is_integral_v<Out> && (sizeof(Out) == 1 || sizeof(Out) == 2), "Out: 8- or 16-bit integer");
  if constexpr (sizeof(Out) == 1) {
    vst1q_s8(reinterpret_cast<std::int8_t*>(p),
             vuzp1q_s8(vreinterpretq_s8_s16(narrow_s16(a, b)), vreinterpretq_s8_s16(narrow_s16(c, d))));
  } else {
    vst1q_s16(reinterpret_cast<std::int16_t*>(p), narrow_s16(a, b));
    vst1q_s16(reinterpret_cast<std::int16_t*>(p) + 8, narrow_s16(c, d));
  }
}

}  // namespace tessera::arch::neon_ops
