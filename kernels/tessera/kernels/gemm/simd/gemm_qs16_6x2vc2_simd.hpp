/// @file gemm_qs16_6x2vc2_simd.hpp
/// 16x8 GEMM (int16 activations x int8 weights -> int16) with fused requantization on xsimd (the
/// `simd` tag): int16 activation pairs against sign-extended weight pairs (simd/qs16.hpp).
///
/// Tile: 6 rows x 2v channels, v = int32 lanes of the xsimd arch (AVX2: 6x16 in 12 accumulators +
/// 2 weight batches + 1 broadcast = 15 of the 16 ymm registers; Neon64: 6x8). Consumes the blocks of
/// op_s16.hpp with nr = 2v, kr = 2: per block int64 bias[2v], then int8 w[ceil(K/2)][2v][2].
/// One k step takes a pair of depths: the 4v weight bytes widen into two int16 batches (channel j's
/// pair in int32 lane j), each row's (a[k], a[k+1]) is read straight from A as one int32 and
/// broadcast, and madd_s16 (AVX2 VPMADDWD + VPADDD; Neon SMULL/SMULL2 + ADDP + ADD) adds 2 products
/// per lane. Inner loop per k step on AVX2 (6 x 16 x 2 = 192 MACs): 2 VPMOVSXBW (weights), 6
/// VPBROADCASTD (memory), 12 VPMADDWD + 12 VPADDD. The packed weights are walked in L2-sized panels
/// of whole blocks; each panel meets every row tile of A before the next panel.
/// M = 1 (fully connected at batch 1) and a last single row take a GEMV path: the row against 4
/// blocks at a time (8 accumulators, 64 channels of weights streamed in parallel on AVX2).
///
/// Exactness. |int16 * int8| <= 2^22, so an int32 lane holds any sum of 256 products exactly
/// (<= 2^30). Acc = int64_t (int64 bias): the int32 lanes start at 0 and are widened into int64
/// sums that started at the bias (widen_add_s32, in a stack array) after every 128 k steps (256
/// depths) and at the end, so the int64 result is the exact sum for any K. Acc = int32_t (TFLite's
/// int32 AccumScalar): the lanes start at the bias' low 32 bits and wrap modulo 2^32, like the
/// scalar kernel's wrapping sum.
/// Epilogue (out of line, per block), vectorized for both: MBQM64 on int64 lanes (simd_ops::mbqm64:
/// 32x32 multiplies of the split accumulator, rounding add, arithmetic shift), or MBQM32 (srdhm,
/// rdpot of xsimd_bridge.hpp); + zero point (wrapping), clamp, int16 narrowing stores.
/// ISA: x86-64 AVX2+FMA (xsimd fma3<avx2>) or AArch64 Neon (xsimd neon64).
/// Tails: M by row clamping (a missing row's A pointer aliases the last valid row; missing rows are
/// never stored) and the GEMV path for a single last row; N by a bounce buffer for the last block's
/// stores and per-channel parameters (nothing read or written at or past channel n); K: an odd
/// depth's last activation is broadcast alone (broadcast_last_s16 reads A[k - 1] only), so A is
/// never read past k elements; the zero-padded weights are read up to the padded depth.
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SIMD
#error "gemm_qs16_6x2vc2_simd.hpp needs the simd tag (TESSERA_USE_XSIMD=1 and AVX2+FMA on x86-64 or Neon on AArch64)"
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <tessera/arch/simd/dot.hpp>
#include <tessera/arch/simd/qs16.hpp>
#include <tessera/arch/simd/xsimd_bridge.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/op_s16.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct gemm_qs16_6x2vc2_simd {
  using arch = tessera::arch::simd;
  static constexpr const char* name = "gemm_qs16_6x2vc2_simd";

 private:
  using i32 = tessera::arch::simd_ops::i32;
  using i16 = tessera::arch::simd_ops::i16;
  using i64 = tessera::arch::simd_ops::i64;
  static constexpr std::size_t L = i32::size;   // int32 lanes; channels per accumulator
  static constexpr std::size_t H = i64::size;   // int64 lanes (L / 2)
  static constexpr std::size_t NR = 2 * L;      // channels per block
  static constexpr std::size_t KC = i16::size;  // weight bytes widened per load (= 2L: L channels x 2 depths)
  static constexpr std::size_t MR = 6;          // rows per tile
  /// k steps (depth pairs) per int32 run of the int64 path: 256 products of |p| <= 2^22 stay below 2^31.
  static constexpr std::size_t CH = 128;
  /// Bytes of packed weights applied to all of A before moving on (an L2-sized panel).
  static constexpr std::size_t panel_bytes = 256 * 1024;
  static_assert(H * 2 == L, "two int64 batches per int32 batch");

 public:
  static std::size_t nr() noexcept { return NR; }
  static std::size_t kr() noexcept { return 2; }

  /// C[m][n] = clamp(MBQM(sum_k A[m][k] W[n][k] + bias[n]) + zp), MBQM64 for Acc = int64_t,
  /// MBQM32 (int32 wrapping sum) for Acc = int32_t.
  /// @param[in]  a         m rows of k int16 activations, row stride a_stride (elements)
  /// @param[in]  blocks    qs16_blocks() of a buffer packed with nr(), kr() = 2 (8-byte aligned)
  /// @param[out] c         m rows of n int16 outputs, row stride c_stride (elements)
  /// @param[in]  p         output stage; channel c uses multiplier/shift c (per_channel)
  template <class Acc, class Q>
  static void run(std::size_t m, std::size_t n, std::size_t k, const std::int16_t* a, std::size_t a_stride,
                  const void* blocks, std::int16_t* c, std::size_t c_stride, const output_stage<Q>& p) noexcept {
    static_assert(std::is_same_v<Acc, std::int64_t> || std::is_same_v<Acc, std::int32_t>,
                  "gemm_qs16: the accumulator is int64_t (int64 bias) or int32_t (int32 bias)");
    const auto* pw = static_cast<const std::uint8_t*>(blocks);
    const std::size_t block = packed_qs16_block_bytes(NR, k, 2);
    const std::size_t nblocks = (n + NR - 1) / NR;
    const std::size_t panel = std::max<std::size_t>(1, panel_bytes / block);
    for (std::size_t j0 = 0; j0 < nblocks; j0 += panel) {
      const std::size_t j1 = std::min(nblocks, j0 + panel);
      for (std::size_t i = 0; i < m; i += MR) {
        const std::size_t rows = std::min(MR, m - i);
        if (rows == 1) {
          row1<Acc>(n, k, a + i * a_stride, pw, block, j0, j1, c + i * c_stride, p);
        } else {
          tile<Acc>(rows, n, k, a + i * a_stride, a_stride, pw, block, j0, j1, c + i * c_stride, c_stride, p);
        }
      }
    }
  }

 private:
  /// A block's output stage in registers: MBQM32 multipliers and shifts split into left and right
  /// (int32 path), or prepared MBQM64 parameters (int64 path).
  struct stage32 {
    i32 m0, m1, l0, l1, e0, e1, zp, lo, hi;  // multipliers, left shifts max(s, 0), right shifts max(-s, 0)
  };
  struct stage64 {
    tessera::arch::simd_ops::mbqm64_params q0, q1;
    i32 zp, lo, hi;
  };
  template <class Acc> using stage_regs = std::conditional_t<std::is_same_v<Acc, std::int32_t>, stage32, stage64>;

  /// The output stage of channels [n0, n0 + nb), nb <= NR (per-channel arrays are read below n only).
  template <class Acc, class Q>
  static stage_regs<Acc> load_stage(std::size_t n0, std::size_t nb, const output_stage<Q>& p) noexcept {
    i32 m0, m1, s0, s1;
    if constexpr (std::is_same_v<Q, requant::per_tensor>) {
      m0 = m1 = i32(p.q.multiplier);
      s0 = s1 = i32(p.q.shift);
    } else if (nb == NR) {
      m0 = i32::load_unaligned(p.q.multiplier + n0), m1 = i32::load_unaligned(p.q.multiplier + n0 + L);
      s0 = i32::load_unaligned(p.q.shift + n0), s1 = i32::load_unaligned(p.q.shift + n0 + L);
    } else {
      alignas(64) std::int32_t mb[NR] = {}, sb[NR] = {};
      std::memcpy(mb, p.q.multiplier + n0, nb * sizeof(std::int32_t));
      std::memcpy(sb, p.q.shift + n0, nb * sizeof(std::int32_t));
      m0 = i32::load_aligned(mb), m1 = i32::load_aligned(mb + L);
      s0 = i32::load_aligned(sb), s1 = i32::load_aligned(sb + L);
    }
    stage_regs<Acc> s;
    if constexpr (std::is_same_v<Acc, std::int32_t>) {
      const i32 zero(0);
      s.m0 = m0, s.m1 = m1;
      s.l0 = xsimd::max(s0, zero), s.l1 = xsimd::max(s1, zero);
      s.e0 = xsimd::max(zero - s0, zero), s.e1 = xsimd::max(zero - s1, zero);
    } else {
      s.q0 = tessera::arch::simd_ops::mbqm64_prepare(m0, s0);
      s.q1 = tessera::arch::simd_ops::mbqm64_prepare(m1, s1);
    }
    s.zp = i32(p.zero_point), s.lo = i32(p.act_min), s.hi = i32(p.act_max);
    return s;
  }

  /// Requantizes rows [0, rows) of the sums t[r][0..NR) (bias included) of channels [n0, n0 + nb)
  /// and stores them at c (row stride c_stride). Out of line on purpose: inlined, its constants
  /// stay live across the k loop and GCC spills accumulators of the 6x2v tile.
  template <class Acc, class Q>
  [[gnu::noinline]] static void epilogue(std::size_t rows, const Acc (*t)[NR], std::size_t n0, std::size_t nb,
                                         std::int16_t* c, std::size_t c_stride, const output_stage<Q>& p) noexcept {
    namespace ops = tessera::arch::simd_ops;
    const stage_regs<Acc> s = load_stage<Acc>(n0, nb, p);
    for (std::size_t r = 0; r < rows; ++r, c += c_stride) {
      i32 y0, y1;
      if constexpr (std::is_same_v<Acc, std::int32_t>) {
        const i32 x0 = i32::load_aligned(t[r]), x1 = i32::load_aligned(t[r] + L);
        y0 = ops::rdpot(ops::srdhm(ops::shl_wrap(x0, s.l0), s.m0), s.e0);
        y1 = ops::rdpot(ops::srdhm(ops::shl_wrap(x1, s.l1), s.m1), s.e1);
      } else {
        y0 = ops::mbqm64(i64::load_aligned(t[r]), i64::load_aligned(t[r] + H), s.q0);
        y1 = ops::mbqm64(i64::load_aligned(t[r] + L), i64::load_aligned(t[r] + L + H), s.q1);
      }
      y0 = xsimd::min(xsimd::max(y0 + s.zp, s.lo), s.hi);
      y1 = xsimd::min(xsimd::max(y1 + s.zp, s.lo), s.hi);
      if (nb == NR) {
        ops::store_narrow(c, y0);
        ops::store_narrow(c + L, y1);
      } else {
        alignas(64) std::int16_t b[NR];
        ops::store_narrow(b, y0);
        ops::store_narrow(b + L, y1);
        std::memcpy(c, b, nb * sizeof(std::int16_t));
      }
    }
  }

  /// The int32 start of one accumulator batch: 0 (int64 path) or the bias' low 32 bits (int32 path).
  template <class Acc> static i32 start(const std::int64_t* bias) noexcept {
    if constexpr (std::is_same_v<Acc, std::int32_t>) {
      return tessera::arch::simd_ops::narrow_s64(i64::load_unaligned(bias), i64::load_unaligned(bias + H));
    } else {
      (void)bias;
      return i32(0);
    }
  }

  /// The int32 sums of k steps [s0, s1) of six rows ar[0..6) (step s reads depths 2s, 2s + 1), plus
  /// the odd last depth 2 * s1 alone if `last`, against one block's weights w (positioned at step s0),
  /// started at the bias' low halves (wrapping) and stored to u. Out of line on purpose: one k loop
  /// for both accumulators, whose 12 accumulators GCC 12 keeps in registers (inlined into the int64
  /// path's chunk loop, or compiled for zero starts, it spilled half of them inside the loop).
  [[gnu::noinline]] static void tile_sums(std::int32_t (*u)[NR], const std::int64_t* bias, const std::int16_t* const* ar,
                                          const std::int8_t* w, std::size_t s0, std::size_t s1, bool last) noexcept {
    namespace ops = tessera::arch::simd_ops;
    const std::int16_t *a0 = ar[0], *a1 = ar[1], *a2 = ar[2], *a3 = ar[3], *a4 = ar[4], *a5 = ar[5];
    i32 acc00 = start<std::int32_t>(bias), acc01 = start<std::int32_t>(bias + L);
    i32 acc10 = acc00, acc11 = acc01, acc20 = acc00, acc21 = acc01;
    i32 acc30 = acc00, acc31 = acc01, acc40 = acc00, acc41 = acc01, acc50 = acc00, acc51 = acc01;
    auto step = [&](i16 b0, i16 b1, i16 b2, i16 b3, i16 b4, i16 b5) {
      const i16 w0 = ops::load_widen_s8(w), w1 = ops::load_widen_s8(w + KC);
      acc00 = ops::madd_s16(acc00, b0, w0), acc01 = ops::madd_s16(acc01, b0, w1);
      acc10 = ops::madd_s16(acc10, b1, w0), acc11 = ops::madd_s16(acc11, b1, w1);
      acc20 = ops::madd_s16(acc20, b2, w0), acc21 = ops::madd_s16(acc21, b2, w1);
      acc30 = ops::madd_s16(acc30, b3, w0), acc31 = ops::madd_s16(acc31, b3, w1);
      acc40 = ops::madd_s16(acc40, b4, w0), acc41 = ops::madd_s16(acc41, b4, w1);
      acc50 = ops::madd_s16(acc50, b5, w0), acc51 = ops::madd_s16(acc51, b5, w1);
    };
    for (std::size_t s = s0; s < s1; ++s, w += 2 * NR) {
      const std::size_t d = 2 * s;
      step(ops::broadcast_pair_s16(a0 + d), ops::broadcast_pair_s16(a1 + d), ops::broadcast_pair_s16(a2 + d),
           ops::broadcast_pair_s16(a3 + d), ops::broadcast_pair_s16(a4 + d), ops::broadcast_pair_s16(a5 + d));
    }
    if (last) {
      const std::size_t d = 2 * s1;
      step(ops::broadcast_last_s16(a0 + d), ops::broadcast_last_s16(a1 + d), ops::broadcast_last_s16(a2 + d),
           ops::broadcast_last_s16(a3 + d), ops::broadcast_last_s16(a4 + d), ops::broadcast_last_s16(a5 + d));
    }
    acc00.store_aligned(u[0]), acc01.store_aligned(u[0] + L), acc10.store_aligned(u[1]);
    acc11.store_aligned(u[1] + L), acc20.store_aligned(u[2]), acc21.store_aligned(u[2] + L);
    acc30.store_aligned(u[3]), acc31.store_aligned(u[3] + L), acc40.store_aligned(u[4]);
    acc41.store_aligned(u[4] + L), acc50.store_aligned(u[5]), acc51.store_aligned(u[5] + L);
  }

  /// rows (2..6) x blocks [j0, j1) of the packed weights.
  template <class Acc, class Q>
  static void tile(std::size_t rows, std::size_t n, std::size_t k, const std::int16_t* a0, std::size_t a_stride,
                   const std::uint8_t* pw, std::size_t block, std::size_t j0, std::size_t j1, std::int16_t* c0,
                   std::size_t c_stride, const output_stage<Q>& p) noexcept {
    // Row clamping: a missing row reads the last valid row (and is never stored).
    const std::int16_t* ar[MR];
    ar[0] = a0;
    for (std::size_t r = 1; r < MR; ++r) ar[r] = r < rows ? ar[r - 1] + a_stride : ar[r - 1];
    const std::size_t full = k / 2;  // k steps with both depths inside A
    const bool odd = (k & 1) != 0;
    for (std::size_t j = j0; j < j1; ++j) {
      const std::uint8_t* base = pw + j * block;
      const auto* bias = reinterpret_cast<const std::int64_t*>(base);
      const auto* w = reinterpret_cast<const std::int8_t*>(base + NR * sizeof(std::int64_t));
      alignas(64) Acc t[MR][NR];
      if constexpr (std::is_same_v<Acc, std::int64_t>) {
        // int64 sums start at the bias; int32 runs of at most CH steps are widened into them.
        for (std::size_t r = 0; r < MR; ++r) std::memcpy(t[r], bias, NR * sizeof(std::int64_t));
        // Each run starts at the bias' low halves b0, b1 too (the same k loop as the int32 path); the
        // wrapping difference u - b of a run is its sum exactly, since that sum is below 2^31.
        alignas(64) std::int32_t u[MR][NR];
        const i32 b0 = start<std::int32_t>(bias), b1 = start<std::int32_t>(bias + L);
        std::size_t s = 0;
        do {
          const std::size_t se = std::min(s + CH, full);
          tile_sums(u, bias, ar, w + s * 2 * NR, s, se, se == full && odd);
          for (std::size_t r = 0; r < MR; ++r) {
            tessera::arch::simd_ops::widen_add_s32(t[r], i32::load_aligned(u[r]) - b0);
            tessera::arch::simd_ops::widen_add_s32(t[r] + L, i32::load_aligned(u[r] + L) - b1);
          }
          s = se;
        } while (s < full);
      } else {
        tile_sums(t, bias, ar, w, 0, full, odd);
      }
      epilogue<Acc>(rows, t, j * NR, std::min(NR, n - j * NR), c0 + j * NR, c_stride, p);
    }
  }

  /// One row x blocks [j, j1) (GEMV), B blocks at a time (2B accumulators); returns the first
  /// block not done (j1 - (j1 - j) % B).
  template <std::size_t B, class Acc, class Q>
  static std::size_t row1_blocks(std::size_t n, std::size_t k, const std::int16_t* a0, const std::uint8_t* pw,
                                 std::size_t block, std::size_t j, std::size_t j1, std::int16_t* c0,
                                 const output_stage<Q>& p) noexcept {
    namespace ops = tessera::arch::simd_ops;
    constexpr bool wide = std::is_same_v<Acc, std::int64_t>;
    const std::size_t full = k / 2;
    const bool odd = (k & 1) != 0;
    for (; j + B <= j1; j += B) {
      const std::uint8_t* base = pw + j * block;
      const std::int8_t* w[B];
      alignas(64) Acc t[B][NR];
      i32 acc[2 * B];
      for (std::size_t b = 0; b < B; ++b) {
        const auto* bias = reinterpret_cast<const std::int64_t*>(base + b * block);
        w[b] = reinterpret_cast<const std::int8_t*>(base + b * block + NR * sizeof(std::int64_t));
        if constexpr (wide) std::memcpy(t[b], bias, NR * sizeof(std::int64_t));
        acc[2 * b] = start<Acc>(bias), acc[2 * b + 1] = start<Acc>(bias + L);
      }
      std::size_t s = 0;
      do {
        const std::size_t se = wide ? std::min(s + CH, full) : full;
        auto step = [&](i16 x) {
          for (std::size_t b = 0; b < B; ++b) {
            acc[2 * b] = ops::madd_s16(acc[2 * b], x, ops::load_widen_s8(w[b]));
            acc[2 * b + 1] = ops::madd_s16(acc[2 * b + 1], x, ops::load_widen_s8(w[b] + KC));
            w[b] += 2 * NR;
          }
        };
        for (; s < se; ++s) step(ops::broadcast_pair_s16(a0 + 2 * s));
        if (se == full && odd) step(ops::broadcast_last_s16(a0 + 2 * s));
        if constexpr (wide) {
          for (std::size_t b = 0; b < B; ++b) {
            ops::widen_add_s32(t[b], acc[2 * b]), ops::widen_add_s32(t[b] + L, acc[2 * b + 1]);
            acc[2 * b] = acc[2 * b + 1] = i32(0);
          }
        }
      } while (s < full);
      if constexpr (!wide)
        for (std::size_t b = 0; b < B; ++b) acc[2 * b].store_aligned(t[b]), acc[2 * b + 1].store_aligned(t[b] + L);
      for (std::size_t b = 0; b < B; ++b) {
        const std::size_t n0 = (j + b) * NR;
        epilogue<Acc>(1, t + b, n0, std::min(NR, n - n0), c0 + n0, 0, p);
      }
    }
    return j;
  }

  /// One row x blocks [j0, j1).
  template <class Acc, class Q>
  static void row1(std::size_t n, std::size_t k, const std::int16_t* a0, const std::uint8_t* pw, std::size_t block,
                   std::size_t j0, std::size_t j1, std::int16_t* c0, const output_stage<Q>& p) noexcept {
    const std::size_t j = row1_blocks<4, Acc>(n, k, a0, pw, block, j0, j1, c0, p);
    row1_blocks<1, Acc>(n, k, a0, pw, block, j, j1, c0, p);
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::gemm_qs16_qs8, tessera::arch::simd> {
  using type = tessera::kernels::gemm_qs16_6x2vc2_simd;
};
