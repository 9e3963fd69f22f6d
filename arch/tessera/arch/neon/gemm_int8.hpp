/// @file gemm_int8.hpp
/// Neon helpers shared by the int8 GEMM tiles (dotprod and i8mm kernels): the K-remainder load
/// that never reads past a row, the saturating narrow + clamp of 16 lanes, and the scan that
/// lets a kernel skip the left-shift half of MBQM when no channel shifts left. The partial load
/// and store also serve the channel tails of dwconv3x3_qs8_2x16_neon_mlal.
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_NEON
#error "tessera/arch/neon/gemm_int8.hpp needs AArch64 Neon (TESSERA_HAS_NEON)"
#endif

#include <arm_neon.h>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace tessera::arch::neon_ops {

/// Whether any of s[0, n) is > 0.
inline bool any_positive(const std::int32_t* s, std::size_t n) noexcept {
  int32x4_t mx = vdupq_n_s32(0);
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) mx = vmaxq_s32(mx, vld1q_s32(s + i));
  std::int32_t r = vmaxvq_s32(mx);
  for (; i < n; ++i) r = s[i] > r ? s[i] : r;
  return r > 0;
}

/// Bytes p[0, r) in lanes 0..r-1, zeros above, for r in [1, 15]; reads nothing past p + r.
inline int8x16_t load_partial(const std::int8_t* p, std::size_t r) noexcept {
  std::uint64_t lo = 0, t = 0;
  if (r & 8) { std::memcpy(&lo, p, 8); p += 8; }
  unsigned s = 0;
  if (r & 4) { std::uint32_t v; std::memcpy(&v, p, 4); t = v; p += 4; s = 32; }
  if (r & 2) { std::uint16_t v; std::memcpy(&v, p, 2); t |= std::uint64_t{v} << s; p += 2; s += 16; }
  if (r & 1) t |= std::uint64_t{static_cast<std::uint8_t>(*p)} << s;
  const std::uint64_t hi = (r & 8) ? t : 0;
  if (!(r & 8)) lo = t;
  return vreinterpretq_s8_u64(vcombine_u64(vcreate_u64(lo), vcreate_u64(hi)));
}

/// Saturating narrow of 16 int32 lanes to int8, then the activation clamp (exactly the int32
/// clamp followed by truncation, for bounds inside int8).
inline int8x16_t narrow_clamp(int32x4_t y0, int32x4_t y1, int32x4_t y2, int32x4_t y3, int8x16_t lo,
                               int8x16_t hi) noexcept {
  const int16x8_t h0 = vqmovn_high_s32(vqmovn_s32(y0), y1), h1 = vqmovn_high_s32(vqmovn_s32(y2), y3);
  return vminq_s8(vmaxq_s8(vqmovn_high_s16(vqmovn_s16(h0), h1), lo), hi);
}

/// Stores lanes 0..nb-1 of v (nb in [1, 15]) to p[0, nb): nothing past p[nb-1] is written.
inline void store_partial(std::int8_t* p, int8x16_t v, std::size_t nb) noexcept {
  if (nb & 8) { vst1_s8(p, vget_low_s8(v)); p += 8; v = vextq_s8(v, v, 8); }
  if (nb & 4) {
    vst1q_lane_u32(reinterpret_cast<std::uint32_t*>(static_cast<void*>(p)), vreinterpretq_u32_s8(v), 0);
    p += 4;
    v = vextq_s8(v, v, 4);
  }
  if (nb & 2) {
    vst1q_lane_u16(reinterpret_cast<std::uint16_t*>(static_cast<void*>(p)), vreinterpretq_u16_s8(v), 0);
    p += 2;
    v = vextq_s8(v, v, 2);
  }
  if (nb & 1) vst1q_lane_s8(p, v, 0);
}

}  // namespace tessera::arch::neon_ops
