/// @file dwconv_qs8_neon_rows.hpp
/// Shared pieces of the AArch64 Neon int8 depthwise row kernels (dwconv3x3_qs8_2x16_neon_mlal,
/// dwconv5x5_qs8_2x16_neon_mlal), not a kernel: 16 channels' int32 accumulators, the offset int16
/// tap pair and the single tap of dwconv_qs8_16c_neon_mlal's arithmetic, the input column load
/// with its 8-lane and partial forms, and one pixel's output stage and store.
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_NEON
#error "dwconv_qs8_neon_rows.hpp needs AArch64 Advanced SIMD (TESSERA_HAS_NEON)"
#endif

#include <arm_neon.h>
#include <cstddef>
#include <cstdint>
#include <tessera/arch/neon/gemm_int8.hpp>
#include <tessera/arch/neon/requant_stage.hpp>

namespace tessera::kernels::dw_neon {

/// Pair offset: K + [-32512, 32768] = [0, 65280], exact as unsigned 16-bit.
inline constexpr std::int16_t qs8_pair_k = 32512;

/// 16 channels' int32 accumulators.
struct acc16 {
  uint32x4_t v[4];
};

/// a += x0 * w0 + x1 * w1 (16 channels; Half: the low 8, a.v[0..1]) through the offset int16
/// pair p = K + x0 w0 + x1 w1 (MOV + 2 SMLAL), added zero-extended (UADDW).
template <bool Half>
[[gnu::always_inline]] inline void pair(acc16& a, int8x16_t x0, int8x16_t w0, int8x16_t x1, int8x16_t w1,
                                        int16x8_t kv) noexcept {
  const int16x8_t pl = vmlal_s8(vmlal_s8(kv, vget_low_s8(x0), vget_low_s8(w0)), vget_low_s8(x1), vget_low_s8(w1));
  a.v[0] = vaddw_u16(a.v[0], vget_low_u16(vreinterpretq_u16_s16(pl)));
  a.v[1] = vaddw_high_u16(a.v[1], vreinterpretq_u16_s16(pl));
  if constexpr (!Half) {
    const int16x8_t ph = vmlal_high_s8(vmlal_high_s8(kv, x0, w0), x1, w1);
    a.v[2] = vaddw_u16(a.v[2], vget_low_u16(vreinterpretq_u16_s16(ph)));
    a.v[3] = vaddw_high_u16(a.v[3], vreinterpretq_u16_s16(ph));
  }
}

/// a += x * w (16 channels; Half: the low 8), one tap: |x w| <= 2^14 fits int16.
template <bool Half>
[[gnu::always_inline]] inline void single(acc16& a, int8x16_t x, int8x16_t w) noexcept {
  const int16x8_t pl = vmull_s8(vget_low_s8(x), vget_low_s8(w));
  a.v[0] = vreinterpretq_u32_s32(vaddw_s16(vreinterpretq_s32_u32(a.v[0]), vget_low_s16(pl)));
  a.v[1] = vreinterpretq_u32_s32(vaddw_high_s16(vreinterpretq_s32_u32(a.v[1]), pl));
  if constexpr (!Half) {
    const int16x8_t ph = vmull_high_s8(x, w);
    a.v[2] = vreinterpretq_u32_s32(vaddw_s16(vreinterpretq_s32_u32(a.v[2]), vget_low_s16(ph)));
    a.v[3] = vreinterpretq_u32_s32(vaddw_high_s16(vreinterpretq_s32_u32(a.v[3]), ph));
  }
}

/// One input column: 16 bytes; Half: 8 (one LDR d, upper lanes zero); Part: only rem bytes
/// (rem < 16, or < 8 with Half), zeros beyond. Nothing past what is used is read.
template <bool Part, bool Half>
[[gnu::always_inline]] inline int8x16_t load_col(const std::int8_t* p, [[maybe_unused]] std::size_t rem) noexcept {
  if constexpr (Part) return tessera::arch::neon_ops::load_partial(p, rem);
  else if constexpr (Half) return vcombine_s8(vld1_s8(p), vdup_n_s8(0));
  else return vld1q_s8(p);
}

/// One pixel's output stage: MBQM + zero point of a's 16 channels (Half: 8; per-channel
/// parameters at st.mul, st.sh), SQXTN to int8, the clamp, and the store of its 16 (Half: 8;
/// Part: rem) channels at o.
template <bool PerTensor, bool Part, bool Half>
[[gnu::always_inline]] inline void store_pixel(const acc16& a, std::int8_t* o, [[maybe_unused]] std::size_t rem,
                                               const tessera::arch::neon_ops::qs8_stage& st) noexcept {
  namespace ops = tessera::arch::neon_ops;
  const int16x8_t h0 = ops::requant8<PerTensor>(vreinterpretq_s32_u32(a.v[0]), vreinterpretq_s32_u32(a.v[1]), st, 0);
  if constexpr (Half) {
    const int8x8_t v = vmin_s8(vmax_s8(vqmovn_s16(h0), vget_low_s8(st.lo)), vget_low_s8(st.hi));
    if constexpr (Part) ops::store_partial(o, vcombine_s8(v, v), rem);
    else vst1_s8(o, v);
  } else {
    const int16x8_t h1 = ops::requant8<PerTensor>(vreinterpretq_s32_u32(a.v[2]), vreinterpretq_s32_u32(a.v[3]), st, 8);
    const int8x16_t v = vminq_s8(vmaxq_s8(vqmovn_high_s16(vqmovn_s16(h0), h1), st.lo), st.hi);
    if constexpr (Part) ops::store_partial(o, v, rem);
    else vst1q_s8(o, v);
  }
}

}  // namespace tessera::kernels::dw_neon
