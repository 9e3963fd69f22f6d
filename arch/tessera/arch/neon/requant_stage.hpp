/// @file requant_stage.hpp
/// Neon output stage of the int8 depthwise kernels that accumulate 16 channels in four int32x4
/// vectors (dwconv_qs8_16c_neon_mlal, dwconv3x3_qs8_2x16_neon_mlal): the stage's parameters in
/// registers or pointers, MBQM + zero point of 8 channels saturated to int16 (neon/fixedpoint.hpp
/// primitives, bit-exact with TFLite), and the opaque pointer bump that keeps post-indexed loads.
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_NEON
#error "tessera/arch/neon/requant_stage.hpp needs AArch64 Advanced SIMD (TESSERA_HAS_NEON)"
#endif

#include <arm_neon.h>
#include <cstddef>
#include <cstdint>
#include <tessera/arch/neon/fixedpoint.hpp>

namespace tessera::arch::neon_ops {

/// int8 output-stage parameters in registers (per-tensor) or pointers (per-channel arrays, which
/// a kernel may move to the first channel it works on).
struct qs8_stage {
  int32x4_t m, l, r, zp;  // multiplier, left = max(s, 0), -right = min(s, 0) (per-tensor), zero point
  int8x16_t lo, hi;       // activation clamp (inside int8)
  bool left;              // any left shift (per-tensor)
  const std::int32_t* mul;
  const std::int32_t* sh;
};

/// The stage of output_stage-like `p` (zero_point, act_min, act_max, q.multiplier, q.shift: scalars
/// when PerTensor, per-channel arrays otherwise).
template <bool PerTensor, class P>
inline qs8_stage make_qs8_stage(const P& p) noexcept {
  qs8_stage st{};
  st.zp = vdupq_n_s32(p.zero_point);
  st.lo = vdupq_n_s8(static_cast<std::int8_t>(p.act_min));
  st.hi = vdupq_n_s8(static_cast<std::int8_t>(p.act_max));
  if constexpr (PerTensor) {
    st.m = vdupq_n_s32(p.q.multiplier);
    st.l = vdupq_n_s32(p.q.shift > 0 ? p.q.shift : 0);
    st.r = vdupq_n_s32(p.q.shift > 0 ? 0 : p.q.shift);
    st.left = p.q.shift > 0;
  } else {
    st.mul = p.q.multiplier, st.sh = p.q.shift;
  }
  return st;
}

/// MBQM + zero point of 8 channels (c..c+7 of the stage's arrays) held in y0, y1, saturated to int16.
template <bool PerTensor>
[[gnu::always_inline]] inline int16x8_t requant8(int32x4_t y0, int32x4_t y1, const qs8_stage& st,
                                                 [[maybe_unused]] std::size_t c) noexcept {
  if constexpr (PerTensor) {
    if (st.left) y0 = vshlq_s32(y0, st.l), y1 = vshlq_s32(y1, st.l);
    y0 = rdpot_neg(srdhm(y0, st.m), st.r);
    y1 = rdpot_neg(srdhm(y1, st.m), st.r);
  } else {
    y0 = mbqm32(y0, vld1q_s32(st.mul + c), vld1q_s32(st.sh + c));
    y1 = mbqm32(y1, vld1q_s32(st.mul + c + 4), vld1q_s32(st.sh + c + 4));
  }
  return vqmovn_high_s32(vqmovn_s32(vaddq_s32(y0, st.zp)), vaddq_s32(y1, st.zp));
}

/// p += n bytes, opaque to the optimiser (an empty asm), so that the compilers keep one running
/// pointer and fold the increment into the load (post-index) instead of an ADD per load.
[[gnu::always_inline]] inline void advance(const std::int8_t*& p, std::size_t n) noexcept {
  p += n;
  __asm__("" : "+r"(p));
}

}  // namespace tessera::arch::neon_ops
