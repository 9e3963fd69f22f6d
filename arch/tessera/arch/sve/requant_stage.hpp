/// @file requant_stage.hpp
/// SVE int8 output stage shared by the int8 kernels that requantize int32 accumulator vectors
/// (dwconv_qs8_4vl_sve, dwconv3x3_qs8_2vl_sve, gemm_qs8_8x2vlc4_sve_dot), on the sve_ops
/// primitives of sve/fixedpoint.hpp (SVE1, bit-exact with TFLite):
///   shift_kind                      which MBQM steps a stage needs (a per-tensor shift is left or right)
///   split_shift(s, ...)             left, right, mask, half of mbqm32 from a shift (vector or scalar)
///   requant_clamp<K>(x, ...)        MBQM with K's steps, + zero point, clamp
/// Sizeless SVE types: the parameters travel as separate arguments, never in a struct.
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SVE
#error "tessera/arch/sve/requant_stage.hpp needs SVE (TESSERA_HAS_SVE)"
#endif

#include <arm_sve.h>
#include <cstdint>
#include <tessera/arch/sve/fixedpoint.hpp>

namespace tessera::arch::sve_ops {

/// Which MBQM steps the stage needs: a per-tensor shift is either left (no RDPOT) or right (no LSL);
/// per-channel shifts need both.
enum class shift_kind { left, right, both };

/// left = max(s, 0), right = max(-s, 0), mask = rdpot_mask(right), half = mask >> 1 per lane.
[[gnu::always_inline]] inline void split_shift(svint32_t s, svuint32_t& left, svuint32_t& right, svint32_t& mask,
                                               svint32_t& half) noexcept {
  const svbool_t all = svptrue_b32();
  left = svreinterpret_u32_s32(svmax_n_s32_x(all, s, 0));
  right = svreinterpret_u32_s32(svmax_n_s32_x(all, svneg_s32_x(all, s), 0));
  mask = rdpot_mask(right);
  half = svasr_n_s32_x(all, mask, 1);
}

/// The same split of one (per-tensor) shift s in [-31, 30], broadcast.
[[gnu::always_inline]] inline void split_shift(std::int32_t s, svuint32_t& left, svuint32_t& right, svint32_t& mask,
                                               svint32_t& half) noexcept {
  left = svdup_n_u32(static_cast<std::uint32_t>(s > 0 ? s : 0));
  right = svdup_n_u32(static_cast<std::uint32_t>(s > 0 ? 0 : -s));
  mask = rdpot_mask(right);
  half = svasr_n_s32_x(svptrue_b32(), mask, 1);
}

/// MBQM of one accumulator vector with the steps K needs (parameters from split_shift), + zp, clamp.
template <shift_kind K>
[[gnu::always_inline]] inline svint32_t requant_clamp(svint32_t x, svint32_t mul, svuint32_t left, svuint32_t right,
                                                      svint32_t mask, svint32_t half, svint32_t zp, svint32_t lo,
                                                      svint32_t hi) noexcept {
  const svbool_t all = svptrue_b32();
  svint32_t y;
  if constexpr (K == shift_kind::left) y = srdhm(svlsl_s32_x(all, x, left), mul);
  else if constexpr (K == shift_kind::right) y = rdpot(srdhm(x, mul), right, mask, half);
  else y = mbqm32(x, mul, left, right, mask, half);
  return clamp(svadd_s32_x(all, y, zp), lo, hi);
}

}  // namespace tessera::arch::sve_ops
