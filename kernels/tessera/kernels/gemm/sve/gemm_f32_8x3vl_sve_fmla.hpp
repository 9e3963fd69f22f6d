/// @file gemm_f32_8x3vl_sve_fmla.hpp
/// fp32 GEMM on SVE with indexed FMLA and the fused bias + clamp epilogue, vector-length agnostic.
///
/// Tile: MR = 8 rows x NR = 3 vectors (nr() = 3 * svcntw() columns, known at run time only) =
/// 24 accumulators; M remainders of 1-4 rows run a 4-row instance of the same tile.
/// Consumes op_f32.hpp's packed B with nr = 3 * svcntw(): per block `float bias[nr]`, then
/// `float b[K][nr]` (zero-padded columns), so one k step of a block is three whole vectors
/// (LD1W, vnum addressing).
/// Inner loop (4 k): per row one LD1RQW replicates A[r][k..k+3] into every quadword and
/// `svmla_lane_f32` (FMLA Zd.S, Zn.S, Zm.S[lane]) multiplies a B vector by lane j = k + j. The
/// indexed operand must live in z0-z7, and 24 accumulators + 8 A + 3 B would need 35 registers,
/// so the tile runs as two half passes over the same 4 k (rows 0-3, then rows 4-7, each loading
/// the k step's 3 B vectors; the second pass through a laundered copy of the B pointer): per 4 k
/// 96 FMLA + 8 LD1RQW + 24 LD1W + address arithmetic, no spills (clang 16: 148 instructions;
/// GCC 12: 164, it still copies some A quadwords into z0-z7).
/// Empty asm statements pin the accumulators of a half pass between k steps and the A quadwords
/// to z0-z7 ("y") (they emit nothing): without them the compilers interleave neighbouring steps
/// and spill, and GCC keeps the quadwords elsewhere and copies one into z0 before every FMLA.
/// ISA: Armv8.2-A SVE (SVE1 instructions only).
/// Tails: M by row clamping (A pointers of missing rows alias the last valid row; missing rows
/// are never stored); N by svwhilelt_b32-predicated stores (nothing at or past column n is
/// written; padded B columns are zero); K (k % 4) by one more step whose LD1RQW is predicated by
/// svwhilelt_b32(0, k % 4) (A elements at or past k read as zero and are never accessed) and
/// which reads only the k % 4 B rows that exist. Results do not depend on the vector length.
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SVE
#error "gemm_f32_8x3vl_sve_fmla.hpp needs SVE (TESSERA_HAS_SVE)"
#endif

#include <arm_sve.h>
#include <cstddef>
#include <cstdint>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/op_f32.hpp>

namespace tessera::kernels {

struct gemm_f32_8x3vl_sve_fmla {
  using arch = tessera::arch::sve;
  static constexpr const char* name = "gemm_f32_8x3vl_sve_fmla";
  /// Columns per packed B block: three fp32 vectors (vector-length dependent: query at run time).
  static std::size_t nr() noexcept { return 3 * svcntw(); }

  /// C[m][n] = clamp(sum_k A[m][k] B[k][n] + bias[n], p.min, p.max).
  /// @param[in]  a         m rows of k floats, row stride a_stride (elements)
  /// @param[in]  packed_b  B and bias packed by pack_f32_b with nr(); float-aligned
  /// @param[out] c         m rows of n floats, row stride c_stride (elements)
  /// @param[in]  p         clamp bounds (min <= max)
  static void run(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t a_stride,
                  const void* packed_b, float* c, std::size_t c_stride, const f32_clamp& p) noexcept {
    const std::size_t vl = svcntw(), nrv = 3 * vl;
    const std::size_t bs = nrv * (k + 1);  // floats per packed block
    const float* pb = static_cast<const float*>(packed_b);
    for (std::size_t n0 = 0; n0 < n; n0 += nrv, pb += bs) {
      const std::uint64_t nb = n - n0 < nrv ? n - n0 : nrv;
      const svbool_t p0 = svwhilelt_b32(std::uint64_t{0}, nb), p1 = svwhilelt_b32(std::uint64_t{vl}, nb),
                     p2 = svwhilelt_b32(std::uint64_t{2 * vl}, nb);
      for (std::size_t m0 = 0; m0 < m; m0 += MR) {
        const std::size_t mb = m - m0 < MR ? m - m0 : MR;
        if (mb > 4) tile<8>(mb, k, a + m0 * a_stride, a_stride, pb, nrv, c + m0 * c_stride + n0, c_stride, p0, p1, p2, p);
        else tile<4>(mb, k, a + m0 * a_stride, a_stride, pb, nrv, c + m0 * c_stride + n0, c_stride, p0, p1, p2, p);
      }
    }
  }

 private:
  static constexpr std::size_t MR = 8;

  /// Clamps and stores one row's three vectors under the column predicates.
  [[gnu::always_inline]] static inline void store_row(float* cr, svfloat32_t v0, svfloat32_t v1, svfloat32_t v2,
                                                      svbool_t p0, svbool_t p1, svbool_t p2, svfloat32_t lo,
                                                      svfloat32_t hi) noexcept {
    const svbool_t pt = svptrue_b32();
    svst1_f32(p0, cr, svmin_f32_x(pt, svmax_f32_x(pt, v0, lo), hi));
    svst1_vnum_f32(p1, cr, 1, svmin_f32_x(pt, svmax_f32_x(pt, v1, lo), hi));
    svst1_vnum_f32(p2, cr, 2, svmin_f32_x(pt, svmax_f32_x(pt, v2, lo), hi));
  }

// Scheduling fence pinning accumulator rows R0..R3 (emits nothing): their FMLAs above it stay
// above, no load below it moves above; extra arguments (`"+r"(ptr)`) make a pointer opaque.
#define TESSERA_F32_8X3VL_PIN1(X) __asm__ volatile("" : "+w"(X))
#define TESSERA_F32_8X3VL_PIN(R0, R1, R2, R3, ...)                                                   \
  TESSERA_F32_8X3VL_PIN1(c##R0##0); TESSERA_F32_8X3VL_PIN1(c##R0##1); TESSERA_F32_8X3VL_PIN1(c##R0##2); \
  TESSERA_F32_8X3VL_PIN1(c##R1##0); TESSERA_F32_8X3VL_PIN1(c##R1##1); TESSERA_F32_8X3VL_PIN1(c##R1##2); \
  TESSERA_F32_8X3VL_PIN1(c##R2##0); TESSERA_F32_8X3VL_PIN1(c##R2##1); TESSERA_F32_8X3VL_PIN1(c##R2##2); \
  TESSERA_F32_8X3VL_PIN1(c##R3##0); TESSERA_F32_8X3VL_PIN1(c##R3##1); TESSERA_F32_8X3VL_PIN1(c##R3##2); \
  __asm__ volatile("" : __VA_ARGS__ : : "memory")
// Three FMLAs of accumulator row R with lane L of A quadword X.
#define TESSERA_F32_8X3VL_ROW(R, X, L)         \
  c##R##0 = svmla_lane_f32(c##R##0, b0, X, L); \
  c##R##1 = svmla_lane_f32(c##R##1, b1, X, L); \
  c##R##2 = svmla_lane_f32(c##R##2, b2, X, L)
// One k step (lane L, B row at W, which advances by one row) of a half pass: rows R0..R3.
#define TESSERA_F32_8X3VL_STEP(W, L, R0, R1, R2, R3, X0, X1, X2, X3)                              \
  do {                                                                                           \
    TESSERA_F32_8X3VL_PIN(R0, R1, R2, R3, "+r"(W), "+y"(X0), "+y"(X1), "+y"(X2), "+y"(X3));       \
    const svfloat32_t b0 = svld1_f32(pt, W), b1 = svld1_vnum_f32(pt, W, 1), b2 = svld1_vnum_f32(pt, W, 2); \
    W += nrv;                                                                                    \
    TESSERA_F32_8X3VL_ROW(R0, X0, L);                                                            \
    TESSERA_F32_8X3VL_ROW(R1, X1, L);                                                            \
    TESSERA_F32_8X3VL_ROW(R2, X2, L);                                                            \
    TESSERA_F32_8X3VL_ROW(R3, X3, L);                                                            \
  } while (0)
// A half pass over 4 k (rows R0..R3 with A pointers A0..A3).
#define TESSERA_F32_8X3VL_HALF4(W, R0, R1, R2, R3, A0, A1, A2, A3)                                 \
  do {                                                                                           \
    svfloat32_t x0 = svld1rq_f32(pt, A0), x1 = svld1rq_f32(pt, A1), x2 = svld1rq_f32(pt, A2),       \
                x3 = svld1rq_f32(pt, A3);                                                         \
    __asm__("" : "+y"(x0), "+y"(x1), "+y"(x2), "+y"(x3)); /* z0-z7, where indexed FMLA reads */   \
    A0 += 4, A1 += 4, A2 += 4, A3 += 4;                                                          \
    TESSERA_F32_8X3VL_STEP(W, 0, R0, R1, R2, R3, x0, x1, x2, x3);                                \
    TESSERA_F32_8X3VL_STEP(W, 1, R0, R1, R2, R3, x0, x1, x2, x3);                                \
    TESSERA_F32_8X3VL_STEP(W, 2, R0, R1, R2, R3, x0, x1, x2, x3);                                \
    TESSERA_F32_8X3VL_STEP(W, 3, R0, R1, R2, R3, x0, x1, x2, x3);                                \
    TESSERA_F32_8X3VL_PIN(R0, R1, R2, R3);                                                       \
  } while (0)
// The K remainder of a half pass: kr = 1..3 steps, A quadwords loaded under pa (lanes < kr).
#define TESSERA_F32_8X3VL_HALFR(W, R0, R1, R2, R3, A0, A1, A2, A3)                                 \
  do {                                                                                           \
    svfloat32_t x0 = svld1rq_f32(pa, A0), x1 = svld1rq_f32(pa, A1), x2 = svld1rq_f32(pa, A2),       \
                x3 = svld1rq_f32(pa, A3);                                                         \
    __asm__("" : "+y"(x0), "+y"(x1), "+y"(x2), "+y"(x3)); /* z0-z7, where indexed FMLA reads */   \
    TESSERA_F32_8X3VL_STEP(W, 0, R0, R1, R2, R3, x0, x1, x2, x3);                                \
    if (kk > 1) TESSERA_F32_8X3VL_STEP(W, 1, R0, R1, R2, R3, x0, x1, x2, x3);                    \
    if (kk > 2) TESSERA_F32_8X3VL_STEP(W, 2, R0, R1, R2, R3, x0, x1, x2, x3);                    \
    TESSERA_F32_8X3VL_PIN(R0, R1, R2, R3);                                                       \
  } while (0)

  /// One R x 3VL tile (R = 8 or 4): mb (1..R) valid rows, block `w` of packed B, column predicates.
  template <std::size_t R>
  [[gnu::always_inline]] static inline void tile(std::size_t mb, std::size_t k, const float* a, std::size_t a_stride,
                                                 const float* w, std::size_t nrv, float* c, std::size_t c_stride,
                                                 svbool_t p0, svbool_t p1, svbool_t p2, const f32_clamp& p) noexcept {
    const svbool_t pt = svptrue_b32();
    // Row clamping: missing rows read the last valid row.
    const float* a0 = a;
    const float* a1 = mb > 1 ? a0 + a_stride : a0;
    const float* a2 = mb > 2 ? a1 + a_stride : a1;
    const float* a3 = mb > 3 ? a2 + a_stride : a2;
    const float* a4 = mb > 4 ? a3 + a_stride : a3;
    const float* a5 = mb > 5 ? a4 + a_stride : a4;
    const float* a6 = mb > 6 ? a5 + a_stride : a5;
    const float* a7 = mb > 7 ? a6 + a_stride : a6;

    svfloat32_t c00 = svld1_f32(pt, w), c01 = svld1_vnum_f32(pt, w, 1), c02 = svld1_vnum_f32(pt, w, 2);
    svfloat32_t c10 = c00, c11 = c01, c12 = c02, c20 = c00, c21 = c01, c22 = c02, c30 = c00, c31 = c01, c32 = c02;
    svfloat32_t c40 = c00, c41 = c01, c42 = c02, c50 = c00, c51 = c01, c52 = c02, c60 = c00, c61 = c01, c62 = c02;
    svfloat32_t c70 = c00, c71 = c01, c72 = c02;
    // Each accumulator its own value (copies of one bias vector confuse the register allocators).
    TESSERA_F32_8X3VL_PIN(0, 1, 2, 3);
    TESSERA_F32_8X3VL_PIN(4, 5, 6, 7);
    w += nrv;
    // The second half pass reads B through its own, opaque pointer (reloading is cheaper than
    // the registers that keeping the first pass's B vectors would need).
    const float* w2 = w;
    __asm__("" : "+r"(w2));

    std::size_t kk = k;
    for (; kk >= 4; kk -= 4) {
      TESSERA_F32_8X3VL_HALF4(w, 0, 1, 2, 3, a0, a1, a2, a3);
      if constexpr (R == 8) TESSERA_F32_8X3VL_HALF4(w2, 4, 5, 6, 7, a4, a5, a6, a7);
    }
    if (kk != 0) {
      const svbool_t pa = svwhilelt_b32(std::uint64_t{0}, std::uint64_t{kk});
      TESSERA_F32_8X3VL_HALFR(w, 0, 1, 2, 3, a0, a1, a2, a3);
      if constexpr (R == 8) TESSERA_F32_8X3VL_HALFR(w2, 4, 5, 6, 7, a4, a5, a6, a7);
    }

    // Bounds loaded after the k loop (p may alias C: no vector hoisted out of the tile loops).
    const svfloat32_t lo = svdup_n_f32(p.min), hi = svdup_n_f32(p.max);
    store_row(c, c00, c01, c02, p0, p1, p2, lo, hi);
    if (mb > 1) store_row(c + c_stride, c10, c11, c12, p0, p1, p2, lo, hi);
    if (mb > 2) store_row(c + 2 * c_stride, c20, c21, c22, p0, p1, p2, lo, hi);
    if (mb > 3) store_row(c + 3 * c_stride, c30, c31, c32, p0, p1, p2, lo, hi);
    if constexpr (R == 8) {
      if (mb > 4) store_row(c + 4 * c_stride, c40, c41, c42, p0, p1, p2, lo, hi);
      if (mb > 5) store_row(c + 5 * c_stride, c50, c51, c52, p0, p1, p2, lo, hi);
      if (mb > 6) store_row(c + 6 * c_stride, c60, c61, c62, p0, p1, p2, lo, hi);
      if (mb > 7) store_row(c + 7 * c_stride, c70, c71, c72, p0, p1, p2, lo, hi);
    }
  }

#undef TESSERA_F32_8X3VL_PIN1
#undef TESSERA_F32_8X3VL_PIN
#undef TESSERA_F32_8X3VL_ROW
#undef TESSERA_F32_8X3VL_STEP
#undef TESSERA_F32_8X3VL_HALF4
#undef TESSERA_F32_8X3VL_HALFR
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::gemm_f32, tessera::arch::sve> {
  using type = tessera::kernels::gemm_f32_8x3vl_sve_fmla;
};
