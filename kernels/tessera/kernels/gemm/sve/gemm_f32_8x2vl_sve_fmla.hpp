/// @file gemm_f32_8x2vl_sve_fmla.hpp
/// fp32 GEMM on SVE with indexed FMLA and the fused bias + clamp epilogue, vector-length agnostic.
///
/// Tile: MR = 8 rows x NR = 2 vectors (nr() = 2 * svcntw() columns, known at run time only) =
/// 16 accumulators; M remainders of 1-4 rows run a 4-row instance of the same tile.
/// Consumes op_f32.hpp's packed B with nr = 2 * svcntw(): per block `float bias[nr]`, then
/// `float b[K][nr]` (zero-padded columns), so one k step of a block is two whole vectors.
/// Inner loop (4 k): per row one LD1RQW replicates A[r][k..k+3] into every quadword and
/// `svmla_lane_f32` (FMLA Zd.S, Zn.S, Zm.S[lane]) multiplies a B vector by lane j = k + j. The
/// indexed operand must live in z0-z7: the 8 A quadwords take exactly z0-z7, the 16 accumulators
/// and the k step's 2 B vectors z8-z31, so every B vector is loaded once per tile (8 x 3 vectors
/// needs 35 registers and reloaded B for a second half pass of 4 rows). Per 4 k: 64 FMLA,
/// 8 LD1RQW, 8 LD1W (vnum addressing off one pointer), pointer and loop arithmetic.
/// Empty asm statements pin the accumulators between k steps and the A quadwords to z0-z7 ("y")
/// (they emit nothing): without them the compilers interleave neighbouring steps, and GCC keeps
/// the quadwords elsewhere and copies one into z0-z7 before every FMLA.
/// Indirect entry (`run_indirect`, for conv2d): the same tile (shared k loop) reads each row's
/// depth as ks segments through an indirection buffer (one pointer per row and kernel tap).
/// ISA: Armv8.2-A SVE (SVE1 instructions only).
/// Tails: M by row clamping (A pointers of missing rows alias the last valid row; missing rows
/// are never stored); N by svwhilelt_b32-predicated stores (nothing at or past column n is
/// written; padded B columns are zero); K (k % 4) by one more step whose LD1RQW is predicated by
/// svwhilelt_b32(0, k % 4) (A elements at or past k read as zero and are never accessed) and
/// which reads only the k % 4 B rows that exist. Results do not depend on the vector length.
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SVE
#error "gemm_f32_8x2vl_sve_fmla.hpp needs SVE (TESSERA_HAS_SVE)"
#endif

#include <arm_sve.h>
#include <cstddef>
#include <cstdint>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/op_f32.hpp>

namespace tessera::kernels {

struct gemm_f32_8x2vl_sve_fmla {
  using arch = tessera::arch::sve;
  static constexpr const char* name = "gemm_f32_8x2vl_sve_fmla";
  /// Columns per packed B block: two fp32 vectors (vector-length dependent: query at run time).
  static std::size_t nr() noexcept { return 2 * svcntw(); }

  /// C[m][n] = clamp(sum_k A[m][k] B[k][n] + bias[n], p.min, p.max).
  /// @param[in]  a         m rows of k floats, row stride a_stride (elements)
  /// @param[in]  packed_b  B and bias packed by pack_f32_b with nr(); float-aligned
  /// @param[out] c         m rows of n floats, row stride c_stride (elements)
  /// @param[in]  p         clamp bounds (min <= max)
  static void run(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t a_stride,
                  const void* packed_b, float* c, std::size_t c_stride, const f32_clamp& p) noexcept {
    const std::size_t vl = svcntw(), nrv = 2 * vl;
    const std::size_t bs = nrv * (k + 1);  // floats per packed block
    const float* pb = static_cast<const float*>(packed_b);
    for (std::size_t n0 = 0; n0 < n; n0 += nrv, pb += bs) {
      const std::uint64_t nb = n - n0 < nrv ? n - n0 : nrv;
      const svbool_t p0 = svwhilelt_b32(std::uint64_t{0}, nb), p1 = svwhilelt_b32(std::uint64_t{vl}, nb);
      for (std::size_t m0 = 0; m0 < m; m0 += MR) {
        const std::size_t mb = m - m0 < MR ? m - m0 : MR;
        if (mb > 4) tile<8>(mb, k, a + m0 * a_stride, a_stride, pb, nrv, c + m0 * c_stride + n0, c_stride, p0, p1, p);
        else tile<4>(mb, k, a + m0 * a_stride, a_stride, pb, nrv, c + m0 * c_stride + n0, c_stride, p0, p1, p);
      }
    }
  }

  /// Rows per tile of the indirection buffer.
  static std::size_t mr() noexcept { return MR; }
  /// Indirect GEMM (op_f32.hpp's indirect contract): depth ks * kc, row i of tap t at
  /// ind[(i / 8) * ks * 8 + t * 8 + i % 8]; the same tiles as `run`.
  static void run_indirect(std::size_t m, std::size_t n, std::size_t ks, std::size_t kc, const float* const* ind,
                           const void* packed_b, float* c, std::size_t c_stride, const f32_clamp& p) noexcept {
    const std::size_t vl = svcntw(), nrv = 2 * vl;
    const std::size_t bs = nrv * (ks * kc + 1);
    const float* pb = static_cast<const float*>(packed_b);
    for (std::size_t n0 = 0; n0 < n; n0 += nrv, pb += bs) {
      const std::uint64_t nb = n - n0 < nrv ? n - n0 : nrv;
      const svbool_t p0 = svwhilelt_b32(std::uint64_t{0}, nb), p1 = svwhilelt_b32(std::uint64_t{vl}, nb);
      for (std::size_t m0 = 0; m0 < m; m0 += MR) {
        const std::size_t mb = m - m0 < MR ? m - m0 : MR;
        const float* const* it = ind + m0 * ks;
        if (mb > 4) tile_indirect<8>(mb, ks, kc, it, pb, nrv, c + m0 * c_stride + n0, c_stride, p0, p1, p);
        else tile_indirect<4>(mb, ks, kc, it, pb, nrv, c + m0 * c_stride + n0, c_stride, p0, p1, p);
      }
    }
  }

 private:
  static constexpr std::size_t MR = 8;

  /// Clamps and stores one row's two vectors under the column predicates.
  [[gnu::always_inline]] static inline void store_row(float* cr, svfloat32_t v0, svfloat32_t v1, svbool_t p0,
                                                      svbool_t p1, svfloat32_t lo, svfloat32_t hi) noexcept {
    const svbool_t pt = svptrue_b32();
    svst1_f32(p0, cr, svmin_f32_x(pt, svmax_f32_x(pt, v0, lo), hi));
    svst1_vnum_f32(p1, cr, 1, svmin_f32_x(pt, svmax_f32_x(pt, v1, lo), hi));
  }

// Scheduling fence pinning the accumulators of rows 0-3 (and 4-7 when R == 8) (emits nothing):
// their FMLAs above it stay above, no load below it moves above.
#define TESSERA_F32_8X2VL_PIN1(X) __asm__ volatile("" : "+w"(X))
#define TESSERA_F32_8X2VL_PIN()                                                                  \
  TESSERA_F32_8X2VL_PIN1(c00); TESSERA_F32_8X2VL_PIN1(c01); TESSERA_F32_8X2VL_PIN1(c10);         \
  TESSERA_F32_8X2VL_PIN1(c11); TESSERA_F32_8X2VL_PIN1(c20); TESSERA_F32_8X2VL_PIN1(c21);         \
  TESSERA_F32_8X2VL_PIN1(c30); TESSERA_F32_8X2VL_PIN1(c31);                                      \
  if constexpr (R == 8) {                                                                        \
    TESSERA_F32_8X2VL_PIN1(c40); TESSERA_F32_8X2VL_PIN1(c41); TESSERA_F32_8X2VL_PIN1(c50);       \
    TESSERA_F32_8X2VL_PIN1(c51); TESSERA_F32_8X2VL_PIN1(c60); TESSERA_F32_8X2VL_PIN1(c61);       \
    TESSERA_F32_8X2VL_PIN1(c70); TESSERA_F32_8X2VL_PIN1(c71);                                    \
  }                                                                                              \
  __asm__ volatile("" ::: "memory")
// Keeps the A quadwords in z0-z7 ("y") through every k step (emits nothing).
#define TESSERA_F32_8X2VL_PINA()                                                                  \
  if constexpr (R == 8)                                                                           \
    __asm__ volatile("" : "+y"(x0), "+y"(x1), "+y"(x2), "+y"(x3), "+y"(x4), "+y"(x5), "+y"(x6), "+y"(x7)); \
  else                                                                                            \
    __asm__ volatile("" : "+y"(x0), "+y"(x1), "+y"(x2), "+y"(x3))
// Two FMLAs of accumulator row R with lane L of A quadword x<R>.
#define TESSERA_F32_8X2VL_ROW(R, L)                  \
  c##R##0 = svmla_lane_f32(c##R##0, b0, x##R, L); \
  c##R##1 = svmla_lane_f32(c##R##1, b1, x##R, L)
// One k step (lane L, B row L of the 4 at W): all rows.
#define TESSERA_F32_8X2VL_STEP(W, L)                                                            \
  do {                                                                                          \
    TESSERA_F32_8X2VL_PIN();                                                                    \
    TESSERA_F32_8X2VL_PINA();                                                                   \
    const svfloat32_t b0 = svld1_vnum_f32(pt, W, 2 * L), b1 = svld1_vnum_f32(pt, W, 2 * L + 1);  \
    TESSERA_F32_8X2VL_ROW(0, L);                                                                \
    TESSERA_F32_8X2VL_ROW(1, L);                                                                \
    TESSERA_F32_8X2VL_ROW(2, L);                                                                \
    TESSERA_F32_8X2VL_ROW(3, L);                                                                \
    if constexpr (R == 8) {                                                                     \
      TESSERA_F32_8X2VL_ROW(4, L);                                                              \
      TESSERA_F32_8X2VL_ROW(5, L);                                                              \
      TESSERA_F32_8X2VL_ROW(6, L);                                                              \
      TESSERA_F32_8X2VL_ROW(7, L);                                                              \
    }                                                                                           \
  } while (0)
// The A quadwords of 4 k (lanes under predicate P) of every row, pinned to z0-z7 (where indexed
// FMLA reads); x4-x7 alias x0 in the 4-row instance.
#define TESSERA_F32_8X2VL_LOADA(P)                                                               \
  svfloat32_t x0 = svld1rq_f32(P, a0 + ka), x1 = svld1rq_f32(P, a1 + ka), x2 = svld1rq_f32(P, a2 + ka), \
              x3 = svld1rq_f32(P, a3 + ka), x4 = x0, x5 = x0, x6 = x0, x7 = x0;                   \
  if constexpr (R == 8) {                                                                        \
    x4 = svld1rq_f32(P, a4 + ka), x5 = svld1rq_f32(P, a5 + ka), x6 = svld1rq_f32(P, a6 + ka),      \
    x7 = svld1rq_f32(P, a7 + ka);                                                                \
    __asm__("" : "+y"(x0), "+y"(x1), "+y"(x2), "+y"(x3), "+y"(x4), "+y"(x5), "+y"(x6), "+y"(x7)); \
  } else {                                                                                       \
    __asm__("" : "+y"(x0), "+y"(x1), "+y"(x2), "+y"(x3));                                        \
  }

// The tile's accumulators, from the block's bias at w (w then points at its first B row).
#define TESSERA_F32_8X2VL_INIT()                                                                          \
  svfloat32_t c00 = svld1_f32(pt, w), c01 = svld1_vnum_f32(pt, w, 1);                                     \
  svfloat32_t c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;                           \
  svfloat32_t c40 = c00, c41 = c01, c50 = c00, c51 = c01, c60 = c00, c61 = c01, c70 = c00, c71 = c01;     \
  /* Each accumulator its own value (copies of one bias vector confuse the register allocators). */      \
  TESSERA_F32_8X2VL_PIN();                                                                                \
  w += nrv
// KC depths of rows a0..a7 against B at w (w advances past the 4-step part only).
// One A column index for all rows, opaque to the optimizer: LD1RQW then addresses
// [a_r, ka, lsl #2] instead of an ADD per row and step.
#define TESSERA_F32_8X2VL_KLOOP(KC)                                            \
  std::size_t ka = 0, kk = KC;                                                 \
  for (; kk >= 4; kk -= 4) {                                                   \
    TESSERA_F32_8X2VL_LOADA(pt);                                               \
    ka += 4;                                                                   \
    __asm__("" : "+r"(ka));                                                    \
    TESSERA_F32_8X2VL_STEP(w, 0);                                              \
    TESSERA_F32_8X2VL_STEP(w, 1);                                              \
    TESSERA_F32_8X2VL_STEP(w, 2);                                              \
    TESSERA_F32_8X2VL_STEP(w, 3);                                              \
    TESSERA_F32_8X2VL_PIN();                                                   \
    w += 4 * nrv;                                                              \
  }                                                                            \
  if (kk != 0) {                                                               \
    const svbool_t pa = svwhilelt_b32(std::uint64_t{0}, std::uint64_t{kk});    \
    TESSERA_F32_8X2VL_LOADA(pa);                                               \
    TESSERA_F32_8X2VL_STEP(w, 0);                                              \
    if (kk > 1) TESSERA_F32_8X2VL_STEP(w, 1);                                  \
    if (kk > 2) TESSERA_F32_8X2VL_STEP(w, 2);                                  \
    TESSERA_F32_8X2VL_PIN();                                                   \
  }
// Clamps and stores the mb valid rows at c. Bounds loaded after the k loop (p may alias C: no
// vector hoisted out of the tile loops).
#define TESSERA_F32_8X2VL_STORE()                                                   \
  const svfloat32_t lo = svdup_n_f32(p.min), hi = svdup_n_f32(p.max);               \
  store_row(c, c00, c01, p0, p1, lo, hi);                                           \
  if (mb > 1) store_row(c + c_stride, c10, c11, p0, p1, lo, hi);                    \
  if (mb > 2) store_row(c + 2 * c_stride, c20, c21, p0, p1, lo, hi);                \
  if (mb > 3) store_row(c + 3 * c_stride, c30, c31, p0, p1, lo, hi);                \
  if constexpr (R == 8) {                                                           \
    if (mb > 4) store_row(c + 4 * c_stride, c40, c41, p0, p1, lo, hi);              \
    if (mb > 5) store_row(c + 5 * c_stride, c50, c51, p0, p1, lo, hi);              \
    if (mb > 6) store_row(c + 6 * c_stride, c60, c61, p0, p1, lo, hi);              \
    if (mb > 7) store_row(c + 7 * c_stride, c70, c71, p0, p1, lo, hi);              \
  }

  /// One R x 2VL tile (R = 8 or 4): mb (1..R) valid rows, block `w` of packed B, column predicates.
  template <std::size_t R>
  [[gnu::always_inline]] static inline void tile(std::size_t mb, std::size_t k, const float* a, std::size_t a_stride,
                                                 const float* w, std::size_t nrv, float* c, std::size_t c_stride,
                                                 svbool_t p0, svbool_t p1, const f32_clamp& p) noexcept {
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
    TESSERA_F32_8X2VL_INIT();
    TESSERA_F32_8X2VL_KLOOP(k);
    TESSERA_F32_8X2VL_STORE();
  }

  /// The same tile reading ks segments of kc depths, segment t of row r at ind[t * MR + r].
  template <std::size_t R>
  [[gnu::always_inline]] static inline void tile_indirect(std::size_t mb, std::size_t ks, std::size_t kc,
                                                          const float* const* ind, const float* w, std::size_t nrv,
                                                          float* c, std::size_t c_stride, svbool_t p0, svbool_t p1,
                                                          const f32_clamp& p) noexcept {
    const svbool_t pt = svptrue_b32();
    TESSERA_F32_8X2VL_INIT();
    for (std::size_t t = 0; t < ks; ++t, ind += MR) {
      // Row clamping: missing rows read the last valid row's pointer.
      const float* a0 = ind[0];
      const float* a1 = mb > 1 ? ind[1] : a0;
      const float* a2 = mb > 2 ? ind[2] : a1;
      const float* a3 = mb > 3 ? ind[3] : a2;
      const float* a4 = mb > 4 ? ind[4] : a3;
      const float* a5 = mb > 5 ? ind[5] : a4;
      const float* a6 = mb > 6 ? ind[6] : a5;
      const float* a7 = mb > 7 ? ind[7] : a6;
      TESSERA_F32_8X2VL_KLOOP(kc);
      w += kk * nrv;
    }
    TESSERA_F32_8X2VL_STORE();
  }

#undef TESSERA_F32_8X2VL_PIN1
#undef TESSERA_F32_8X2VL_PIN
#undef TESSERA_F32_8X2VL_PINA
#undef TESSERA_F32_8X2VL_ROW
#undef TESSERA_F32_8X2VL_STEP
#undef TESSERA_F32_8X2VL_LOADA
#undef TESSERA_F32_8X2VL_INIT
#undef TESSERA_F32_8X2VL_KLOOP
#undef TESSERA_F32_8X2VL_STORE
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::gemm_f32, tessera::arch::sve> {
  using type = tessera::kernels::gemm_f32_8x2vl_sve_fmla;
};
