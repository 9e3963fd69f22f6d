/// @file gemm_qs8_1x16c16_neon_mlal.hpp
/// int8 GEMM with fused requantization for Armv8.0 Neon without dotprod (Cortex-A53/A72 class):
/// SMULL + SMLSL2 of int8 into int16, SADALP into int32 (XNNPACK's "c16 mlal" scheme, made exact).
///
/// Tile: 1 row x 16 channels, kr = 16. Packed weights (op.hpp) with nr = 16, kr = 16: per block
/// int32 bias'[16], then int8 w[ceil(K/16)][16][16] (channel j's 16 depths fill one q register).
/// 16 named int32x4 accumulators, each holding 4 partial sums of one channel; the epilogue reduces
/// them with ADDP and requantizes in registers (neon/fixedpoint.hpp SRDHM/RDPOT, + zero point,
/// clamp, narrow, one 16-byte store). One row per tile: no M remainder, and a batch-1 fully
/// connected layer wastes nothing (a 2x8 tile measured the same at 196x128x128 with GCC 12).
///
/// Exactness. Two int8 products per int16 lane overflow only at (-128)(-128) + (-128)(-128) = 2^15,
/// and our weights may be -128 (XNNPACK relies on TFLite's [-127, 127]). Here the high 8 depths of
/// every activation group are complemented (EOR with {0 x8, 0xFF x8}; ~a = -a - 1) and subtracted:
/// lane i gets a[i] w[i] - (~a[i+8]) w[i+8] = a[i] w[i] + a[i+8] w[i+8] + w[i+8], whose two terms
/// lie in [-16256, 16384] and [-16384, 16256]: the int16 sum is in [-32640, 32640], exact. The extra
/// sum over the high depths of w, C[n] = sum_{d mod 16 >= 8} w[n][d], is computed once per channel
/// block (SADALP of the packed weights, widened every 128 groups) and subtracted from bias'. All
/// int32 sums wrap consistently, as the scalar kernel's do.
/// Inner loop per 16 depths x 16 channels (256 MACs): 16 SMULL + 16 SMLSL2 + 16 SADALP, 8 LDP
/// (weights), 1 LDR + 1 EOR (activations), 2 loop instructions (two groups per iteration).
///
/// ISA: Armv8.0-A Advanced SIMD (no dotprod).
/// Tails: M needs none. N: the last block computes 16 channels (its padded weights are 0) and
/// stores through a bounce buffer, its per-channel parameters read through zeroed bounce arrays,
/// so nothing at or past channel n is read or written. K: each row's last k mod 16 activations go
/// through a zeroed 16-byte bounce buffer (A is never read past k elements); packed weights are zero
/// padded to the group and read whole.
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_NEON
#error "gemm_qs8_1x16c16_neon_mlal.hpp needs AArch64 Advanced SIMD (TESSERA_HAS_NEON)"
#endif

#include <arm_neon.h>
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <tessera/arch/neon/fixedpoint.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/op.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct gemm_qs8_1x16c16_neon_mlal {
  using arch = tessera::arch::neon;
  static constexpr const char* name = "gemm_qs8_1x16c16_neon_mlal";
  static std::size_t nr() noexcept { return 16; }
  static std::size_t kr() noexcept { return 16; }

  /// C[m][n] = clamp(MBQM(sum_k A[m][k] W[n][k] + bias'[n] + row_offset[m]) + zp), int32 wrapping.
  /// @param[in]  a           m rows of k int8 activations, row stride a_stride (elements)
  /// @param[in]  packed_w    pack_qs8_weights(n, k, 16, 16, ...) output, 4-byte aligned
  /// @param[in]  row_offset  m int32 values added to every channel of a row, or nullptr
  /// @param[out] c           m rows of n int8 outputs, row stride c_stride (elements)
  template <class Q>
  static void run(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a, std::size_t a_stride,
                  const void* packed_w, const std::int32_t* row_offset, std::int8_t* c, std::size_t c_stride,
                  const output_stage<Q>& p) noexcept {
    namespace ops = tessera::arch::neon_ops;
    constexpr std::size_t NR = 16, KR = 16;
    constexpr bool per_tensor = std::is_same_v<Q, requant::per_tensor>;
    const std::size_t groups = (k + KR - 1) / KR;           // packed depth groups
    const std::size_t kfull = k / KR, krem = k - kfull * KR;  // full activation groups, tail
    const std::size_t block = packed_qs8_bytes(NR, k, NR, KR);  // bytes per packed block (op.hpp)
    // Parameters in locals: the int8 stores may alias anything, so p's members would be reloaded.
    const int32x4_t zp = vdupq_n_s32(p.zero_point), lo = vdupq_n_s32(p.act_min), hi = vdupq_n_s32(p.act_max);
    const int32x4_t zero = vdupq_n_s32(0);
    // Per-tensor multiplier, left shift max(s, 0), negated right shift min(s, 0) (unused per channel).
    ops::mbqm32_split t{zero, zero, zero};
    if constexpr (per_tensor) t = ops::split_mbqm32(p.q.multiplier, p.q.shift);
    const auto q = p.q;
    // Complements the high 8 depths of an activation group.
    const int8x16_t hmask = vcombine_s8(vdup_n_s8(0), vdup_n_s8(-1));

    for (std::size_t n0 = 0; n0 < n; n0 += NR) {
      const auto* base = static_cast<const std::uint8_t*>(packed_w) + (n0 / NR) * block;
      const auto* bias = reinterpret_cast<const std::int32_t*>(base);
      const auto* w = reinterpret_cast<const std::int8_t*>(base + NR * sizeof(std::int32_t));
      const std::size_t nb = std::min(NR, n - n0);

      // Per-block epilogue parameters, kept in memory (the loop needs the registers):
      // bias' - C (C = sum of the weights at depths k mod 16 >= 8), multiplier, left shift
      // max(s, 0), negated right shift min(s, 0).
      block_params bp;
      {
        const int32x4x4_t b4 = vld1q_s32_x4(bias);
        for (int j = 0; j < 4; ++j) bp.be[j] = b4.val[j];
      }
      hsum_sub(w, groups, bp.be);
      bool left;  // left shifts are rare (multipliers >= 1): skip the SSHLs when there are none
      if constexpr (per_tensor) {
        left = q.shift > 0;
      } else {
        int32x4x4_t m4, s4;
        if (nb == NR) {
          m4 = vld1q_s32_x4(q.multiplier + n0);
          s4 = vld1q_s32_x4(q.shift + n0);
        } else {  // the arrays end at channel n - 1
          std::int32_t mb[NR] = {}, sb[NR] = {};
          std::memcpy(mb, q.multiplier + n0, nb * sizeof(std::int32_t));
          std::memcpy(sb, q.shift + n0, nb * sizeof(std::int32_t));
          m4 = vld1q_s32_x4(mb);
          s4 = vld1q_s32_x4(sb);
        }
        for (int j = 0; j < 4; ++j)
          bp.m[j] = m4.val[j], bp.l[j] = vmaxq_s32(s4.val[j], zero), bp.r[j] = vminq_s32(s4.val[j], zero);
        left = vmaxvq_s32(vmaxq_s32(vmaxq_s32(bp.l[0], bp.l[1]), vmaxq_s32(bp.l[2], bp.l[3]))) != 0;
      }
      // Multiplier, left shift, negated right shift of the 4 channels j*4..j*4+3.
      auto mul = [&]([[maybe_unused]] int j) noexcept { if constexpr (per_tensor) return t.m; else return bp.m[j]; };
      auto lsh = [&]([[maybe_unused]] int j) noexcept { if constexpr (per_tensor) return t.left; else return bp.l[j]; };
      auto rsh = [&]([[maybe_unused]] int j) noexcept { if constexpr (per_tensor) return t.neg_right; else return bp.r[j]; };

      for (std::size_t i = 0; i < m; ++i) {
        const std::int8_t* ap = a + i * a_stride;
        // The last k mod 16 activations, zero padded (copied before any accumulator is live).
        alignas(16) std::int8_t tail[KR];
        if (krem != 0) {
          std::memset(tail, 0, KR);
          copy_short(tail, ap + kfull * KR, krem);
        }

        // Groups of 16 depths: the first initializes the accumulators, the rest add, two per
        // loop iteration; the zero-padded tail comes last.
        acc16 x;
        const std::int8_t* wp = w;
        std::size_t todo = kfull;
        if (todo == 0) {
          group<true>(x, tail, hmask, wp);
        } else {
          group<true>(x, ap, hmask, wp);
          ap += KR, todo -= 1;
          if (todo % 2 != 0) {
            group<false>(x, ap, hmask, wp);
            ap += KR, todo -= 1;
          }
          for (; todo != 0; todo -= 2, ap += 2 * KR) {
            group<false>(x, ap, hmask, wp);
            group<false>(x, ap + KR, hmask, wp);
          }
          if (krem != 0) group<false>(x, tail, hmask, wp);
        }

        // 16 x 4 partial sums -> 16 channel sums, + bias' - C (+ row offset).
        int32x4_t y0 = vpaddq_s32(vpaddq_s32(x.c0, x.c1), vpaddq_s32(x.c2, x.c3));
        int32x4_t y1 = vpaddq_s32(vpaddq_s32(x.c4, x.c5), vpaddq_s32(x.c6, x.c7));
        int32x4_t y2 = vpaddq_s32(vpaddq_s32(x.c8, x.c9), vpaddq_s32(x.c10, x.c11));
        int32x4_t y3 = vpaddq_s32(vpaddq_s32(x.c12, x.c13), vpaddq_s32(x.c14, x.c15));
        y0 = vaddq_s32(y0, bp.be[0]), y1 = vaddq_s32(y1, bp.be[1]);
        y2 = vaddq_s32(y2, bp.be[2]), y3 = vaddq_s32(y3, bp.be[3]);
        if (row_offset != nullptr) {
          const int32x4_t ro = vdupq_n_s32(row_offset[i]);
          y0 = vaddq_s32(y0, ro), y1 = vaddq_s32(y1, ro), y2 = vaddq_s32(y2, ro), y3 = vaddq_s32(y3, ro);
        }
        // MBQM = RDPOT(SRDHM(y << left, m), right) (neon/fixedpoint.hpp), + zero point, clamp.
        if (left) {
          y0 = vshlq_s32(y0, lsh(0)), y1 = vshlq_s32(y1, lsh(1));
          y2 = vshlq_s32(y2, lsh(2)), y3 = vshlq_s32(y3, lsh(3));
        }
        y0 = ops::clamp(vaddq_s32(ops::rdpot_neg(ops::srdhm(y0, mul(0)), rsh(0)), zp), lo, hi);
        y1 = ops::clamp(vaddq_s32(ops::rdpot_neg(ops::srdhm(y1, mul(1)), rsh(1)), zp), lo, hi);
        y2 = ops::clamp(vaddq_s32(ops::rdpot_neg(ops::srdhm(y2, mul(2)), rsh(2)), zp), lo, hi);
        y3 = ops::clamp(vaddq_s32(ops::rdpot_neg(ops::srdhm(y3, mul(3)), rsh(3)), zp), lo, hi);
        std::int8_t* cr = c + i * c_stride + n0;
        if (nb == NR) {
          ops::store_narrow(cr, y0, y1, y2, y3);
        } else {
          alignas(16) std::int8_t t[NR];
          ops::store_narrow(t, y0, y1, y2, y3);
          copy_short(cr, t, nb);
        }
      }
    }
  }

 private:
  /// 16 accumulators, one per channel, each holding 4 partial sums (named members, not an array:
  /// GCC 12 keeps arrays of vectors on the stack).
  struct acc16 {
    int32x4_t c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15;
  };

  /// Epilogue parameters of one block of 16 channels (arrays: they live in memory on purpose).
  struct block_params {
    int32x4_t be[4], m[4], l[4], r[4];
  };

  /// One group of 16 depths: the activations at ap, against the 16 x 16 weights at wp, which
  /// advances by 256. First: initialize the accumulators (SADDLP),
  /// else add (SADALP).
  template <bool First>
  [[gnu::always_inline]] static inline void group(acc16& x, const std::int8_t* ap, int8x16_t hmask,
                                                  const std::int8_t*& wp) noexcept {
    // One register: low half a (for SMULL), high half ~a (for SMLSL2).
    const int8x16_t an = veorq_s8(vld1q_s8(ap), hmask);
    const int8x8_t al = vget_low_s8(an);
    quad<First>(x.c0, x.c1, x.c2, x.c3, al, an, wp);
    quad<First>(x.c4, x.c5, x.c6, x.c7, al, an, wp);
    quad<First>(x.c8, x.c9, x.c10, x.c11, al, an, wp);
    quad<First>(x.c12, x.c13, x.c14, x.c15, al, an, wp);
  }

  /// 4 channels of a group: per channel SMULL (low 8 depths) + SMLSL2 (complemented high 8 depths)
  /// into int16, then SADDLP/SADALP into int32.
  template <bool First>
  [[gnu::always_inline]] static inline void quad(int32x4_t& c0, int32x4_t& c1, int32x4_t& c2, int32x4_t& c3,
                                                 int8x8_t al, int8x16_t an, const std::int8_t*& wp) noexcept {
    const int8x16_t w0 = vld1q_s8(wp), w1 = vld1q_s8(wp + 16), w2 = vld1q_s8(wp + 32), w3 = vld1q_s8(wp + 48);
    wp += 64;
    const int16x8_t p0 = vmlsl_high_s8(vmull_s8(al, vget_low_s8(w0)), an, w0);
    const int16x8_t p1 = vmlsl_high_s8(vmull_s8(al, vget_low_s8(w1)), an, w1);
    const int16x8_t p2 = vmlsl_high_s8(vmull_s8(al, vget_low_s8(w2)), an, w2);
    const int16x8_t p3 = vmlsl_high_s8(vmull_s8(al, vget_low_s8(w3)), an, w3);
    if constexpr (First) {
      c0 = vpaddlq_s16(p0), c1 = vpaddlq_s16(p1), c2 = vpaddlq_s16(p2), c3 = vpaddlq_s16(p3);
    } else {
      c0 = vpadalq_s16(c0, p0), c1 = vpadalq_s16(c1, p1), c2 = vpadalq_s16(c2, p2), c3 = vpadalq_s16(c3, p3);
    }
    // Compiler-only fence (no instruction): keeps GCC 12's pre-allocation scheduler from hoisting
    // all 16 weight loads of a group to its top, which spills accumulators.
    std::atomic_signal_fence(std::memory_order_seq_cst);
  }

  /// dst[0..n) = src[0..n) for n < 16, in fixed-size pieces (no library call while vectors are live).
  static void copy_short(std::int8_t* dst, const std::int8_t* src, std::size_t n) noexcept {
    if (n & 8) { std::memcpy(dst, src, 8); dst += 8, src += 8; }
    if (n & 4) { std::memcpy(dst, src, 4); dst += 4, src += 4; }
    if (n & 2) { std::memcpy(dst, src, 2); dst += 2, src += 2; }
    if (n & 1) *dst = *src;
  }

  /// be[j] -= sum over the packed depths d with d mod 16 >= 8 of w[ch][d], for the 16 channels
  /// of the block at w (groups x 16 x 16 int8). SADALP sums byte pairs into int16 lanes 4-7 (the
  /// high half); 128 groups add at most 128 * 256 in magnitude, so each chunk of 128 is exact in
  /// int16 before it widens to int32.
  static void hsum_sub(const std::int8_t* w, std::size_t groups, int32x4_t (&be)[4]) noexcept {
    for (std::size_t g0 = 0; g0 < groups; g0 += 128) {
      const std::size_t g1 = std::min(groups, g0 + 128);
      int16x8_t h0 = vdupq_n_s16(0), h1 = h0, h2 = h0, h3 = h0, h4 = h0, h5 = h0, h6 = h0, h7 = h0;
      int16x8_t h8 = h0, h9 = h0, h10 = h0, h11 = h0, h12 = h0, h13 = h0, h14 = h0, h15 = h0;
      for (std::size_t g = g0; g < g1; ++g) {
        const std::int8_t* wg = w + g * 256;
        int8x16x4_t v = vld1q_s8_x4(wg);
        h0 = vpadalq_s8(h0, v.val[0]), h1 = vpadalq_s8(h1, v.val[1]), h2 = vpadalq_s8(h2, v.val[2]), h3 = vpadalq_s8(h3, v.val[3]);
        v = vld1q_s8_x4(wg + 64);
        h4 = vpadalq_s8(h4, v.val[0]), h5 = vpadalq_s8(h5, v.val[1]), h6 = vpadalq_s8(h6, v.val[2]), h7 = vpadalq_s8(h7, v.val[3]);
        v = vld1q_s8_x4(wg + 128);
        h8 = vpadalq_s8(h8, v.val[0]), h9 = vpadalq_s8(h9, v.val[1]), h10 = vpadalq_s8(h10, v.val[2]), h11 = vpadalq_s8(h11, v.val[3]);
        v = vld1q_s8_x4(wg + 192);
        h12 = vpadalq_s8(h12, v.val[0]), h13 = vpadalq_s8(h13, v.val[1]), h14 = vpadalq_s8(h14, v.val[2]), h15 = vpadalq_s8(h15, v.val[3]);
      }
      // Lanes 2-3 of SADDLP(h) are channel j's high-half sum; ADDP then UZP2 gathers 4 channels.
      auto gather = [](int16x8_t x0, int16x8_t x1, int16x8_t x2, int16x8_t x3) noexcept {
        return vuzp2q_s32(vpaddq_s32(vpaddlq_s16(x0), vpaddlq_s16(x1)), vpaddq_s32(vpaddlq_s16(x2), vpaddlq_s16(x3)));
      };
      be[0] = vsubq_s32(be[0], gather(h0, h1, h2, h3));
      be[1] = vsubq_s32(be[1], gather(h4, h5, h6, h7));
      be[2] = vsubq_s32(be[2], gather(h8, h9, h10, h11));
      be[3] = vsubq_s32(be[3], gather(h12, h13, h14, h15));
    }
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::gemm_qs8, tessera::arch::neon> {
  using type = tessera::kernels::gemm_qs8_1x16c16_neon_mlal;
};
