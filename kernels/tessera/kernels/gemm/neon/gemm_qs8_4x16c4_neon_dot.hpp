/// @file gemm_qs8_4x16c4_neon_dot.hpp
/// int8 GEMM with fused requantization on AArch64 Neon + dot product (SDOT).
///
/// Tile: MR = 4 rows x NR = 16 channels, kr = 4. Consumes op.hpp's packed format with nr() = 16,
/// kr() = 4: per block of 16 channels `int32 bias'[16]`, then `int8 w[ceil(K/4)][16][4]` (zero
/// padded), so one k-group of 4 is 64 bytes = four q registers B0..B3 of 4 channels x 4 k.
/// Inner loop (k unrolled by 16): one 16-byte A load per row covers 4 k-groups; per k-group the 4 B
/// registers meet the 4 rows through SDOT by element (`vdotq_laneq_s32`, lane = k-group): 16 SDOT
/// per k-group, 64 SDOT + 4 LDR (A) + 8 LDP (B) + 3 loop instructions per iteration, 16 named
/// accumulators. Compiler-only fences (`std::atomic_signal_fence`, no instruction) split the
/// iteration into its 4 k-groups: without them GCC 12's scheduler hoists all 16 B loads (36 live
/// vectors -> spills) and its allocator breaks the LDP pairs.
/// Epilogue in registers: MBQM with tessera::arch::neon_ops (bit-exact with TFLite; a per-tensor
/// shift > 0 skips the rounding shift, shifts <= 0 (per tensor, or every per-channel one) skip
/// SSHL), + zero point in int32 (wrapping), saturating narrow to int8 (SQXTN x6 per row), then the
/// activation clamp on 16 int8 lanes.
/// Tails: M by row clamping (missing rows alias the last valid row's A and C, so they store the
/// same bytes again); N by partial stores (8/4/2/1 bytes: nothing past channel n-1 is written;
/// per-channel parameters of a partial block go through a zero-padded bounce, never read past
/// n-1); K remainder (k % 16) reads exactly the remaining A bytes into a zeroed register (8/4/2/1
/// byte integer loads) and runs ceil(rem / 4) k-groups of the zero-padded weights.
/// ISA: Armv8.2-A Neon + dotprod (FEAT_DotProd).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_NEON_DOT
#error "gemm_qs8_4x16c4_neon_dot.hpp needs AArch64 Neon with the dot product extension (TESSERA_HAS_NEON_DOT)"
#endif

#include <arm_neon.h>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <tessera/arch/neon/fixedpoint.hpp>
#include <tessera/arch/neon/gemm_int8.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/op.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct gemm_qs8_4x16c4_neon_dot {
  using arch = tessera::arch::neon_dot;
  static constexpr const char* name = "gemm_qs8_4x16c4_neon_dot";
  static std::size_t nr() noexcept { return 16; }
  static std::size_t kr() noexcept { return 4; }

  /// C[m][n] = clamp(MBQM(sum_k A[m][k] W[n][k] + bias'[n] + row_offset[m]) + zp), as the scalar kernel.
  /// @param[in]  a           m rows of k int8 values, row stride a_stride (elements)
  /// @param[in]  packed_w    weights packed by pack_qs8_weights with nr() = 16, kr() = 4
  /// @param[in]  row_offset  m int32 values added to every channel of a row, or nullptr
  /// @param[out] c           m rows of n int8 values, row stride c_stride (elements)
  /// @param[in]  p           output stage; act_min/act_max within int8 (as validate<int8_t> ensures)
  template <class Q>
  static void run(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a, std::size_t a_stride,
                  const void* packed_w, const std::int32_t* row_offset, std::int8_t* c, std::size_t c_stride,
                  const output_stage<Q>& p) noexcept {
    // kLeft: some shift is > 0. Per tensor that shift is the only one and there is no rounding
    // shift; per channel (usually all shifts <= 0) it selects the general MBQM, else SSHL and the
    // max/min split are skipped.
    bool left;
    if constexpr (std::is_same_v<Q, requant::per_tensor>) left = p.q.shift > 0;
    else left = tessera::arch::neon_ops::any_positive(p.q.shift, n);
    if (left) tiles<Q, true>(m, n, k, a, a_stride, packed_w, row_offset, c, c_stride, p);
    else tiles<Q, false>(m, n, k, a, a_stride, packed_w, row_offset, c, c_stride, p);
  }

 private:
  static_assert(std::endian::native == std::endian::little, "the K-remainder loads assume little-endian lanes");


  /// The 4 x 16 int32 accumulators: c<row><channel quad>, named members (GCC 12 keeps an array of
  /// vectors in memory; a struct of named vectors is split into registers).
  struct acc {
    int32x4_t c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33;
  };

  /// One k-group: loads B0..B3 (64 bytes at w) and does the 16 SDOT by element
  /// c<r><j> += dot(B_j, lane L of a_r), lane L holding the group's 4 k of row r.
  template <int L>
  static inline void kgroup(acc& t, const std::int8_t* w, int8x16_t a0, int8x16_t a1, int8x16_t a2,
                            int8x16_t a3) noexcept {
    const int8x16_t b0 = vld1q_s8(w), b1 = vld1q_s8(w + 16), b2 = vld1q_s8(w + 32), b3 = vld1q_s8(w + 48);
    t.c00 = vdotq_laneq_s32(t.c00, b0, a0, L); t.c01 = vdotq_laneq_s32(t.c01, b1, a0, L);
    t.c02 = vdotq_laneq_s32(t.c02, b2, a0, L); t.c03 = vdotq_laneq_s32(t.c03, b3, a0, L);
    t.c10 = vdotq_laneq_s32(t.c10, b0, a1, L); t.c11 = vdotq_laneq_s32(t.c11, b1, a1, L);
    t.c12 = vdotq_laneq_s32(t.c12, b2, a1, L); t.c13 = vdotq_laneq_s32(t.c13, b3, a1, L);
    t.c20 = vdotq_laneq_s32(t.c20, b0, a2, L); t.c21 = vdotq_laneq_s32(t.c21, b1, a2, L);
    t.c22 = vdotq_laneq_s32(t.c22, b2, a2, L); t.c23 = vdotq_laneq_s32(t.c23, b3, a2, L);
    t.c30 = vdotq_laneq_s32(t.c30, b0, a3, L); t.c31 = vdotq_laneq_s32(t.c31, b1, a3, L);
    t.c32 = vdotq_laneq_s32(t.c32, b2, a3, L); t.c33 = vdotq_laneq_s32(t.c33, b3, a3, L);
  }




  /// Row r of the tile: the 16 biases into (d0..d3).
  static inline void load_row(int32x4_t& d0, int32x4_t& d1, int32x4_t& d2, int32x4_t& d3,
                              const std::int32_t* bias) noexcept {
    d0 = vld1q_s32(bias);
    d1 = vld1q_s32(bias + 4);
    d2 = vld1q_s32(bias + 8);
    d3 = vld1q_s32(bias + 12);
  }

  /// (d0..d3) += the row offset *ro, in every lane.
  static inline void add_row(int32x4_t& d0, int32x4_t& d1, int32x4_t& d2, int32x4_t& d3,
                             const std::int32_t* ro) noexcept {
    const int32x4_t o = vld1q_dup_s32(ro);
    d0 = vaddq_s32(d0, o);
    d1 = vaddq_s32(d1, o);
    d2 = vaddq_s32(d2, o);
    d3 = vaddq_s32(d3, o);
  }

  template <class Q, bool kLeft>
  static void tiles(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a, std::size_t a_stride,
                    const void* packed_w, const std::int32_t* row_offset, std::int8_t* c, std::size_t c_stride,
                    const output_stage<Q>& p) noexcept {
    namespace ops = tessera::arch::neon_ops;
    constexpr bool per_tensor = std::is_same_v<Q, requant::per_tensor>;
    constexpr std::size_t NR = 16;
    const int32x4_t zero = vdupq_n_s32(0);
    // Per-tensor multiplier and shift (> 0: the left shift, kLeft; else -right) stay in registers.
    int32x4_t tm = zero, tsh = zero;
    const std::int32_t* mul = nullptr;
    const std::int32_t* sh = nullptr;
    if constexpr (per_tensor) {
      tm = vdupq_n_s32(p.q.multiplier);
      tsh = vdupq_n_s32(p.q.shift);
    } else {
      mul = p.q.multiplier;
      sh = p.q.shift;
    }
    const std::size_t kc = k & 15;

    for (std::size_t m0 = 0; m0 < m; m0 += 4) {
      const std::size_t mr = m - m0 < 4 ? m - m0 : 4;
      // Row clamping: missing rows alias the last valid one (same inputs, same bytes stored).
      // A rows are addressed as a0 + s_r, so one pointer walks all four.
      const std::int8_t* const a0 = a + m0 * a_stride;
      const std::size_t s1 = mr > 1 ? a_stride : 0;
      const std::size_t s2 = mr > 2 ? s1 + a_stride : s1;
      const std::size_t s3 = mr > 3 ? s2 + a_stride : s2;
      std::int8_t* const c0 = c + m0 * c_stride;
      std::int8_t* const c1 = mr > 1 ? c0 + c_stride : c0;
      std::int8_t* const c2 = mr > 2 ? c1 + c_stride : c1;
      std::int8_t* const c3 = mr > 3 ? c2 + c_stride : c2;
      const std::int32_t* const ro0 = row_offset ? row_offset + m0 : nullptr;
      const std::int32_t* const ro1 = ro0 && mr > 1 ? ro0 + 1 : ro0;
      const std::int32_t* const ro2 = ro0 && mr > 2 ? ro1 + 1 : ro1;
      const std::int32_t* const ro3 = ro0 && mr > 3 ? ro2 + 1 : ro2;

      const auto* w = static_cast<const std::int8_t*>(packed_w);
      for (std::size_t n0 = 0; n0 < n; n0 += NR) {
        const auto* bias = reinterpret_cast<const std::int32_t*>(static_cast<const void*>(w));
        w += NR * sizeof(std::int32_t);
        // Every row loads the biases itself: 8 LDP rather than 2 and 12 register copies (the
        // fences keep the compiler from merging the identical loads).
        acc t;
        load_row(t.c00, t.c01, t.c02, t.c03, bias);
        std::atomic_signal_fence(std::memory_order_seq_cst);
        load_row(t.c10, t.c11, t.c12, t.c13, bias);
        std::atomic_signal_fence(std::memory_order_seq_cst);
        load_row(t.c20, t.c21, t.c22, t.c23, bias);
        std::atomic_signal_fence(std::memory_order_seq_cst);
        load_row(t.c30, t.c31, t.c32, t.c33, bias);
        if (ro0 != nullptr) {
          add_row(t.c00, t.c01, t.c02, t.c03, ro0);
          add_row(t.c10, t.c11, t.c12, t.c13, ro1);
          add_row(t.c20, t.c21, t.c22, t.c23, ro2);
          add_row(t.c30, t.c31, t.c32, t.c33, ro3);
        }

        const std::int8_t* pa = a0;
        for (std::size_t i = k >> 4; i != 0; --i) {
          const int8x16_t va0 = vld1q_s8(pa), va1 = vld1q_s8(pa + s1), va2 = vld1q_s8(pa + s2),
                          va3 = vld1q_s8(pa + s3);
          pa += 16;
          std::atomic_signal_fence(std::memory_order_seq_cst);
          kgroup<0>(t, w, va0, va1, va2, va3);
          std::atomic_signal_fence(std::memory_order_seq_cst);
          kgroup<1>(t, w + 64, va0, va1, va2, va3);
          std::atomic_signal_fence(std::memory_order_seq_cst);
          kgroup<2>(t, w + 128, va0, va1, va2, va3);
          std::atomic_signal_fence(std::memory_order_seq_cst);
          kgroup<3>(t, w + 192, va0, va1, va2, va3);
          w += 256;
        }
        if (kc != 0) {
          // ceil(kc / 4) k-groups remain; the A bytes past k are zeros, the weights zero padded.
          const int8x16_t va0 = tessera::arch::neon_ops::load_partial(pa, kc), va1 = tessera::arch::neon_ops::load_partial(pa + s1, kc),
                          va2 = tessera::arch::neon_ops::load_partial(pa + s2, kc), va3 = tessera::arch::neon_ops::load_partial(pa + s3, kc);
          kgroup<0>(t, w, va0, va1, va2, va3);
          if (kc > 4) kgroup<1>(t, w + 64, va0, va1, va2, va3);
          if (kc > 8) kgroup<2>(t, w + 128, va0, va1, va2, va3);
          if (kc > 12) kgroup<3>(t, w + 192, va0, va1, va2, va3);
          w += 64 * ((kc + 3) / 4);
        }
        // w now points at the next block.

        // Requantize one channel quad (4 rows) at a time. The zero point and clamp bounds are
        // read here, per tile: kept in registers across the K loop they push GCC 12 past the 24
        // caller-saved vectors and it starts shuffling accumulators. (The int8 stores may alias
        // `p`, so the compiler cannot hoist these loads.)
        const int32x4_t zp = vld1q_dup_s32(&p.zero_point);
        const int8x16_t lo = vdupq_n_s8(static_cast<std::int8_t>(p.act_min));
        const int8x16_t hi = vdupq_n_s8(static_cast<std::int8_t>(p.act_max));
        const std::size_t nb = n - n0 < NR ? n - n0 : NR;
        const std::int32_t* qm = nullptr;
        const std::int32_t* qs = nullptr;
        alignas(16) std::int32_t bounce[2 * NR];
        if constexpr (!per_tensor) {
          qm = mul + n0;
          qs = sh + n0;
          if (nb != NR) {  // never read the per-channel arrays past channel n-1
            for (std::size_t j = 0; j < NR; ++j) {
              bounce[j] = j < nb ? qm[j] : 0;
              bounce[NR + j] = j < nb ? qs[j] : 0;
            }
            qm = bounce;
            qs = bounce + NR;
          }
        }
        auto quad = [&](int32x4_t& y0, int32x4_t& y1, int32x4_t& y2, int32x4_t& y3, std::size_t j) noexcept {
          if constexpr (per_tensor) {
            static_cast<void>(j);
            if constexpr (kLeft) {
              y0 = ops::srdhm(vshlq_s32(y0, tsh), tm); y1 = ops::srdhm(vshlq_s32(y1, tsh), tm);
              y2 = ops::srdhm(vshlq_s32(y2, tsh), tm); y3 = ops::srdhm(vshlq_s32(y3, tsh), tm);
            } else {
              y0 = ops::rdpot_neg(ops::srdhm(y0, tm), tsh); y1 = ops::rdpot_neg(ops::srdhm(y1, tm), tsh);
              y2 = ops::rdpot_neg(ops::srdhm(y2, tm), tsh); y3 = ops::rdpot_neg(ops::srdhm(y3, tm), tsh);
            }
          } else if constexpr (kLeft) {
            const int32x4_t vm = vld1q_s32(qm + j), s = vld1q_s32(qs + j);
            const int32x4_t left = vmaxq_s32(s, zero), neg_right = vminq_s32(s, zero);
            y0 = ops::mbqm32(y0, vm, left, neg_right); y1 = ops::mbqm32(y1, vm, left, neg_right);
            y2 = ops::mbqm32(y2, vm, left, neg_right); y3 = ops::mbqm32(y3, vm, left, neg_right);
          } else {  // every shift <= 0: MBQM without its (zero) left shift
            const int32x4_t vm = vld1q_s32(qm + j), neg_right = vld1q_s32(qs + j);
            y0 = ops::rdpot_neg(ops::srdhm(y0, vm), neg_right); y1 = ops::rdpot_neg(ops::srdhm(y1, vm), neg_right);
            y2 = ops::rdpot_neg(ops::srdhm(y2, vm), neg_right); y3 = ops::rdpot_neg(ops::srdhm(y3, vm), neg_right);
          }
          y0 = vaddq_s32(y0, zp); y1 = vaddq_s32(y1, zp); y2 = vaddq_s32(y2, zp); y3 = vaddq_s32(y3, zp);
        };
        quad(t.c00, t.c10, t.c20, t.c30, 0);
        quad(t.c01, t.c11, t.c21, t.c31, 4);
        quad(t.c02, t.c12, t.c22, t.c32, 8);
        quad(t.c03, t.c13, t.c23, t.c33, 12);
        const int8x16_t r0 = tessera::arch::neon_ops::narrow_clamp(t.c00, t.c01, t.c02, t.c03, lo, hi);
        const int8x16_t r1 = tessera::arch::neon_ops::narrow_clamp(t.c10, t.c11, t.c12, t.c13, lo, hi);
        const int8x16_t r2 = tessera::arch::neon_ops::narrow_clamp(t.c20, t.c21, t.c22, t.c23, lo, hi);
        const int8x16_t r3 = tessera::arch::neon_ops::narrow_clamp(t.c30, t.c31, t.c32, t.c33, lo, hi);
        // A clamped row aliases the row before it and stores identical bytes.
        if (nb == NR) {
          vst1q_s8(c3 + n0, r3);
          vst1q_s8(c2 + n0, r2);
          vst1q_s8(c1 + n0, r1);
          vst1q_s8(c0 + n0, r0);
        } else {
          tessera::arch::neon_ops::store_partial(c3 + n0, r3, nb);
          tessera::arch::neon_ops::store_partial(c2 + n0, r2, nb);
          tessera::arch::neon_ops::store_partial(c1 + n0, r1, nb);
          tessera::arch::neon_ops::store_partial(c0 + n0, r0, nb);
        }
      }
    }
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::gemm_qs8, tessera::arch::neon_dot> {
  using type = tessera::kernels::gemm_qs8_4x16c4_neon_dot;
};
