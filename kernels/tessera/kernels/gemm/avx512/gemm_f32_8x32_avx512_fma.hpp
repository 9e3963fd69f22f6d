/// @file gemm_f32_8x32_avx512_fma.hpp
/// fp32 GEMM on x86-64 AVX-512F (the `avx512_vnni` tag: the host's AVX-512 level; only F is used)
/// with the fused bias + clamp epilogue.
///
/// Tile: MR = 8 rows x NR = 32 columns (2 zmm per row): 16 zmm accumulators initialized with the
/// bias, 2 zmm of B, one broadcast register. Packed B (op_f32.hpp) with nr = 32: per block float
/// bias[32], then float b[K][32] (128 bytes per depth: two zmm loads). One k step: 2 B loads,
/// 8 A broadcasts (VBROADCASTSS from memory, load ports only) and 16 FMAs.
/// Tile choice (measured on Zen 4, one core, g++ 12 -O3, MobileNetV1's 1x1 shapes and squares):
/// 8x32 and 10x32 ran within 2% of each other and 4-8% above 12x32; 14x32 ran out of general
/// registers for its row pointers (spills in the k loop) and lost up to 30% at K = 1024. A zmm
/// FMA issues at one per cycle on Zen 4 (both 256-bit pipes), the AVX2 kernel's fp32 peak: the
/// gain over it is in instructions and loads per FMA, not in FMA width.
/// Row tails: a last tile of 2..8 rows runs the smallest of the 2-, 4- and 8-row tiles that holds
/// it; its missing rows read the last valid row (row clamping) and are never stored.
/// M = 1 (and a last single row of `run`) takes a GEMV path over the same packed B: k unrolled by 4
/// into 8 independent accumulators (4 depths x 2 vectors), one contiguous 512-byte stream per step,
/// so the weights stream at cache/memory bandwidth; the four partial sums are added at the end.
/// Cache blocking: the packed B is walked in panels of whole blocks that fit in ~256 KB (L2); each
/// panel is applied to every row tile of A before the next panel.
/// Indirect entry (`run_indirect`, for conv2d): the same tiles read each row's depth through one
/// pointer per kernel tap from an indirection buffer instead of one A row; `run` is its ks = 1
/// case (same FMA order per row: the results are equal bit for bit except `run`'s GEMV rows).
/// Strided-segments entry (`run_strided`, for conv2d's strided_gemm): row i's depth is ks segments
/// of kc floats, segment t at seg[t] + i * a_stride (a convolution's output pixels along one output
/// row: a_stride = stride_w * in_c, one segment per kernel row), so neither a panel copy nor a
/// pointer per row is needed. Every row tile, single rows included, runs the R-row tiles (never the
/// GEMV path): the FMA order per row is the tiles' order, the results equal `run`'s tiles bit for
/// bit. The tile makes its row pointers from the segment base and the row offsets (a chain of adds)
/// and runs `tile`'s loops; fully unrolling ks = 3, kc = 9 (layer a) measured no faster (clang 16
/// 2.7% slower, g++ 12 level) and is not kept.
/// Tails: M as above; N by masked stores (nothing written at or past column n; B's padded columns
/// are zero, so B and the bias are read whole inside the packed block); K needs none (A is read
/// exactly k elements per row, one broadcast per element).
/// ISA: x86-64 AVX-512F (`-march=x86-64-v4 -mavx512vnni`, the avx512_vnni tag's flags, or
/// `-march=native` on Zen 4 / Ice Lake and later).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_AVX512_VNNI
#error "gemm_f32_8x32_avx512_fma.hpp needs x86-64 AVX-512 (TESSERA_HAS_AVX512_VNNI; e.g. -march=x86-64-v4 -mavx512vnni)"
#endif

#include <algorithm>
#include <cstddef>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/op_f32.hpp>

#include <tessera/arch/avx512/intrinsics_begin.hpp>  // until intrinsics_end.hpp below

namespace tessera::kernels {

struct gemm_f32_8x32_avx512_fma {
  using arch = tessera::arch::avx512_vnni;
  static constexpr const char* name = "gemm_f32_8x32_avx512_fma";

 private:
  static constexpr std::size_t L = 16;      ///< fp32 lanes of a zmm
  static constexpr std::size_t NR = 2 * L;  ///< columns per packed block
  static constexpr std::size_t MR = 8;      ///< rows per tile
  /// Bytes of packed B applied to all of A before moving on (an L2-sized panel).
  static constexpr std::size_t panel_bytes = 256 * 1024;

 public:
  /// Columns per packed block (pack_f32_b's nr).
  static std::size_t nr() noexcept { return NR; }
  /// Rows per tile of the indirection buffer.
  static std::size_t mr() noexcept { return MR; }

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
        for (std::size_t j = j0; j < j1; ++j) row1(k, ai, pb + j * block, ci + j * NR, n - j * NR, p);
      } else {
        const float* rowp[MR];
        for (std::size_t r = 0; r < MR; ++r) rowp[r] = ai + std::min(r, rows - 1) * a_stride;
        tiles(rows, 1, k, rowp, pb, block, j0, j1, n, ci, c_stride, p);
      }
    });
  }

  /// Strided-segments GEMM: C[m][n] = clamp(bias[n] + sum_t sum_c A_t[m][c] B[t * kc + c][n],
  /// p.min, p.max), where row i of segment t is the kc floats at seg[t] + i * a_stride (ks entries
  /// of seg; rows >= m are never read). The same packed B (depth ks * kc) and, per row, the same FMA
  /// order as the tiles of `run` on the rows gathered (bit for bit; `run` alone may take its GEMV
  /// order for a last single row).
  static void run_strided(std::size_t m, std::size_t n, std::size_t ks, std::size_t kc, const float* const* seg,
                          std::size_t a_stride, const void* packed_b, float* c, std::size_t c_stride,
                          const f32_clamp& p) noexcept {
    const float* pb = static_cast<const float*>(packed_b);
    const std::size_t block = NR * (ks * kc + 1);
    for_each_panel_tile(m, n, NR, MR, block, panel_bytes, [&](std::size_t j0, std::size_t j1, std::size_t i, std::size_t rows) {
      const std::size_t off = i * a_stride;
      float* ci = c + i * c_stride;
      for (std::size_t j = j0; j < j1; ++j) {
        const float* w = pb + j * block;
        float* cj = ci + j * NR;
        const std::size_t nb = std::min(NR, n - j * NR);
        if (rows > 4) stile<8>(rows, ks, kc, seg, off, a_stride, w, cj, c_stride, nb, p);
        else if (rows > 2) stile<4>(rows, ks, kc, seg, off, a_stride, w, cj, c_stride, nb, p);
        else stile<2>(rows, ks, kc, seg, off, a_stride, w, cj, c_stride, nb, p);
      }
    });
  }

  /// Indirect GEMM (op_f32.hpp's indirect contract): C[m][n] = clamp(bias[n] + sum_t sum_c
  /// A_t[m][c] B[t * kc + c][n], p.min, p.max), where row i of tap t is the kc floats at
  /// ind[(i / mr()) * ks * mr() + t * mr() + i % mr()] (entries of rows >= m are never read).
  /// The same packed B (depth ks * kc), the same FMA order as `run` on the gathered rows.
  static void run_indirect(std::size_t m, std::size_t n, std::size_t ks, std::size_t kc, const float* const* ind,
                           const void* packed_b, float* c, std::size_t c_stride, const f32_clamp& p) noexcept {
    const float* pb = static_cast<const float*>(packed_b);
    const std::size_t block = NR * (ks * kc + 1);
    for_each_panel_tile(m, n, NR, MR, block, panel_bytes, [&](std::size_t j0, std::size_t j1, std::size_t i, std::size_t rows) {
      tiles(rows, ks, kc, ind + i * ks, pb, block, j0, j1, n, c + i * c_stride, c_stride, p);
    });
  }

 private:
  /// Lanes 0..v-1 (v <= 16).
  static __mmask16 lanes(std::size_t v) noexcept { return static_cast<__mmask16>((1u << v) - 1); }

  /// Clamps one row's two vectors and stores its first min(nb, 32) columns at c: a row ending
  /// inside the block takes masked stores (nothing written at or past column n, and no address
  /// formed past the first vector when the row ends inside it).
  [[gnu::always_inline]] static inline void store_row(float* c, __m512 x0, __m512 x1, std::size_t nb, __m512 lo,
                                                      __m512 hi) noexcept {
    x0 = _mm512_min_ps(_mm512_max_ps(x0, lo), hi);
    x1 = _mm512_min_ps(_mm512_max_ps(x1, lo), hi);
    if (nb >= NR) {
      _mm512_storeu_ps(c, x0);
      _mm512_storeu_ps(c + L, x1);
    } else if (nb > L) {
      _mm512_storeu_ps(c, x0);
      _mm512_mask_storeu_ps(c + L, lanes(nb - L), x1);
    } else {
      _mm512_mask_storeu_ps(c, lanes(nb), x0);
    }
  }

  /// rows (1..8) x blocks [j0, j1): the smallest R-row tile (R = 2, 4, 8) that holds `rows`.
  static void tiles(std::size_t rows, std::size_t ks, std::size_t kc, const float* const* ind, const float* pb,
                    std::size_t block, std::size_t j0, std::size_t j1, std::size_t n, float* c, std::size_t c_stride,
                    const f32_clamp& p) noexcept {
    for (std::size_t j = j0; j < j1; ++j) {
      const float* w = pb + j * block;
      float* cj = c + j * NR;
      const std::size_t nb = std::min(NR, n - j * NR);
      if (rows > 4) tile<8>(rows, ks, kc, ind, w, cj, c_stride, nb, p);
      else if (rows > 2) tile<4>(rows, ks, kc, ind, w, cj, c_stride, nb, p);
      else tile<2>(rows, ks, kc, ind, w, cj, c_stride, nb, p);
    }
  }

  /// R rows (rows <= R valid) x one packed block; w points at the block's bias. The depth runs
  /// over ks segments of kc: `row_ptrs(t, ap)` sets ap[r] to row r's kc floats of segment t (rows
  /// r >= rows point at row rows - 1 and are not stored). The accumulator arrays are indexed by
  /// constants only (fully unrolled): they live in zmm registers. Inlined into the out-of-line
  /// tiles below, so that the k loop's registers are the tile's own (a 12-row form inlined into
  /// `run` had GCC 12 spill an accumulator and two row pointers in the k loop).
  template <std::size_t R, class RowPtrs>
  [[gnu::always_inline]] static inline void tile_body(std::size_t rows, std::size_t ks, std::size_t kc,
                                                      RowPtrs row_ptrs, const float* w, float* c,
                                                      std::size_t c_stride, std::size_t nb,
                                                      const f32_clamp& p) noexcept {
    static_assert(R <= MR && 2 * R + 2 <= 32, "the tile's accumulators and B vectors must fit in 32 zmm");
    __m512 acc0[R], acc1[R];
    {
      const __m512 bias0 = _mm512_loadu_ps(w), bias1 = _mm512_loadu_ps(w + L);
#pragma GCC unroll 16
      for (std::size_t r = 0; r < R; ++r) acc0[r] = bias0, acc1[r] = bias1;
    }
    w += NR;
    for (std::size_t t = 0; t < ks; ++t) {
      const float* ap[R];
      row_ptrs(t, ap);
      for (std::size_t kk = 0; kk < kc; ++kk, w += NR) {
        const __m512 b0 = _mm512_loadu_ps(w), b1 = _mm512_loadu_ps(w + L);
#pragma GCC unroll 16
        for (std::size_t r = 0; r < R; ++r) {
          const __m512 x = _mm512_set1_ps(ap[r][kk]);
          acc0[r] = _mm512_fmadd_ps(x, b0, acc0[r]);
          acc1[r] = _mm512_fmadd_ps(x, b1, acc1[r]);
        }
      }
    }
    const __m512 lo = _mm512_set1_ps(p.min), hi = _mm512_set1_ps(p.max);
#pragma GCC unroll 16
    for (std::size_t r = 0; r < R; ++r)
      if (r < rows) store_row(c + r * c_stride, acc0[r], acc1[r], nb, lo, hi);
  }

  /// tile_body with segment t of row i at ind[t * MR + i] (GEMM: ks = 1, the rows; indirect: the
  /// taps).
  template <std::size_t R>
  [[gnu::noinline]] static void tile(std::size_t rows, std::size_t ks, std::size_t kc, const float* const* ind,
                                     const float* w, float* c, std::size_t c_stride, std::size_t nb,
                                     const f32_clamp& p) noexcept {
    auto row_ptrs = [&](std::size_t t, const float* (&ap)[R]) __attribute__((always_inline)) {
#pragma GCC unroll 16
      for (std::size_t r = 0; r < R; ++r) ap[r] = ind[t * MR + std::min(r, rows - 1)];
    };
    tile_body<R>(rows, ks, kc, row_ptrs, w, c, c_stride, nb, p);
  }

  /// tile_body for the strided entry: row r of segment t at seg[t] + off + min(r, rows - 1) * a_stride.
  template <std::size_t R>
  [[gnu::noinline]] static void stile(std::size_t rows, std::size_t ks, std::size_t kc, const float* const* seg,
                                      std::size_t off, std::size_t a_stride, const float* w, float* c,
                                      std::size_t c_stride, std::size_t nb, const f32_clamp& p) noexcept {
    // Row offsets, clamped to the last valid row, as a chain of adds: GCC 12 turns the
    // min-and-multiply form into 512-bit integer code and lane extractions (layer a 5% slower).
    std::size_t roff[R];
    {
      std::size_t ro = off;
#pragma GCC unroll 16
      for (std::size_t r = 0; r < R; ++r) {
        roff[r] = ro;
        ro += r + 1 < rows ? a_stride : 0;
        __asm__("" : "+r"(ro));
      }
    }
    auto row_ptrs = [&](std::size_t t, const float* (&ap)[R]) __attribute__((always_inline)) {
#pragma GCC unroll 16
      for (std::size_t r = 0; r < R; ++r) ap[r] = seg[t] + roff[r];
    };
    tile_body<R>(rows, ks, kc, row_ptrs, w, c, c_stride, nb, p);
  }

  /// One row x one packed block (GEMV): 4 depths per step into 8 accumulators; nb >= 1 columns
  /// remain from this block on (only the first min(nb, 32) are stored).
  static void row1(std::size_t k, const float* a0, const float* w, float* c0, std::size_t nb,
                   const f32_clamp& p) noexcept {
    __m512 s00 = _mm512_loadu_ps(w), s01 = _mm512_loadu_ps(w + L);
    __m512 s10 = _mm512_setzero_ps(), s11 = s10, s20 = s10, s21 = s10, s30 = s10, s31 = s10;
    w += NR;
    std::size_t kk = 0;
    for (; kk + 4 <= k; kk += 4, w += 4 * NR) {
      __m512 x = _mm512_set1_ps(a0[kk]);
      s00 = _mm512_fmadd_ps(x, _mm512_loadu_ps(w), s00), s01 = _mm512_fmadd_ps(x, _mm512_loadu_ps(w + L), s01);
      x = _mm512_set1_ps(a0[kk + 1]);
      s10 = _mm512_fmadd_ps(x, _mm512_loadu_ps(w + NR), s10);
      s11 = _mm512_fmadd_ps(x, _mm512_loadu_ps(w + NR + L), s11);
      x = _mm512_set1_ps(a0[kk + 2]);
      s20 = _mm512_fmadd_ps(x, _mm512_loadu_ps(w + 2 * NR), s20);
      s21 = _mm512_fmadd_ps(x, _mm512_loadu_ps(w + 2 * NR + L), s21);
      x = _mm512_set1_ps(a0[kk + 3]);
      s30 = _mm512_fmadd_ps(x, _mm512_loadu_ps(w + 3 * NR), s30);
      s31 = _mm512_fmadd_ps(x, _mm512_loadu_ps(w + 3 * NR + L), s31);
    }
    for (; kk < k; ++kk, w += NR) {
      const __m512 x = _mm512_set1_ps(a0[kk]);
      s00 = _mm512_fmadd_ps(x, _mm512_loadu_ps(w), s00), s01 = _mm512_fmadd_ps(x, _mm512_loadu_ps(w + L), s01);
    }
    const __m512 x0 = _mm512_add_ps(_mm512_add_ps(s00, s10), _mm512_add_ps(s20, s30));
    const __m512 x1 = _mm512_add_ps(_mm512_add_ps(s01, s11), _mm512_add_ps(s21, s31));
    store_row(c0, x0, x1, nb, _mm512_set1_ps(p.min), _mm512_set1_ps(p.max));
  }
};

}  // namespace tessera::kernels

#include <tessera/arch/avx512/intrinsics_end.hpp>

template <> struct tessera::ukernel<tessera::op::gemm_f32, tessera::arch::avx512_vnni> {
  using type = tessera::kernels::gemm_f32_8x32_avx512_fma;
};
