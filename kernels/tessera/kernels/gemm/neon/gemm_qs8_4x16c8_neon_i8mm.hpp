/// @file gemm_qs8_4x16c8_neon_i8mm.hpp
/// int8 GEMM with fused requantization on AArch64 Neon + int8 matrix multiply (SMMLA).
///
/// Tile: MR = 4 rows x NR = 16 channels, kr = 8. Consumes op.hpp's packed format with nr() = 16,
/// kr() = 8: per block of 16 channels `int32 bias'[16]`, then `int8 w[ceil(K/8)][16][8]` (zero
/// padded), so one k-group of 8 is 128 bytes = eight q registers B0..B7, B_j = channels 2j, 2j+1
/// x 8 k: exactly SMMLA's second operand (2 x 8, row-major).
/// SMMLA (`vmmlaq_s32`) adds A(2 rows x 8 k) * B(2 channels x 8 k)^T to a 2 x 2 int32 tile held as
/// [r0c0 r0c1 r1c0 r1c1]: a k-group is 2 row pairs x 8 channel pairs = 16 SMMLA into 16 named
/// accumulators.
/// A pre-interleaved once per row tile: the A operand of a row pair is 8 k of row r then 8 k of
/// row r+1 (ZIP1/ZIP2 of 64-bit halves). Zipping in the inner loop costs 2 ZIP per 16 SMMLA on
/// the same vector pipes (<= 89% of the SMMLA issue rate on Neoverse V1/N2); instead the four rows
/// are interleaved into a stack buffer (per k-group: 16 bytes rows 0,1, 16 bytes rows 2,3; the
/// K tail zero padded to the k-group) and every block of 16 channels reads it back with plain
/// loads. Inner loop (k unrolled by 32): 4 LDP of A pairs, 16 LDP of B, 64 SMMLA and the
/// pointer/loop updates. Compiler-only fences (`std::atomic_signal_fence`, no instruction) keep
/// the B loads of each k-group next to their SMMLAs.
/// The buffer holds kChunk = 1024 k (4 KiB); a deeper K is interleaved and consumed chunk by chunk
/// inside each block of 16 channels (the interleave is then redone per block, as cheap as zipping
/// in the loop).
/// Epilogue: the 2 x 2 tiles are de-interleaved (ZIP1/ZIP2 of 64-bit halves) into per-row channel
/// quads, then MBQM with tessera::arch::neon_ops (bit-exact with TFLite; a per-tensor shift > 0
/// skips the rounding shift, shifts <= 0 (per tensor, or every per-channel one) skip SSHL), + zero
/// point in int32 (wrapping), saturating narrow to int8, then the activation clamp on 16 int8 lanes.
/// Tails: M by row clamping (missing rows alias the last valid row's A and C, so they store the
/// same bytes again); N by partial stores (8/4/2/1 bytes: nothing past channel n-1 is written;
/// per-channel parameters of a partial block go through a zero-padded bounce, never read past
/// n-1); K: the last k % 16 A bytes of each row are read exactly into a zeroed register
/// (8/4/2/1-byte integer loads), interleaved like the rest, and ceil(K / 8) k-groups of the
/// zero-padded weights run.
/// ISA: Armv8.6-A Neon + i8mm (FEAT_I8MM).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_NEON_I8MM
#error "gemm_qs8_4x16c8_neon_i8mm.hpp needs AArch64 Neon with the int8 matrix multiply extension (TESSERA_HAS_NEON_I8MM)"
#endif

#include <arm_neon.h>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <tessera/arch/neon/fixedpoint.hpp>
#include <tessera/arch/neon/gemm_int8.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/op.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct gemm_qs8_4x16c8_neon_i8mm {
  using arch = tessera::arch::neon_i8mm;
  static constexpr const char* name = "gemm_qs8_4x16c8_neon_i8mm";
  static std::size_t nr() noexcept { return 16; }
  static std::size_t kr() noexcept { return 8; }

  /// C[m][n] = clamp(MBQM(sum_k A[m][k] W[n][k] + bias'[n] + row_offset[m]) + zp), as the scalar kernel.
  /// @param[in]  a           m rows of k int8 values, row stride a_stride (elements)
  /// @param[in]  packed_w    weights packed by pack_qs8_weights with nr() = 16, kr() = 8
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

  /// K depth interleaved at a time (a multiple of 32): the stack buffer is 4 * kChunk bytes.
  static constexpr std::size_t kChunk = 1024;

  /// The 4 x 16 int32 accumulators as 2 x 2 tiles: u<row pair><channel pair>, u0j = rows 0,1 and
  /// u1j = rows 2,3 of channels 2j, 2j+1, lanes [r0c0 r0c1 r1c0 r1c1]. Named members (GCC 12 keeps
  /// an array of vectors in memory; a struct of named vectors is split into registers).
  struct acc {
    int32x4_t u00, u01, u02, u03, u04, u05, u06, u07, u10, u11, u12, u13, u14, u15, u16, u17;
  };

  /// One k-group of 8: loads B0..B7 (128 bytes at w) and does the 16 SMMLA
  /// u<p><j> += A_p * B_j^T, A_0 = rows 0,1 and A_1 = rows 2,3 (8 k each).
  static inline void kgroup(acc& t, const std::int8_t* w, int8x16_t a01, int8x16_t a23) noexcept {
    const int8x16_t b0 = vld1q_s8(w), b1 = vld1q_s8(w + 16);
    t.u00 = vmmlaq_s32(t.u00, a01, b0); t.u10 = vmmlaq_s32(t.u10, a23, b0);
    t.u01 = vmmlaq_s32(t.u01, a01, b1); t.u11 = vmmlaq_s32(t.u11, a23, b1);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    const int8x16_t b2 = vld1q_s8(w + 32), b3 = vld1q_s8(w + 48);
    t.u02 = vmmlaq_s32(t.u02, a01, b2); t.u12 = vmmlaq_s32(t.u12, a23, b2);
    t.u03 = vmmlaq_s32(t.u03, a01, b3); t.u13 = vmmlaq_s32(t.u13, a23, b3);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    const int8x16_t b4 = vld1q_s8(w + 64), b5 = vld1q_s8(w + 80);
    t.u04 = vmmlaq_s32(t.u04, a01, b4); t.u14 = vmmlaq_s32(t.u14, a23, b4);
    t.u05 = vmmlaq_s32(t.u05, a01, b5); t.u15 = vmmlaq_s32(t.u15, a23, b5);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    const int8x16_t b6 = vld1q_s8(w + 96), b7 = vld1q_s8(w + 112);
    t.u06 = vmmlaq_s32(t.u06, a01, b6); t.u16 = vmmlaq_s32(t.u16, a23, b6);
    t.u07 = vmmlaq_s32(t.u07, a01, b7); t.u17 = vmmlaq_s32(t.u17, a23, b7);
  }

  /// 64-bit halves: ZIP1 (lo: bytes 0-7 of x then of y) / ZIP2 (hi: bytes 8-15). For A rows this is
  /// SMMLA's A operand of a row pair; for 2 x 2 tiles it gives rows r, r+1 of a channel quad.
  template <class V>
  static inline V zip_lo(V x, V y) noexcept {
    return std::bit_cast<V>(vzip1q_s64(std::bit_cast<int64x2_t>(x), std::bit_cast<int64x2_t>(y)));
  }
  template <class V>
  static inline V zip_hi(V x, V y) noexcept {
    return std::bit_cast<V>(vzip2q_s64(std::bit_cast<int64x2_t>(x), std::bit_cast<int64x2_t>(y)));
  }

  /// Interleaves kl k of the four rows at a0 + {0, s1, s2, s3} into buf: per k-group of 8, 16 bytes
  /// of rows 0,1 then 16 bytes of rows 2,3; the last group zero padded. Reads nothing past a0 + s + kl.
  static inline void interleave(const std::int8_t* pa, std::size_t s1, std::size_t s2, std::size_t s3, std::size_t kl,
                                std::int8_t* buf) noexcept {
    for (std::size_t i = kl >> 4; i != 0; --i) {
      const int8x16_t x0 = vld1q_s8(pa), x1 = vld1q_s8(pa + s1), x2 = vld1q_s8(pa + s2), x3 = vld1q_s8(pa + s3);
      pa += 16;
      vst1q_s8(buf, zip_lo(x0, x1));
      vst1q_s8(buf + 16, zip_lo(x2, x3));
      vst1q_s8(buf + 32, zip_hi(x0, x1));
      vst1q_s8(buf + 48, zip_hi(x2, x3));
      buf += 64;
    }
    if (const std::size_t r = kl & 15; r != 0) {
      namespace ops = tessera::arch::neon_ops;
      const int8x16_t x0 = ops::load_partial(pa, r), x1 = ops::load_partial(pa + s1, r),
                      x2 = ops::load_partial(pa + s2, r), x3 = ops::load_partial(pa + s3, r);
      vst1q_s8(buf, zip_lo(x0, x1));
      vst1q_s8(buf + 16, zip_lo(x2, x3));
      if (r > 8) {
        vst1q_s8(buf + 32, zip_hi(x0, x1));
        vst1q_s8(buf + 48, zip_hi(x2, x3));
      }
    }
  }

  /// `groups` k-groups: A pairs from the interleaved buf, B from w (advanced past them).
  static inline void accumulate(acc& t, const std::int8_t*& w, const std::int8_t* pb, std::size_t groups) noexcept {
    for (const std::int8_t* const pend = pb + 32 * (groups & ~std::size_t{3}); pb != pend;) {
      std::atomic_signal_fence(std::memory_order_seq_cst);
      kgroup(t, w, vld1q_s8(pb), vld1q_s8(pb + 16));
      std::atomic_signal_fence(std::memory_order_seq_cst);
      kgroup(t, w + 128, vld1q_s8(pb + 32), vld1q_s8(pb + 48));
      std::atomic_signal_fence(std::memory_order_seq_cst);
      kgroup(t, w + 256, vld1q_s8(pb + 64), vld1q_s8(pb + 80));
      std::atomic_signal_fence(std::memory_order_seq_cst);
      kgroup(t, w + 384, vld1q_s8(pb + 96), vld1q_s8(pb + 112));
      pb += 128;
      w += 512;
    }
    for (std::size_t i = groups & 3; i != 0; --i) {
      kgroup(t, w, vld1q_s8(pb), vld1q_s8(pb + 16));
      pb += 32;
      w += 128;
    }
  }


  /// Row pair (r, r+1) of the tile: u_j = [b_2j b_2j+1 b_2j b_2j+1] (the biases of channel pair j
  /// in both 64-bit halves), plus [ro_r ro_r ro_r+1 ro_r+1] when row offsets are given.
  static inline void init_pair(int32x4_t& u0, int32x4_t& u1, int32x4_t& u2, int32x4_t& u3, int32x4_t& u4,
                               int32x4_t& u5, int32x4_t& u6, int32x4_t& u7, const std::int32_t* bias,
                               const std::int32_t* ro_a, const std::int32_t* ro_b) noexcept {
    const int32x4_t b0 = vld1q_s32(bias), b1 = vld1q_s32(bias + 4), b2 = vld1q_s32(bias + 8), b3 = vld1q_s32(bias + 12);
    u0 = zip_lo(b0, b0); u1 = zip_hi(b0, b0); u2 = zip_lo(b1, b1); u3 = zip_hi(b1, b1);
    u4 = zip_lo(b2, b2); u5 = zip_hi(b2, b2); u6 = zip_lo(b3, b3); u7 = zip_hi(b3, b3);
    if (ro_a != nullptr) {
      const int32x4_t o = vcombine_s32(vld1_dup_s32(ro_a), vld1_dup_s32(ro_b));
      u0 = vaddq_s32(u0, o); u1 = vaddq_s32(u1, o); u2 = vaddq_s32(u2, o); u3 = vaddq_s32(u3, o);
      u4 = vaddq_s32(u4, o); u5 = vaddq_s32(u5, o); u6 = vaddq_s32(u6, o); u7 = vaddq_s32(u7, o);
    }
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
    // Interleaved A of the row tile: all of K when it fits (once per row tile), else one chunk
    // at a time inside each block of channels.
    alignas(16) std::int8_t abuf[4 * kChunk];
    const bool once = k <= kChunk;

    for (std::size_t m0 = 0; m0 < m; m0 += 4) {
      const std::size_t mr = m - m0 < 4 ? m - m0 : 4;
      // Row clamping: missing rows alias the last valid one (same inputs, same bytes stored).
      // A rows are addressed as a0 + s_r.
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
      if (once) interleave(a0, s1, s2, s3, k, abuf);

      const auto* w = static_cast<const std::int8_t*>(packed_w);
      for (std::size_t n0 = 0; n0 < n; n0 += NR) {
        const auto* bias = reinterpret_cast<const std::int32_t*>(static_cast<const void*>(w));
        w += NR * sizeof(std::int32_t);
        // Each row pair loads the biases itself (the fence keeps the compiler from merging the
        // identical loads into one and 8 register copies).
        acc t;
        init_pair(t.u00, t.u01, t.u02, t.u03, t.u04, t.u05, t.u06, t.u07, bias, ro0, ro1);
        std::atomic_signal_fence(std::memory_order_seq_cst);
        init_pair(t.u10, t.u11, t.u12, t.u13, t.u14, t.u15, t.u16, t.u17, bias, ro2, ro3);

        // One pass when K fits the buffer; else chunks of kChunk k (a multiple of 32, so only the
        // last chunk has a K tail). w ends at the next block.
        std::size_t k0 = 0;
        do {
          const std::size_t kl = k - k0 < kChunk ? k - k0 : kChunk;
          if (!once) interleave(a0 + k0, s1, s2, s3, kl, abuf);
          accumulate(t, w, abuf, (kl + 7) / 8);
          k0 += kl;
        } while (k0 < k);

        // De-interleave the 2 x 2 tiles: q<row><channel quad>.
        int32x4_t q00 = zip_lo(t.u00, t.u01), q10 = zip_hi(t.u00, t.u01);
        int32x4_t q01 = zip_lo(t.u02, t.u03), q11 = zip_hi(t.u02, t.u03);
        int32x4_t q02 = zip_lo(t.u04, t.u05), q12 = zip_hi(t.u04, t.u05);
        int32x4_t q03 = zip_lo(t.u06, t.u07), q13 = zip_hi(t.u06, t.u07);
        int32x4_t q20 = zip_lo(t.u10, t.u11), q30 = zip_hi(t.u10, t.u11);
        int32x4_t q21 = zip_lo(t.u12, t.u13), q31 = zip_hi(t.u12, t.u13);
        int32x4_t q22 = zip_lo(t.u14, t.u15), q32 = zip_hi(t.u14, t.u15);
        int32x4_t q23 = zip_lo(t.u16, t.u17), q33 = zip_hi(t.u16, t.u17);

        // Requantize one channel quad (4 rows) at a time. The zero point and clamp bounds are read
        // per tile rather than held across the K loop (the int8 stores may alias `p`, so the
        // compiler cannot hoist these loads).
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
        quad(q00, q10, q20, q30, 0);
        quad(q01, q11, q21, q31, 4);
        quad(q02, q12, q22, q32, 8);
        quad(q03, q13, q23, q33, 12);
        const int8x16_t r0 = ops::narrow_clamp(q00, q01, q02, q03, lo, hi);
        const int8x16_t r1 = ops::narrow_clamp(q10, q11, q12, q13, lo, hi);
        const int8x16_t r2 = ops::narrow_clamp(q20, q21, q22, q23, lo, hi);
        const int8x16_t r3 = ops::narrow_clamp(q30, q31, q32, q33, lo, hi);
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

template <> struct tessera::ukernel<tessera::op::gemm_qs8, tessera::arch::neon_i8mm> {
  using type = tessera::kernels::gemm_qs8_4x16c8_neon_i8mm;
};
