/// @file gemm_f32_6x2v_simd_fma.hpp
/// fp32 GEMM on xsimd (the `simd` tag) with fused multiply-add and the fused bias + clamp epilogue.
///
/// Tile: 6 rows x 2v columns, v = fp32 lanes of the xsimd arch (AVX2: 6x16 in 12 of the 16 ymm
/// registers; Neon64: 6x8). Packed B (op_f32.hpp) with nr = 2v: per block float bias[2v], then
/// float b[K][2v]. One k step loads the block's two B vectors, broadcasts A[r][k] of each of the
/// six rows from memory and issues 12 FMAs into 12 named accumulators (initialized with the bias).
/// M = 1 (and a last single row) takes a GEMV path over the same packed B: k unrolled by 4 into 8
/// independent accumulators (4 depths x 2 vectors), enough chains to hide the FMA latency, so the
/// weights stream at cache/memory bandwidth; the four partial sums are added at the end.
/// Cache blocking: the packed B is walked in panels of whole blocks that fit in ~256 KB (L2); each
/// panel is applied to every 6-row tile of A before the next panel (A's tile, 24 K bytes, stays in
/// L1 across the panel's blocks for K up to ~512; a small B, as in MobileNet's 1x1 layers, is one
/// panel read from L1/L2).
/// ISA: x86-64 AVX2+FMA (xsimd fma3<avx2>) or AArch64 Neon (xsimd neon64).
/// Indirect entry (`run_indirect`, for conv2d): the same tile reads each row's depth through one
/// pointer per kernel tap from an indirection buffer instead of one A row; `run` is its ks = 1 case.
/// Tails: M by row clamping (a missing row's A pointer aliases the last valid row; missing rows
/// are never stored); N by a bounce buffer for the last block's stores (nothing written at or past
/// column n); K needs none (A is read exactly k elements per row, B's padded columns are zero).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SIMD
#error "gemm_f32_6x2v_simd_fma.hpp needs the simd tag (TESSERA_USE_XSIMD=1 and AVX2+FMA on x86-64 or Neon on AArch64)"
#endif

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <tessera/arch/simd/xsimd_bridge.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/op_f32.hpp>

namespace tessera::kernels {

struct gemm_f32_6x2v_simd_fma {
  using arch = tessera::arch::simd;
  static constexpr const char* name = "gemm_f32_6x2v_simd_fma";

 private:
  using f32 = xsimd::batch<float, tessera::arch::simd_arch>;
  static constexpr std::size_t V = f32::size;  // fp32 lanes per vector
  static constexpr std::size_t NR = 2 * V;     // columns per packed block
  static constexpr std::size_t MR = 6;         // rows per tile
  /// Bytes of packed B applied to all of A before moving on (an L2-sized panel).
  static constexpr std::size_t panel_bytes = 256 * 1024;

 public:
  static std::size_t nr() noexcept { return NR; }

  /// C[m][n] = clamp(sum_k A[m][k] B[k][n] + bias[n], p.min, p.max).
  /// @param[in]  a         m rows of k floats, row stride a_stride (elements)
  /// @param[in]  packed_b  pack_f32_b(n, k, nr(), ...) output, float aligned
  /// @param[out] c         m rows of n floats, row stride c_stride (elements)
  static void run(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t a_stride,
                  const void* packed_b, float* c, std::size_t c_stride, const f32_clamp& p) noexcept {
    const float* pb = static_cast<const float*>(packed_b);
    const std::size_t block = NR * (k + 1);  // floats per packed block
    for_each_panel_tile(m, n, NR, MR, block, panel_bytes, [&](std::size_t j0, std::size_t j1, std::size_t i, std::size_t rows) {
      const float* ai = a + i * a_stride;
      float* ci = c + i * c_stride;
      if (rows == 1) {
        for (std::size_t j = j0; j < j1; ++j) row1(k, ai, pb + j * block, ci + j * NR, std::min(NR, n - j * NR), p);
      } else {
        const float* rowp[MR];
        for (std::size_t r = 0; r < MR; ++r) rowp[r] = ai + std::min(r, rows - 1) * a_stride;
        for (std::size_t j = j0; j < j1; ++j)
          tile(rows, 1, k, rowp, pb + j * block, ci + j * NR, c_stride, std::min(NR, n - j * NR), p);
      }
    });
  }

  /// Indirect GEMM (op_f32.hpp's indirect contract): C[m][n] = clamp(bias[n] + sum_t sum_c
  /// A_t[m][c] B[t * kc + c][n], p.min, p.max), where row i of tap t is the kc floats at
  /// ind[(i / mr()) * ks * mr() + t * mr() + i % mr()] (entries of rows >= m are never read).
  /// The same packed B (depth ks * kc), the same fma order as `run` on the gathered rows.
  static void run_indirect(std::size_t m, std::size_t n, std::size_t ks, std::size_t kc, const float* const* ind,
                           const void* packed_b, float* c, std::size_t c_stride, const f32_clamp& p) noexcept {
    const float* pb = static_cast<const float*>(packed_b);
    const std::size_t block = NR * (ks * kc + 1);
    for_each_panel_tile(m, n, NR, MR, block, panel_bytes, [&](std::size_t j0, std::size_t j1, std::size_t i, std::size_t rows) {
      for (std::size_t j = j0; j < j1; ++j)
        tile(rows, ks, kc, ind + i * ks, pb + j * block, c + i * c_stride + j * NR, c_stride, std::min(NR, n - j * NR), p);
    });
  }
  /// Rows per tile of the indirection buffer.
  static std::size_t mr() noexcept { return MR; }

 private:
  /// Clamps and stores one row's two vectors: nb (<= NR) columns at c.
  static void store_row(float* c, f32 x0, f32 x1, std::size_t nb, const f32_clamp& p) noexcept {
    const f32 lo(p.min), hi(p.max);
    x0 = xsimd::min(xsimd::max(x0, lo), hi);
    x1 = xsimd::min(xsimd::max(x1, lo), hi);
    if (nb == NR) {
      x0.store_unaligned(c);
      x1.store_unaligned(c + V);
    } else {  // the row ends at column n - 1: whole first vector if it fits, the rest bounced
      if (nb >= V) {
        x0.store_unaligned(c);
        c += V, nb -= V, x0 = x1;
      }
      alignas(64) float t[V];
      x0.store_aligned(t);
      copy_short(c, t, nb);
    }
  }

  /// dst[0..nb) = src[0..nb) for nb < V (<= 8), in fixed-size pieces (no library call while the
  /// accumulators are live).
  static void copy_short(float* dst, const float* src, std::size_t nb) noexcept {
    static_assert(V <= 8, "copy_short moves fewer than 8 floats");
    if (nb & 4) { std::memcpy(dst, src, 4 * sizeof(float)); dst += 4, src += 4; }
    if (nb & 2) { std::memcpy(dst, src, 2 * sizeof(float)); dst += 2, src += 2; }
    if (nb & 1) *dst = *src;
  }

  /// rows (1..6) x one packed block; w points at the block's bias. The depth runs over ks
  /// segments of kc: segment t of row i is kc floats at ind[t * MR + i] (GEMM: ks = 1, the rows;
  /// indirect: the taps). Row clamping: a missing row (i >= rows) reads row i - 1's pointer and is
  /// never stored.
  static void tile(std::size_t rows, std::size_t ks, std::size_t kc, const float* const* ind, const float* w,
                   float* c0, std::size_t c_stride, std::size_t nb, const f32_clamp& p) noexcept {
    f32 acc00 = f32::load_unaligned(w), acc01 = f32::load_unaligned(w + V);
    f32 acc10 = acc00, acc11 = acc01, acc20 = acc00, acc21 = acc01;
    f32 acc30 = acc00, acc31 = acc01, acc40 = acc00, acc41 = acc01, acc50 = acc00, acc51 = acc01;
    w += NR;
    for (std::size_t t = 0; t < ks; ++t, ind += MR) {
      const float* a0 = ind[0];
      const float* a1 = rows > 1 ? ind[1] : a0;
      const float* a2 = rows > 2 ? ind[2] : a1;
      const float* a3 = rows > 3 ? ind[3] : a2;
      const float* a4 = rows > 4 ? ind[4] : a3;
      const float* a5 = rows > 5 ? ind[5] : a4;
      for (std::size_t kk = 0; kk < kc; ++kk, w += NR) {
        const f32 b0 = f32::load_unaligned(w), b1 = f32::load_unaligned(w + V);
        f32 x(a0[kk]);
        acc00 = xsimd::fma(x, b0, acc00), acc01 = xsimd::fma(x, b1, acc01);
        x = f32(a1[kk]);
        acc10 = xsimd::fma(x, b0, acc10), acc11 = xsimd::fma(x, b1, acc11);
        x = f32(a2[kk]);
        acc20 = xsimd::fma(x, b0, acc20), acc21 = xsimd::fma(x, b1, acc21);
        x = f32(a3[kk]);
        acc30 = xsimd::fma(x, b0, acc30), acc31 = xsimd::fma(x, b1, acc31);
        x = f32(a4[kk]);
        acc40 = xsimd::fma(x, b0, acc40), acc41 = xsimd::fma(x, b1, acc41);
        x = f32(a5[kk]);
        acc50 = xsimd::fma(x, b0, acc50), acc51 = xsimd::fma(x, b1, acc51);
      }
    }

    store_row(c0, acc00, acc01, nb, p);
    if (rows > 1) store_row(c0 + c_stride, acc10, acc11, nb, p);
    if (rows > 2) store_row(c0 + 2 * c_stride, acc20, acc21, nb, p);
    if (rows > 3) store_row(c0 + 3 * c_stride, acc30, acc31, nb, p);
    if (rows > 4) store_row(c0 + 4 * c_stride, acc40, acc41, nb, p);
    if (rows > 5) store_row(c0 + 5 * c_stride, acc50, acc51, nb, p);
  }

  /// One row x one packed block (GEMV): 4 depths per step into 8 accumulators.
  static void row1(std::size_t k, const float* a0, const float* w, float* c0, std::size_t nb,
                   const f32_clamp& p) noexcept {
    f32 s00 = f32::load_unaligned(w), s01 = f32::load_unaligned(w + V);
    f32 s10(0.0f), s11(0.0f), s20(0.0f), s21(0.0f), s30(0.0f), s31(0.0f);
    w += NR;
    std::size_t kk = 0;
    for (; kk + 4 <= k; kk += 4, w += 4 * NR) {
      f32 x(a0[kk]);
      s00 = xsimd::fma(x, f32::load_unaligned(w), s00), s01 = xsimd::fma(x, f32::load_unaligned(w + V), s01);
      x = f32(a0[kk + 1]);
      s10 = xsimd::fma(x, f32::load_unaligned(w + NR), s10), s11 = xsimd::fma(x, f32::load_unaligned(w + NR + V), s11);
      x = f32(a0[kk + 2]);
      s20 = xsimd::fma(x, f32::load_unaligned(w + 2 * NR), s20);
      s21 = xsimd::fma(x, f32::load_unaligned(w + 2 * NR + V), s21);
      x = f32(a0[kk + 3]);
      s30 = xsimd::fma(x, f32::load_unaligned(w + 3 * NR), s30);
      s31 = xsimd::fma(x, f32::load_unaligned(w + 3 * NR + V), s31);
    }
    for (; kk < k; ++kk, w += NR) {
      const f32 x(a0[kk]);
      s00 = xsimd::fma(x, f32::load_unaligned(w), s00), s01 = xsimd::fma(x, f32::load_unaligned(w + V), s01);
    }
    store_row(c0, (s00 + s10) + (s20 + s30), (s01 + s11) + (s21 + s31), nb, p);
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::gemm_f32, tessera::arch::simd> {
  using type = tessera::kernels::gemm_f32_6x2v_simd_fma;
};
