/// @file gemm_qs8_6x2vc2_simd.hpp
/// int8 GEMM with fused requantization on xsimd (the `simd` tag): exact int8 products through
/// sign-extended int16 pairs (simd/dot.hpp).
///
/// Tile: 6 rows x 2v channels, v = int32 lanes of the xsimd arch (AVX2: 6x16 in 12 accumulators +
/// 2 weight batches + 1 broadcast = 15 of the 16 ymm registers; Neon64: 6x8). Packed weights
/// (op.hpp) with nr = 2v, kr = 2: per block int32 bias'[2v], then int8 w[ceil(K/2)][2v][2].
/// One k step takes a pair of depths: the 4v weight bytes widen into two int16 batches (channel j's
/// pair in int32 lane j), each row's (a[k], a[k+1]) is broadcast to every int32 lane, and madd_s8
/// (AVX2 VPMADDWD + VPADDD; Neon MUL + SADALP) accumulates 2 products per lane exactly.
/// Inner loop per k step on AVX2 (6 x 16 x 2 = 192 MACs): 2 VPMOVSXBW (weights), 6 VPBROADCASTD
/// (memory), 12 VPMADDWD + 12 VPADDD, 3 loop instructions.
/// Activations: a row tile's A is widened to int16 once (up to kw = 1024 depths; stack buffer) and
/// then applied to every block of a weight panel, so the widening costs nothing per block (longer K:
/// chunks of kw depths, re-widened per block).
/// Order: the packed weights are walked in L2-sized panels of whole blocks; each panel meets every
/// row tile of A before the next panel (a small weight matrix, as in MobileNet's 1x1 layers, is one
/// panel read from L1/L2 while A streams once).
/// M = 1 (fully connected at batch 1) and a last single row take a GEMV path: the widened row
/// against 4 blocks at a time (8 accumulators, 64 channels of weights streamed in parallel on AVX2),
/// one broadcast per 8 VPMADDWD; the weights are read once, at cache/memory bandwidth.
/// Epilogue in registers: + bias' + row_offset, MBQM (xsimd_bridge.hpp), + zero point, clamp,
/// narrow, store.
/// ISA: x86-64 AVX2+FMA (xsimd fma3<avx2>) or AArch64 Neon (xsimd neon64).
/// Tails: M by row clamping (a missing row's A pointer aliases the last valid row; missing rows
/// are never stored) and the GEMV path for a single last row; N by a bounce buffer for the last
/// block's stores and per-channel parameters (nothing read or written at or past channel n);
/// K by a zeroed bounce buffer for each row's last < 2v depths (A is never read past k elements;
/// the zero-padded weights are read only up to the padded depth).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SIMD
#error "gemm_qs8_6x2vc2_simd.hpp needs the simd tag (TESSERA_USE_XSIMD=1 and AVX2+FMA on x86-64 or Neon on AArch64)"
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <tessera/arch/simd/dot.hpp>
#include <tessera/arch/simd/xsimd_bridge.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/op.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct gemm_qs8_6x2vc2_simd {
  using arch = tessera::arch::simd;
  static constexpr const char* name = "gemm_qs8_6x2vc2_simd";

 private:
  using i32 = tessera::arch::simd_ops::i32;
  using i16 = tessera::arch::simd_ops::i16;
  static constexpr std::size_t L = i32::size;   // int32 lanes; channels per accumulator
  static constexpr std::size_t NR = 2 * L;      // channels per block
  static constexpr std::size_t KC = i16::size;  // depths widened per load (= 2L)
  static constexpr std::size_t MR = 6;          // rows per tile
  static constexpr std::size_t KW = 1024;       // depths widened per chunk (int32 pairs: KW / 2 per row)
  static constexpr std::size_t RS = KW / 2;     // int32 stride between widened rows
  /// Bytes of packed weights applied to all of A before moving on (an L2-sized panel).
  static constexpr std::size_t panel_bytes = 256 * 1024;
  static_assert(NR <= 16 && KC <= 16, "copy_short moves fewer than 16 bytes");
  static_assert(KW % KC == 0, "chunks are whole widening steps");

  /// Per-block output-stage parameters, in registers for the epilogue.
  struct stage_regs {
    i32 b0, b1, m0, m1, s0, s1, zp, lo, hi;
    std::size_t nb;  // valid channels of the block (<= NR)
  };

 public:
  static std::size_t nr() noexcept { return NR; }
  static std::size_t kr() noexcept { return 2; }

  /// C[m][n] = clamp(MBQM(sum_k A[m][k] W[n][k] + bias'[n] + row_offset[m]) + zp), int32 wrapping.
  /// @param[in]  a           m rows of k int8 activations, row stride a_stride (elements)
  /// @param[in]  packed_w    pack_qs8_weights(n, k, nr(), kr(), ...) output, 4-byte aligned
  /// @param[in]  row_offset  m int32 values added to every channel of a row, or nullptr
  /// @param[out] c           m rows of n int8 outputs, row stride c_stride (elements)
  template <class Q>
  static void run(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a, std::size_t a_stride,
                  const void* packed_w, const std::int32_t* row_offset, std::int8_t* c, std::size_t c_stride,
                  const output_stage<Q>& p) noexcept {
    const auto* pw = static_cast<const std::uint8_t*>(packed_w);
    const std::size_t kpad = (k + 1) & ~std::size_t{1};
    const std::size_t block = NR * sizeof(std::int32_t) + NR * kpad;
    const std::size_t blocks = (n + NR - 1) / NR;
    const std::size_t panel = std::max<std::size_t>(1, panel_bytes / block);
    // Widened activations: MR rows of up to KW depths (one int16 pair per int32).
    alignas(64) std::int32_t ab[MR * RS];
    for (std::size_t j0 = 0; j0 < blocks; j0 += panel) {
      const std::size_t j1 = std::min(blocks, j0 + panel);
      for (std::size_t i = 0; i < m; i += MR) {
        const std::size_t rows = std::min(MR, m - i);
        const std::int8_t* ai = a + i * a_stride;
        const std::int32_t* ri = row_offset ? row_offset + i : nullptr;
        std::int8_t* ci = c + i * c_stride;
        if (rows == 1) {
          row1(n, k, ai, pw, block, j0, j1, ri, ci, p, ab);
        } else {
          tile(rows, n, k, ai, a_stride, pw, block, j0, j1, ri, ci, c_stride, p, ab);
        }
      }
    }
  }

 private:
  /// dst[0..n) = src[0..n) for n < 16, in fixed-size pieces (no library call while vectors are live).
  static void copy_short(std::int8_t* dst, const std::int8_t* src, std::size_t n) noexcept {
    if (n & 8) { std::memcpy(dst, src, 8); dst += 8, src += 8; }
    if (n & 4) { std::memcpy(dst, src, 4); dst += 4, src += 4; }
    if (n & 2) { std::memcpy(dst, src, 2); dst += 2, src += 2; }
    if (n & 1) *dst = *src;
  }

  /// Widens depths [k0, k0 + kc) of row a (kc <= KW) into d[0 .. ceil(kc / KC) * L): int32 d[j]
  /// holds the int16 pair (a[k0 + 2j], a[k0 + 2j + 1]); the last partial KC depths are zero padded.
  static void widen_row(std::int32_t* d, const std::int8_t* a, std::size_t kc) noexcept {
    namespace ops = tessera::arch::simd_ops;
    const std::size_t full = kc / KC * KC, rem = kc - full;
    for (std::size_t kk = 0; kk < full; kk += KC, d += L) ops::widen_store_s8(d, a + kk);
    if (rem != 0) {
      alignas(64) std::int8_t t[KC] = {};
      copy_short(t, a + full, rem);
      ops::widen_store_s8(d, t);
    }
  }

  /// The output stage of block j (channels j*NR .. + nb), bias' from the packed block at base.
  template <class Q>
  static stage_regs load_stage(const std::uint8_t* base, std::size_t n0, std::size_t nb,
                               const output_stage<Q>& p) noexcept {
    stage_regs s;
    const auto* bias = reinterpret_cast<const std::int32_t*>(base);
    s.b0 = i32::load_unaligned(bias), s.b1 = i32::load_unaligned(bias + L);
    if constexpr (std::is_same_v<Q, requant::per_tensor>) {
      s.m0 = s.m1 = i32(p.q.multiplier);
      s.s0 = s.s1 = i32(p.q.shift);
    } else if (nb == NR) {
      s.m0 = i32::load_unaligned(p.q.multiplier + n0), s.m1 = i32::load_unaligned(p.q.multiplier + n0 + L);
      s.s0 = i32::load_unaligned(p.q.shift + n0), s.s1 = i32::load_unaligned(p.q.shift + n0 + L);
    } else {  // the arrays end at channel n - 1
      alignas(64) std::int32_t mb[NR] = {}, sb[NR] = {};
      std::memcpy(mb, p.q.multiplier + n0, nb * sizeof(std::int32_t));
      std::memcpy(sb, p.q.shift + n0, nb * sizeof(std::int32_t));
      s.m0 = i32::load_aligned(mb), s.m1 = i32::load_aligned(mb + L);
      s.s0 = i32::load_aligned(sb), s.s1 = i32::load_aligned(sb + L);
    }
    s.zp = i32(p.zero_point), s.lo = i32(p.act_min), s.hi = i32(p.act_max);
    s.nb = nb;
    return s;
  }

  /// Requantizes one row's two accumulators (+ row offset ro) and stores s.nb channels at c.
  static void store_row(std::int8_t* c, i32 x0, i32 x1, std::int32_t ro, const stage_regs& s) noexcept {
    namespace ops = tessera::arch::simd_ops;
    const i32 r(ro);
    x0 = ops::mbqm(x0 + s.b0 + r, s.m0, s.s0) + s.zp;
    x1 = ops::mbqm(x1 + s.b1 + r, s.m1, s.s1) + s.zp;
    x0 = xsimd::min(xsimd::max(x0, s.lo), s.hi);
    x1 = xsimd::min(xsimd::max(x1, s.lo), s.hi);
    if (s.nb == NR) {
      ops::store_narrow(c, x0);
      ops::store_narrow(c + L, x1);
    } else {
      alignas(64) std::int8_t t[NR];
      ops::store_narrow(t, x0);
      ops::store_narrow(t + L, x1);
      copy_short(c, t, s.nb);
    }
  }

  /// Output stage of `rows` rows x one block from the int32 sums t[r][0..NR) (bias' at base).
  /// Out of line on purpose: inlined, its hoisted constants (shuffle masks, rounding nudges) stay
  /// live across the k loop, and GCC 12 then spills accumulators of the 6x2v tile.
  template <class Q>
  [[gnu::noinline]] static void epilogue(std::size_t rows, const std::int32_t (*t)[NR], const std::uint8_t* base,
                                         std::size_t n0, std::size_t nb, const std::int32_t* ro, std::int8_t* c,
                                         std::size_t c_stride, const output_stage<Q>& p) noexcept {
    const stage_regs s = load_stage(base, n0, nb, p);
    for (std::size_t r = 0; r < rows; ++r, c += c_stride)
      store_row(c, i32::load_aligned(t[r]), i32::load_aligned(t[r] + L), ro ? ro[r] : 0, s);
  }

  /// rows (2..6) x blocks [j0, j1) of the packed weights.
  template <class Q>
  static void tile(std::size_t rows, std::size_t n, std::size_t k, const std::int8_t* a0, std::size_t a_stride,
                   const std::uint8_t* pw, std::size_t block, std::size_t j0, std::size_t j1,
                   const std::int32_t* ro, std::int8_t* c0, std::size_t c_stride, const output_stage<Q>& p,
                   std::int32_t* ab) noexcept {
    namespace ops = tessera::arch::simd_ops;
    // Row clamping: a missing row reads the last valid row (and is never stored).
    const std::int8_t* ar[MR];
    ar[0] = a0;
    for (std::size_t r = 1; r < MR; ++r) ar[r] = r < rows ? ar[r - 1] + a_stride : ar[r - 1];
    auto widen = [&](std::size_t k0, std::size_t kc) noexcept {
      for (std::size_t r = 0; r < MR; ++r) widen_row(ab + r * RS, ar[r] + k0, kc);
    };
    const bool one_chunk = k <= KW;
    if (one_chunk) widen(0, k);

    for (std::size_t j = j0; j < j1; ++j) {
      const std::uint8_t* base = pw + j * block;
      const auto* w = reinterpret_cast<const std::int8_t*>(base + NR * sizeof(std::int32_t));
      i32 acc00(0), acc01(0), acc10(0), acc11(0), acc20(0), acc21(0);
      i32 acc30(0), acc31(0), acc40(0), acc41(0), acc50(0), acc51(0);
      for (std::size_t k0 = 0; k0 < k; k0 += KW) {
        const std::size_t kc = std::min(KW, k - k0);
        if (!one_chunk) widen(k0, kc);
        const std::int32_t* x = ab;
        const std::int32_t* const xe = ab + (kc + 1) / 2;  // the packed weights end at kpad
        for (; x != xe; ++x, w += 2 * NR) {
          const i16 w0 = ops::load_widen_s8(w), w1 = ops::load_widen_s8(w + KC);
          i16 b = ops::broadcast_pair(x);
          acc00 = ops::madd_s8(acc00, b, w0), acc01 = ops::madd_s8(acc01, b, w1);
          b = ops::broadcast_pair(x + RS);
          acc10 = ops::madd_s8(acc10, b, w0), acc11 = ops::madd_s8(acc11, b, w1);
          b = ops::broadcast_pair(x + 2 * RS);
          acc20 = ops::madd_s8(acc20, b, w0), acc21 = ops::madd_s8(acc21, b, w1);
          b = ops::broadcast_pair(x + 3 * RS);
          acc30 = ops::madd_s8(acc30, b, w0), acc31 = ops::madd_s8(acc31, b, w1);
          b = ops::broadcast_pair(x + 4 * RS);
          acc40 = ops::madd_s8(acc40, b, w0), acc41 = ops::madd_s8(acc41, b, w1);
          b = ops::broadcast_pair(x + 5 * RS);
          acc50 = ops::madd_s8(acc50, b, w0), acc51 = ops::madd_s8(acc51, b, w1);
        }
      }

      alignas(64) std::int32_t t[MR][NR];
      acc00.store_aligned(t[0]), acc01.store_aligned(t[0] + L), acc10.store_aligned(t[1]);
      acc11.store_aligned(t[1] + L), acc20.store_aligned(t[2]), acc21.store_aligned(t[2] + L);
      acc30.store_aligned(t[3]), acc31.store_aligned(t[3] + L), acc40.store_aligned(t[4]);
      acc41.store_aligned(t[4] + L), acc50.store_aligned(t[5]), acc51.store_aligned(t[5] + L);
      epilogue(rows, t, base, j * NR, std::min(NR, n - j * NR), ro, c0 + j * NR, c_stride, p);
    }
  }

  /// One row x blocks [j0, j1) (GEMV): B blocks at a time, 2B accumulators.
  template <std::size_t B, class Q>
  static std::size_t row1_blocks(std::size_t n, std::size_t k, const std::int8_t* a0, const std::uint8_t* pw,
                                 std::size_t block, std::size_t j, std::size_t j1, const std::int32_t* ro,
                                 std::int8_t* c0, const output_stage<Q>& p, std::int32_t* ab) noexcept {
    namespace ops = tessera::arch::simd_ops;
    const bool one_chunk = k <= KW;
    for (; j + B <= j1; j += B) {
      const std::uint8_t* base = pw + j * block;
      const std::int8_t* w[B];
      for (std::size_t b = 0; b < B; ++b)
        w[b] = reinterpret_cast<const std::int8_t*>(base + b * block + NR * sizeof(std::int32_t));
      i32 acc[2 * B];
      for (std::size_t b = 0; b < 2 * B; ++b) acc[b] = i32(0);
      for (std::size_t k0 = 0; k0 < k; k0 += KW) {
        const std::size_t kc = std::min(KW, k - k0);
        if (!one_chunk) widen_row(ab, a0 + k0, kc);
        const std::size_t steps = (kc + 1) / 2;  // the packed weights end at kpad
        for (std::size_t t = 0; t < steps; ++t) {
          const i16 x = ops::broadcast_pair(ab + t);
          for (std::size_t b = 0; b < B; ++b) {
            acc[2 * b] = ops::madd_s8(acc[2 * b], x, ops::load_widen_s8(w[b]));
            acc[2 * b + 1] = ops::madd_s8(acc[2 * b + 1], x, ops::load_widen_s8(w[b] + KC));
            w[b] += 2 * NR;
          }
        }
      }
      alignas(64) std::int32_t t[B][NR];
      for (std::size_t b = 0; b < B; ++b) acc[2 * b].store_aligned(t[b]), acc[2 * b + 1].store_aligned(t[b] + L);
      for (std::size_t b = 0; b < B; ++b) {
        const std::size_t n0 = (j + b) * NR;
        epilogue(1, t + b, base + b * block, n0, std::min(NR, n - n0), ro, c0 + n0, 0, p);
      }
    }
    return j;
  }

  /// One row x blocks [j0, j1).
  template <class Q>
  static void row1(std::size_t n, std::size_t k, const std::int8_t* a0, const std::uint8_t* pw, std::size_t block,
                   std::size_t j0, std::size_t j1, const std::int32_t* ro, std::int8_t* c0,
                   const output_stage<Q>& p, std::int32_t* ab) noexcept {
    if (k <= KW) widen_row(ab, a0, k);
    const std::size_t j = row1_blocks<4>(n, k, a0, pw, block, j0, j1, ro, c0, p, ab);
    row1_blocks<1>(n, k, a0, pw, block, j, j1, ro, c0, p, ab);
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::gemm_qs8, tessera::arch::simd> {
  using type = tessera::kernels::gemm_qs8_6x2vc2_simd;
};
