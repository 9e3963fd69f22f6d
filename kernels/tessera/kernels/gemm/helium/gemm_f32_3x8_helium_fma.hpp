/// @file gemm_f32_3x8_helium_fma.hpp
/// fp32 GEMM on Cortex-M55/M85 Helium (MVE with floating point) with the fused bias + clamp epilogue.
///
/// Tile: MR = 3 rows x NR = 8 columns = 6 Q accumulators + 2 B vectors: all 8 Q registers.
/// (A 4 x 8 tile needs 8 accumulators and leaves no register for B.)
/// Consumes op_f32.hpp's packed B with nr() = 8: per block `float bias[8]`, then `float b[K][8]`
/// (zero-padded columns), so one k step is two consecutive Q vectors.
/// Inner loop (2 k, software-pipelined): 4 post-indexed VLDRW.32 (B), 6 post-indexed scalar LDRs of
/// A into general-purpose registers and 12 VFMA.F32 Qda, Qn, Rm (`vfmaq_n_f32`: B vector times the
/// scalar A[r][k]; A never takes a Q register); 22 instructions, no ADD or counter (LE). Every load
/// sits alone between two VFMAs, where the M55 issues it in the VFMA's second beat: llvm-mca
/// cortex-m55 24 cycles per 12 VFMAs with GCC 12 (the VFMA limit; 1 k per loop was 20 per 6).
/// ISA: Armv8.1-M MVE with the floating-point extension (`-mcpu=cortex-m55`, MVE.F).
/// Tails: M by row clamping (A pointers of missing rows alias the last valid row; missing rows
/// are never stored); N by VCTP32-predicated stores (`vstrwq_p_f32`: nothing at or past column n
/// is written; padded B columns are zero); K by a 1- or 2-step epilogue
/// that loads nothing past A column k - 1 or B row k - 1.
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_HELIUM_FP
#error "gemm_f32_3x8_helium_fma.hpp needs Helium with floating point (MVE.F): compile for e.g. -mcpu=cortex-m55"
#endif

#include <arm_mve.h>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/op_f32.hpp>

namespace tessera::kernels {

struct gemm_f32_3x8_helium_fma {
  using arch = tessera::arch::helium;
  static constexpr const char* name = "gemm_f32_3x8_helium_fma";
  /// Columns per packed B block.
  static std::size_t nr() noexcept { return NR; }

  /// C[m][n] = clamp(sum_k A[m][k] B[k][n] + bias[n], p.min, p.max).
  /// @param[in]  a         m rows of k floats, row stride a_stride (elements)
  /// @param[in]  packed_b  B and bias packed by pack_f32_b with nr() = 8; float-aligned
  /// @param[out] c         m rows of n floats, row stride c_stride (elements)
  /// @param[in]  p         clamp bounds (min <= max)
  static void run(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t a_stride,
                  const void* packed_b, float* c, std::size_t c_stride, const f32_clamp& p) noexcept {
    const float* pb = static_cast<const float*>(packed_b);
    const std::size_t bs = NR * (k + 1);  // floats per packed block
    for (std::size_t n0 = 0; n0 < n; n0 += NR, pb += bs) {
      const std::uint32_t nb = static_cast<std::uint32_t>(n - n0 < NR ? n - n0 : NR);
      const mve_pred16_t p0 = vctp32q(nb), p1 = vctp32q(nb > 4 ? nb - 4 : 0);
      for (std::size_t m0 = 0; m0 < m; m0 += MR) {
        const std::size_t mb = m - m0 < MR ? m - m0 : MR;
        tile(mb, k, a + m0 * a_stride, a_stride, pb, c + m0 * c_stride + n0, c_stride, p0, p1, p);
      }
    }
  }

 private:
  static constexpr std::size_t MR = 3, NR = 8;

  /// Compiler scheduling fence (emits nothing): a volatile asm, which GCC's schedulers do not move
  /// anything across. Without fences GCC 12 groups the loads (the M55 then stalls on them) and its
  /// pre-RA scheduler hoists the next B row above the FMAs that free b0, b1 (accumulators spill).
  static inline void schedule_fence() noexcept { __asm__ volatile("" ::: "memory"); }

  /// Loads 4 floats at `w` and advances `w` past them (post-indexed VLDRW).
  [[gnu::always_inline]] static inline float32x4_t ldq(const float*& w) noexcept {
    const float32x4_t v = vldrwq_f32(w);
    w += 4;
    __asm__("" : "+r"(w));  // opaque step: GCC folds it into the load instead of offsets + one ADD
    return v;
  }

#if defined(__clang__)
  /// An A value in a core register. clang-16 keeps a `float` in an S register, and on the M55 the
  /// S registers are the Q registers' lanes: three A values then take Q registers from the six
  /// accumulators and two B rows, and clang spills (GEMM 196x128x128: 0.978 instructions/MAC
  /// against GCC's 0.518). As raw bits in a core register (LDR) they take none; the VFMA is
  /// written out, and volatile so that clang keeps it in its slot between the fences, which
  /// order only memory accesses for clang (0.555).
  using scalar = std::uint32_t;
  [[gnu::always_inline]] static inline scalar ld1(const float* a) noexcept {
    scalar v;
    std::memcpy(&v, a, sizeof v);
    return v;
  }
  [[gnu::always_inline]] static inline void vfma_n(float32x4_t& acc, float32x4_t b, scalar s) noexcept {
    __asm__ volatile("vfma.f32 %q0, %q1, %2" : "+w"(acc) : "w"(b), "r"(s));
  }
#else
  using scalar = float;  ///< GCC 12 keeps these in core registers by itself
  [[gnu::always_inline]] static inline scalar ld1(const float* a) noexcept { return *a; }
  [[gnu::always_inline]] static inline void vfma_n(float32x4_t& acc, float32x4_t b, scalar s) noexcept {
    acc = vfmaq_n_f32(acc, b, s);
  }
#endif

  /// Loads *a into a core register and advances `a` (post-indexed LDR).
  [[gnu::always_inline]] static inline scalar lds(const float*& a) noexcept {
    const scalar v = ld1(a++);
    __asm__("" : "+r"(a));
    return v;
  }

  /// acc += b * s (VFMA.F32 Qda, Qn, Rm: the scalar stays in a core register), fenced on both sides
  /// so that GCC's schedulers keep every load in the slot between two VFMAs where the source puts it.
  [[gnu::always_inline]] static inline void fma(float32x4_t& acc, float32x4_t b, scalar s) noexcept {
    schedule_fence();
    vfma_n(acc, b, s);
    schedule_fence();
  }

  /// Clamps and stores one row's two vectors under the column predicates.
  [[gnu::always_inline]] static inline void store_row(float* cr, float32x4_t v0, float32x4_t v1, mve_pred16_t p0,
                                                      mve_pred16_t p1, float lo, float hi) noexcept {
    const float32x4_t vlo = vdupq_n_f32(lo), vhi = vdupq_n_f32(hi);
    vstrwq_p_f32(cr, vminnmq_f32(vmaxnmq_f32(v0, vlo), vhi), p0);
    vstrwq_p_f32(cr + 4, vminnmq_f32(vmaxnmq_f32(v1, vlo), vhi), p1);
  }

  /// One 3 x 8 tile: mb (1..3) valid rows, block `w` of packed B, column predicates p0, p1.
  [[gnu::always_inline]] static inline void tile(std::size_t mb, std::size_t k, const float* a, std::size_t a_stride,
                                                 const float* w, float* c, std::size_t c_stride, mve_pred16_t p0,
                                                 mve_pred16_t p1, const f32_clamp& p) noexcept {
    // Row clamping: missing rows read the last valid row.
    const float* a0 = a;
    const float* a1 = mb > 1 ? a0 + a_stride : a0;
    const float* a2 = mb > 2 ? a1 + a_stride : a1;
    float32x4_t c00 = vldrwq_f32(w), c01 = vldrwq_f32(w + 4);
    float32x4_t c10 = c00, c11 = c01, c20 = c00, c21 = c01;
    w += NR;
    if (k != 0) {
      // Software-pipelined over pairs of k steps (x = A column k, y = A column k + 1): every load
      // sits alone between two VFMAs, at least one VFMA before its first use, and after the last
      // use of the register it overwrites (B row k + 1 reuses b0, b1 once row k is done). The M55
      // issues such a load in the second beat of the VFMA before it, for free; the fences keep
      // GCC's schedulers (which would group the loads and spill accumulators) to this order.
      float32x4_t b0 = ldq(w), b1 = ldq(w);
      scalar x0 = lds(a0), x1 = lds(a1), x2 = lds(a2), y0, y1, y2;
      std::size_t kk = k;
      for (; kk > 2; kk -= 2) {  // k steps kk, kk+1; loads A column k + 2 and B row k + 2
        fma(c00, b0, x0); y0 = lds(a0);
        fma(c10, b0, x1); y1 = lds(a1);
        fma(c20, b0, x2); b0 = ldq(w);
        fma(c01, b1, x0); y2 = lds(a2);
        fma(c11, b1, x1);
        fma(c21, b1, x2); b1 = ldq(w);
        fma(c00, b0, y0); x2 = lds(a2);
        fma(c10, b0, y1);
        fma(c20, b0, y2); b0 = ldq(w);
        fma(c01, b1, y0); x0 = lds(a0);
        fma(c11, b1, y1); x1 = lds(a1);
        fma(c21, b1, y2); b1 = ldq(w);
      }
      if (kk == 2) {  // k step with the loads of A column and B row k + 1
        fma(c00, b0, x0); y0 = ld1(a0);
        fma(c10, b0, x1); y1 = ld1(a1);
        fma(c20, b0, x2); b0 = ldq(w);
        fma(c01, b1, x0); y2 = ld1(a2);
        fma(c11, b1, x1);
        fma(c21, b1, x2); b1 = ldq(w);
        x0 = y0, x1 = y1, x2 = y2;
      }
      fma(c00, b0, x0);
      fma(c10, b0, x1);
      fma(c20, b0, x2);
      fma(c01, b1, x0);
      fma(c11, b1, x1);
      fma(c21, b1, x2);
    }
    // Bounds read after the k loop (p may alias C: nothing hoisted into the 8 Q registers).
    const float lo = p.min, hi = p.max;
    store_row(c, c00, c01, p0, p1, lo, hi);
    if (mb > 1) store_row(c + c_stride, c10, c11, p0, p1, lo, hi);
    if (mb > 2) store_row(c + 2 * c_stride, c20, c21, p0, p1, lo, hi);
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::gemm_f32, tessera::arch::helium> {
  using type = tessera::kernels::gemm_f32_3x8_helium_fma;
};
