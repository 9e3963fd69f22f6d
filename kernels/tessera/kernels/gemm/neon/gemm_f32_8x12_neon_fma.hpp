/// @file gemm_f32_8x12_neon_fma.hpp
/// fp32 GEMM on AArch64 Neon with FMLA (by element) and the fused bias + clamp epilogue.
///
/// Tile: MR = 8 rows x NR = 12 columns = 24 q accumulators (v8-v31 territory), nr() = 12.
/// Consumes op_f32.hpp's packed B with nr = 12: per block `float bias[12]`, then `float b[K][12]`
/// (zero-padded columns), so one k step of a block is three consecutive q vectors.
/// Inner loop (4 k): A is read with 128-bit loads (4 k of one row per q register) and used by
/// `vfmaq_laneq_f32` (FMLA Vd.4S, Vn.4S, Vm.S[lane]). 24 accumulators + 8 A quads + 3 B vectors
/// would need 35 registers, so the tile runs as two half passes over the same 4 k: rows 0-3 with
/// their 4 A quads, then rows 4-7 with theirs, each pass loading the k step's 12 B columns (one
/// LD1 {3 x q} per k step and pass; the second pass reads through a laundered copy of the B
/// pointer so the compiler does not try to keep 12 B vectors alive across the passes).
/// Per 4 k: 96 FMLA + 8 LDR q (A) + 8 LD1 x3 (B) + loop overhead, no spills (checked with
/// GCC 12 and clang 16 -O2 -S).
/// M = 1 (batch-1 fully connected, and a last single row of a larger M) takes a GEMV path: two
/// 12-column blocks at once, k unrolled by 4 into even/odd-k accumulator sets, 12 independent
/// accumulation chains (FMLA latency x pipes on big cores), the sets added at the end.
/// Indirect entry (`run_indirect`, for conv2d): the same tile (shared k loop) reads each row's
/// depth as ks segments through an indirection buffer (one pointer per row and kernel tap).
/// ISA: Armv8-A Advanced SIMD (FMLA is baseline AArch64).
/// Tails: M by row clamping (the A pointers of missing rows alias the last valid row; missing
/// rows are never stored); N by partial stores of the last block (q, d and s stores: nothing at
/// or past column n is written; padded B columns are zero); K (k % 4) by single-k steps whose A
/// values are scalar loads (no A element at or past k is read).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_NEON
#error "gemm_f32_8x12_neon_fma.hpp needs AArch64 Neon (TESSERA_HAS_NEON)"
#endif

#include <arm_neon.h>
#include <cstddef>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/op_f32.hpp>

namespace tessera::kernels {

struct gemm_f32_8x12_neon_fma {
  using arch = tessera::arch::neon;
  static constexpr const char* name = "gemm_f32_8x12_neon_fma";
  /// Columns per packed B block.
  static std::size_t nr() noexcept { return NR; }

  /// C[m][n] = clamp(sum_k A[m][k] B[k][n] + bias[n], p.min, p.max).
  /// @param[in]  a         m rows of k floats, row stride a_stride (elements)
  /// @param[in]  packed_b  B and bias packed by pack_f32_b with nr() = 12; float-aligned
  /// @param[out] c         m rows of n floats, row stride c_stride (elements)
  /// @param[in]  p         clamp bounds (min <= max)
  static void run(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t a_stride,
                  const void* packed_b, float* c, std::size_t c_stride, const f32_clamp& p) noexcept {
    const float* pb = static_cast<const float*>(packed_b);
    const std::size_t bs = NR * (k + 1);  // floats per packed block
    const std::size_t mt = (m % MR == 1) ? m - 1 : m;  // a last single row goes to the GEMV path
    if (mt != 0) {
      for (std::size_t n0 = 0; n0 < n; n0 += NR, pb += bs) {
        const std::size_t nb = n - n0 < NR ? n - n0 : NR;
        for (std::size_t m0 = 0; m0 < mt; m0 += MR) {
          const std::size_t mb = mt - m0 < MR ? mt - m0 : MR;
          const float* am = a + m0 * a_stride;
          float* cm = c + m0 * c_stride + n0;
          // Tiles of 4 rows / 8 columns where the rest would be padding only (one half pass, or
          // no FMLAs on the third B vector): no wasted MACs at M % 8 in 1..4 or N % 12 in 1..8.
          if (nb > 8) {
            if (mb > 4) tile<8, 3>(mb, nb, k, am, a_stride, pb, cm, c_stride, p);
            else tile<4, 3>(mb, nb, k, am, a_stride, pb, cm, c_stride, p);
          } else {
            if (mb > 4) tile<8, 2>(mb, nb, k, am, a_stride, pb, cm, c_stride, p);
            else tile<4, 2>(mb, nb, k, am, a_stride, pb, cm, c_stride, p);
          }
        }
      }
    }
    if (mt != m) gemv(n, k, a + mt * a_stride, static_cast<const float*>(packed_b), c + mt * c_stride, p.min, p.max);
  }

  /// Rows per tile of the indirection buffer.
  static std::size_t mr() noexcept { return MR; }
  /// Indirect GEMM (op_f32.hpp's indirect contract): depth ks * kc, row i of tap t at
  /// ind[(i / 8) * ks * 8 + t * 8 + i % 8]; the same tiles as `run` (a single last row included).
  static void run_indirect(std::size_t m, std::size_t n, std::size_t ks, std::size_t kc, const float* const* ind,
                           const void* packed_b, float* c, std::size_t c_stride, const f32_clamp& p) noexcept {
    const float* pb = static_cast<const float*>(packed_b);
    const std::size_t bs = NR * (ks * kc + 1);
    for (std::size_t n0 = 0; n0 < n; n0 += NR, pb += bs) {
      const std::size_t nb = n - n0 < NR ? n - n0 : NR;
      for (std::size_t m0 = 0; m0 < m; m0 += MR) {
        const std::size_t mb = m - m0 < MR ? m - m0 : MR;
        const float* const* it = ind + m0 * ks;
        float* cm = c + m0 * c_stride + n0;
        if (nb > 8) {
          if (mb > 4) tile_indirect<8, 3>(mb, nb, ks, kc, it, pb, cm, c_stride, p);
          else tile_indirect<4, 3>(mb, nb, ks, kc, it, pb, cm, c_stride, p);
        } else {
          if (mb > 4) tile_indirect<8, 2>(mb, nb, ks, kc, it, pb, cm, c_stride, p);
          else tile_indirect<4, 2>(mb, nb, ks, kc, it, pb, cm, c_stride, p);
        }
      }
    }
  }

 private:
  static constexpr std::size_t MR = 8, NR = 12;

  /// Compiler scheduling fence (emits nothing): no load moves across it. Between the half passes
  /// it keeps GCC 12's pre-RA scheduler from hoisting the second pass's A and B loads into the
  /// first (which needs more than 32 registers and spills accumulators in the loop).
  static inline void schedule_fence() noexcept { __asm__ volatile("" ::: "memory"); }

  /// Clamps and stores the first `nb` (1..12) of the 12 columns in v0, v1, v2 at `cr`.
  [[gnu::always_inline]] static inline void store_row(float* cr, std::size_t nb, float32x4_t v0, float32x4_t v1, float32x4_t v2,
                               float32x4_t lo, float32x4_t hi) noexcept {
    v0 = vminq_f32(vmaxq_f32(v0, lo), hi);
    v1 = vminq_f32(vmaxq_f32(v1, lo), hi);
    v2 = vminq_f32(vmaxq_f32(v2, lo), hi);
    if (nb == NR) {
      vst1q_f32(cr, v0);
      vst1q_f32(cr + 4, v1);
      vst1q_f32(cr + 8, v2);
      return;
    }
    float32x4_t rest = v0;
    if (nb >= 4) {
      vst1q_f32(cr, v0);
      cr += 4;
      nb -= 4;
      rest = v1;
      if (nb >= 4) {
        vst1q_f32(cr, v1);
        cr += 4;
        nb -= 4;
        rest = v2;
      }
    }
    if (nb & 2) {
      vst1_f32(cr, vget_low_f32(rest));
      cr += 2;
      rest = vextq_f32(rest, rest, 2);
    }
    if (nb & 1) vst1q_lane_f32(cr, rest, 0);
  }

// Scheduling fence that also pins accumulator rows R0..R3 (emits nothing): their FMLAs above it
// stay above, no load below it moves above; an optional `, "+r"(ptr)` makes a pointer opaque
// (the B pointer then advances by post-indexed LD1 instead of a copy and an add per k step).
// Without it the compilers' schedulers interleave neighbouring k steps or half passes, and the
// extra live B vectors or A quads spill.
#define TESSERA_F32_8X12_PIN1(X) __asm__ volatile("" : "+w"(X))
#define TESSERA_F32_8X12_PIN(R0, R1, R2, R3, ...)                                                       \
  TESSERA_F32_8X12_PIN1(c##R0##0); TESSERA_F32_8X12_PIN1(c##R0##1); TESSERA_F32_8X12_PIN1(c##R0##2);     \
  TESSERA_F32_8X12_PIN1(c##R1##0); TESSERA_F32_8X12_PIN1(c##R1##1); TESSERA_F32_8X12_PIN1(c##R1##2);     \
  TESSERA_F32_8X12_PIN1(c##R2##0); TESSERA_F32_8X12_PIN1(c##R2##1); TESSERA_F32_8X12_PIN1(c##R2##2);     \
  TESSERA_F32_8X12_PIN1(c##R3##0); TESSERA_F32_8X12_PIN1(c##R3##1); TESSERA_F32_8X12_PIN1(c##R3##2);     \
  __asm__ volatile("" : __VA_ARGS__ : : "memory")
// Three FMLAs of accumulator row R (columns 0-3, 4-7, 8-11) with lane L of A quad X.
#define TESSERA_F32_8X12_ROW(R, X, L)                                     \
  c##R##0 = vfmaq_laneq_f32(c##R##0, b0, X, L);                           \
  c##R##1 = vfmaq_laneq_f32(c##R##1, b1, X, L);                           \
  if constexpr (V == 3) c##R##2 = vfmaq_laneq_f32(c##R##2, b2, X, L)
// One k step (lane L, B row at W, which advances by one row) of a half pass: rows R0..R0+3 with
// A quads X0..X3 (the block's 12 columns are loaded whatever V: one LD1 either way).
#define TESSERA_F32_8X12_STEP(W, L, R0, R1, R2, R3, X0, X1, X2, X3)                         \
  do {                                                                                      \
    TESSERA_F32_8X12_PIN(R0, R1, R2, R3, "+r"(W));                                        \
    const float32x4x3_t bv = vld1q_f32_x3(W);                                               \
    W += NR;                                                                                \
    const float32x4_t b0 = bv.val[0], b1 = bv.val[1], b2 = bv.val[2];                       \
    TESSERA_F32_8X12_ROW(R0, X0, L);                                                        \
    TESSERA_F32_8X12_ROW(R1, X1, L);                                                        \
    TESSERA_F32_8X12_ROW(R2, X2, L);                                                        \
    TESSERA_F32_8X12_ROW(R3, X3, L);                                                        \
  } while (0)
// One k step of all 8 rows from scalars S0..S7 = A[r][k] (the K remainder).
#define TESSERA_F32_8X12_ROW_N(R, S)                                      \
  c##R##0 = vfmaq_n_f32(c##R##0, b0, S);                                  \
  c##R##1 = vfmaq_n_f32(c##R##1, b1, S);                                  \
  if constexpr (V == 3) c##R##2 = vfmaq_n_f32(c##R##2, b2, S)

// The tile's accumulators, from the block's bias at w (w then points at its first B row; w2, the
// second half pass's B pointer, follows w).
#define TESSERA_F32_8X12_INIT() \
    float32x4_t c00 = vld1q_f32(w), c01 = vld1q_f32(w + 4), c02 = vld1q_f32(w + 8);                              \
    float32x4_t c10 = c00, c11 = c01, c12 = c02, c20 = c00, c21 = c01, c22 = c02, c30 = c00, c31 = c01, c32 = c02; \
    float32x4_t c40 = c00, c41 = c01, c42 = c02, c50 = c00, c51 = c01, c52 = c02, c60 = c00, c61 = c01, c62 = c02; \
    float32x4_t c70 = c00, c71 = c01, c72 = c02;                                                                 \
    /* Each accumulator becomes its own value (the asm emits nothing): copies of one bias vector */              \
    /* otherwise leave GCC's register allocator with moves and a spill in the k loop. */                         \
    __asm__("" : "+w"(c00), "+w"(c01), "+w"(c02), "+w"(c10), "+w"(c11), "+w"(c12), "+w"(c20), "+w"(c21));        \
    __asm__("" : "+w"(c22), "+w"(c30), "+w"(c31), "+w"(c32), "+w"(c40), "+w"(c41), "+w"(c42), "+w"(c50));        \
    __asm__("" : "+w"(c51), "+w"(c52), "+w"(c60), "+w"(c61), "+w"(c62), "+w"(c70), "+w"(c71), "+w"(c72));        \
    w += NR;                                                                                                     \
    /* The second half pass reads B through its own pointer, opaque to the optimizer: loading the */             \
    /* 12 vectors again is cheaper than the 12 registers it does not have. */                                    \
    const float* w2 = w;                                                                                         \
    __asm__("" : "+r"(w2));                                                                                      \
  static_assert(true, "")
// KC depths of rows a0..a7 (advanced past the 4-step part) against B at w and w2 (advanced past
// the 4-step part only; kk = KC % 4 remains).
#define TESSERA_F32_8X12_KLOOP(KC) \
    std::size_t kk = KC;                                                                                         \
    for (; kk >= 4; kk -= 4) {                                                                                   \
      {                                                                                                          \
        const float32x4_t x0 = vld1q_f32(a0), x1 = vld1q_f32(a1), x2 = vld1q_f32(a2), x3 = vld1q_f32(a3);        \
        a0 += 4, a1 += 4, a2 += 4, a3 += 4;                                                                      \
        TESSERA_F32_8X12_STEP(w, 0, 0, 1, 2, 3, x0, x1, x2, x3);                                                 \
        TESSERA_F32_8X12_STEP(w, 1, 0, 1, 2, 3, x0, x1, x2, x3);                                                 \
        TESSERA_F32_8X12_STEP(w, 2, 0, 1, 2, 3, x0, x1, x2, x3);                                                 \
        TESSERA_F32_8X12_STEP(w, 3, 0, 1, 2, 3, x0, x1, x2, x3);                                                 \
        TESSERA_F32_8X12_PIN(0, 1, 2, 3);                                                                        \
      }                                                                                                          \
      if constexpr (R == 8) {                                                                                    \
        const float32x4_t x4 = vld1q_f32(a4), x5 = vld1q_f32(a5), x6 = vld1q_f32(a6), x7 = vld1q_f32(a7);        \
        a4 += 4, a5 += 4, a6 += 4, a7 += 4;                                                                      \
        TESSERA_F32_8X12_STEP(w2, 0, 4, 5, 6, 7, x4, x5, x6, x7);                                                \
        TESSERA_F32_8X12_STEP(w2, 1, 4, 5, 6, 7, x4, x5, x6, x7);                                                \
        TESSERA_F32_8X12_STEP(w2, 2, 4, 5, 6, 7, x4, x5, x6, x7);                                                \
        TESSERA_F32_8X12_STEP(w2, 3, 4, 5, 6, 7, x4, x5, x6, x7);                                                \
        TESSERA_F32_8X12_PIN(4, 5, 6, 7);                                                                        \
      }                                                                                                          \
    }                                                                                                            \
    /* K remainder (k % 4 steps), in the same two half passes, A by scalar loads. */                             \
    for (std::size_t j = 0; j < kk; ++j) {                                                                       \
      const float32x4_t b0 = vld1q_f32(w + j * NR), b1 = vld1q_f32(w + j * NR + 4), b2 = vld1q_f32(w + j * NR + 8); \
      TESSERA_F32_8X12_ROW_N(0, a0[j]);                                                                          \
      TESSERA_F32_8X12_ROW_N(1, a1[j]);                                                                          \
      TESSERA_F32_8X12_ROW_N(2, a2[j]);                                                                          \
      TESSERA_F32_8X12_ROW_N(3, a3[j]);                                                                          \
    }                                                                                                            \
    schedule_fence();                                                                                            \
    if constexpr (R == 8) for (std::size_t j = 0; j < kk; ++j) {                                                 \
      const float32x4_t b0 = vld1q_f32(w2 + j * NR), b1 = vld1q_f32(w2 + j * NR + 4), b2 = vld1q_f32(w2 + j * NR + 8); \
      TESSERA_F32_8X12_ROW_N(4, a4[j]);                                                                          \
      TESSERA_F32_8X12_ROW_N(5, a5[j]);                                                                          \
      TESSERA_F32_8X12_ROW_N(6, a6[j]);                                                                          \
      TESSERA_F32_8X12_ROW_N(7, a7[j]);                                                                          \
    }                                                                                                            \
  static_assert(true, "")
// Clamps and stores the mb valid rows at c (nb columns).
#define TESSERA_F32_8X12_STORE() \
    /* The bounds are loaded here, after the k loop: a vector hoisted out of the tile loops would */             \
    /* hold 2 of the 32 registers the loop needs (p may alias C, so the loads stay here). */                     \
    const float32x4_t lo = vld1q_dup_f32(&p.min), hi = vld1q_dup_f32(&p.max);                                    \
    store_row(c, nb, c00, c01, c02, lo, hi);                                                                     \
    if (mb > 1) store_row(c + c_stride, nb, c10, c11, c12, lo, hi);                                              \
    if (mb > 2) store_row(c + 2 * c_stride, nb, c20, c21, c22, lo, hi);                                          \
    if (mb > 3) store_row(c + 3 * c_stride, nb, c30, c31, c32, lo, hi);                                          \
    if constexpr (R == 8) {                                                                                      \
      if (mb > 4) store_row(c + 4 * c_stride, nb, c40, c41, c42, lo, hi);                                        \
      if (mb > 5) store_row(c + 5 * c_stride, nb, c50, c51, c52, lo, hi);                                        \
      if (mb > 6) store_row(c + 6 * c_stride, nb, c60, c61, c62, lo, hi);                                        \
      if (mb > 7) store_row(c + 7 * c_stride, nb, c70, c71, c72, lo, hi);                                        \
    }                                                                                                            \
  static_assert(true, "")

  /// One R x 4V tile (R = 8 or 4 rows, V = 3 or 2 vectors of columns): mb (1..R) valid rows,
  /// nb (1..4V) valid columns, block `w` of packed B (12 columns; with V = 2 the third B vector is
  /// loaded but not used, nb <= 8 so its columns are padding).
  template <std::size_t R, std::size_t V>
  [[gnu::always_inline]] static inline void tile(std::size_t mb, std::size_t nb, std::size_t k, const float* a, std::size_t a_stride,
                          const float* w, float* c, std::size_t c_stride, const f32_clamp& p) noexcept {
    // Row clamping: missing rows read the last valid row.
    const float* a0 = a;
    const float* a1 = mb > 1 ? a0 + a_stride : a0;
    const float* a2 = mb > 2 ? a1 + a_stride : a1;
    const float* a3 = mb > 3 ? a2 + a_stride : a2;
    const float* a4 = mb > 4 ? a3 + a_stride : a3;
    const float* a5 = mb > 5 ? a4 + a_stride : a4;
    const float* a6 = mb > 6 ? a5 + a_stride : a5;
    const float* a7 = mb > 7 ? a6 + a_stride : a6;

    TESSERA_F32_8X12_INIT();
    TESSERA_F32_8X12_KLOOP(k);
    TESSERA_F32_8X12_STORE();
  }

  /// The same tile reading ks segments of kc depths, segment t of row r at ind[t * MR + r].
  template <std::size_t R, std::size_t V>
  [[gnu::always_inline]] static inline void tile_indirect(std::size_t mb, std::size_t nb, std::size_t ks, std::size_t kc,
                                                          const float* const* ind, const float* w, float* c,
                                                          std::size_t c_stride, const f32_clamp& p) noexcept {
    TESSERA_F32_8X12_INIT();
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
      TESSERA_F32_8X12_KLOOP(kc);
      w += kk * NR, w2 += kk * NR;
    }
    TESSERA_F32_8X12_STORE();
  }

// GEMV: block J's three accumulators of set S (s = even k, t = odd k) with lane L of quad X.
#define TESSERA_F32_8X12_GV(S, J, W, X, L)                     \
  do {                                                          \
    const float32x4x3_t bv = vld1q_f32_x3(W);                   \
    S##J##0 = vfmaq_laneq_f32(S##J##0, bv.val[0], X, L);       \
    S##J##1 = vfmaq_laneq_f32(S##J##1, bv.val[1], X, L);       \
    S##J##2 = vfmaq_laneq_f32(S##J##2, bv.val[2], X, L);       \
  } while (0)
#define TESSERA_F32_8X12_GV_N(J, W, X)                          \
  do {                                                          \
    s##J##0 = vfmaq_n_f32(s##J##0, vld1q_f32(W), X);            \
    s##J##1 = vfmaq_n_f32(s##J##1, vld1q_f32((W) + 4), X);      \
    s##J##2 = vfmaq_n_f32(s##J##2, vld1q_f32((W) + 8), X);      \
  } while (0)

  /// One row (a[0..k)) times all n columns: pairs of blocks, then a last single block.
  [[gnu::always_inline]] static inline void gemv(std::size_t n, std::size_t k, const float* a, const float* pb, float* c, float lo_s,
                          float hi_s) noexcept {
    const std::size_t bs = NR * (k + 1);
    const float32x4_t lo = vdupq_n_f32(lo_s), hi = vdupq_n_f32(hi_s);
    const float32x4_t z = vdupq_n_f32(0.0f);
    std::size_t n0 = 0;
    for (; n0 + NR < n; n0 += 2 * NR, pb += 2 * bs) {  // two blocks (the second may be partial)
      const float* w0 = pb;
      const float* w1 = pb + bs;
      float32x4_t s00 = vld1q_f32(w0), s01 = vld1q_f32(w0 + 4), s02 = vld1q_f32(w0 + 8);
      float32x4_t s10 = vld1q_f32(w1), s11 = vld1q_f32(w1 + 4), s12 = vld1q_f32(w1 + 8);
      float32x4_t t00 = z, t01 = z, t02 = z, t10 = z, t11 = z, t12 = z;
      w0 += NR, w1 += NR;
      const float* ar = a;
      std::size_t kk = k;
      for (; kk >= 4; kk -= 4, ar += 4, w0 += 4 * NR, w1 += 4 * NR) {
        const float32x4_t x = vld1q_f32(ar);
        TESSERA_F32_8X12_GV(s, 0, w0, x, 0);
        TESSERA_F32_8X12_GV(s, 1, w1, x, 0);
        TESSERA_F32_8X12_GV(t, 0, w0 + 12, x, 1);
        TESSERA_F32_8X12_GV(t, 1, w1 + 12, x, 1);
        TESSERA_F32_8X12_GV(s, 0, w0 + 24, x, 2);
        TESSERA_F32_8X12_GV(s, 1, w1 + 24, x, 2);
        TESSERA_F32_8X12_GV(t, 0, w0 + 36, x, 3);
        TESSERA_F32_8X12_GV(t, 1, w1 + 36, x, 3);
      }
      for (; kk != 0; --kk, ++ar, w0 += NR, w1 += NR) {
        const float x = *ar;
        TESSERA_F32_8X12_GV_N(0, w0, x);
        TESSERA_F32_8X12_GV_N(1, w1, x);
      }
      store_row(c + n0, NR, vaddq_f32(s00, t00), vaddq_f32(s01, t01), vaddq_f32(s02, t02), lo, hi);
      store_row(c + n0 + NR, n - n0 - NR < NR ? n - n0 - NR : NR, vaddq_f32(s10, t10), vaddq_f32(s11, t11),
                vaddq_f32(s12, t12), lo, hi);
    }
    if (n0 < n) {  // a last single block (1..12 columns)
      const float* w0 = pb;
      float32x4_t s00 = vld1q_f32(w0), s01 = vld1q_f32(w0 + 4), s02 = vld1q_f32(w0 + 8);
      float32x4_t t00 = z, t01 = z, t02 = z;
      w0 += NR;
      const float* ar = a;
      std::size_t kk = k;
      for (; kk >= 4; kk -= 4, ar += 4, w0 += 4 * NR) {
        const float32x4_t x = vld1q_f32(ar);
        TESSERA_F32_8X12_GV(s, 0, w0, x, 0);
        TESSERA_F32_8X12_GV(t, 0, w0 + 12, x, 1);
        TESSERA_F32_8X12_GV(s, 0, w0 + 24, x, 2);
        TESSERA_F32_8X12_GV(t, 0, w0 + 36, x, 3);
      }
      for (; kk != 0; --kk, ++ar, w0 += NR) TESSERA_F32_8X12_GV_N(0, w0, *ar);
      store_row(c + n0, n - n0, vaddq_f32(s00, t00), vaddq_f32(s01, t01), vaddq_f32(s02, t02), lo, hi);
    }
  }

#undef TESSERA_F32_8X12_ROW
#undef TESSERA_F32_8X12_STEP
#undef TESSERA_F32_8X12_PIN
#undef TESSERA_F32_8X12_ROW_N
#undef TESSERA_F32_8X12_GV
#undef TESSERA_F32_8X12_GV_N
#undef TESSERA_F32_8X12_INIT
#undef TESSERA_F32_8X12_KLOOP
#undef TESSERA_F32_8X12_STORE
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::gemm_f32, tessera::arch::neon> {
  using type = tessera::kernels::gemm_f32_8x12_neon_fma;
};
