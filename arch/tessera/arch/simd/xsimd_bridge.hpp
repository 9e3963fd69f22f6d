/// @file xsimd_bridge.hpp
/// The xsimd architecture behind the `simd` tag, and the few int32 fixed-point primitives that
/// xsimd 8.1 lacks, as overloads on `xsimd::batch<std::int32_t, simd_arch>`:
///   srdhm(a, b)          SaturatingRoundingDoublingHighMul       == fixedpoint::srdhm per lane
///   rdpot(x, e)          RoundingDivideByPOT, e in [0, 31]       == fixedpoint::rdpot per lane
///   shl_wrap(x, s)       two's-complement left shift, s in [0, 31] == fixedpoint::shl_wrap per lane
///   mbqm(x, m, s)        MultiplyByQuantizedMultiplier, s in [-31, 30] == fixedpoint::mbqm32
///   store_narrow(p, v)   stores the low 8/16 bits of every lane (wraps like static_cast<Out>;
///                        callers clamp first), size() elements, no access past p + size()
///   srdhm_nosat(a, b)    srdhm for b != INT32_MIN in every lane (the saturating case cannot occur)
///   store_s8x2_clamp(p, q, x0, x1, y0, y1, lo, hi)
///                        two int8 rows of 2 size(): p = clamp(sat8(x0, x1)), q = clamp(sat8(y0, y1))
/// Everything else (loads, min/max, +) is xsimd's portable API.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <tessera/arch/native.hpp>

#if !TESSERA_HAS_SIMD
#error "tessera/arch/simd/xsimd_bridge.hpp needs the simd tag (TESSERA_USE_XSIMD=1 and AVX2+FMA on x86-64 or Neon on AArch64)"
#endif

#include <xsimd/xsimd.hpp>

namespace tessera::arch {

#if defined(__x86_64__)
/// The xsimd architecture the `simd` tag compiles for.
using simd_arch = xsimd::fma3<xsimd::avx2>;
#elif defined(__aarch64__)
using simd_arch = xsimd::neon64;
#else
#error "tessera simd: no xsimd architecture for this target"
#endif

namespace simd_ops {

using i32 = xsimd::batch<std::int32_t, simd_arch>;

#if defined(__x86_64__)

/// round((a*b) / 2^31) ties up (= floor((a*b + 2^30) / 2^31)), INT32_MIN*INT32_MIN -> INT32_MAX.
inline i32 srdhm(i32 a, i32 b) noexcept {
  const __m256i nudge = _mm256_set1_epi64x(std::int64_t{1} << 30);
  // Even lanes: 64-bit products of lanes 0, 2, 4, 6; odd lanes: of lanes 1, 3, 5, 7.
  const __m256i pe = _mm256_add_epi64(_mm256_mul_epi32(a, b), nudge);
  const __m256i po = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(b, 32)), nudge);
  // Bits 31..62 of each 64-bit sum: the low half for the even lanes, the high half for the odd.
  const __m256i r = _mm256_blend_epi32(_mm256_srli_epi64(pe, 31), _mm256_slli_epi64(po, 1), 0xAA);
  // Only 2^62 + 2^30 (a == b == INT32_MIN) lands on INT32_MIN (every true result is > INT32_MIN):
  // flip it to INT32_MAX.
  return _mm256_xor_si256(r, _mm256_cmpeq_epi32(r, _mm256_set1_epi32(std::numeric_limits<std::int32_t>::min())));
}

/// x / 2^e rounded to nearest, ties away from zero; e in [0, 31] per lane.
inline i32 rdpot(i32 x, i32 e) noexcept {
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, e), one);                  // 2^e - 1 (wraps at 31)
  const __m256i rem = _mm256_and_si256(x, mask);                                          // in [0, 2^e)
  const __m256i thr = _mm256_sub_epi32(_mm256_srli_epi32(mask, 1), _mm256_srai_epi32(x, 31));  // + (x < 0)
  return _mm256_sub_epi32(_mm256_srav_epi32(x, e), _mm256_cmpgt_epi32(rem, thr));
}

/// x * 2^s in two's complement (wraps), s in [0, 31] per lane.
inline i32 shl_wrap(i32 x, i32 s) noexcept { return _mm256_sllv_epi32(x, s); }

/// Stores the low byte of each of the 8 lanes to p[0..7].
inline void store_narrow(std::int8_t* p, i32 v) noexcept {
  const __m256i bytes = _mm256_shuffle_epi8(
      v, _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                          0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1));
  const __m256i packed = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 0, 0, 0, 0, 0, 0));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm256_castsi256_si128(packed));
}
/// Stores the low 16 bits of each of the 8 lanes to p[0..7].
inline void store_narrow(std::int16_t* p, i32 v) noexcept {
  const __m256i halves = _mm256_shuffle_epi8(
      v, _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1,
                          0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1));
  const __m256i packed = _mm256_permute4x64_epi64(halves, 0x08);  // qwords 0, 2 -> low 128 bits
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_castsi256_si128(packed));
}

/// srdhm(a, b) for b != INT32_MIN in every lane: a * b then never reaches 2^62, so the saturating
/// fix-up of srdhm is not needed. The odd lanes move down with VPSHUFD (clang turns srdhm's
/// VPSRLQ into a generic 64-bit multiply when it is inlined into a larger epilogue).
inline i32 srdhm_nosat(i32 a, i32 b) noexcept {
  const __m256i nudge = _mm256_set1_epi64x(std::int64_t{1} << 30);
  const __m256i pe = _mm256_add_epi64(_mm256_mul_epi32(a, b), nudge);
  const __m256i po =
      _mm256_add_epi64(_mm256_mul_epi32(_mm256_shuffle_epi32(a, 0xF5), _mm256_shuffle_epi32(b, 0xF5)), nudge);
  return _mm256_blend_epi32(_mm256_srli_epi64(pe, 31), _mm256_slli_epi64(po, 1), 0xAA);
}

/// Two rows of 16 int8 outputs: p[0..16) = clamp(sat8(x0 lanes, x1 lanes), lo, hi), q likewise from
/// (y0, y1). Saturating to int8 first does not change the clamp's result for lo, hi in int8.
inline void store_s8x2_clamp(std::int8_t* p, std::int8_t* q, i32 x0, i32 x1, i32 y0, i32 y1, std::int8_t lo,
                             std::int8_t hi) noexcept {
  // The packs work per 128-bit half: 4-byte groups x0a x1a y0a y1a | x0b x1b y0b y1b.
  __m256i b = _mm256_packs_epi16(_mm256_packs_epi32(x0, x1), _mm256_packs_epi32(y0, y1));
  b = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  b = _mm256_min_epi8(_mm256_max_epi8(b, _mm256_set1_epi8(lo)), _mm256_set1_epi8(hi));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_castsi256_si128(b));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(q), _mm256_extracti128_si256(b, 1));
}

#elif defined(__aarch64__)

/// SQRDMULH is exactly SaturatingRoundingDoublingHighMul.
inline i32 srdhm(i32 a, i32 b) noexcept { return vqrdmulhq_s32(a.data, b.data); }

/// x / 2^-neg_e (neg_e in [-31, 0]) rounded to nearest, ties away from zero: SRSHL rounds ties up,
/// so negative x first steps down by one (saturating: INT32_MIN has no remainder, its result is
/// the same either way). For neg_e == 0 the fixup is 0 (x & 0 has no sign bit).
inline i32 rdpot_neg(i32 x, i32 neg_e) noexcept {
  const int32x4_t fixup = vshrq_n_s32(vandq_s32(x.data, neg_e.data), 31);
  return vrshlq_s32(vqaddq_s32(x.data, fixup), neg_e.data);
}
/// x / 2^e rounded to nearest, ties away from zero; e in [0, 31] per lane.
inline i32 rdpot(i32 x, i32 e) noexcept { return rdpot_neg(x, i32(vnegq_s32(e.data))); }

/// x * 2^s in two's complement (wraps), s in [0, 31] per lane.
inline i32 shl_wrap(i32 x, i32 s) noexcept { return vshlq_s32(x.data, s.data); }

/// Stores the low byte of each of the 4 lanes to p[0..3].
inline void store_narrow(std::int8_t* p, i32 v) noexcept {
  const int16x4_t h = vmovn_s32(v.data);
  const int8x8_t b = vmovn_s16(vcombine_s16(h, h));
  const std::uint32_t w = vget_lane_u32(vreinterpret_u32_s8(b), 0);
  std::memcpy(p, &w, sizeof w);
}
/// Stores the low 16 bits of each of the 4 lanes to p[0..3].
inline void store_narrow(std::int16_t* p, i32 v) noexcept { vst1_s16(p, vmovn_s32(v.data)); }

/// srdhm(a, b) for b != INT32_MIN in every lane (SQRDMULH either way).
inline i32 srdhm_nosat(i32 a, i32 b) noexcept { return srdhm(a, b); }

/// Two rows of 8 int8 outputs: p[0..8) = clamp(sat8(x0 lanes, x1 lanes), lo, hi), q likewise from
/// (y0, y1). Saturating to int8 first does not change the clamp's result for lo, hi in int8.
inline void store_s8x2_clamp(std::int8_t* p, std::int8_t* q, i32 x0, i32 x1, i32 y0, i32 y1, std::int8_t lo,
                             std::int8_t hi) noexcept {
  const int8x8_t bx = vqmovn_s16(vcombine_s16(vqmovn_s32(x0.data), vqmovn_s32(x1.data)));
  const int8x8_t by = vqmovn_s16(vcombine_s16(vqmovn_s32(y0.data), vqmovn_s32(y1.data)));
  const int8x16_t b = vminq_s8(vmaxq_s8(vcombine_s8(bx, by), vdupq_n_s8(lo)), vdupq_n_s8(hi));
  vst1_s8(p, vget_low_s8(b));
  vst1_s8(q, vget_high_s8(b));
}

#endif

/// MultiplyByQuantizedMultiplier per lane: RDPOT(SRDHM(x * 2^max(s,0), m), max(-s,0)), s in [-31, 30].
inline i32 mbqm(i32 x, i32 m, i32 s) noexcept {
  const i32 zero(0);
  const i32 left = xsimd::max(s, zero);
#if defined(__aarch64__)
  return rdpot_neg(srdhm(shl_wrap(x, left), m), xsimd::min(s, zero));
#else
  return rdpot(srdhm(shl_wrap(x, left), m), xsimd::max(zero - s, zero));
#endif
}

// ---- 16x8 depthwise helpers (dwconv_qs16_2v_simd) ----------------------------------------------
// A tile of 2L channels (L = i32::size) lives in two int32 batches (lo, hi) in the order the
// ISA's widening multiply-add leaves them ("tile order"): AVX2 lo = channels 0-3, 8-11 and
// hi = 4-7, 12-15 (VPUNPCKLWD/HWD work per 128-bit half); Neon lo = 0-3, hi = 4-7. The int64
// products of an int32 batch come in two int64 batches ("parts"): AVX2 part 0 = int32 lanes
// 0, 2, 4, 6 and part 1 = 1, 3, 5, 7 (VPMULDQ on even / odd lanes); Neon part 0 = lanes 0, 1 and
// part 1 = 2, 3 (SMLAL / SMLAL2).
//   dw16_channel(h, i)            channel (0..2L) of int32 lane i of batch h (0 = lo, 1 = hi)
//   dw16_s64_lane(p, k)           int32 lane whose product is int64 lane k of part p
//   dw16_weight_pair(wa, wb, ...) the widened weights of taps (a, b) as dw16_mac2 takes them
//   dw16_mac2(lo, hi, xa, xb, ..) lo, hi += xa * wa + xb * wb per channel (|w| <= 128: every
//                                 product and pair sum exact in int32; the adds wrap)
//   dw16_load_i32(v, lo, hi)      2L int32 values in channel order into tile order
//   dw16_store_s16(p, lo, hi)     the low 16 bits of every lane to p[0..2L) in channel order (wraps)
//   dw16_mla_wide(p0, p1, a, m)   p0, p1 += a * m per lane, 32 x 32 -> 64 bits, in parts
//   sra64(x, t)                   x >> t arithmetic per int64 lane, t in [0, 63] (also used by
//                                 qs16.hpp's MBQM64)
//   dw16_sra64_lo32(x, t)         the low 32 bits of x >> t, t in [0, 32] (AVX2: no sign fix-up)
//   dw16_join(p0, p1)             the low 32 bits of every int64 lane back in its int32 lane
using i16 = xsimd::batch<std::int16_t, simd_arch>;
using i64 = xsimd::batch<std::int64_t, simd_arch>;

#if defined(__x86_64__)

constexpr std::size_t dw16_channel(std::size_t h, std::size_t i) noexcept { return i / 4 * 8 + h * 4 + i % 4; }
constexpr std::size_t dw16_s64_lane(std::size_t p, std::size_t k) noexcept { return 2 * k + p; }

/// (w_a[c], w_b[c]) interleaved per channel: p0 for the lo channels, p1 for the hi ones.
inline void dw16_weight_pair(i16 wa, i16 wb, i16& p0, i16& p1) noexcept {
  p0 = _mm256_unpacklo_epi16(wa, wb);
  p1 = _mm256_unpackhi_epi16(wa, wb);
}

/// VPMADDWD of the interleaved inputs with the interleaved weights: x_a w_a + x_b w_b per channel.
inline void dw16_mac2(i32& lo, i32& hi, i16 xa, i16 xb, i16 p0, i16 p1) noexcept {
  lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(xa, xb), p0));
  hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(xa, xb), p1));
}

inline void dw16_load_i32(const std::int32_t* v, i32& lo, i32& hi) noexcept {
  const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v));
  const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v + 8));
  lo = _mm256_permute2x128_si256(a, b, 0x20);
  hi = _mm256_permute2x128_si256(a, b, 0x31);
}

/// VPACKUSDW of the lanes' low halves (masked: exact) restores the channel order per 128 bits.
inline void dw16_store_s16(std::int16_t* p, i32 lo, i32 hi) noexcept {
  const __m256i m = _mm256_set1_epi32(0xFFFF);
  const __m256i v = _mm256_packus_epi32(_mm256_and_si256(lo, m), _mm256_and_si256(hi, m));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
}

/// VPMULDQ of the even lanes and of the odd lanes (moved down by VPSHUFD).
inline void dw16_mla_wide(i64& p0, i64& p1, i32 a, i32 m) noexcept {
  p0 = _mm256_add_epi64(p0, _mm256_mul_epi32(a, m));
  p1 = _mm256_add_epi64(p1, _mm256_mul_epi32(_mm256_shuffle_epi32(a, 0xF5), _mm256_shuffle_epi32(m, 0xF5)));
}

/// AVX2 has no VPSRAQ: a logical shift, then the sign bit's image k = 2^63 >> t sign-extended by
/// (r ^ k) - k.
inline i64 sra64(i64 x, i64 t) noexcept {
  const __m256i k = _mm256_srlv_epi64(_mm256_set1_epi64x(std::numeric_limits<std::int64_t>::min()), t);
  return _mm256_sub_epi64(_mm256_xor_si256(_mm256_srlv_epi64(x, t), k), k);
}

/// x >> t for t in [0, 32] where only the low 32 bits of the result are used: bits t..t+31 of x
/// all lie inside x, so the logical VPSRLVQ gives them without the sign fix-up.
inline i64 dw16_sra64_lo32(i64 x, i64 t) noexcept { return _mm256_srlv_epi64(x, t); }

inline i32 dw16_join(i64 p0, i64 p1) noexcept { return _mm256_blend_epi32(p0, _mm256_slli_epi64(p1, 32), 0xAA); }

#elif defined(__aarch64__)

constexpr std::size_t dw16_channel(std::size_t h, std::size_t i) noexcept { return h * 4 + i; }
constexpr std::size_t dw16_s64_lane(std::size_t p, std::size_t k) noexcept { return 2 * p + k; }

inline void dw16_weight_pair(i16 wa, i16 wb, i16& p0, i16& p1) noexcept { p0 = wa, p1 = wb; }

/// SMLAL / SMLAL2 of both taps (int16 x int16 -> int32).
inline void dw16_mac2(i32& lo, i32& hi, i16 xa, i16 xb, i16 p0, i16 p1) noexcept {
  int32x4_t l = vmlal_s16(lo.data, vget_low_s16(xa.data), vget_low_s16(p0.data));
  int32x4_t h = vmlal_high_s16(hi.data, xa.data, p0.data);
  l = vmlal_s16(l, vget_low_s16(xb.data), vget_low_s16(p1.data));
  h = vmlal_high_s16(h, xb.data, p1.data);
  lo = l, hi = h;
}

inline void dw16_load_i32(const std::int32_t* v, i32& lo, i32& hi) noexcept { lo = vld1q_s32(v), hi = vld1q_s32(v + 4); }

inline void dw16_store_s16(std::int16_t* p, i32 lo, i32 hi) noexcept {
  vst1q_s16(p, vcombine_s16(vmovn_s32(lo.data), vmovn_s32(hi.data)));
}

inline void dw16_mla_wide(i64& p0, i64& p1, i32 a, i32 m) noexcept {
  p0 = vmlal_s32(p0.data, vget_low_s32(a.data), vget_low_s32(m.data));
  p1 = vmlal_high_s32(p1.data, a.data, m.data);
}

inline i64 sra64(i64 x, i64 t) noexcept { return vshlq_s64(x.data, vnegq_s64(t.data)); }
inline i64 dw16_sra64_lo32(i64 x, i64 t) noexcept { return sra64(x, t); }

inline i32 dw16_join(i64 p0, i64 p1) noexcept {
  return vuzp1q_s32(vreinterpretq_s32_s64(p0.data), vreinterpretq_s32_s64(p1.data));
}

#endif
// ---- end of the 16x8 depthwise helpers ----------------------------------------------------------

}  // namespace simd_ops
}  // namespace tessera::arch
