/// @file requant_s32_sve2.hpp
/// Requantization of int32 accumulators on SVE2 (SQRDMULH + SRSHL), vector-length agnostic.
/// Same interface and results, bit for bit, as requant_s32_scalar. One svcntw()-lane vector
/// per step under a svwhilelt_b32 predicate: tails are predicated, nothing is read or written
/// past the end. ISA: Armv9-A SVE2.
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SVE2
#error "requant_s32_sve2.hpp needs SVE2 (TESSERA_HAS_SVE2)"
#endif

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <arm_sve.h>
#include <tessera/arch/sve/fixedpoint_sve2.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/requant/op.hpp>
#include <tessera/quant/fixedpoint.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct requant_s32_sve2 {
  using arch = tessera::arch::sve2;
  static constexpr const char* name = "requant_s32_sve2";

  static void srdhm(std::size_t n, const std::int32_t* a, const std::int32_t* b, std::int32_t* out) noexcept {
    namespace ops = tessera::arch::sve2_ops;
    for (std::uint64_t i = 0; i < n; i += svcntw()) {
      const svbool_t pg = svwhilelt_b32_u64(i, n);
      svst1_s32(pg, out + i, ops::srdhm(svld1_s32(pg, a + i), svld1_s32(pg, b + i)));
    }
  }
  /// Exponents in [0, 31].
  static void rdpot(std::size_t n, const std::int32_t* x, const std::int32_t* e, std::int32_t* out) noexcept {
    namespace ops = tessera::arch::sve2_ops;
    for (std::uint64_t i = 0; i < n; i += svcntw()) {
      const svbool_t pg = svwhilelt_b32_u64(i, n);
      svst1_s32(pg, out + i, ops::rdpot(svld1_s32(pg, x + i), svld1_s32(pg, e + i)));
    }
  }
  /// Shifts in [-31, 30].
  static void mbqm(std::size_t n, const std::int32_t* x, const std::int32_t* m, const std::int32_t* s,
                   std::int32_t* out) noexcept {
    namespace ops = tessera::arch::sve2_ops;
    for (std::uint64_t i = 0; i < n; i += svcntw()) {
      const svbool_t pg = svwhilelt_b32_u64(i, n);
      svst1_s32(pg, out + i, ops::mbqm32(svld1_s32(pg, x + i), svld1_s32(pg, m + i), svld1_s32(pg, s + i)));
    }
  }

  /// y = clamp(MBQM(acc, m[c], s[c]) + zero_point, act_min, act_max) stored as Out (ST1B/ST1H);
  /// the + zero_point wraps (as in every vector path). Out is int8_t or int16_t.
  template <class Out, class Q>
  static void run(std::size_t rows, std::size_t channels, const std::int32_t* acc, std::size_t acc_stride, Out* out,
                  std::size_t out_stride, const output_stage<Q>& p) noexcept {
    static_assert(std::is_same_v<Out, std::int8_t> || std::is_same_v<Out, std::int16_t>,
                  "requant_s32_sve2: Out is int8_t or int16_t");
    namespace ops = tessera::arch::sve2_ops;
    const svbool_t all = svptrue_b32();
    const svint32_t zp = svdup_n_s32(p.zero_point), lo = svdup_n_s32(p.act_min), hi = svdup_n_s32(p.act_max);
    if constexpr (std::is_same_v<Q, requant::per_tensor>) {
      // Shift split prepared once (loop invariant).
      const svint32_t m = svdup_n_s32(p.q.multiplier);
      const svuint32_t left = svdup_n_u32(static_cast<std::uint32_t>(p.q.shift > 0 ? p.q.shift : 0));
      const svint32_t neg_right = svdup_n_s32(p.q.shift > 0 ? 0 : p.q.shift);
      for (std::size_t r = 0; r < rows; ++r) {
        const std::int32_t* a = acc + r * acc_stride;
        Out* o = out + r * out_stride;
        for (std::uint64_t c = 0; c < channels; c += svcntw()) {
          const svbool_t pg = svwhilelt_b32_u64(c, channels);
          const svint32_t y = ops::mbqm32(svld1_s32(pg, a + c), m, left, neg_right);
          ops::store_narrow(pg, o + c, ops::clamp(svadd_s32_x(all, y, zp), lo, hi));
        }
      }
    } else {
      // Local copies: the int8 stores may alias anything, so p's members would be reloaded.
      const std::int32_t* const mul = p.q.multiplier;
      const std::int32_t* const sh = p.q.shift;
      for (std::size_t r = 0; r < rows; ++r) {
        const std::int32_t* a = acc + r * acc_stride;
        Out* o = out + r * out_stride;
        for (std::uint64_t c = 0; c < channels; c += svcntw()) {
          const svbool_t pg = svwhilelt_b32_u64(c, channels);
          const svint32_t y = ops::mbqm32(svld1_s32(pg, a + c), svld1_s32(pg, mul + c), svld1_s32(pg, sh + c));
          ops::store_narrow(pg, o + c, ops::clamp(svadd_s32_x(all, y, zp), lo, hi));
        }
      }
    }
  }
};

}  // namespace tessera::kernels

namespace tessera {
template <class Out, class Q> struct ukernel<op::requantize<std::int32_t, Out, Q>, arch::sve2> {
  using type = kernels::requant_s32_sve2;
};
}  // namespace tessera
