/// @file requant_s64_neon.hpp
/// Requantization of int64 accumulators (16x8 kernels with int64 bias) on AArch64 Advanced SIMD.
/// Same interface and results, bit for bit, as requant_s64_scalar: 8 lanes per step, then 4,
/// then a scalar remainder through tessera::fixedpoint (nothing is read or written past the end).
/// x * rm is formed from 32x32->64 SMULL/UMULL halves (Neon has no 64-bit multiply), the
/// rounding right shift is SRSHL. ISA: Armv8-A Neon.
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_NEON
#error "requant_s64_neon.hpp needs AArch64 Advanced SIMD (TESSERA_HAS_NEON)"
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <arm_neon.h>
#include <tessera/arch/neon/fixedpoint.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/requant/op.hpp>
#include <tessera/quant/fixedpoint.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct requant_s64_neon {
  using arch = tessera::arch::neon;
  static constexpr const char* name = "requant_s64_neon";

  /// x in [-2^47, 2^47), m >= 0, s in [-31, 7].
  static void mbqm(std::size_t n, const std::int64_t* x, const std::int32_t* m, const std::int32_t* s,
                   std::int32_t* out) noexcept {
    namespace ops = tessera::arch::neon_ops;
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      vst1q_s32(out + i, ops::mbqm64(vld1q_s64(x + i), vld1q_s64(x + i + 2), vld1q_s32(m + i), vld1q_s32(s + i)));
      vst1q_s32(out + i + 4,
                ops::mbqm64(vld1q_s64(x + i + 4), vld1q_s64(x + i + 6), vld1q_s32(m + i + 4), vld1q_s32(s + i + 4)));
    }
    for (; i + 4 <= n; i += 4)
      vst1q_s32(out + i, ops::mbqm64(vld1q_s64(x + i), vld1q_s64(x + i + 2), vld1q_s32(m + i), vld1q_s32(s + i)));
    for (; i < n; ++i) out[i] = fixedpoint::mbqm64(x[i], m[i], s[i]);
  }

  /// y = clamp(MBQM64(acc, m[c], s[c]) + zero_point, act_min, act_max) stored as Out; the
  /// + zero_point wraps (as in every vector path). Out is int8_t or int16_t.
  template <class Out, class Q>
  static void run(std::size_t rows, std::size_t channels, const std::int64_t* acc, std::size_t acc_stride, Out* out,
                  std::size_t out_stride, const output_stage<Q>& p) noexcept {
    static_assert(std::is_same_v<Out, std::int8_t> || std::is_same_v<Out, std::int16_t>,
                  "requant_s64_neon: Out is int8_t or int16_t");
    namespace ops = tessera::arch::neon_ops;
    constexpr bool per_tensor = std::is_same_v<Q, requant::per_tensor>;
    const int32x4_t zp = vdupq_n_s32(p.zero_point), lo = vdupq_n_s32(p.act_min), hi = vdupq_n_s32(p.act_max);
    // Per-tensor parameters, prepared once: rm and s - 15 (= -t) as int64 lanes.
    int32x4_t trm = vdupq_n_s32(0);
    int64x2_t tnt = vdupq_n_s64(0);
    if constexpr (per_tensor) {
      trm = ops::mbqm64_multiplier(vdupq_n_s32(p.q.multiplier));
      tnt = vdupq_n_s64(std::int64_t{p.q.shift} - 15);
    }
    // Local copies: the int8 stores may alias anything, so p's members would be reloaded.
    const std::int32_t* mul = nullptr;
    const std::int32_t* sh = nullptr;
    if constexpr (!per_tensor) { mul = p.q.multiplier; sh = p.q.shift; }
    // Four lanes starting at channel c of row a.
    auto quad = [&](const std::int64_t* a, std::size_t c) noexcept {
      int32x4_t y;
      if constexpr (per_tensor) y = ops::mbqm64(vld1q_s64(a + c), vld1q_s64(a + c + 2), trm, tnt, tnt);
      else y = ops::mbqm64(vld1q_s64(a + c), vld1q_s64(a + c + 2), vld1q_s32(mul + c), vld1q_s32(sh + c));
      return ops::clamp(vaddq_s32(y, zp), lo, hi);
    };
    for (std::size_t r = 0; r < rows; ++r) {
      const std::int64_t* a = acc + r * acc_stride;
      Out* o = out + r * out_stride;
      std::size_t c = 0;
      for (; c + 8 <= channels; c += 8) ops::store_narrow(o + c, quad(a, c), quad(a, c + 4));
      for (; c + 4 <= channels; c += 4) ops::store_narrow(o + c, quad(a, c));
      for (; c < channels; ++c) o[c] = requantize_one<Out>(a[c], p, c);
    }
  }
};

}  // namespace tessera::kernels

namespace tessera {
template <class Out, class Q> struct ukernel<op::requantize<std::int64_t, Out, Q>, arch::neon> {
  using type = kernels::requant_s64_neon;
};
}  // namespace tessera
