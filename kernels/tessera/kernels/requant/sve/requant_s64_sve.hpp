/// @file requant_s64_sve.hpp
/// Requantization of int64 accumulators (16x8 kernels with int64 bias) on SVE (SVE1 only),
/// vector-length agnostic. Same interface and results, bit for bit, as requant_s64_scalar.
/// Each step covers svcntw() elements: two int64 vectors (svwhilelt_b64 predicates) whose
/// (x * rm + 2^(t-1)) >> t (MUL/MLA + ASR) are packed by UZP1 into one int32 vector
/// (svwhilelt_b32 predicate). Nothing is read or written past the end. ISA: Armv8.2-A SVE.
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SVE
#error "requant_s64_sve.hpp needs SVE (TESSERA_HAS_SVE)"
#endif

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <arm_sve.h>
#include <tessera/arch/sve/fixedpoint.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/requant/op.hpp>
#include <tessera/quant/fixedpoint.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct requant_s64_sve {
  using arch = tessera::arch::sve;
  static constexpr const char* name = "requant_s64_sve";

  /// x in [-2^47, 2^47), m >= 0, s in [-31, 7].
  static void mbqm(std::size_t n, const std::int64_t* x, const std::int32_t* m, const std::int32_t* s,
                   std::int32_t* out) noexcept {
    namespace ops = tessera::arch::sve_ops;
    for (std::uint64_t i = 0; i < n; i += svcntw()) {
      const svbool_t pg = svwhilelt_b32_u64(i, n);
      const svbool_t p0 = svwhilelt_b64_u64(i, n), p1 = svwhilelt_b64_u64(i + svcntd(), n);
      const svint64_t x0 = svld1_s64(p0, x + i), x1 = svld1_vnum_s64(p1, x + i, 1);
      svst1_s32(pg, out + i, ops::mbqm64(x0, x1, svld1_s32(pg, m + i), svld1_s32(pg, s + i)));
    }
  }

  /// y = clamp(MBQM64(acc, m[c], s[c]) + zero_point, act_min, act_max) stored as Out (ST1B/ST1H);
  /// the + zero_point wraps (as in every vector path). Out is int8_t or int16_t.
  template <class Out, class Q>
  static void run(std::size_t rows, std::size_t channels, const std::int64_t* acc, std::size_t acc_stride, Out* out,
                  std::size_t out_stride, const output_stage<Q>& p) noexcept {
    static_assert(std::is_same_v<Out, std::int8_t> || std::is_same_v<Out, std::int16_t>,
                  "requant_s64_sve: Out is int8_t or int16_t");
    namespace ops = tessera::arch::sve_ops;
    const svbool_t all = svptrue_b32();
    const svint32_t zp = svdup_n_s32(p.zero_point), lo = svdup_n_s32(p.act_min), hi = svdup_n_s32(p.act_max);
    if constexpr (std::is_same_v<Q, requant::per_tensor>) {
      // rm, t and 2^(t-1) prepared once (loop invariant), as in fixedpoint::mbqm64.
      const std::int32_t m = p.q.multiplier;
      const std::int64_t rm = m < 0x7FFF0000 ? ((m + (1 << 15)) >> 16) : 0x7FFF;
      const int t = 15 - p.q.shift;
      const svint64_t vrm = svdup_n_s64(rm), round = svdup_n_s64(std::int64_t{1} << (t - 1));
      const svuint64_t vt = svdup_n_u64(static_cast<std::uint64_t>(t));
      for (std::size_t r = 0; r < rows; ++r) {
        const std::int64_t* a = acc + r * acc_stride;
        Out* o = out + r * out_stride;
        for (std::uint64_t c = 0; c < channels; c += svcntw()) {
          const svbool_t pg = svwhilelt_b32_u64(c, channels);
          const svbool_t p0 = svwhilelt_b64_u64(c, channels), p1 = svwhilelt_b64_u64(c + svcntd(), channels);
          const svint32_t y = ops::narrow_s32(ops::mbqm64(svld1_s64(p0, a + c), vrm, round, vt),
                                              ops::mbqm64(svld1_vnum_s64(p1, a + c, 1), vrm, round, vt));
          ops::store_narrow(pg, o + c, ops::clamp(svadd_s32_x(all, y, zp), lo, hi));
        }
      }
    } else {
      // Local copies: the int8 stores may alias anything, so p's members would be reloaded.
      const std::int32_t* const mul = p.q.multiplier;
      const std::int32_t* const sh = p.q.shift;
      for (std::size_t r = 0; r < rows; ++r) {
        const std::int64_t* a = acc + r * acc_stride;
        Out* o = out + r * out_stride;
        for (std::uint64_t c = 0; c < channels; c += svcntw()) {
          const svbool_t pg = svwhilelt_b32_u64(c, channels);
          const svbool_t p0 = svwhilelt_b64_u64(c, channels), p1 = svwhilelt_b64_u64(c + svcntd(), channels);
          const svint32_t y = ops::mbqm64(svld1_s64(p0, a + c), svld1_vnum_s64(p1, a + c, 1), svld1_s32(pg, mul + c),
                                          svld1_s32(pg, sh + c));
          ops::store_narrow(pg, o + c, ops::clamp(svadd_s32_x(all, y, zp), lo, hi));
        }
      }
    }
  }
};

}  // namespace tessera::kernels

namespace tessera {
template <class Out, class Q> struct ukernel<op::requantize<std::int64_t, Out, Q>, arch::sve> {
  using type = kernels::requant_s64_sve;
};
}  // namespace tessera
