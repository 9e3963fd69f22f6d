/// @file gemm_qs16_4x2vlc4_sve_dot.hpp
/// 16x8 GEMM (int16 activations x int8 weights -> int16) with fused requantization on SVE (SVE1
/// instructions only), vector-length agnostic: int16 x int16 -> int64 indexed SDOT (`svdot_lane_s64`).
///
/// Tile: MR = 4 rows x NR = 2 * svcntw() channels (four int64 vectors of svcntd() channels), kr = 4;
/// M remainders of 1, 2 or 3 rows run 1-, 2- and 4-row instances of the same tile. Consumes the
/// blocks of op_s16.hpp with nr() = 2 * svcntw() (known at run time only) and kr() = 4: per block
/// int64 bias[nr], then int8 w[ceil(K/4)][nr][4], so one k-group is four LD1SB (sign-extending to
/// 16-bit lanes) of svcnth() bytes each: svcntd() channels x 4 depths per vector.
/// Inner loop (8 depths): per row one LD1RQH replicating 8 activations into every quadword, 8 LD1SB
/// (vnum addressing), and 32 SDOT z.d, z.h, z.h[i] (index i = depths 4i..4i+3 of the 8).
///
/// Exactness. SDOT .D sums int16 x int16 products in 64-bit lanes: the int64 sum is exact (no
/// partial-sum widening needed), and its low 32 bits are the wrapping int32 sum, so Acc = int32_t
/// (TFLite's int32 AccumScalar) takes the same loop and keeps the low halves (UZP1) before MBQM32.
/// The bias starts the accumulators (for int32 it wraps into the low half the same way).
/// Epilogue in registers: MBQM64 (MUL/MLA + ASR per int64 vector, then UZP1) or MBQM32, both from
/// tessera::arch::sve_ops; + zero point (wrapping), clamp, ST1H narrowing store.
/// Tails: M by row clamping (a missing row aliases the last valid one and stores the same values);
/// K (k % 8) by one more step whose LD1RQH is predicated by svwhilelt_b16 (activations past k read
/// as zero, never accessed) and which loads the second k-group only if it exists (k % 8 > 4); N by
/// svwhilelt_b32-predicated stores and per-channel parameter loads. The last block's padded
/// channels have zero weights and biases. ISA: Armv8.2-A SVE. Results identical at every length.
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SVE
#error "gemm_qs16_4x2vlc4_sve_dot.hpp needs SVE (TESSERA_HAS_SVE)"
#endif

#include <arm_sve.h>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <tessera/arch/sve/fixedpoint.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/op_s16.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct gemm_qs16_4x2vlc4_sve_dot {
  using arch = tessera::arch::sve;
  static constexpr const char* name = "gemm_qs16_4x2vlc4_sve_dot";
  /// Channels per packed block: two int32 vectors (vector-length dependent: query at run time).
  static std::size_t nr() noexcept { return 2 * svcntw(); }
  static std::size_t kr() noexcept { return 4; }

  /// C[m][n] = clamp(MBQM(sum_k A[m][k] W[n][k] + bias[n]) + zp), MBQM64 for Acc = int64_t,
  /// MBQM32 (int32 wrapping sum) for Acc = int32_t.
  /// @param[in]  a         m rows of k int16 activations, row stride a_stride (elements)
  /// @param[in]  blocks    qs16_blocks() of a buffer packed with nr(), kr() = 4 (8-byte aligned)
  /// @param[out] c         m rows of n int16 outputs, row stride c_stride (elements)
  /// @param[in]  p         output stage; channel c uses multiplier/shift c (per_channel)
  template <class Acc, class Q>
  static void run(std::size_t m, std::size_t n, std::size_t k, const std::int16_t* a, std::size_t a_stride,
                  const void* blocks, std::int16_t* c, std::size_t c_stride, const output_stage<Q>& p) noexcept {
    static_assert(std::is_same_v<Acc, std::int64_t> || std::is_same_v<Acc, std::int32_t>,
                  "gemm_qs16: the accumulator is int64_t (int64 bias) or int32_t (int32 bias)");
    std::size_t i = 0;
    for (; m - i >= 4; i += 4) tile<4, Acc>(4, n, k, a + i * a_stride, a_stride, blocks, c + i * c_stride, c_stride, p);
    const std::size_t r = m - i;
    if (r > 2) tile<4, Acc>(r, n, k, a + i * a_stride, a_stride, blocks, c + i * c_stride, c_stride, p);
    else if (r == 2) tile<2, Acc>(r, n, k, a + i * a_stride, a_stride, blocks, c + i * c_stride, c_stride, p);
    else if (r == 1) tile<1, Acc>(r, n, k, a + i * a_stride, a_stride, blocks, c + i * c_stride, c_stride, p);
  }

 private:
  /// 8 depths (G = 2 k-groups) or the last 1..4 (G = 1) of R rows: A quadwords under pa, then
  /// k-group g (lane g of each quadword) against its four weight vectors.
  template <std::size_t R, int G>
  [[gnu::always_inline]] static inline void step(svint64_t& x00, svint64_t& x01, svint64_t& x02, svint64_t& x03,
                                                 svint64_t& x10, svint64_t& x11, svint64_t& x12, svint64_t& x13,
                                                 svint64_t& x20, svint64_t& x21, svint64_t& x22, svint64_t& x23,
                                                 svint64_t& x30, svint64_t& x31, svint64_t& x32, svint64_t& x33,
                                                 const std::int16_t* a0p, const std::int16_t* a1p,
                                                 const std::int16_t* a2p, const std::int16_t* a3p,
                                                 const std::int8_t* w, svbool_t pa) noexcept {
    const svbool_t all = svptrue_b16();
    const svint16_t a0 = svld1rq_s16(pa, a0p);
    svint16_t a1 = a0, a2 = a0, a3 = a0;  // rows >= R: unused
    if constexpr (R > 1) a1 = svld1rq_s16(pa, a1p);
    if constexpr (R > 2) {
      a2 = svld1rq_s16(pa, a2p);
      a3 = svld1rq_s16(pa, a3p);
    }
    group<0, R>(x00, x01, x02, x03, x10, x11, x12, x13, x20, x21, x22, x23, x30, x31, x32, x33, a0, a1, a2, a3,
                svld1sb_vnum_s16(all, w, 0), svld1sb_vnum_s16(all, w, 1), svld1sb_vnum_s16(all, w, 2),
                svld1sb_vnum_s16(all, w, 3));
    if constexpr (G > 1)
      group<1, R>(x00, x01, x02, x03, x10, x11, x12, x13, x20, x21, x22, x23, x30, x31, x32, x33, a0, a1, a2, a3,
                  svld1sb_vnum_s16(all, w, 4), svld1sb_vnum_s16(all, w, 5), svld1sb_vnum_s16(all, w, 6),
                  svld1sb_vnum_s16(all, w, 7));
  }

  /// k-group L (64-bit element L of each row's replicated quadword) of R rows x 4 weight vectors.
  template <int L, std::size_t R>
  [[gnu::always_inline]] static inline void group(svint64_t& x00, svint64_t& x01, svint64_t& x02, svint64_t& x03,
                                                  svint64_t& x10, svint64_t& x11, svint64_t& x12, svint64_t& x13,
                                                  svint64_t& x20, svint64_t& x21, svint64_t& x22, svint64_t& x23,
                                                  svint64_t& x30, svint64_t& x31, svint64_t& x32, svint64_t& x33,
                                                  svint16_t a0, svint16_t a1, svint16_t a2, svint16_t a3, svint16_t b0,
                                                  svint16_t b1, svint16_t b2, svint16_t b3) noexcept {
    x00 = svdot_lane_s64(x00, b0, a0, L);
    x01 = svdot_lane_s64(x01, b1, a0, L);
    x02 = svdot_lane_s64(x02, b2, a0, L);
    x03 = svdot_lane_s64(x03, b3, a0, L);
    if constexpr (R > 1) {
      x10 = svdot_lane_s64(x10, b0, a1, L);
      x11 = svdot_lane_s64(x11, b1, a1, L);
      x12 = svdot_lane_s64(x12, b2, a1, L);
      x13 = svdot_lane_s64(x13, b3, a1, L);
    }
    if constexpr (R > 2) {
      x20 = svdot_lane_s64(x20, b0, a2, L);
      x21 = svdot_lane_s64(x21, b1, a2, L);
      x22 = svdot_lane_s64(x22, b2, a2, L);
      x23 = svdot_lane_s64(x23, b3, a2, L);
      x30 = svdot_lane_s64(x30, b0, a3, L);
      x31 = svdot_lane_s64(x31, b1, a3, L);
      x32 = svdot_lane_s64(x32, b2, a3, L);
      x33 = svdot_lane_s64(x33, b3, a3, L);
    }
  }

  /// Requantizes one row's half-block (int64 vectors x0: channels 0..svcntd()-1, x1: the next
  /// svcntd()) and stores the channels under pg. Acc = int64_t: MBQM64 with prepared int64
  /// parameters; Acc = int32_t: the low 32-bit halves (wrapping sum) through MBQM32.
  template <class Acc>
  [[gnu::always_inline]] static inline void store_half(svbool_t pg, std::int16_t* out, svint64_t x0, svint64_t x1,
                                                       svint64_t rm0, svint64_t rm1, svint64_t rd0, svint64_t rd1,
                                                       svuint64_t t0, svuint64_t t1, svint32_t mul, svuint32_t left,
                                                       svuint32_t right, svint32_t mask, svint32_t half, svint32_t zp,
                                                       svint32_t lo, svint32_t hi) noexcept {
    namespace ops = tessera::arch::sve_ops;
    svint32_t y;
    if constexpr (std::is_same_v<Acc, std::int64_t>) {
      y = ops::narrow_s32(ops::mbqm64(x0, rm0, rd0, t0), ops::mbqm64(x1, rm1, rd1, t1));
    } else {
      y = ops::mbqm32(ops::narrow_s32(x0, x1), mul, left, right, mask, half);
    }
    ops::store_narrow(pg, out, ops::clamp(svadd_s32_x(svptrue_b32(), y, zp), lo, hi));
  }

  /// Requantizes and stores channel half H (svcntw() channels from n0 + H * svcntw()) of R rows.
  template <std::size_t R, class Acc, class Q>
  [[gnu::always_inline]] static inline void epilogue(svint64_t x0a, svint64_t x0b, svint64_t x1a, svint64_t x1b,
                                                     svint64_t x2a, svint64_t x2b, svint64_t x3a, svint64_t x3b,
                                                     std::int16_t* c0, std::int16_t* c1, std::int16_t* c2,
                                                     std::int16_t* c3, std::uint64_t ch, std::size_t n, const Q& q,
                                                     svint32_t zp, svint32_t lo, svint32_t hi) noexcept {
    namespace ops = tessera::arch::sve_ops;
    const svbool_t pg = svwhilelt_b32_u64(ch, n), all = svptrue_b32();
    svint32_t m, s;
    if constexpr (std::is_same_v<Q, requant::per_tensor>) {
      m = svdup_n_s32(q.multiplier);
      s = svdup_n_s32(q.shift);
    } else {
      m = svld1_s32(pg, q.multiplier + ch);  // inactive lanes: 0 (their results are not stored)
      s = svld1_s32(pg, q.shift + ch);
    }
    // Prepared once per half-block for all rows; the other accumulator's parameters stay unused.
    svint64_t rm0 = svdup_n_s64(0), rm1 = rm0, rd0 = rm0, rd1 = rm0;
    svuint64_t t0 = svdup_n_u64(0), t1 = t0;
    svint32_t mask = svdup_n_s32(0), half = mask;
    svuint32_t left = svdup_n_u32(0), right = left;
    if constexpr (std::is_same_v<Acc, std::int64_t>) {
      const svint32_t rm = ops::mbqm64_multiplier(m), t = svsubr_n_s32_x(all, s, 15);
      rm0 = svunpklo_s64(rm);
      rm1 = svunpkhi_s64(rm);
      t0 = svreinterpret_u64_s64(svunpklo_s64(t));
      t1 = svreinterpret_u64_s64(svunpkhi_s64(t));
      rd0 = ops::mbqm64_round(t0);
      rd1 = ops::mbqm64_round(t1);
    } else {
      left = svreinterpret_u32_s32(svmax_n_s32_x(all, s, 0));
      right = svreinterpret_u32_s32(svmax_n_s32_x(all, svneg_s32_x(all, s), 0));
      mask = ops::rdpot_mask(right);
      half = svasr_n_s32_x(all, mask, 1);
    }
    // Highest row first: a clamped (missing) row stores the same values as the row it aliases.
    if constexpr (R > 2) {
      store_half<Acc>(pg, c3 + ch, x3a, x3b, rm0, rm1, rd0, rd1, t0, t1, m, left, right, mask, half, zp, lo, hi);
      store_half<Acc>(pg, c2 + ch, x2a, x2b, rm0, rm1, rd0, rd1, t0, t1, m, left, right, mask, half, zp, lo, hi);
    }
    if constexpr (R > 1)
      store_half<Acc>(pg, c1 + ch, x1a, x1b, rm0, rm1, rd0, rd1, t0, t1, m, left, right, mask, half, zp, lo, hi);
    store_half<Acc>(pg, c0 + ch, x0a, x0b, rm0, rm1, rd0, rd1, t0, t1, m, left, right, mask, half, zp, lo, hi);
  }

  /// R rows (mr <= R valid, the rest clamped to the last valid row) x all n channels.
  template <std::size_t R, class Acc, class Q>
  static void tile(std::size_t mr, std::size_t n, std::size_t k, const std::int16_t* a, std::size_t a_stride,
                   const void* blocks, std::int16_t* c, std::size_t c_stride, const output_stage<Q>& p) noexcept {
    const std::int16_t* a0 = a;
    const std::int16_t* a1 = mr > 1 ? a0 + a_stride : a0;
    const std::int16_t* a2 = mr > 2 ? a1 + a_stride : a1;
    const std::int16_t* a3 = mr > 3 ? a2 + a_stride : a2;
    std::int16_t* c0 = c;
    std::int16_t* c1 = mr > 1 ? c0 + c_stride : c0;
    std::int16_t* c2 = mr > 2 ? c1 + c_stride : c1;
    std::int16_t* c3 = mr > 3 ? c2 + c_stride : c2;

    const svbool_t all16 = svptrue_b16(), all64 = svptrue_b64();
    const std::uint64_t vw = svcntw(), nrb = 2 * vw;
    const std::size_t block = packed_qs16_block_bytes(nrb, k, 4);
    const std::size_t k8 = k & ~std::size_t{7}, rest = k - k8;  // rest: 0..7 depths after the 8-steps
    const svbool_t pk = svwhilelt_b16_u64(k8, k);               // activations past k read as zero
    const std::size_t wstep = 4 * svcntb();                     // bytes of weights per 8 depths
    // Parameters in locals: int16 stores may alias anything, so members would be reloaded.
    const svint32_t zp = svdup_n_s32(p.zero_point), lo = svdup_n_s32(p.act_min), hi = svdup_n_s32(p.act_max);
    const auto q = p.q;
    const auto* blk = static_cast<const std::uint8_t*>(blocks);
    for (std::uint64_t n0 = 0; n0 < n; n0 += nrb, blk += block) {
      const auto* bias = reinterpret_cast<const std::int64_t*>(blk);
      const svint64_t b0 = svld1_vnum_s64(all64, bias, 0), b1 = svld1_vnum_s64(all64, bias, 1);
      const svint64_t b2 = svld1_vnum_s64(all64, bias, 2), b3 = svld1_vnum_s64(all64, bias, 3);
      svint64_t x00 = b0, x01 = b1, x02 = b2, x03 = b3;
      [[maybe_unused]] svint64_t x10 = b0, x11 = b1, x12 = b2, x13 = b3;
      [[maybe_unused]] svint64_t x20 = b0, x21 = b1, x22 = b2, x23 = b3;
      [[maybe_unused]] svint64_t x30 = b0, x31 = b1, x32 = b2, x33 = b3;
      const std::int8_t* w = reinterpret_cast<const std::int8_t*>(blk + nrb * sizeof(std::int64_t));
      std::size_t kk = 0;
      for (; kk < k8; kk += 8, w += wstep)
        step<R, 2>(x00, x01, x02, x03, x10, x11, x12, x13, x20, x21, x22, x23, x30, x31, x32, x33, a0 + kk, a1 + kk,
                   a2 + kk, a3 + kk, w, all16);
      if (rest > 4)
        step<R, 2>(x00, x01, x02, x03, x10, x11, x12, x13, x20, x21, x22, x23, x30, x31, x32, x33, a0 + kk, a1 + kk,
                   a2 + kk, a3 + kk, w, pk);
      else if (rest > 0)
        step<R, 1>(x00, x01, x02, x03, x10, x11, x12, x13, x20, x21, x22, x23, x30, x31, x32, x33, a0 + kk, a1 + kk,
                   a2 + kk, a3 + kk, w, pk);
      epilogue<R, Acc>(x02, x03, x12, x13, x22, x23, x32, x33, c0, c1, c2, c3, n0 + vw, n, q, zp, lo, hi);
      epilogue<R, Acc>(x00, x01, x10, x11, x20, x21, x30, x31, c0, c1, c2, c3, n0, n, q, zp, lo, hi);
    }
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::gemm_qs16_qs8, tessera::arch::sve> {
  using type = tessera::kernels::gemm_qs16_4x2vlc4_sve_dot;
};
