/// @file requant_s32_neon.hpp
/// Requantization of int32 accumulators on AArch64 Advanced SIMD (SQRDMULH + SRSHL).
/// Same interface and results, bit for bit, as requant_s32_scalar: 16 lanes per step, then 4,
/// then a scalar remainder through tessera::fixedpoint (nothing is read or written past the end).
/// ISA: Armv8-A Neon.
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_NEON
#error "requant_s32_neon.hpp needs AArch64 Advanced SIMD (TESSERA_HAS_NEON)"
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

struct requant_s32_neon {
  using arch = tessera::arch::neon;
  static constexpr const char* name = "requant_s32_neon";

  static void srdhm(std::size_t n, const std::int32_t* a, const std::int32_t* b, std::int32_t* out) noexcept {
    namespace ops = tessera::arch::neon_ops;
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16)
      for (std::size_t j = 0; j < 16; j += 4) vst1q_s32(out + i + j, ops::srdhm(vld1q_s32(a + i + j), vld1q_s32(b + i + j)));
    for (; i + 4 <= n; i += 4) vst1q_s32(out + i, ops::srdhm(vld1q_s32(a + i), vld1q_s32(b + i)));
    for (; i < n; ++i) out[i] = fixedpoint::srdhm(a[i], b[i]);
  }
  /// Exponents in [0, 31].
  static void rdpot(std::size_t n, const std::int32_t* x, const std::int32_t* e, std::int32_t* out) noexcept {
    namespace ops = tessera::arch::neon_ops;
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16)
      for (std::size_t j = 0; j < 16; j += 4) vst1q_s32(out + i + j, ops::rdpot(vld1q_s32(x + i + j), vld1q_s32(e + i + j)));
    for (; i + 4 <= n; i += 4) vst1q_s32(out + i, ops::rdpot(vld1q_s32(x + i), vld1q_s32(e + i)));
    for (; i < n; ++i) out[i] = fixedpoint::rdpot(x[i], e[i]);
  }
  /// Shifts in [-31, 30].
  static void mbqm(std::size_t n, const std::int32_t* x, const std::int32_t* m, const std::int32_t* s,
                   std::int32_t* out) noexcept {
    namespace ops = tessera::arch::neon_ops;
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16)
      for (std::size_t j = 0; j < 16; j += 4)
        vst1q_s32(out + i + j, ops::mbqm32(vld1q_s32(x + i + j), vld1q_s32(m + i + j), vld1q_s32(s + i + j)));
    for (; i + 4 <= n; i += 4) vst1q_s32(out + i, ops::mbqm32(vld1q_s32(x + i), vld1q_s32(m + i), vld1q_s32(s + i)));
    for (; i < n; ++i) out[i] = fixedpoint::mbqm32(x[i], m[i], s[i]);
  }

  /// y = clamp(MBQM(acc, m[c], s[c]) + zero_point, act_min, act_max) stored as Out; the
  /// + zero_point wraps (as in every vector path). Out is int8_t or int16_t.
  template <class Out, class Q>
  static void run(std::size_t rows, std::size_t channels, const std::int32_t* acc, std::size_t acc_stride, Out* out,
                  std::size_t out_stride, const output_stage<Q>& p) noexcept {
    static_assert(std::is_same_v<Out, std::int8_t> || std::is_same_v<Out, std::int16_t>,
                  "requant_s32_neon: Out is int8_t or int16_t");
    namespace ops = tessera::arch::neon_ops;
    constexpr bool per_tensor = std::is_same_v<Q, requant::per_tensor>;
    const int32x4_t zp = vdupq_n_s32(p.zero_point), lo = vdupq_n_s32(p.act_min), hi = vdupq_n_s32(p.act_max);
    const int32x4_t zero = vdupq_n_s32(0);
    // Per-tensor parameters, split once: multiplier, left = max(s, 0), -right = min(s, 0).
    ops::mbqm32_split t{zero, zero, zero};
    if constexpr (per_tensor) t = ops::split_mbqm32(p.q.multiplier, p.q.shift);
    // Local copies: the int8 stores may alias anything, so p's members would be reloaded.
    const std::int32_t* mul = nullptr;
    const std::int32_t* sh = nullptr;
    if constexpr (!per_tensor) { mul = p.q.multiplier; sh = p.q.shift; }
    // Four lanes starting at channel c of row a.
    auto quad = [&](const std::int32_t* a, std::size_t c) noexcept {
      int32x4_t y;
      if constexpr (per_tensor) {
        y = ops::mbqm32(vld1q_s32(a + c), t.m, t.left, t.neg_right);
      } else {
        const int32x4_t s = vld1q_s32(sh + c);
        y = ops::mbqm32(vld1q_s32(a + c), vld1q_s32(mul + c), vmaxq_s32(s, zero), vminq_s32(s, zero));
      }
      return ops::clamp(vaddq_s32(y, zp), lo, hi);
    };
    for (std::size_t r = 0; r < rows; ++r) {
      const std::int32_t* a = acc + r * acc_stride;
      Out* o = out + r * out_stride;
      std::size_t c = 0;
      for (; c + 16 <= channels; c += 16)
        ops::store_narrow(o + c, quad(a, c), quad(a, c + 4), quad(a, c + 8), quad(a, c + 12));
      for (; c + 4 <= channels; c += 4) ops::store_narrow(o + c, quad(a, c));
      for (; c < channels; ++c) o[c] = requantize_one<Out>(a[c], p, c);
    }
  }
};

}  // namespace tessera::kernels

namespace tessera {
template <class Out, class Q> struct ukernel<op::requantize<std::int32_t, Out, Q>, arch::neon> {
  using type = kernels::requant_s32_neon;
};
}  // namespace tessera
