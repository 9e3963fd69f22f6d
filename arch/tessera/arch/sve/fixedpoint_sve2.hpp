/// @file fixedpoint_sve2.hpp
/// TFLite/gemmlowp fixed-point requantization primitives on SVE2, vector-length agnostic, per
/// lane bit-exact with tessera::fixedpoint (quant/fixedpoint.hpp) on its documented domain:
///   srdhm(a, b)                     SQRDMULH (exactly TFLite's SRDHM, saturation included)
///   rdpot(x, e) / rdpot_neg(x, -e)  SRSHL with gemmlowp's away-from-zero fixup, e in [0, 31]
///   mbqm32(x, m, s)                 MultiplyByQuantizedMultiplier (int32), s in [-31, 30]
/// clamp/store_narrow and the int64 MBQM are shared with SVE1 (sve/fixedpoint.hpp, sve_ops).
/// Sizeless SVE types: never put them in classes, arrays, statics or lambda captures.
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SVE2
#error "tessera/arch/sve/fixedpoint_sve2.hpp needs SVE2 (TESSERA_HAS_SVE2)"
#endif

#include <arm_sve.h>
#include <tessera/arch/sve/fixedpoint.hpp>

namespace tessera::arch::sve2_ops {

using sve_ops::clamp;
using sve_ops::store_narrow;

/// SaturatingRoundingDoublingHighMul per lane (SQRDMULH).
inline svint32_t srdhm(svint32_t a, svint32_t b) noexcept { return svqrdmulh_s32(a, b); }

/// RoundingDivideByPOT per lane given the NEGATED exponent (-e, e in [0, 31]): for x < 0 and
/// e > 0 subtract 1 (saturating, INT32_MIN stays), then the ties-up rounding shift SRSHL
/// (computed without overflow) rounds ties away from zero. e == 0 is the identity.
/// @param[in] neg_e  -exponent per lane, in [-31, 0]
inline svint32_t rdpot_neg(svint32_t x, svint32_t neg_e) noexcept {
  const svbool_t pg = svptrue_b32();
  const svint32_t fixup = svasr_n_s32_x(pg, svand_s32_x(pg, x, neg_e), 31);
  return svrshl_s32_x(pg, svqadd_s32(x, fixup), neg_e);
}

/// RoundingDivideByPOT per lane, exponent e in [0, 31] per lane.
inline svint32_t rdpot(svint32_t x, svint32_t e) noexcept { return rdpot_neg(x, svneg_s32_x(svptrue_b32(), e)); }

/// MultiplyByQuantizedMultiplier (int32) with the shift already split:
/// RDPOT(SRDHM(x << left, m), right); the left shift wraps (LSL).
/// @param[in] left       max(s, 0) per lane, in [0, 30]
/// @param[in] neg_right  min(s, 0) per lane (= -right), in [-31, 0]
inline svint32_t mbqm32(svint32_t x, svint32_t m, svuint32_t left, svint32_t neg_right) noexcept {
  return rdpot_neg(srdhm(svlsl_s32_x(svptrue_b32(), x, left), m), neg_right);
}

/// MultiplyByQuantizedMultiplier (int32), per-lane multiplier m (any int32) and shift s in [-31, 30].
inline svint32_t mbqm32(svint32_t x, svint32_t m, svint32_t s) noexcept {
  const svbool_t pg = svptrue_b32();
  return mbqm32(x, m, svreinterpret_u32_s32(svmax_n_s32_x(pg, s, 0)), svmin_n_s32_x(pg, s, 0));
}

}  // namespace tessera::arch::sve2_ops
