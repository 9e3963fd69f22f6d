/// @file fixedpoint.hpp
/// TFLite's int32 requantization primitives on Helium (MVE) vectors, bit-exact with
/// tessera::fixedpoint (include/tessera/quant/fixedpoint.hpp) in every lane:
///   srdhm(a, b)        VQRDMULH is exactly SaturatingRoundingDoublingHighMul
///   rdpot(x, e)        RoundingDivideByPOT, e in [0, 31] per lane
///   rdpot_neg(x, ne)   the same with ne = -e in [-31, 0] (saves the negation when -e is at hand)
///   rdpot_neg_nz(x, ne) the same for ne in [-31, -1] (a right shift in every lane: no mask)
///   shl_wrap(x, s)     two's-complement left shift, s in [0, 31] per lane (VSHL does not saturate)
///   mbqm(x, m, s)      MultiplyByQuantizedMultiplier, s in [-31, 30] per lane
/// plus `_n` forms with one scalar multiplier / shift for every lane (per-tensor stages), and the
/// output stage's last step:
///   narrow_clamp(d, e, o, lo, hi)  even / odd int32 lanes to one int16x8, saturating, clamped
#pragma once
#include <cstdint>
#include <tessera/arch/native.hpp>

#if !TESSERA_HAS_HELIUM
#error "tessera/arch/helium/fixedpoint.hpp needs Helium (MVE): compile for e.g. -mcpu=cortex-m55"
#endif

#include <arm_mve.h>

namespace tessera::arch::helium_ops {

/// round((a*b) / 2^31), ties toward +infinity, INT32_MIN*INT32_MIN saturating to INT32_MAX.
inline int32x4_t srdhm(int32x4_t a, int32x4_t b) noexcept { return vqrdmulhq_s32(a, b); }
inline int32x4_t srdhm_n(int32x4_t a, std::int32_t b) noexcept { return vqrdmulhq_n_s32(a, b); }

/// x / 2^-ne rounded to nearest, ties away from zero, ne in [-31, 0] per lane.
/// VRSHL rounds ties toward +infinity; negative x steps down by one first (gemmlowp's fixup).
/// The step saturates, so INT32_MIN stays INT32_MIN: it is an exact multiple of every 2^e, so
/// its result is the same either way. For ne == 0 the fixup is 0 (x & 0 has no sign bit).
inline int32x4_t rdpot_neg(int32x4_t x, int32x4_t ne) noexcept {
  const int32x4_t fixup = vshrq_n_s32(vandq_s32(x, ne), 31);
  return vrshlq_s32(vqaddq_s32(x, fixup), ne);
}
/// rdpot_neg with one exponent for every lane, ne in [-31, 0].
inline int32x4_t rdpot_neg_n(int32x4_t x, std::int32_t ne) noexcept {
  const int32x4_t fixup = vshrq_n_s32(vandq_s32(x, vdupq_n_s32(ne)), 31);
  return vrshlq_n_s32(vqaddq_s32(x, fixup), ne);
}
/// rdpot_neg for ne in [-31, -1] in every lane: x & ne then has x's sign bit, so the fixup is
/// x >> 31 (one instruction fewer).
inline int32x4_t rdpot_neg_nz(int32x4_t x, int32x4_t ne) noexcept {
  return vrshlq_s32(vqaddq_s32(x, vshrq_n_s32(x, 31)), ne);
}
/// rdpot_neg_nz with one exponent for every lane, ne in [-31, -1].
inline int32x4_t rdpot_neg_nz_n(int32x4_t x, std::int32_t ne) noexcept {
  return vrshlq_n_s32(vqaddq_s32(x, vshrq_n_s32(x, 31)), ne);
}
/// x / 2^e rounded to nearest, ties away from zero, e in [0, 31] per lane.
inline int32x4_t rdpot(int32x4_t x, int32x4_t e) noexcept { return rdpot_neg(x, vnegq_s32(e)); }

/// x * 2^s in two's complement (wraps), s in [0, 31] per lane.
inline int32x4_t shl_wrap(int32x4_t x, int32x4_t s) noexcept { return vshlq_s32(x, s); }
inline int32x4_t shl_wrap_n(int32x4_t x, std::int32_t s) noexcept { return vshlq_r_s32(x, s); }

/// RDPOT(SRDHM(x * 2^max(s,0), m), max(-s,0)) per lane, s in [-31, 30].
inline int32x4_t mbqm(int32x4_t x, int32x4_t m, int32x4_t s) noexcept {
  const int32x4_t zero = vdupq_n_s32(0);
  return rdpot_neg(srdhm(shl_wrap(x, vmaxq_s32(s, zero)), m), vminq_s32(s, zero));
}
/// mbqm with one multiplier and shift for every lane, s in [-31, 30].
inline int32x4_t mbqm_n(int32x4_t x, std::int32_t m, std::int32_t s) noexcept {
  return rdpot_neg_n(srdhm_n(shl_wrap_n(x, s > 0 ? s : 0), m), s > 0 ? 0 : s);
}

/// Even / odd channel int32 lanes e, o narrowed with saturation and re-interleaved (VQMOVNB,
/// VQMOVNT: lane 2i = e[i], lane 2i + 1 = o[i]), then clamped to [lo, hi] as int16 (one VMAX, one
/// VMIN for 8 lanes). For lo, hi within int16 this equals clamping the int32 values, then
/// narrowing. VQMOVNB/T overwrite half of each lane in place and together every lane, so d's
/// value is never read: pass a vector that is dead here (GCC 12 writes d's register without a
/// VMOV; a vector still live, e itself, costs one).
inline int16x8_t narrow_clamp(int32x4_t d, int32x4_t e, int32x4_t o, int16x8_t lo, int16x8_t hi) noexcept {
  const int16x8_t y = vqmovntq_s32(vqmovnbq_s32(vreinterpretq_s16_s32(d), e), o);
  return vminq_s16(vmaxq_s16(y, lo), hi);
}

}  // namespace tessera::arch::helium_ops
