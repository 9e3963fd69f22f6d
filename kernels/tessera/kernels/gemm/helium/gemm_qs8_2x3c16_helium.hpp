/// @file gemm_qs8_2x3c16_helium.hpp
/// int8 GEMM with fused requantization on Cortex-M55/M85 Helium (MVE integer).
///
/// Packed format: op.hpp's with nr() = 12, kr() = 16: per block of 12 channels `int32 bias'[12]`,
/// then `int8 w[ceil(K/16)][12][16]` (zero padded); one k-group of a block is 192 bytes.
/// MAC: VMLADAV(A).S8, 16 int8 products summed into a 32-bit accumulator, which must be an EVEN
/// general-purpose register (r0, r2, ..., r12, lr). Both k loops below are inline assembly with the
/// sums in fixed even registers (`register ... asm("rN")` operands), because neither GCC 12 nor
/// clang-16 allocates them without MOVs or spills.
///
/// K > 32: tile 2 rows x 3 channels (the low-overhead loop holds lr, which leaves 7 even
/// registers; 2 x 3 = 6 sums), four tiles per block. Loop (16 k, software-pipelined): 5 loads (A
/// rows 0, 1 post-indexed; B channel 2 by a VLDRW post-indexed by 192 to the next k-group, channels
/// 0, 1 at offsets -32 / -16) and 6 VMLADAVA alternating (M L M L M L M L M L M: the M55 overlaps
/// each load with a MAC), 11 instructions and LE; llvm-mca cortex-m55 12 cycles per 6 VMLADAVA (the
/// VMLADAVA limit). WLS skips the loop for a single whole group; the last whole group is peeled
/// (nothing of the next group is loaded); K % 16 by one more group whose A loads are VCTP8-predicated
/// zeroing loads. The tiles leave their sums in a stack array of 2 x 12 int32, and the block's output
/// stage runs on three full 4-lane vectors.
/// K <= 32: tile 2 rows x 4 channels (8 sums: the k range is unrolled, no loop counter needs lr),
/// three tiles per block, one assembly statement per k-group (VMLADAV starts the sums): 6 loads
/// and 8 MACs per group, B by VLDRW at immediate offsets from the block; the output stage runs on
/// two full vectors per tile. A's last group is read whole (16 bytes; the bytes past k meet zero
/// weights) for rows whose 16 ceil(K/16) bytes end inside A, every row but the last ones; the
/// last rows use VCTP8-predicated zeroing loads, so nothing past A[m-1][k-1] is ever accessed.
/// Output stage: sums + bias' (+ row offset), MBQM through tessera::arch::helium_ops (VQRDMULH +
/// rounding shift, bit-exact with TFLite), + zero point (wrapping), clamp, narrowing VSTRB.32.
/// When every shift of the call is in [-31, -1] (TFLite's usual int8 stage; one check per call,
/// right_shifts), MBQM runs without its left shift and with the one-instruction rounding fixup:
/// per 2 rows x 4 channels 4 (per-tensor) or 6 (per-channel) vector instructions fewer, for a
/// flag test (load, compare, branch) per short-K tile or long-K block. Otherwise: per-tensor,
/// VSHL + VQRDMULH (the shift is then >= 0); per-channel, the general MBQM, out of line in the
/// short-K tiles (one call each instead of ~40 copies of it).
/// Tails: M by 1-row instances (no row is computed twice); N by VCTP32-predicated stores and
/// per-channel parameter loads (nothing at or past channel n of C or of the parameter arrays is
/// accessed; bias' and weights are read from whole zero-padded blocks).
/// Code size: ~16 KB for one output-stage type (the tiles are unrolled per block; rolling them
/// halves it and costs 16% more instructions on the 3x3 s2 first layer, 5% on 1x1 layers).
/// ISA: Armv8.1-M MVE (integer).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_HELIUM
#error "gemm_qs8_2x3c16_helium.hpp needs Helium (MVE): compile for e.g. -mcpu=cortex-m55"
#endif

#include <arm_mve.h>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <tessera/arch/helium/fixedpoint.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/op.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct gemm_qs8_2x3c16_helium {
  using arch = tessera::arch::helium;
  static constexpr const char* name = "gemm_qs8_2x3c16_helium";
  static std::size_t nr() noexcept { return NR; }
  static std::size_t kr() noexcept { return KR; }

  /// C[m][n] = clamp(MBQM(sum_k A[m][k] W[n][k] + bias'[n] + row_offset[m]) + zp), int32 wrapping.
  /// @param[in]  a           m rows of k int8 values, row stride a_stride (elements)
  /// @param[in]  packed_w    weights packed by pack_qs8_weights with nr() = 12, kr() = 16; 4-byte aligned
  /// @param[in]  row_offset  m int32 values added to every channel of a row, or nullptr
  /// @param[out] c           m rows of n int8 values, row stride c_stride (elements)
  /// @param[in]  p           output stage; shifts in [-31, 30], act_min/act_max within int8
  template <class Q>
  static void run(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a, std::size_t a_stride,
                  const void* packed_w, const std::int32_t* row_offset, std::int8_t* c, std::size_t c_stride,
                  const output_stage<Q>& p) noexcept {
    const std::size_t g = (k + KR - 1) / KR;
    const bool rs = right_shifts(p.q, n);
    if (g == 1) rows<short_k<1>>(m, n, k, a, a_stride, packed_w, row_offset, c, c_stride, p, rs);
    else if (g == 2) rows<short_k<2>>(m, n, k, a, a_stride, packed_w, row_offset, c, c_stride, p, rs);
    else rows<long_k>(m, n, k, a, a_stride, packed_w, row_offset, c, c_stride, p, rs);
  }

  /// True when every shift of the call (per-tensor: the one shift; per-channel: the first n) is
  /// in [-31, -1] (validate's range ends at -31), TFLite's usual int8 stage: the output stage then
  /// runs the right-shift form, with no left shift (VMAX, VSHL, VMIN) and
  /// helium_ops::rdpot_neg_nz's fixup (no VAND). Shifts at or past channel n are not read.
  template <class Q> static bool right_shifts(const Q& q, std::size_t n) noexcept {
    if constexpr (std::is_same_v<Q, requant::per_tensor>) {
      (void)n;
      return q.shift < 0;
    } else {
      int32x4_t mx = vdupq_n_s32(-1);
      std::size_t j = 0;
      for (; n - j >= 4; j += 4) mx = vmaxq_s32(mx, vldrwq_s32(q.shift + j));
      std::int32_t s = vmaxvq_s32(-1, mx);
      if (j < n) {
        const mve_pred16_t pn = vctp32q(static_cast<std::uint32_t>(n - j));
        s = vmaxvq_p_s32(s, vldrwq_z_s32(q.shift + j, pn), pn);
      }
      return s < 0;
    }
  }

 private:
  static constexpr std::size_t NR = 12, KR = 16, GROUP = NR * KR;  // GROUP: bytes of one k-group of a block

  /// Row pairs, then an odd last row as a 1-row instance of the same tile (no row is computed twice).
  template <class Path, class Q>
  [[gnu::always_inline]] static inline void rows(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a,
                                                 std::size_t a_stride, const void* packed_w,
                                                 const std::int32_t* row_offset, std::int8_t* c,
                                                 std::size_t c_stride, const output_stage<Q>& p, bool rs) noexcept {
    // Rows i < whole_rows may be read as kpad bytes: those end at or before A's last byte,
    // A[m - 1][k - 1] (for short K; the long path always predicates its last group).
    const std::size_t kpad = (k + KR - 1) / KR * KR;
    const std::size_t end = (m - 1) * a_stride + k;
    const std::size_t whole_rows = a_stride == 0 || end < kpad ? 0 : (end - kpad) / a_stride + 1;
    std::size_t i = 0;
    for (; m - i >= 2; i += 2) {
      const std::int32_t o0 = row_offset ? row_offset[i] : 0, o1 = row_offset ? row_offset[i + 1] : 0;
      Path::template run<2>(n, k, a + i * a_stride, a + (i + 1) * a_stride, packed_w, o0, o1, c + i * c_stride,
                            c + (i + 1) * c_stride, p, i + 1 < whole_rows, rs);
    }
    if (i < m) {
      const std::int32_t o0 = row_offset ? row_offset[i] : 0;
      const std::int8_t* ar = a + i * a_stride;
      std::int8_t* cr = c + i * c_stride;
      Path::template run<1>(n, k, ar, ar, packed_w, o0, o0, cr, cr, p, i < whole_rows, rs);
    }
  }

  /// 16 int8 at `p` (4-byte aligned) by VLDRW.32, whose immediate offsets reach +-508 bytes
  /// (VLDRB.8: +-127).
  [[gnu::always_inline]] static inline int8x16_t ldw(const std::int8_t* p) noexcept {
    return vreinterpretq_s8_s32(vldrwq_s32(reinterpret_cast<const std::int32_t*>(p)));
  }

  /// How stage4 requantizes. right: every shift is in [-31, -1] (right_shifts), so MBQM has no
  /// left shift (no VMAX, VSHL, VMIN) and its rounding fixup is x >> 31 (rdpot_neg_nz: no VAND);
  /// other: not every shift is (per-channel: the general MBQM, inline; per-tensor: the shift is
  /// >= 0, so MBQM is VSHL + VQRDMULH, its rounding shift by 0 being the identity); either: chosen
  /// at run time by `rs` (per-tensor: by the shift), the per-channel general MBQM out of line.
  enum class form { right, other, either };

  /// The per-channel general MBQM of two rows, out of line: a tile's stage then carries one
  /// call instead of a copy (stages with a non-right shift are rare in int8 models).
  [[gnu::noinline]] static int32x4x2_t general(int32x4_t y0, int32x4_t y1, int32x4_t mul, int32x4_t sh) noexcept {
    namespace ops = tessera::arch::helium_ops;
    return {{ops::mbqm(y0, mul, sh), ops::mbqm(y1, mul, sh)}};
  }

  /// `rs` as the stage tests it: per-tensor, the shift itself (rs is q.shift < 0 there, and the
  /// right form's VRSHL reads the same register).
  template <class Q> [[gnu::always_inline]] static inline bool right(const Q& q, bool rs) noexcept {
    if constexpr (std::is_same_v<Q, requant::per_tensor>) return (void)rs, q.shift < 0;
    else return (void)q, rs;
  }

  /// Adds the zero point to one row's requantized channels `y`, clamps and stores the lanes of
  /// `pn` (all 4 when !Tail) to `cr`.
  template <bool Tail>
  [[gnu::always_inline]] static inline void store_row(int32x4_t y, std::int8_t* cr, mve_pred16_t pn, std::int32_t zp,
                                                      int32x4_t lo, int32x4_t hi) noexcept {
    y = vminq_s32(vmaxq_s32(vaddq_n_s32(y, zp), lo), hi);
    if constexpr (Tail) vstrbq_p_s32(cr, y, pn);  // low byte of each lane
    else vstrbq_s32(cr, y);
  }

  /// Output stage of R rows x 4 channels `ch`..`ch + 3`: sums `x0`, `x1` plus `b0`, `b1` (bias',
  /// and the row offsets if the sums lack them); all 4 lanes, or (Tail) the first `left` < 4, where
  /// nothing at or past channel n of the per-channel arrays or of C is accessed. F: see `form`
  /// (`rs` is read for form::either only; per-tensor tests the shift). The right form computes
  /// row 1 first: clang-16 then does not merge its tail with the other form's (which cost a VMOV
  /// and a branch).
  template <std::size_t R, bool Tail, form F, class Q>
  [[gnu::always_inline]] static inline void stage4(int32x4_t x0, [[maybe_unused]] int32x4_t x1, int32x4_t b0,
                                                   [[maybe_unused]] int32x4_t b1, const Q& q, std::size_t ch,
                                                   std::size_t left, std::int8_t* c0, [[maybe_unused]] std::int8_t* c1,
                                                   std::int32_t zp, int32x4_t lo, int32x4_t hi, bool rs) noexcept {
    namespace ops = tessera::arch::helium_ops;
    const mve_pred16_t pn = vctp32q(static_cast<std::uint32_t>(Tail ? left : 4));
    int32x4_t y0 = vaddq_s32(x0, b0), y1 = y0;
    if constexpr (R > 1) y1 = vaddq_s32(x1, b1);
    if constexpr (std::is_same_v<Q, requant::per_tensor>) {
      (void)ch;
      if (F == form::right || (F == form::either && right(q, rs))) [[likely]] {
        if constexpr (R > 1) y1 = ops::rdpot_neg_nz_n(ops::srdhm_n(y1, q.multiplier), q.shift);
        y0 = ops::rdpot_neg_nz_n(ops::srdhm_n(y0, q.multiplier), q.shift);
      } else {
        y0 = ops::srdhm_n(ops::shl_wrap_n(y0, q.shift), q.multiplier);
        if constexpr (R > 1) y1 = ops::srdhm_n(ops::shl_wrap_n(y1, q.shift), q.multiplier);
      }
    } else {
      const int32x4_t mul = Tail ? vldrwq_z_s32(q.multiplier + ch, pn) : vldrwq_s32(q.multiplier + ch);
      const int32x4_t sh = Tail ? vldrwq_z_s32(q.shift + ch, pn) : vldrwq_s32(q.shift + ch);
      if (F == form::right || (F == form::either && rs)) [[likely]] {
        if constexpr (R > 1) y1 = ops::rdpot_neg_nz(ops::srdhm(y1, mul), sh);
        y0 = ops::rdpot_neg_nz(ops::srdhm(y0, mul), sh);
      } else if constexpr (F == form::other) {
        y0 = ops::mbqm(y0, mul, sh);
        if constexpr (R > 1) y1 = ops::mbqm(y1, mul, sh);
      } else {
        const int32x4x2_t y = general(y0, y1, mul, sh);
        y0 = y.val[0], y1 = y.val[1];
      }
    }
    store_row<Tail>(y0, c0, pn, zp, lo, hi);
    if constexpr (R > 1) store_row<Tail>(y1, c1, pn, zp, lo, hi);
  }

  /// Byte offset of channel j's first k-group in a block (after the 12 int32 bias').
  static constexpr std::size_t boff(std::size_t j) noexcept { return NR * sizeof(std::int32_t) + j * KR; }

  /// K <= 16 G (G = 1, 2): R rows x 4 channels per tile, 8 accumulators (the k range is unrolled,
  /// so no loop counter needs LR), three tiles per block; the output stage runs on full vectors.
  /// A's last k-group is read whole (its bytes past k meet zero weights) when the row pair's
  /// 16 G bytes end inside A (`whole`: every row but the last ones); otherwise by VCTP8-predicated
  /// zeroing loads, which never access bytes past k.
  template <std::size_t G> struct short_k {
    template <std::size_t R, class Q>
    static void run(std::size_t n, std::size_t k, const std::int8_t* a0, const std::int8_t* a1, const void* packed_w,
                    std::int32_t o0, std::int32_t o1, std::int8_t* c0, std::int8_t* c1, const output_stage<Q>& p,
                    bool whole, bool rs) noexcept {
      if (whole) blocks<R, true>(n, k, a0, a1, packed_w, o0, o1, c0, c1, p, rs);
      else blocks<R, false>(n, k, a0, a1, packed_w, o0, o1, c0, c1, p, rs);
    }

    template <std::size_t R, bool Whole, class Q>
    static void blocks(std::size_t n, std::size_t k, const std::int8_t* a0, const std::int8_t* a1,
                       const void* packed_w, std::int32_t o0, std::int32_t o1, std::int8_t* c0, std::int8_t* c1,
                       const output_stage<Q>& p, bool rs) noexcept {
      const std::int32_t zp = p.zero_point;
      const int32x4_t lo = vdupq_n_s32(p.act_min), hi = vdupq_n_s32(p.act_max);
      const Q q = p.q;
      const mve_pred16_t pk = vctp8q(static_cast<std::uint32_t>(k - (G - 1) * KR));
      const auto* blk = static_cast<const std::int8_t*>(packed_w);
      std::size_t n0 = 0;
      for (; n - n0 >= NR; n0 += NR, blk += NR * sizeof(std::int32_t) + G * GROUP) {
        tile<R, Whole, false, 0>(4, a0, a1, blk, pk, o0, o1, c0 + n0, c1 + n0, q, n0, zp, lo, hi, rs);
        tile<R, Whole, false, 4>(4, a0, a1, blk, pk, o0, o1, c0 + n0, c1 + n0, q, n0, zp, lo, hi, rs);
        tile<R, Whole, false, 8>(4, a0, a1, blk, pk, o0, o1, c0 + n0, c1 + n0, q, n0, zp, lo, hi, rs);
      }
      // The last, partial block: tiles of 4 channels, then one of 1..3.
      std::size_t j = 0;
      for (; n - n0 - j >= 4; j += 4)
        tile<R, Whole, false, 0>(4, a0, a1, blk, pk, o0, o1, c0 + n0 + j, c1 + n0 + j, q, n0 + j, zp, lo, hi, rs, j);
      if (n0 + j < n)
        tile<R, Whole, true, 0>(n - n0 - j, a0, a1, blk, pk, o0, o1, c0 + n0 + j, c1 + n0 + j, q, n0 + j, zp,
                                lo, hi, rs, j);
    }

    /// R rows x channels jb + J .. jb + J + 3 of the block at `blk` (jb: a runtime channel offset
    /// in the last block, 0 otherwise); `left` channels are stored when Tail.
    template <std::size_t R, bool Whole, bool Tail, std::size_t J, class Q>
    [[gnu::always_inline]] static inline void tile(std::size_t left, const std::int8_t* a0, const std::int8_t* a1,
                                                   const std::int8_t* blk, mve_pred16_t pk, std::int32_t o0,
                                                   std::int32_t o1, std::int8_t* c0, std::int8_t* c1, const Q& q,
                                                   std::size_t ch, std::int32_t zp, int32x4_t lo, int32x4_t hi, bool rs,
                                                   std::size_t jb = 0) noexcept {
      const std::int8_t* wblk = blk + jb * KR;
      std::int32_t s00, s01, s02, s03;
      [[maybe_unused]] std::int32_t s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      if constexpr (Whole) {
        // Assembly, one statement per k-group (VMLADAV starts the sums, VMLADAVA adds group 1):
        // the sums in fixed even registers (VMLADAV's only destinations), every load but the
        // group's first between two MACs, B by VLDRW at immediate offsets from the block (they
        // reach 508 bytes), no compiler-placed MOV or spill.
        int8x16_t v0, v1, b0, b1, b2, b3;
        register std::int32_t r00 asm("r0"), r01 asm("r2"), r02 asm("r4"), r03 asm("r6");
        if constexpr (R == 1) {
#define TESSERA_QS8_ROW1(MAC)                                                                        \
  "vldrb.8 %q[v0], [%[a0], #%c[ka]]\n\t"                                                             \
  "vldrw.32 %q[b0], [%[w], #%c[o0]]\n\t"                                                             \
  "vldrw.32 %q[b1], [%[w], #%c[o1]]\n\t" MAC " %[s00], %q[v0], %q[b0]\n\t"                           \
  "vldrw.32 %q[b2], [%[w], #%c[o2]]\n\t" MAC " %[s01], %q[v0], %q[b1]\n\t"                           \
  "vldrw.32 %q[b3], [%[w], #%c[o3]]\n\t" MAC " %[s02], %q[v0], %q[b2]\n\t" MAC " %[s03], %q[v0], %q[b3]"
#define TESSERA_QS8_ROW1_OPERANDS(G, S)                                                               \
  : [s00] S(r00), [s01] S(r01), [s02] S(r02), [s03] S(r03), [v0] "=&w"(v0), [b0] "=&w"(b0), \
    [b1] "=&w"(b1), [b2] "=&w"(b2), [b3] "=&w"(b3)                                                    \
  : [a0] "r"(a0), [w] "r"(wblk), [ka] "i"(G * KR), [o0] "i"(boff(J) + G * GROUP),                     \
    [o1] "i"(boff(J + 1) + G * GROUP), [o2] "i"(boff(J + 2) + G * GROUP), [o3] "i"(boff(J + 3) + G * GROUP) \
  : "memory"
          __asm__(TESSERA_QS8_ROW1("vmladav.s8") TESSERA_QS8_ROW1_OPERANDS(0, "=&r"));
          if constexpr (G == 2) __asm__(TESSERA_QS8_ROW1("vmladava.s8") TESSERA_QS8_ROW1_OPERANDS(1, "+r"));
#undef TESSERA_QS8_ROW1
#undef TESSERA_QS8_ROW1_OPERANDS
        } else {
          register std::int32_t r10 asm("r8"), r11 asm("r10"), r12 asm("r12"), r13 asm("lr");
#define TESSERA_QS8_ROW2(MAC)                                                                        \
  "vldrb.8 %q[v0], [%[a0], #%c[ka]]\n\t"                                                             \
  "vldrw.32 %q[b0], [%[w], #%c[o0]]\n\t"                                                             \
  "vldrw.32 %q[b1], [%[w], #%c[o1]]\n\t" MAC " %[s00], %q[v0], %q[b0]\n\t"                           \
  "vldrb.8 %q[v1], [%[a1], #%c[ka]]\n\t" MAC " %[s01], %q[v0], %q[b1]\n\t"                           \
  "vldrw.32 %q[b2], [%[w], #%c[o2]]\n\t" MAC " %[s10], %q[v1], %q[b0]\n\t"                           \
  "vldrw.32 %q[b3], [%[w], #%c[o3]]\n\t" MAC " %[s11], %q[v1], %q[b1]\n\t"                           \
  MAC " %[s02], %q[v0], %q[b2]\n\t" MAC " %[s12], %q[v1], %q[b2]\n\t"                                 \
  MAC " %[s03], %q[v0], %q[b3]\n\t" MAC " %[s13], %q[v1], %q[b3]"
#define TESSERA_QS8_ROW2_OPERANDS(G, S)                                                               \
  : [s00] S(r00), [s01] S(r01), [s02] S(r02), [s03] S(r03), [s10] S(r10), [s11] S(r11),       \
    [s12] S(r12), [s13] S(r13), [v0] "=&w"(v0), [v1] "=&w"(v1), [b0] "=&w"(b0), [b1] "=&w"(b1),   \
    [b2] "=&w"(b2), [b3] "=&w"(b3)                                                                   \
  : [a0] "r"(a0), [a1] "r"(a1), [w] "r"(wblk), [ka] "i"(G * KR), [o0] "i"(boff(J) + G * GROUP),     \
    [o1] "i"(boff(J + 1) + G * GROUP), [o2] "i"(boff(J + 2) + G * GROUP), [o3] "i"(boff(J + 3) + G * GROUP) \
  : "memory"
          __asm__(TESSERA_QS8_ROW2("vmladav.s8") TESSERA_QS8_ROW2_OPERANDS(0, "=&r"));
          if constexpr (G == 2) __asm__(TESSERA_QS8_ROW2("vmladava.s8") TESSERA_QS8_ROW2_OPERANDS(1, "+r"));
#undef TESSERA_QS8_ROW2
#undef TESSERA_QS8_ROW2_OPERANDS
          s10 = r10, s11 = r11, s12 = r12, s13 = r13;
        }
        s00 = r00, s01 = r01, s02 = r02, s03 = r03;
      } else {
        // The last rows: the last group's A by zeroing predicated loads (bytes past k are never
        // accessed); B is zero padded.
        const std::int8_t* w = wblk + boff(J);
        s00 = s01 = s02 = s03 = 0;
        for (std::size_t g = 0; g < G; ++g, w += GROUP) {
          const mve_pred16_t pa = g + 1 == G ? pk : vctp8q(KR);
          const int8x16_t b0 = ldw(w), b1 = ldw(w + KR), b2 = ldw(w + 2 * KR), b3 = ldw(w + 3 * KR);
          const int8x16_t v0 = vldrbq_z_s8(a0 + g * KR, pa);
          s00 = vmladavaq_s8(s00, v0, b0);
          s01 = vmladavaq_s8(s01, v0, b1);
          s02 = vmladavaq_s8(s02, v0, b2);
          s03 = vmladavaq_s8(s03, v0, b3);
          if constexpr (R > 1) {
            const int8x16_t v1 = vldrbq_z_s8(a1 + g * KR, pa);
            s10 = vmladavaq_s8(s10, v1, b0);
            s11 = vmladavaq_s8(s11, v1, b1);
            s12 = vmladavaq_s8(s12, v1, b2);
            s13 = vmladavaq_s8(s13, v1, b3);
          }
        }
      }
      const int32x4_t b = vldrwq_s32(reinterpret_cast<const std::int32_t*>(blk) + jb + J);
      stage4<R, Tail, form::either>(gather4(s00, s01, s02, s03), gather4(s10, s11, s12, s13), vaddq_n_s32(b, o0),
                                    vaddq_n_s32(b, o1), q, ch + J, left, c0 + J, c1 + J, zp, lo, hi, rs);
    }
  };

  /// The 4 channel sums of one row as an int32x4.
  [[gnu::always_inline]] static inline int32x4_t gather4(std::int32_t s0, std::int32_t s1, std::int32_t s2,
                                                         std::int32_t s3) noexcept {
    int32x4_t v = vdupq_n_s32(s0);
    v = vsetq_lane_s32(s1, v, 1);
    v = vsetq_lane_s32(s2, v, 2);
    return vsetq_lane_s32(s3, v, 3);
  }

  /// K > 32: R rows x 3 channels per tile (6 accumulators beside LR, the low-overhead loop's
  /// counter), four tiles per block, a software-pipelined k loop. The tiles leave their sums in a
  /// stack array of R x 12 int32 and the block's output stage runs on full 4-lane vectors.
  struct long_k {
    template <std::size_t R, class Q>
    static void run(std::size_t n, std::size_t k, const std::int8_t* a0, const std::int8_t* a1, const void* packed_w,
                    std::int32_t o0, std::int32_t o1, std::int8_t* c0, std::int8_t* c1, const output_stage<Q>& p,
                    bool /*whole: the remainder group's A is always predicated*/, bool rs) noexcept {
      const std::size_t kpad = (k + KR - 1) / KR * KR;
      const std::size_t block = NR * sizeof(std::int32_t) + NR * kpad;
      // Parameters in locals: int8 stores may alias anything, so members would be reloaded.
      const std::int32_t zp = p.zero_point;
      const int32x4_t lo = vdupq_n_s32(p.act_min), hi = vdupq_n_s32(p.act_max);
      const Q q = p.q;
      // Sums of the block's R x 12 channels (a 1-row tile reads and writes row 0 only: acc[R - 1]).
      alignas(16) std::int32_t acc[2][NR];
      const auto* blk = static_cast<const std::int8_t*>(packed_w);
      for (std::size_t n0 = 0; n0 < n; n0 += NR, blk += block) {
        const std::size_t left = n - n0;
        tile3<R, 0>(k, a0, a1, blk, o0, o1, acc);
        if (left > 3) tile3<R, 3>(k, a0, a1, blk, o0, o1, acc);
        if (left > 6) tile3<R, 6>(k, a0, a1, blk, o0, o1, acc);
        if (left > 9) tile3<R, 9>(k, a0, a1, blk, o0, o1, acc);
        const auto* bias = reinterpret_cast<const std::int32_t*>(blk);
        if (left >= NR) {
          // The form is chosen once per block (a block's three stages in either form).
          if (right(q, rs))
            for (std::size_t j = 0; j < NR; j += 4)
              stage4<R, false, form::right>(vldrwq_s32(acc[0] + j), vldrwq_s32(acc[R - 1] + j),
                                            vldrwq_s32(bias + j), vldrwq_s32(bias + j), q, n0 + j, 4, c0 + n0 + j,
                                            c1 + n0 + j, zp, lo, hi, rs);
          else
            for (std::size_t j = 0; j < NR; j += 4)
              stage4<R, false, form::other>(vldrwq_s32(acc[0] + j), vldrwq_s32(acc[R - 1] + j),
                                            vldrwq_s32(bias + j), vldrwq_s32(bias + j), q, n0 + j, 4, c0 + n0 + j,
                                            c1 + n0 + j, zp, lo, hi, rs);
        } else {
          // Sums of tiles past n: zeros (their lanes are computed but never stored).
          for (std::size_t t = (left + 2) / 3 * 3; t < NR; ++t) acc[0][t] = 0, acc[R - 1][t] = 0;
          for (std::size_t j = 0; j < left; j += 4) {
            if (left - j >= 4)
              stage4<R, false, form::either>(vldrwq_s32(acc[0] + j), vldrwq_s32(acc[R - 1] + j),
                                             vldrwq_s32(bias + j), vldrwq_s32(bias + j), q, n0 + j, 4, c0 + n0 + j,
                                             c1 + n0 + j, zp, lo, hi, rs);
            else
              stage4<R, true, form::either>(vldrwq_s32(acc[0] + j), vldrwq_s32(acc[R - 1] + j),
                                            vldrwq_s32(bias + j), vldrwq_s32(bias + j), q, n0 + j, left - j,
                                            c0 + n0 + j, c1 + n0 + j, zp, lo, hi, rs);
          }
        }
      }
    }

    /// Sums of R rows x channels J..J+2 of the block at `blk` into acc[r][J..J+2].
    template <std::size_t R, std::size_t J>
    [[gnu::always_inline]] static inline void tile3(std::size_t k, const std::int8_t* a0, const std::int8_t* a1,
                                                    const std::int8_t* blk, std::int32_t o0, std::int32_t o1,
                                                    std::int32_t (&acc)[2][NR]) noexcept {
      const std::size_t groups = k / KR, rem = k % KR;
      // B is read through one pointer at channel 2 of the current k-group: channel 2 by a VLDRW
      // post-indexed by GROUP (the next group), channels 0 and 1 of the group at offsets -32 and
      // -16 (VLDRB.8 offsets reach +-127 bytes).
      const std::int8_t* w = blk + NR * sizeof(std::int32_t) + (J + 2) * KR;
      const std::int8_t* x0 = a0;
      const std::int8_t* x1 = a1;
      // The sums live in fixed even registers (VMLADAVA accumulates into r0, r2, ..., r12, lr
      // only) beside LR, the low-overhead loop's counter; the whole-group loop is assembly, so
      // that no compiler's register allocation puts a MOV into it.
      register std::int32_t s00 asm("r0") = o0;
      register std::int32_t s01 asm("r2") = o0;
      register std::int32_t s02 asm("r4") = o0;
      register std::int32_t s10 asm("r6") = o1;
      register std::int32_t s11 asm("r8") = o1;
      register std::int32_t s12 asm("r10") = o1;
      if (groups != 0) {
        // Software-pipelined over the k-groups: A row 0 and B channels 0, 1 of group g + 1 are
        // loaded during group g. Every load sits alone between two MACs (M L M L M L M L M L M: the
        // order in which M55 overlaps each load with a MAC), at least one MAC before its first use
        // and after the last use of the register it overwrites. WLS skips the loop when there is
        // one group; the last group loads nothing of the next (A may end there).
        int8x16_t v0, v1, b0, b1, b2;
        const std::uint32_t loops = static_cast<std::uint32_t>(groups - 1);
        if constexpr (R > 1) {
          __asm__ volatile(
              "vldrb.8 %q[v0], [%[x0]], #16\n\t"
              "vldrb.8 %q[b0], [%[w], #-32]\n\t"
              "vldrb.8 %q[b1], [%[w], #-16]\n\t"
              "wls lr, %[n], .Lqs8_2x3_end%=\n"
              ".Lqs8_2x3_loop%=:\n\t"
              "vmladava.s8 %[s00], %q[v0], %q[b0]\n\t"
              "vldrb.8 %q[v1], [%[x1]], #16\n\t"
              "vmladava.s8 %[s01], %q[v0], %q[b1]\n\t"
              "vldrw.32 %q[b2], [%[w]], #192\n\t"
              "vmladava.s8 %[s10], %q[v1], %q[b0]\n\t"
              "vldrb.8 %q[b0], [%[w], #-32]\n\t"
              "vmladava.s8 %[s02], %q[v0], %q[b2]\n\t"
              "vldrb.8 %q[v0], [%[x0]], #16\n\t"
              "vmladava.s8 %[s11], %q[v1], %q[b1]\n\t"
              "vldrb.8 %q[b1], [%[w], #-16]\n\t"
              "vmladava.s8 %[s12], %q[v1], %q[b2]\n\t"
              "le lr, .Lqs8_2x3_loop%=\n"
              ".Lqs8_2x3_end%=:\n\t"
              "vmladava.s8 %[s00], %q[v0], %q[b0]\n\t"
              "vldrb.8 %q[v1], [%[x1]], #16\n\t"
              "vmladava.s8 %[s01], %q[v0], %q[b1]\n\t"
              "vldrw.32 %q[b2], [%[w]], #192\n\t"
              "vmladava.s8 %[s10], %q[v1], %q[b0]\n\t"
              "vmladava.s8 %[s02], %q[v0], %q[b2]\n\t"
              "vmladava.s8 %[s11], %q[v1], %q[b1]\n\t"
              "vmladava.s8 %[s12], %q[v1], %q[b2]\n\t"
              : [s00] "+r"(s00), [s01] "+r"(s01), [s02] "+r"(s02), [s10] "+r"(s10), [s11] "+r"(s11),
                [s12] "+r"(s12), [x0] "+r"(x0), [x1] "+r"(x1), [w] "+r"(w), [v0] "=&w"(v0), [v1] "=&w"(v1),
                [b0] "=&w"(b0), [b1] "=&w"(b1), [b2] "=&w"(b2)
              : [n] "r"(loops)
              : "lr", "memory");
        } else {
          __asm__ volatile(
              "vldrb.8 %q[v0], [%[x0]], #16\n\t"
              "vldrb.8 %q[b0], [%[w], #-32]\n\t"
              "vldrb.8 %q[b1], [%[w], #-16]\n\t"
              "wls lr, %[n], .Lqs8_2x3_end%=\n"
              ".Lqs8_2x3_loop%=:\n\t"
              "vmladava.s8 %[s00], %q[v0], %q[b0]\n\t"
              "vldrw.32 %q[b2], [%[w]], #192\n\t"
              "vmladava.s8 %[s01], %q[v0], %q[b1]\n\t"
              "vldrb.8 %q[b0], [%[w], #-32]\n\t"
              "vmladava.s8 %[s02], %q[v0], %q[b2]\n\t"
              "vldrb.8 %q[v0], [%[x0]], #16\n\t"
              "vldrb.8 %q[b1], [%[w], #-16]\n\t"
              "le lr, .Lqs8_2x3_loop%=\n"
              ".Lqs8_2x3_end%=:\n\t"
              "vmladava.s8 %[s00], %q[v0], %q[b0]\n\t"
              "vldrw.32 %q[b2], [%[w]], #192\n\t"
              "vmladava.s8 %[s01], %q[v0], %q[b1]\n\t"
              "vmladava.s8 %[s02], %q[v0], %q[b2]\n\t"
              : [s00] "+r"(s00), [s01] "+r"(s01), [s02] "+r"(s02), [x0] "+r"(x0), [w] "+r"(w), [v0] "=&w"(v0),
                [b0] "=&w"(b0), [b1] "=&w"(b1), [b2] "=&w"(b2)
              : [n] "r"(loops)
              : "lr", "memory");
        }
      }
      if (rem != 0) {
        // A bytes past k: zeroing predicated loads (never accessed); B is zero padded to 16.
        const mve_pred16_t pk = vctp8q(static_cast<std::uint32_t>(rem));
        const int8x16_t b0 = vldrbq_s8(w - 2 * KR), b1 = vldrbq_s8(w - KR), b2 = vldrbq_s8(w);
        const int8x16_t v0 = vldrbq_z_s8(x0, pk);
        s00 = vmladavaq_s8(s00, v0, b0);
        s01 = vmladavaq_s8(s01, v0, b1);
        s02 = vmladavaq_s8(s02, v0, b2);
        if constexpr (R > 1) {
          const int8x16_t v1 = vldrbq_z_s8(x1, pk);
          s10 = vmladavaq_s8(s10, v1, b0);
          s11 = vmladavaq_s8(s11, v1, b1);
          s12 = vmladavaq_s8(s12, v1, b2);
        }
      }
      acc[0][J] = s00;
      acc[0][J + 1] = s01;
      acc[0][J + 2] = s02;
      if constexpr (R > 1) {
        acc[1][J] = s10;
        acc[1][J + 1] = s11;
        acc[1][J + 2] = s12;
      }
    }
  };
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::gemm_qs8, tessera::arch::helium> {
  using type = tessera::kernels::gemm_qs8_2x3c16_helium;
};
