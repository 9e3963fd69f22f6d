/// @file fixedpoint.hpp
/// TFLite/gemmlowp fixed-point requantization primitives on SVE (SVE1 instructions only: no
/// SQRDMULH, no SRSHL-by-vector, which are SVE2), vector-length agnostic, per lane bit-exact
/// with tessera::fixedpoint (quant/fixedpoint.hpp) on its documented domain:
///   srdhm(a, b)            SaturatingRoundingDoublingHighMul from SMULH + MUL
///   rdpot(x, e)            RoundingDivideByPOT (reference formula with masks), e in [0, 31]
///   mbqm32(x, m, s)        MultiplyByQuantizedMultiplier (int32), s in [-31, 30]
///   mbqm64(x0, x1, m, s)   MultiplyByQuantizedMultiplier (int64 acc) of 2 x int64 vectors -> 1 x int32
///   clamp(v, lo, hi), store_narrow(pg, p, v)  output-stage clamp and narrowing stores
/// Operations are unpredicated-in-effect (`_x` forms under an all-true predicate): lanes a loop
/// leaves inactive compute don't-care values and the caller's predicated store drops them.
/// Sizeless SVE types: never put them in classes, arrays, statics or lambda captures.
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SVE
#error "tessera/arch/sve/fixedpoint.hpp needs SVE (TESSERA_HAS_SVE)"
#endif

#include <arm_sve.h>
#include <cstdint>
#include <type_traits>

namespace tessera::arch::sve_ops {

/// SaturatingRoundingDoublingHighMul per lane: round(a*b / 2^31), ties toward +inf,
/// INT32_MIN * INT32_MIN -> INT32_MAX.
/// With ab = hi * 2^32 + lo (hi = SMULH, lo = MUL as unsigned):
/// (ab + 2^30) >> 31 = 2*hi + bit31(lo) + bit30(lo) = 2*hi + ((lo >> 30) + 1) >> 1.
/// 2*hi overflows only for hi == 2^30, i.e. a == b == INT32_MIN (lo == 0): SQADD saturates it.
inline svint32_t srdhm(svint32_t a, svint32_t b) noexcept {
  const svbool_t pg = svptrue_b32();
  const svint32_t hi = svmulh_s32_x(pg, a, b);
  const svuint32_t lo = svreinterpret_u32_s32(svmul_s32_x(pg, a, b));
  const svuint32_t round = svlsr_n_u32_x(pg, svadd_n_u32_x(pg, svlsr_n_u32_x(pg, lo, 30), 1), 1);
  return svadd_s32_x(pg, svqadd_s32(hi, hi), svreinterpret_s32_u32(round));
}

/// (1 << e) - 1 per lane, e in [0, 31] (e == 31 gives INT32_MAX), the RDPOT remainder mask.
inline svint32_t rdpot_mask(svuint32_t e) noexcept {
  const svbool_t pg = svptrue_b32();
  return svsub_n_s32_x(pg, svlsl_s32_x(pg, svdup_n_s32(1), e), 1);
}

/// RoundingDivideByPOT per lane with prepared parameters, the reference formula:
/// (x >> e) + ((x & mask) > half + (x < 0)).
/// @param[in] e     exponent per lane, in [0, 31]
/// @param[in] mask  rdpot_mask(e)
/// @param[in] half  mask >> 1
inline svint32_t rdpot(svint32_t x, svuint32_t e, svint32_t mask, svint32_t half) noexcept {
  const svbool_t pg = svptrue_b32();
  const svint32_t rem = svand_s32_x(pg, x, mask);
  const svint32_t threshold = svsub_s32_x(pg, half, svasr_n_s32_x(pg, x, 31));  // half + (x < 0)
  return svadd_n_s32_m(svcmpgt_s32(pg, rem, threshold), svasr_s32_x(pg, x, e), 1);
}

/// RoundingDivideByPOT per lane, exponent e in [0, 31] per lane: x / 2^e, ties away from zero.
inline svint32_t rdpot(svint32_t x, svint32_t e) noexcept {
  const svuint32_t eu = svreinterpret_u32_s32(e);
  const svint32_t mask = rdpot_mask(eu);
  return rdpot(x, eu, mask, svasr_n_s32_x(svptrue_b32(), mask, 1));
}

/// MultiplyByQuantizedMultiplier (int32) with the shift already split:
/// RDPOT(SRDHM(x << left, m), right). The left shift wraps (LSL), like fixedpoint::shl_wrap.
/// @param[in] left   max(s, 0) per lane, in [0, 30]
/// @param[in] right  max(-s, 0) per lane, in [0, 31]; mask = rdpot_mask(right), half = mask >> 1
inline svint32_t mbqm32(svint32_t x, svint32_t m, svuint32_t left, svuint32_t right, svint32_t mask,
                        svint32_t half) noexcept {
  return rdpot(srdhm(svlsl_s32_x(svptrue_b32(), x, left), m), right, mask, half);
}

/// MultiplyByQuantizedMultiplier (int32), per-lane multiplier m (any int32) and shift s in [-31, 30].
inline svint32_t mbqm32(svint32_t x, svint32_t m, svint32_t s) noexcept {
  const svbool_t pg = svptrue_b32();
  const svuint32_t left = svreinterpret_u32_s32(svmax_n_s32_x(pg, s, 0));
  const svuint32_t right = svreinterpret_u32_s32(svmax_n_s32_x(pg, svneg_s32_x(pg, s), 0));
  const svint32_t mask = rdpot_mask(right);
  return mbqm32(x, m, left, right, mask, svasr_n_s32_x(pg, mask, 1));
}

/// The 16-bit multiplier of TFLite's int64 MBQM per lane: m < 0x7FFF0000 ? (m + 2^15) >> 16 : 0x7FFF
/// (the wrapped sum of the other branch is discarded). Exact for every int32 m.
inline svint32_t mbqm64_multiplier(svint32_t m) noexcept {
  const svbool_t pg = svptrue_b32();
  return svsel_s32(svcmplt_n_s32(pg, m, 0x7FFF0000), svasr_n_s32_x(pg, svadd_n_s32_x(pg, m, 0x8000), 16),
                   svdup_n_s32(0x7FFF));
}

/// 2^(t-1) per 64-bit lane, t in [1, 62]: the rounding term of mbqm64.
inline svint64_t mbqm64_round(svuint64_t t) noexcept {
  const svbool_t pg = svptrue_b64();
  return svlsl_s64_x(pg, svdup_n_s64(1), svsub_n_u64_x(pg, t, 1));
}

/// MultiplyByQuantizedMultiplier (int64 accumulator) per 64-bit lane, prepared parameters:
/// (x * rm + 2^(t-1)) >> t as int64 (MLA then ASR; the caller narrows). Domain: x in [-2^47, 2^47).
/// @param[in] rm     mbqm64_multiplier(m) per lane, in [0, 0x7FFF]
/// @param[in] round  mbqm64_round(t)
/// @param[in] t      15 - s per lane, in [8, 46]
inline svint64_t mbqm64(svint64_t x, svint64_t rm, svint64_t round, svuint64_t t) noexcept {
  const svbool_t pg = svptrue_b64();
  return svasr_s64_x(pg, svmla_s64_x(pg, round, x, rm), t);
}

/// Keeps the low 32 bits of every 64-bit lane of r0 (lanes 0..VL/64-1) then r1 (the next VL/64):
/// the int32 vector of the same elements in order (UZP1, truncating like the scalar cast).
inline svint32_t narrow_s32(svint64_t r0, svint64_t r1) noexcept {
  return svuzp1_s32(svreinterpret_s32_s64(r0), svreinterpret_s32_s64(r1));
}

/// MultiplyByQuantizedMultiplier (int64 accumulator) of svcntw() elements: x0 holds elements
/// 0..svcntd()-1, x1 the next svcntd(); m (>= 0) and s (in [-31, 7]) are int32 vectors of the
/// same svcntw() elements. Returns the wrapped int32 results in element order.
inline svint32_t mbqm64(svint64_t x0, svint64_t x1, svint32_t m, svint32_t s) noexcept {
  const svint32_t rm = mbqm64_multiplier(m);
  const svint32_t t = svsubr_n_s32_x(svptrue_b32(), s, 15);
  const svuint64_t t0 = svreinterpret_u64_s64(svunpklo_s64(t)), t1 = svreinterpret_u64_s64(svunpkhi_s64(t));
  return narrow_s32(mbqm64(x0, svunpklo_s64(rm), mbqm64_round(t0), t0),
                    mbqm64(x1, svunpkhi_s64(rm), mbqm64_round(t1), t1));
}

/// clamp(v, lo, hi) per lane (lo <= hi).
inline svint32_t clamp(svint32_t v, svint32_t lo, svint32_t hi) noexcept {
  const svbool_t pg = svptrue_b32();
  return svmin_s32_x(pg, svmax_s32_x(pg, v, lo), hi);
}

/// Stores the low 8/16 bits of the active lanes of v to p (ST1B/ST1H, truncation like
/// static_cast<Out>; callers clamp first). Out is a 1- or 2-byte integer type.
template <class Out> inline void store_narrow(svbool_t pg, Out* p, svint32_t v) noexcept {
  static_assert(std::is_integral_v<Out> && (sizeof(Out) == 1 || sizeof(Out) == 2), "Out: 8- or 16-bit integer");
  if constexpr (sizeof(Out) == 1) svst1b_s32(pg, reinterpret_cast<std::int8_t*>(p), v);
  else svst1h_s32(pg, reinterpret_cast<std::int16_t*>(p), v);
}

}  // namespace tessera::arch::sve_ops
