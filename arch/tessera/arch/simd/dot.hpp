/// @file dot.hpp
/// Exact int8 dot-product primitives for the `simd` tag that xsimd 8.1 lacks, as overloads on the
/// xsimd batches of `simd_arch` (see xsimd_bridge.hpp). int8 values travel sign-extended in int16
/// lanes; pairs of adjacent int16 lanes multiply into one int32 lane:
///   load_widen_s8(p)        i16::size int8 values from p[0..i16::size), sign-extended to int16
///   widen_store_s8(d, p)    the same values stored at d (aligned): int32 d[j] holds int16 pair j
///   broadcast_pair(d)       the int16 pair held by the int32 at d, in every int32 lane (one load)
///   madd_s8(acc, a, b)      acc[i] + a[2i]*b[2i] + a[2i+1]*b[2i+1] per int32 lane (wraps), for a, b
///                           holding int8 values ([-128, 127]; the result is exact there)
/// AVX2: VPMOVSXBW, VPBROADCASTD from memory, VPMADDWD + VPADDD. Neon: SXTL, LD1R, and MUL + SADALP
/// (an int8 x int8 product, at most 2^14 in magnitude, fits the int16 lane of MUL exactly).
/// (xsimd 8.1's bitwise_cast between batch types is an out-of-line call on Neon with GCC 12:
/// these primitives reinterpret with intrinsics instead.)
/// Everything else (int32 adds, min/max, loads and broadcasts of scalars) is xsimd's portable API.
#pragma once
#include <cstdint>
#include <tessera/arch/native.hpp>

#if !TESSERA_HAS_SIMD
#error "tessera/arch/simd/dot.hpp needs the simd tag (TESSERA_USE_XSIMD=1 and AVX2+FMA on x86-64 or Neon on AArch64)"
#endif

#include <tessera/arch/simd/xsimd_bridge.hpp>

namespace tessera::arch::simd_ops {

using i16 = xsimd::batch<std::int16_t, simd_arch>;

#if defined(__x86_64__)

/// Loads 16 int8 values from p[0..15] and sign-extends them to the 16 int16 lanes.
inline i16 load_widen_s8(const std::int8_t* p) noexcept {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

/// Sign-extends 16 int8 values from p[0..15] and stores the 32 bytes at d (32-byte aligned).
inline void widen_store_s8(std::int32_t* d, const std::int8_t* p) noexcept {
  _mm256_store_si256(reinterpret_cast<__m256i*>(d), load_widen_s8(p));
}

/// The 32 bits at d (an int16 pair) in each of the 8 int32 lanes.
inline i16 broadcast_pair(const std::int32_t* d) noexcept { return _mm256_set1_epi32(*d); }

/// acc[i] + a[2i]*b[2i] + a[2i+1]*b[2i+1] for the 8 int32 lanes; a, b hold int8 values.
inline i32 madd_s8(i32 acc, i16 a, i16 b) noexcept { return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b)); }

#elif defined(__aarch64__)

/// Loads 8 int8 values from p[0..7] and sign-extends them to the 8 int16 lanes.
inline i16 load_widen_s8(const std::int8_t* p) noexcept { return vmovl_s8(vld1_s8(p)); }

/// Sign-extends 8 int8 values from p[0..7] and stores the 16 bytes at d (16-byte aligned).
inline void widen_store_s8(std::int32_t* d, const std::int8_t* p) noexcept {
  vst1q_s32(d, vreinterpretq_s32_s16(vmovl_s8(vld1_s8(p))));
}

/// The 32 bits at d (an int16 pair) in each of the 4 int32 lanes.
inline i16 broadcast_pair(const std::int32_t* d) noexcept { return vreinterpretq_s16_s32(vld1q_dup_s32(d)); }

/// acc[i] + a[2i]*b[2i] + a[2i+1]*b[2i+1] for the 4 int32 lanes; a, b hold int8 values, so each
/// int16 product (|a*b| <= 2^14) is exact and SADALP widens before it adds.
inline i32 madd_s8(i32 acc, i16 a, i16 b) noexcept { return vpadalq_s16(acc.data, vmulq_s16(a.data, b.data)); }

#endif

}  // namespace tessera::arch::simd_ops
