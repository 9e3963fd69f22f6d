/// @file requant_s32_simd.hpp
/// Requantization of int32 accumulators on xsimd (AVX2+FMA on x86-64, Neon on AArch64).
/// Same interface and results, bit for bit, as requant_s32_scalar: full batches, then a scalar
/// remainder through tessera::fixedpoint (nothing is read or written past the end).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SIMD
#error "requant_s32_simd.hpp needs the simd tag (TESSERA_USE_XSIMD=1 and AVX2+FMA on x86-64 or Neon on AArch64)"
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <tessera/arch/simd/xsimd_bridge.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/requant/op.hpp>
#include <tessera/quant/fixedpoint.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct requant_s32_simd {
  using arch = tessera::arch::simd;
  static constexpr const char* name = "requant_s32_simd";

  static void srdhm(std::size_t n, const std::int32_t* a, const std::int32_t* b, std::int32_t* out) noexcept {
    using v = tessera::arch::simd_ops::i32;
    std::size_t i = 0;
    for (; i + v::size <= n; i += v::size)
      tessera::arch::simd_ops::srdhm(v::load_unaligned(a + i), v::load_unaligned(b + i)).store_unaligned(out + i);
    for (; i < n; ++i) out[i] = fixedpoint::srdhm(a[i], b[i]);
  }
  /// Exponents in [0, 31].
  static void rdpot(std::size_t n, const std::int32_t* x, const std::int32_t* e, std::int32_t* out) noexcept {
    using v = tessera::arch::simd_ops::i32;
    std::size_t i = 0;
    for (; i + v::size <= n; i += v::size)
      tessera::arch::simd_ops::rdpot(v::load_unaligned(x + i), v::load_unaligned(e + i)).store_unaligned(out + i);
    for (; i < n; ++i) out[i] = fixedpoint::rdpot(x[i], e[i]);
  }
  /// Shifts in [-31, 30].
  static void mbqm(std::size_t n, const std::int32_t* x, const std::int32_t* m, const std::int32_t* s,
                   std::int32_t* out) noexcept {
    using v = tessera::arch::simd_ops::i32;
    std::size_t i = 0;
    for (; i + v::size <= n; i += v::size)
      tessera::arch::simd_ops::mbqm(v::load_unaligned(x + i), v::load_unaligned(m + i), v::load_unaligned(s + i))
          .store_unaligned(out + i);
    for (; i < n; ++i) out[i] = fixedpoint::mbqm32(x[i], m[i], s[i]);
  }

  template <class Out, class Q>
  static void run(std::size_t rows, std::size_t channels, const std::int32_t* acc, std::size_t acc_stride, Out* out,
                  std::size_t out_stride, const output_stage<Q>& p) noexcept {
    static_assert(std::is_same_v<Out, std::int8_t> || std::is_same_v<Out, std::int16_t>,
                  "requant_s32_simd: Out is int8_t or int16_t");
    namespace ops = tessera::arch::simd_ops;
    using v = ops::i32;
    constexpr bool per_tensor = std::is_same_v<Q, requant::per_tensor>;
    // Parameters in locals: int8 stores may alias anything, so members would be reloaded per batch.
    const std::int32_t zp_s = p.zero_point, lo_s = p.act_min, hi_s = p.act_max;
    const v zp(zp_s), lo(lo_s), hi(hi_s);
    const auto q = p.q;  // per_tensor: {multiplier, shift}; per_channel: the two array pointers
    for (std::size_t r = 0; r < rows; ++r) {
      const std::int32_t* a = acc + r * acc_stride;
      Out* o = out + r * out_stride;
      std::size_t c = 0;
      for (; c + v::size <= channels; c += v::size) {
        v m, s;
        if constexpr (per_tensor) { m = v(q.multiplier); s = v(q.shift); }
        else { m = v::load_unaligned(q.multiplier + c); s = v::load_unaligned(q.shift + c); }
        const v y = ops::mbqm(v::load_unaligned(a + c), m, s) + zp;
        ops::store_narrow(o + c, xsimd::min(xsimd::max(y, lo), hi));
      }
      for (; c < channels; ++c) o[c] = requantize_one<Out>(a[c], p, c);
    }
  }
};

}  // namespace tessera::kernels

namespace tessera {
template <class Out, class Q> struct ukernel<op::requantize<std::int32_t, Out, Q>, arch::simd> {
  using type = kernels::requant_s32_simd;
};
}  // namespace tessera
