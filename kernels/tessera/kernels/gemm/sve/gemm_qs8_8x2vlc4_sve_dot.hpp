/// @file gemm_qs8_8x2vlc4_sve_dot.hpp
/// int8 GEMM with fused requantization on SVE (SVE1 instructions only), vector-length agnostic.
///
/// Tile: MR = 8 rows x NR = 2 vectors of int32 (2 * svcntw() channels), kr = 4; M remainders of
/// 1, 2 or 3-4 rows run 1-, 2- and 4-row instances of the same tile (batch-1 FC pays for one row).
/// Consumes op.hpp's packed format with nr() = 2 * svcntw() (known at run time only) and kr() = 4:
/// per block `int32 bias'[nr]` then `int8 w[ceil(K/4)][nr][4]`, so one k-group of a block is two
/// whole vectors of bytes (svcntw() channels x 4 k each) and 16 k are 8 consecutive vectors.
/// Inner loop (16 k): 8 B vectors (LD1B, vnum addressing) and per row one LD1RQB that replicates
/// 16 bytes of A into every quadword; indexed SDOT (`svdot_lane_s32`, lane 0..3 = k-group 0..3 of
/// the 16) meets them: 8 rows x 2 vectors x 4 lanes = 64 SDOT per 8 LD1RQB + 8 LD1B + 4 scalar
/// (84 instructions with GCC 12, 86 with clang 16, no spills). Registers: 16 accumulators, 8 A (z0-z7,
/// where indexed SDOT wants them), B two at a time.
/// Epilogue in registers: tessera::arch::sve_ops SRDHM/RDPOT (SVE1: SMULH + MUL, reference RDPOT),
/// + zero point (wrapping), clamp, ST1B narrowing store. A per-tensor stage applies only the half
/// of MBQM its shift needs (left shift + SRDHM, or SRDHM + RDPOT), the same values bit for bit.
/// Tails: M by row clamping (pointers of missing rows alias the last valid row, whose identical
/// results they store again); K (k % 16) by one more 16-k step whose LD1RQB is predicated by
/// svwhilelt_b8 (A bytes past k read as zero, never accessed) and whose B loads are predicated per
/// k-group so exactly ceil(k/4) zero-padded groups are read; N by svwhilelt_b32-predicated stores
/// and per-channel parameter loads (nothing at or past channel n is read or written).
/// ISA: Armv8.2-A SVE (SDOT is SVE1). Results are identical at every vector length.
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SVE
#error "gemm_qs8_8x2vlc4_sve_dot.hpp needs SVE (TESSERA_HAS_SVE)"
#endif

#include <arm_sve.h>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <tessera/arch/sve/requant_stage.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/op.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct gemm_qs8_8x2vlc4_sve_dot {
  using arch = tessera::arch::sve;
  static constexpr const char* name = "gemm_qs8_8x2vlc4_sve_dot";
  /// Channels per packed block: two int32 vectors (vector-length dependent: query at run time).
  static std::size_t nr() noexcept { return 2 * svcntw(); }
  static std::size_t kr() noexcept { return 4; }

  /// C[m][n] = clamp(MBQM(sum_k A[m][k] W[n][k] + bias'[n] + row_offset[m]) + zp), int32 wrapping.
  /// @param[in]  a           m rows of k int8 values, row stride a_stride (elements)
  /// @param[in]  packed_w    weights packed by pack_qs8_weights with nr(), kr() = 4; 4-byte aligned
  /// @param[in]  row_offset  m int32 values added to every channel of a row, or nullptr
  /// @param[out] c           m rows of n int8 values, row stride c_stride (elements)
  /// @param[in]  p           output stage; shifts in [-31, 30], act_min/act_max within int8
  template <class Q>
  static void run(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a, std::size_t a_stride,
                  const void* packed_w, const std::int32_t* row_offset, std::int8_t* c, std::size_t c_stride,
                  const output_stage<Q>& p) noexcept {
    if constexpr (std::is_same_v<Q, requant::per_tensor>) {
      if (p.q.shift > 0) rows<Q, shift_kind::left>(m, n, k, a, a_stride, packed_w, row_offset, c, c_stride, p);
      else rows<Q, shift_kind::right>(m, n, k, a, a_stride, packed_w, row_offset, c, c_stride, p);
    } else {
      rows<Q, shift_kind::both>(m, n, k, a, a_stride, packed_w, row_offset, c, c_stride, p);
    }
  }

 private:
  /// Which MBQM steps the stage needs (sve/requant_stage.hpp).
  using shift_kind = tessera::arch::sve_ops::shift_kind;

  template <class Q, shift_kind S>
  static void rows(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a, std::size_t a_stride,
                   const void* packed_w, const std::int32_t* row_offset, std::int8_t* c, std::size_t c_stride,
                   const output_stage<Q>& p) noexcept {
    std::size_t i = 0;
    for (; m - i >= 8; i += 8)
      tile<8, Q, S>(8, n, k, a + i * a_stride, a_stride, packed_w, row_offset ? row_offset + i : nullptr,
                    c + i * c_stride, c_stride, p);
    const std::size_t r = m - i;
    const std::int8_t* ar = a + i * a_stride;
    const std::int32_t* ro = row_offset ? row_offset + i : nullptr;
    std::int8_t* cr = c + i * c_stride;
    if (r > 4) tile<8, Q, S>(r, n, k, ar, a_stride, packed_w, ro, cr, c_stride, p);
    else if (r > 2) tile<4, Q, S>(r, n, k, ar, a_stride, packed_w, ro, cr, c_stride, p);
    else if (r == 2) tile<2, Q, S>(r, n, k, ar, a_stride, packed_w, ro, cr, c_stride, p);
    else if (r == 1) tile<1, Q, S>(r, n, k, ar, a_stride, packed_w, ro, cr, c_stride, p);
  }

  /// The A row pointers of a tile (row-clamped).
  struct row_ptrs {
    const std::int8_t* p[8];
  };

  /// 16 k of R rows: 8 B vectors (k-group g under predicate pbg), one replicated A quadword per row
  /// (under pa), 16 SDOT per row.
  template <std::size_t R>
  [[gnu::always_inline]] static inline void step(svint32_t& x00, svint32_t& x01, svint32_t& x10, svint32_t& x11,
                                                 svint32_t& x20, svint32_t& x21, svint32_t& x30, svint32_t& x31,
                                                 svint32_t& x40, svint32_t& x41, svint32_t& x50, svint32_t& x51,
                                                 svint32_t& x60, svint32_t& x61, svint32_t& x70, svint32_t& x71,
                                                 const row_ptrs& ar, std::size_t kk, const std::int8_t* w, svbool_t pa,
                                                 svbool_t pb0, svbool_t pb1, svbool_t pb2, svbool_t pb3) noexcept {
    const svint8_t b00 = svld1_vnum_s8(pb0, w, 0), b01 = svld1_vnum_s8(pb0, w, 1);
    const svint8_t b10 = svld1_vnum_s8(pb1, w, 2), b11 = svld1_vnum_s8(pb1, w, 3);
    const svint8_t b20 = svld1_vnum_s8(pb2, w, 4), b21 = svld1_vnum_s8(pb2, w, 5);
    const svint8_t b30 = svld1_vnum_s8(pb3, w, 6), b31 = svld1_vnum_s8(pb3, w, 7);
    // All A quadwords first, then lane by lane (k-group by k-group): 8 A + 16 accumulators + 2 B
    // live at a time keeps both GCC and clang free of spills (row by row, clang hoists the A loads
    // and spills one).
    const svint8_t a0 = svld1rq_s8(pa, ar.p[0] + kk);
    svint8_t a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;  // rows >= R: unused
    if constexpr (R > 1) a1 = svld1rq_s8(pa, ar.p[1] + kk);
    if constexpr (R > 2) {
      a2 = svld1rq_s8(pa, ar.p[2] + kk);
      a3 = svld1rq_s8(pa, ar.p[3] + kk);
    }
    if constexpr (R > 4) {
      a4 = svld1rq_s8(pa, ar.p[4] + kk);
      a5 = svld1rq_s8(pa, ar.p[5] + kk);
      a6 = svld1rq_s8(pa, ar.p[6] + kk);
      a7 = svld1rq_s8(pa, ar.p[7] + kk);
    }
    lane<0, R>(x00, x01, x10, x11, x20, x21, x30, x31, x40, x41, x50, x51, x60, x61, x70, x71, a0, a1, a2, a3, a4, a5,
               a6, a7, b00, b01);
    lane<1, R>(x00, x01, x10, x11, x20, x21, x30, x31, x40, x41, x50, x51, x60, x61, x70, x71, a0, a1, a2, a3, a4, a5,
               a6, a7, b10, b11);
    lane<2, R>(x00, x01, x10, x11, x20, x21, x30, x31, x40, x41, x50, x51, x60, x61, x70, x71, a0, a1, a2, a3, a4, a5,
               a6, a7, b20, b21);
    lane<3, R>(x00, x01, x10, x11, x20, x21, x30, x31, x40, x41, x50, x51, x60, x61, x70, x71, a0, a1, a2, a3, a4, a5,
               a6, a7, b30, b31);
  }

  /// k-group L (lane L of each row's replicated A quadword) of R rows against B vectors b0, b1.
  template <int L, std::size_t R>
  [[gnu::always_inline]] static inline void lane(svint32_t& x00, svint32_t& x01, svint32_t& x10, svint32_t& x11,
                                                 svint32_t& x20, svint32_t& x21, svint32_t& x30, svint32_t& x31,
                                                 svint32_t& x40, svint32_t& x41, svint32_t& x50, svint32_t& x51,
                                                 svint32_t& x60, svint32_t& x61, svint32_t& x70, svint32_t& x71,
                                                 svint8_t a0, svint8_t a1, svint8_t a2, svint8_t a3, svint8_t a4,
                                                 svint8_t a5, svint8_t a6, svint8_t a7, svint8_t b0,
                                                 svint8_t b1) noexcept {
    x00 = svdot_lane_s32(x00, b0, a0, L);
    x01 = svdot_lane_s32(x01, b1, a0, L);
    if constexpr (R > 1) {
      x10 = svdot_lane_s32(x10, b0, a1, L);
      x11 = svdot_lane_s32(x11, b1, a1, L);
    }
    if constexpr (R > 2) {
      x20 = svdot_lane_s32(x20, b0, a2, L);
      x21 = svdot_lane_s32(x21, b1, a2, L);
      x30 = svdot_lane_s32(x30, b0, a3, L);
      x31 = svdot_lane_s32(x31, b1, a3, L);
    }
    if constexpr (R > 4) {
      x40 = svdot_lane_s32(x40, b0, a4, L);
      x41 = svdot_lane_s32(x41, b1, a4, L);
      x50 = svdot_lane_s32(x50, b0, a5, L);
      x51 = svdot_lane_s32(x51, b1, a5, L);
      x60 = svdot_lane_s32(x60, b0, a6, L);
      x61 = svdot_lane_s32(x61, b1, a6, L);
      x70 = svdot_lane_s32(x70, b0, a7, L);
      x71 = svdot_lane_s32(x71, b1, a7, L);
    }
  }

  /// R rows (mr <= R valid, the rest clamped to the last valid row) x all n channels.
  template <std::size_t R, class Q, shift_kind S>
  static void tile(std::size_t mr, std::size_t n, std::size_t k, const std::int8_t* a, std::size_t a_stride,
                   const void* packed_w, const std::int32_t* row_offset, std::int8_t* c, std::size_t c_stride,
                   const output_stage<Q>& p) noexcept {
    namespace ops = tessera::arch::sve_ops;
    // Row clamping: row i >= mr reads, offsets and writes row mr - 1.
    row_ptrs ar;
    ar.p[0] = a;
    for (std::size_t i = 1; i < R; ++i) ar.p[i] = i < mr ? ar.p[i - 1] + a_stride : ar.p[i - 1];
    std::int8_t* c0 = c;
    std::int8_t* c1 = mr > 1 ? c0 + c_stride : c0;
    std::int8_t* c2 = mr > 2 ? c1 + c_stride : c1;
    std::int8_t* c3 = mr > 3 ? c2 + c_stride : c2;
    std::int8_t* c4 = mr > 4 ? c3 + c_stride : c3;
    std::int8_t* c5 = mr > 5 ? c4 + c_stride : c4;
    std::int8_t* c6 = mr > 6 ? c5 + c_stride : c5;
    std::int8_t* c7 = mr > 7 ? c6 + c_stride : c6;
    std::int32_t o0 = 0, o1 = 0, o2 = 0, o3 = 0, o4 = 0, o5 = 0, o6 = 0, o7 = 0;
    if (row_offset != nullptr) {
      o0 = row_offset[0];
      o1 = mr > 1 ? row_offset[1] : o0;
      o2 = mr > 2 ? row_offset[2] : o1;
      o3 = mr > 3 ? row_offset[3] : o2;
      o4 = mr > 4 ? row_offset[4] : o3;
      o5 = mr > 5 ? row_offset[5] : o4;
      o6 = mr > 6 ? row_offset[6] : o5;
      o7 = mr > 7 ? row_offset[7] : o6;
    }

    const svbool_t all8 = svptrue_b8(), all = svptrue_b32();
    const std::uint64_t vl = svcntw(), nrb = 2 * vl;
    const std::size_t kpad = (k + 3) & ~std::size_t{3};
    const std::size_t block = nrb * sizeof(std::int32_t) + nrb * kpad;
    const std::size_t k16 = k & ~std::size_t{15};
    const std::size_t groups_tail = (k - k16 + 3) / 4;  // zero-padded k-groups after the 16-k steps: 0..4
    // K tail: A bytes past k load as zero; B k-group g is loaded only if it exists.
    const svbool_t pk = svwhilelt_b8_u64(k16, k);
    const svbool_t g0 = svdup_n_b8(groups_tail > 0), g1 = svdup_n_b8(groups_tail > 1);
    const svbool_t g2 = svdup_n_b8(groups_tail > 2), g3 = svdup_n_b8(groups_tail > 3);
    // Parameters in locals: int8 stores may alias anything, so members would be reloaded.
    const svint32_t zp = svdup_n_s32(p.zero_point), lo = svdup_n_s32(p.act_min), hi = svdup_n_s32(p.act_max);
    const auto q = p.q;
    const auto* blk = static_cast<const std::uint8_t*>(packed_w);
    for (std::uint64_t n0 = 0; n0 < n; n0 += nrb, blk += block) {
      const auto* bias = reinterpret_cast<const std::int32_t*>(blk);
      const svint32_t bias0 = svld1_s32(all, bias), bias1 = svld1_s32(all, bias + vl);
      svint32_t x00 = svadd_n_s32_x(all, bias0, o0), x01 = svadd_n_s32_x(all, bias1, o0);
      [[maybe_unused]] svint32_t x10 = svadd_n_s32_x(all, bias0, o1), x11 = svadd_n_s32_x(all, bias1, o1);
      [[maybe_unused]] svint32_t x20 = svadd_n_s32_x(all, bias0, o2), x21 = svadd_n_s32_x(all, bias1, o2);
      [[maybe_unused]] svint32_t x30 = svadd_n_s32_x(all, bias0, o3), x31 = svadd_n_s32_x(all, bias1, o3);
      [[maybe_unused]] svint32_t x40 = svadd_n_s32_x(all, bias0, o4), x41 = svadd_n_s32_x(all, bias1, o4);
      [[maybe_unused]] svint32_t x50 = svadd_n_s32_x(all, bias0, o5), x51 = svadd_n_s32_x(all, bias1, o5);
      [[maybe_unused]] svint32_t x60 = svadd_n_s32_x(all, bias0, o6), x61 = svadd_n_s32_x(all, bias1, o6);
      [[maybe_unused]] svint32_t x70 = svadd_n_s32_x(all, bias0, o7), x71 = svadd_n_s32_x(all, bias1, o7);
      const std::int8_t* w = reinterpret_cast<const std::int8_t*>(blk + nrb * sizeof(std::int32_t));
      std::size_t kk = 0;
      for (; kk < k16; kk += 16, w += 8 * svcntb())
        step<R>(x00, x01, x10, x11, x20, x21, x30, x31, x40, x41, x50, x51, x60, x61, x70, x71, ar, kk, w, all8, all8,
                all8, all8, all8);
      if (groups_tail != 0)
        step<R>(x00, x01, x10, x11, x20, x21, x30, x31, x40, x41, x50, x51, x60, x61, x70, x71, ar, kk, w, pk, g0,
                g1, g2, g3);
      // Output stage parameters per channel vector (inactive lanes of a partial block: 0, unused).
      const svbool_t p0 = svwhilelt_b32_u64(n0, n), p1 = svwhilelt_b32_u64(n0 + vl, n);
      svint32_t m0, m1, s0, s1;
      if constexpr (std::is_same_v<Q, requant::per_tensor>) {
        m0 = m1 = svdup_n_s32(q.multiplier);
        s0 = s1 = svdup_n_s32(q.shift);
      } else {
        m0 = svld1_s32(p0, q.multiplier + n0);
        m1 = svld1_s32(p1, q.multiplier + n0 + vl);
        s0 = svld1_s32(p0, q.shift + n0);
        s1 = svld1_s32(p1, q.shift + n0 + vl);
      }
      svuint32_t l0, r0, l1, r1;
      svint32_t k0, h0, k1, h1;
      ops::split_shift(s0, l0, r0, k0, h0);
      ops::split_shift(s1, l1, r1, k1, h1);
      // Highest row first: a clamped (missing) row stores the same bytes as the row it aliases.
      if constexpr (R > 4) {
        svst1b_s32(p0, c7 + n0, ops::requant_clamp<S>(x70, m0, l0, r0, k0, h0, zp, lo, hi));
        svst1b_s32(p1, c7 + n0 + vl, ops::requant_clamp<S>(x71, m1, l1, r1, k1, h1, zp, lo, hi));
        svst1b_s32(p0, c6 + n0, ops::requant_clamp<S>(x60, m0, l0, r0, k0, h0, zp, lo, hi));
        svst1b_s32(p1, c6 + n0 + vl, ops::requant_clamp<S>(x61, m1, l1, r1, k1, h1, zp, lo, hi));
        svst1b_s32(p0, c5 + n0, ops::requant_clamp<S>(x50, m0, l0, r0, k0, h0, zp, lo, hi));
        svst1b_s32(p1, c5 + n0 + vl, ops::requant_clamp<S>(x51, m1, l1, r1, k1, h1, zp, lo, hi));
        svst1b_s32(p0, c4 + n0, ops::requant_clamp<S>(x40, m0, l0, r0, k0, h0, zp, lo, hi));
        svst1b_s32(p1, c4 + n0 + vl, ops::requant_clamp<S>(x41, m1, l1, r1, k1, h1, zp, lo, hi));
      }
      if constexpr (R > 2) {
        svst1b_s32(p0, c3 + n0, ops::requant_clamp<S>(x30, m0, l0, r0, k0, h0, zp, lo, hi));
        svst1b_s32(p1, c3 + n0 + vl, ops::requant_clamp<S>(x31, m1, l1, r1, k1, h1, zp, lo, hi));
        svst1b_s32(p0, c2 + n0, ops::requant_clamp<S>(x20, m0, l0, r0, k0, h0, zp, lo, hi));
        svst1b_s32(p1, c2 + n0 + vl, ops::requant_clamp<S>(x21, m1, l1, r1, k1, h1, zp, lo, hi));
      }
      if constexpr (R > 1) {
        svst1b_s32(p0, c1 + n0, ops::requant_clamp<S>(x10, m0, l0, r0, k0, h0, zp, lo, hi));
        svst1b_s32(p1, c1 + n0 + vl, ops::requant_clamp<S>(x11, m1, l1, r1, k1, h1, zp, lo, hi));
      }
      svst1b_s32(p0, c0 + n0, ops::requant_clamp<S>(x00, m0, l0, r0, k0, h0, zp, lo, hi));
      svst1b_s32(p1, c0 + n0 + vl, ops::requant_clamp<S>(x01, m1, l1, r1, k1, h1, zp, lo, hi));
    }
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::gemm_qs8, tessera::arch::sve> {
  using type = tessera::kernels::gemm_qs8_8x2vlc4_sve_dot;
};
