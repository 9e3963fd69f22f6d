/// @file qs16.hpp
/// 16x8 primitives (int16 activations x int8 weights, int64 or int32 accumulators) for the `simd`
/// tag that xsimd 8.1 lacks, as overloads on the xsimd batches of `simd_arch` (xsimd_bridge.hpp).
/// Weights travel sign-extended in int16 lanes (dot.hpp's load_widen_s8); an int16 activation pair
/// (a[k], a[k+1]) fills every int32 lane, and a pair of adjacent int16 lanes multiplies into one
/// int32 lane:
///   broadcast_pair_s16(p)   (p[0], p[1]) in every int32 lane (one 4-byte load, any alignment)
///   broadcast_last_s16(p)   (p[0], 0) in every int32 lane: reads p[0] only (an odd depth's last)
///   madd_s16(acc, a, b)     acc[i] + a[2i]*b[2i] + a[2i+1]*b[2i+1] per int32 lane (wraps), for a
///                           int16 and b in [-128, 127]: each pair sum is exact (|sum| <= 2^23)
///   widen_add_s32(t, v)     t[0..size) += the int32 lanes of v, sign-extended (int64 t, any alignment)
///   narrow_s64(x0, x1)      the low 32 bits of the int64 lanes of x0, then of x1, as one int32 batch
///   mbqm64_prepare(m, s)    MBQM64 parameters of one int32 batch of channels (m >= 0, s in [-31, 7])
///   mbqm64(x0, x1, q)       fixedpoint::mbqm64 of the int64 lanes of x0 then x1 (one int32 batch)
/// AVX2: VPBROADCASTD, VPMADDWD + VPADDD, VPMOVSXDQ; MBQM64 splits x = hi * 2^32 + lo into VPMULDQ
/// (hi * rm) and VPMULUDQ (lo * rm), and shifts right arithmetically with xsimd_bridge.hpp's sra64
/// (VPSRLVQ and a sign fix-up: AVX2 has neither a 64x64 multiply nor VPSRAVQ). Neon: LD1R,
/// SMULL/SMULL2 + ADDP, SADDW; MBQM64 is neon_ops::mbqm64 (SMULL/UMULL split, SRSHL).
#pragma once
#include <cstdint>
#include <cstring>
#include <tessera/arch/native.hpp>

#if !TESSERA_HAS_SIMD
#error "tessera/arch/simd/qs16.hpp needs the simd tag (TESSERA_USE_XSIMD=1 and AVX2+FMA on x86-64 or Neon on AArch64)"
#endif

#include <tessera/arch/simd/dot.hpp>
#include <tessera/arch/simd/xsimd_bridge.hpp>
#if defined(__aarch64__)
#include <tessera/arch/neon/fixedpoint.hpp>
#endif

namespace tessera::arch::simd_ops {

using i64 = xsimd::batch<std::int64_t, simd_arch>;

/// The 4 bytes at p (two int16), as an int32, without alignment or aliasing assumptions.
inline std::int32_t load_pair_s16(const std::int16_t* p) noexcept {
  std::int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

#if defined(__x86_64__)

/// (p[0], p[1]) in each of the 8 int32 lanes.
inline i16 broadcast_pair_s16(const std::int16_t* p) noexcept { return _mm256_set1_epi32(load_pair_s16(p)); }

/// (p[0], 0) in each of the 8 int32 lanes; p[1] is not read.
inline i16 broadcast_last_s16(const std::int16_t* p) noexcept {
  return _mm256_set1_epi32(static_cast<std::int32_t>(static_cast<std::uint16_t>(*p)));
}

/// acc[i] + a[2i]*b[2i] + a[2i+1]*b[2i+1] for the 8 int32 lanes; b holds int8 values, so VPMADDWD's
/// pair sum is exact (it saturates only for four -32768 inputs).
inline i32 madd_s16(i32 acc, i16 a, i16 b) noexcept { return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b)); }

/// t[0..8) += v's 8 lanes sign-extended to int64.
inline void widen_add_s32(std::int64_t* t, i32 v) noexcept {
  auto* p = reinterpret_cast<__m256i*>(t);
  const __m256i lo = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(v));
  const __m256i hi = _mm256_cvtepi32_epi64(_mm256_extracti128_si256(v, 1));
  _mm256_storeu_si256(p, _mm256_add_epi64(_mm256_loadu_si256(p), lo));
  _mm256_storeu_si256(p + 1, _mm256_add_epi64(_mm256_loadu_si256(p + 1), hi));
}

/// Low 32 bits of x0's 4 lanes (lanes 0-3 of the result), then of x1's (lanes 4-7).
inline i32 narrow_s64(i64 x0, i64 x1) noexcept {
  // Per 128-bit half: x0 low words, x1 low words; then qwords 0, 2, 1, 3.
  const __m256 s = _mm256_shuffle_ps(_mm256_castsi256_ps(x0), _mm256_castsi256_ps(x1), 0x88);
  return _mm256_permute4x64_epi64(_mm256_castps_si256(s), 0xD8);
}

/// MBQM64 parameters of 8 channels as int64 lanes (channels 0-3: *0, 4-7: *1): the 16-bit multiplier
/// rm, the right shift t = 15 - s and the rounding term 2^(t-1).
struct mbqm64_params {
  __m256i rm0, rm1, t0, t1, r0, r1;
};

/// Parameters for multipliers m >= 0 and shifts s in [-31, 7] (t in [8, 46]).
inline mbqm64_params mbqm64_prepare(i32 m, i32 s) noexcept {
  // rm = m < 0x7FFF0000 ? (m + 2^15) >> 16 : 0x7FFF, as (m >> 16) + bit 15 (no overflow), capped.
  const __m256i rm = _mm256_min_epi32(
      _mm256_add_epi32(_mm256_srai_epi32(m, 16), _mm256_and_si256(_mm256_srli_epi32(m, 15), _mm256_set1_epi32(1))),
      _mm256_set1_epi32(0x7FFF));
  const __m256i t = _mm256_sub_epi32(_mm256_set1_epi32(15), s);
  mbqm64_params q;
  q.rm0 = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(rm));
  q.rm1 = _mm256_cvtepi32_epi64(_mm256_extracti128_si256(rm, 1));
  q.t0 = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(t));
  q.t1 = _mm256_cvtepi32_epi64(_mm256_extracti128_si256(t, 1));
  const __m256i one = _mm256_set1_epi64x(1);
  q.r0 = _mm256_sllv_epi64(one, _mm256_sub_epi64(q.t0, one));
  q.r1 = _mm256_sllv_epi64(one, _mm256_sub_epi64(q.t1, one));
  return q;
}

/// (x * rm + 2^(t-1)) >> t on 4 int64 lanes, |x| < 2^47 (so |x * rm| < 2^62).
inline __m256i mbqm64_lanes(__m256i x, __m256i rm, __m256i t, __m256i r) noexcept {
  // x * rm = (hi * rm) * 2^32 + lo * rm: VPMULDQ reads the signed high word moved down, VPMULUDQ
  // the unsigned low word; rm is in [0, 0x7FFF].
  const __m256i ph = _mm256_mul_epi32(_mm256_srli_epi64(x, 32), rm);
  const __m256i pl = _mm256_mul_epu32(x, rm);
  const __m256i v = _mm256_add_epi64(_mm256_add_epi64(_mm256_slli_epi64(ph, 32), pl), r);
  return sra64(i64(v), i64(t));  // arithmetic shift (xsimd_bridge.hpp)
}

/// fixedpoint::mbqm64 of x0's lanes (channels 0-3) and x1's (4-7), narrowed to int32 by truncation.
inline i32 mbqm64(i64 x0, i64 x1, const mbqm64_params& q) noexcept {
  return narrow_s64(mbqm64_lanes(x0, q.rm0, q.t0, q.r0), mbqm64_lanes(x1, q.rm1, q.t1, q.r1));
}

#elif defined(__aarch64__)

/// (p[0], p[1]) in each of the 4 int32 lanes.
inline i16 broadcast_pair_s16(const std::int16_t* p) noexcept {
  return vreinterpretq_s16_s32(vdupq_n_s32(load_pair_s16(p)));
}

/// (p[0], 0) in each of the 4 int32 lanes; p[1] is not read.
inline i16 broadcast_last_s16(const std::int16_t* p) noexcept {
  return vreinterpretq_s16_s32(vdupq_n_s32(static_cast<std::int32_t>(static_cast<std::uint16_t>(*p))));
}

/// acc[i] + a[2i]*b[2i] + a[2i+1]*b[2i+1] for the 4 int32 lanes: SMULL/SMULL2 form the exact int32
/// products, ADDP adds each lane pair.
inline i32 madd_s16(i32 acc, i16 a, i16 b) noexcept {
  const int32x4_t lo = vmull_s16(vget_low_s16(a.data), vget_low_s16(b.data));
  const int32x4_t hi = vmull_high_s16(a.data, b.data);
  return vaddq_s32(acc.data, vpaddq_s32(lo, hi));
}

/// t[0..4) += v's 4 lanes sign-extended to int64.
inline void widen_add_s32(std::int64_t* t, i32 v) noexcept {
  vst1q_s64(t, vaddw_s32(vld1q_s64(t), vget_low_s32(v.data)));
  vst1q_s64(t + 2, vaddw_high_s32(vld1q_s64(t + 2), v.data));
}

/// Low 32 bits of x0's 2 lanes (lanes 0-1 of the result), then of x1's (lanes 2-3).
inline i32 narrow_s64(i64 x0, i64 x1) noexcept {
  return vuzp1q_s32(vreinterpretq_s32_s64(x0.data), vreinterpretq_s32_s64(x1.data));
}

/// MBQM64 parameters of 4 channels: the 16-bit multiplier and the negated right shifts s - 15 as
/// int64 lanes (channels 0-1, 2-3), as neon_ops::mbqm64 takes them.
struct mbqm64_params {
  int32x4_t rm;
  int64x2_t neg_t0, neg_t1;
};

/// Parameters for multipliers m >= 0 and shifts s in [-31, 7].
inline mbqm64_params mbqm64_prepare(i32 m, i32 s) noexcept {
  const int32x4_t neg_t = vsubq_s32(s.data, vdupq_n_s32(15));
  return {neon_ops::mbqm64_multiplier(m.data), vmovl_s32(vget_low_s32(neg_t)), vmovl_high_s32(neg_t)};
}

/// fixedpoint::mbqm64 of x0's lanes (channels 0-1) and x1's (2-3), narrowed to int32 by truncation.
inline i32 mbqm64(i64 x0, i64 x1, const mbqm64_params& q) noexcept {
  return neon_ops::mbqm64(x0.data, x1.data, q.rm, q.neg_t0, q.neg_t1);
}

#endif

}  // namespace tessera::arch::simd_ops
