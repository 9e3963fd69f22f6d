/// @file dwconv3x3_qs8_2vl_sve.hpp
/// int8 3x3 depthwise row kernel (op.hpp's row contract: windows inside the input, stride 1 or 2
/// along x, direct addressing) with fused TFLite requantization on SVE, vector-length agnostic.
///
/// Tile: one output pixel x two int32 vectors of channels (svcnth(), half a byte vector) per step.
/// cr() = svcntb(), the packed blocks of dwconv_qs8_4vl_sve (`int32 bias'[cr]; int8 w[9][cr]`), run
/// as two halves (a half with no channel is skipped, so 32 channels at 512 bits cost one half).
/// SDOT on interleaved taps, by input column: the three tap rows' bytes of one input column are
/// interleaved so that each 32-bit lane holds (r0, r1, r2, x) of one channel (ZIP1 of the r0 and r1
/// bytes, then ZIP1/ZIP2 of 16-bit lanes with r2 loaded zero-extended to 16 bits by LD1B; the
/// fourth byte meets a zero weight). The weights of column kx (taps kx, 3 + kx, 6 + kx, 0) are
/// interleaved the same way once per half and stay in registers (6 vectors). Output j is
/// bias' + three SDOTs per vector against the interleaved columns j*S, j*S + 1, j*S + 2: each
/// column is loaded and interleaved once (stride 1: one new column per output, the previous two
/// stay in registers; stride 2: two new columns per output, the shared even column stays).
/// Per output and half at stride 1: 3 loads + 3 ZIP for the new column, 2 bias LD1W, 6 SDOT, the
/// requantization of 2 vectors and 2 ST1B, for 9 * svcnth() MACs; stride 2 twice the column work.
/// The int32 sums wrap and are exact, so results equal dwconv_qs8_scalar's bit for bit.
/// Epilogue: as dwconv_qs8_4vl_sve (sve/requant_stage.hpp: SRDHM/RDPOT, SVE1; a per-tensor stage
/// applies only the half of MBQM its shift needs; per-channel parameters are prepared once per half).
/// Tails: channels by svwhilelt predicates on the input loads (bytes and halfwords: nothing at or
/// past `channels` of a pixel is read), the per-channel parameter loads and the stores; weights and
/// bias' are read inside their (zero-padded) block.
/// ISA: Armv8.2-A SVE (SVE1 instructions only; SDOT is SVE1).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SVE
#error "dwconv3x3_qs8_2vl_sve.hpp needs SVE (TESSERA_HAS_SVE)"
#endif

#include <arm_sve.h>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <tessera/arch/sve/requant_stage.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>
#include <tessera/kernels/dwconv/sve/dwconv_qs8_4vl_sve.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct dwconv3x3_qs8_2vl_sve {
  using arch = tessera::arch::sve;
  static constexpr const char* name = "dwconv3x3_qs8_2vl_sve";
  /// Channel tile of the packed weights (dwconv_qs8_4vl_sve's: one byte vector).
  static std::size_t cr() noexcept { return dwconv_qs8_4vl_sve::cr(); }

  /// `pixels` outputs of one row, windows inside the input, stride 1 or 2 along x (op.hpp).
  template <class Q>
  static void run(std::size_t channels, std::size_t pixels, std::size_t stride, const std::int8_t* r0,
                  const std::int8_t* r1, const std::int8_t* r2, const void* packed, std::int8_t* out,
                  const output_stage<Q>& p) noexcept {
    if constexpr (std::is_same_v<Q, requant::per_tensor>) {
      if (p.q.shift > 0) dispatch<Q, shift_kind::left>(channels, pixels, stride, r0, r1, r2, packed, out, p);
      else dispatch<Q, shift_kind::right>(channels, pixels, stride, r0, r1, r2, packed, out, p);
    } else {
      dispatch<Q, shift_kind::both>(channels, pixels, stride, r0, r1, r2, packed, out, p);
    }
  }

 private:
  /// Which MBQM steps the stage needs (sve/requant_stage.hpp).
  using shift_kind = tessera::arch::sve_ops::shift_kind;

  template <class Q, shift_kind K>
  static void dispatch(std::size_t channels, std::size_t pixels, std::size_t stride, const std::int8_t* r0,
                       const std::int8_t* r1, const std::int8_t* r2, const void* packed, std::int8_t* out,
                       const output_stage<Q>& p) noexcept {
    if (stride == 1) run_s<1, Q, K>(channels, pixels, r0, r1, r2, packed, out, p);
    else run_s<2, Q, K>(channels, pixels, r0, r1, r2, packed, out, p);
  }

  /// Interleaves bytes a (r0) and b (r1), first svcnth() lanes, with c (r2, zero-extended to 16
  /// bits): 32-bit lane j of q0 holds (a, b, c, 0)[j], of q1 the same for j + svcntw().
  [[gnu::always_inline]] static inline void interleave3(svint8_t a, svint8_t b, svuint16_t c, svint8_t& q0,
                                                        svint8_t& q1) noexcept {
    const svuint16_t ab = svreinterpret_u16_s8(svzip1_s8(a, b));
    q0 = svreinterpret_s8_u16(svzip1_u16(ab, c));
    q1 = svreinterpret_s8_u16(svzip2_u16(ab, c));
  }

  /// The interleaved input column at byte offset `off` of the three rows (x_k: this half's channel).
  [[gnu::always_inline]] static inline void column(const std::int8_t* x0, const std::int8_t* x1,
                                                   const std::int8_t* x2, std::size_t off, svbool_t pb,
                                                   svbool_t ph, svint8_t& q0, svint8_t& q1) noexcept {
    interleave3(svld1_s8(pb, x0 + off), svld1_s8(pb, x1 + off),
                svld1ub_u16(ph, reinterpret_cast<const std::uint8_t*>(x2) + off), q0, q1);
  }

  /// One output pixel of this half: bias' + columns a, b, c (kx = 0, 1, 2) against the weights,
  /// requantized and stored at o under p0 / p1.
  template <shift_kind K>
  [[gnu::always_inline]] static inline void output(
      const std::int32_t* bias, svint8_t a0, svint8_t a1, svint8_t b0, svint8_t b1, svint8_t c0, svint8_t c1,
      svint8_t u0, svint8_t u1, svint8_t v0, svint8_t v1, svint8_t t0, svint8_t t1, std::int8_t* o, svbool_t p0,
      svbool_t p1, svint32_t m0, svint32_t m1, svuint32_t left0, svuint32_t left1, svuint32_t right0,
      svuint32_t right1, svint32_t mask0, svint32_t mask1, svint32_t half0, svint32_t half1, svint32_t zp,
      svint32_t lo, svint32_t hi) noexcept {
    const svbool_t all = svptrue_b32();
    svint32_t acc0 = svld1_vnum_s32(all, bias, 0), acc1 = svld1_vnum_s32(all, bias, 1);
    acc0 = svdot_s32(acc0, a0, u0);
    acc1 = svdot_s32(acc1, a1, u1);
    acc0 = svdot_s32(acc0, b0, v0);
    acc1 = svdot_s32(acc1, b1, v1);
    acc0 = svdot_s32(acc0, c0, t0);
    acc1 = svdot_s32(acc1, c1, t1);
    namespace ops = tessera::arch::sve_ops;
    svst1b_vnum_s32(p0, o, 0, ops::requant_clamp<K>(acc0, m0, left0, right0, mask0, half0, zp, lo, hi));
    svst1b_vnum_s32(p1, o, 1, ops::requant_clamp<K>(acc1, m1, left1, right1, mask1, half1, zp, lo, hi));
  }

  /// Every pixel of the svcnth() channels at c (x_k, o: that channel; bias: its bias'; w: its
  /// weight of tap 0 in the block; crn: the block's tap pitch).
  template <std::size_t S, class Q, shift_kind K>
  static void half(std::uint64_t c, std::size_t ch, std::size_t pixels, const std::int8_t* x0,
                   const std::int8_t* x1, const std::int8_t* x2, const std::int32_t* bias, const std::int8_t* w,
                   std::uint64_t crn, std::int8_t* o, const Q& q, svint32_t m, svuint32_t left,
                   svuint32_t right, svint32_t mask, svint32_t half, svint32_t zp, svint32_t lo,
                   svint32_t hi) noexcept {
    const std::uint64_t vl = svcntw(), hl = svcnth();
    const svbool_t pb = svwhilelt_b8_u64(c, c + hl < ch ? c + hl : ch), ph = svwhilelt_b16_u64(c, ch);
    const svbool_t p0 = svwhilelt_b32_u64(c, ch), p1 = svwhilelt_b32_u64(c + vl, ch);
    const svbool_t pw = svwhilelt_b8_u64(0, hl), pwh = svptrue_b16();
    const auto* wu = reinterpret_cast<const std::uint8_t*>(w);
    // Interleaved weights of columns kx = 0 (u), 1 (v), 2 (t): taps (kx, 3 + kx, 6 + kx, 0).
    svint8_t u0, u1, v0, v1, t0, t1;
    interleave3(svld1_s8(pw, w), svld1_s8(pw, w + 3 * crn), svld1ub_u16(pwh, wu + 6 * crn), u0, u1);
    interleave3(svld1_s8(pw, w + crn), svld1_s8(pw, w + 4 * crn), svld1ub_u16(pwh, wu + 7 * crn), v0, v1);
    interleave3(svld1_s8(pw, w + 2 * crn), svld1_s8(pw, w + 5 * crn), svld1ub_u16(pwh, wu + 8 * crn), t0, t1);
    svint32_t m0 = m, m1 = m, mask0 = mask, mask1 = mask, half0 = half, half1 = half;
    svuint32_t left0 = left, left1 = left, right0 = right, right1 = right;
    if constexpr (!std::is_same_v<Q, requant::per_tensor>) {
      m0 = svld1_s32(p0, q.multiplier + c);
      m1 = svld1_s32(p1, q.multiplier + c + vl);
      tessera::arch::sve_ops::split_shift(svld1_s32(p0, q.shift + c), left0, right0, mask0, half0);
      tessera::arch::sve_ops::split_shift(svld1_s32(p1, q.shift + c + vl), left1, right1, mask1, half1);
    }
#define TT_DW3_OUT(A, B, C)                                                                                   \
  output<K>(bias, A##0, A##1, B##0, B##1, C##0, C##1, u0, u1, v0, v1, t0, t1, o, p0, p1, m0, m1, left0, left1, \
            right0, right1, mask0, mask1, half0, half1, zp, lo, hi)
// Loads the next input column into C (stride 2: the odd one into b first), outputs (A, B, C),
// moves to the next pixel; leaves the loop after the last.
#define TT_DW3_STEP(A, B, C)                                    \
  if constexpr (S == 2) column(x0, x1, x2, off, pb, ph, b0, b1); \
  column(x0, x1, x2, off + (S - 1) * ch, pb, ph, C##0, C##1);   \
  off += S * ch;                                                \
  TT_DW3_OUT(A, B, C);                                          \
  o += ch;                                                      \
  if (--n == 0) break
    svint8_t a0, a1, b0, b1, d0, d1;
    std::size_t off = 0, n = pixels;
    column(x0, x1, x2, off, pb, ph, a0, a1);
    off += ch;
    if constexpr (S == 1) {
      column(x0, x1, x2, off, pb, ph, b0, b1);
      off += ch;
      for (;;) {  // columns rotate through a, b, d: output j uses j, j + 1, j + 2
        TT_DW3_STEP(a, b, d);
        TT_DW3_STEP(b, d, a);
        TT_DW3_STEP(d, a, b);
      }
    } else {
      for (;;) {  // the even column alternates between a and d: output j uses 2j, 2j + 1, 2j + 2
        TT_DW3_STEP(a, b, d);
        TT_DW3_STEP(d, b, a);
      }
    }
#undef TT_DW3_STEP
#undef TT_DW3_OUT
  }

  template <std::size_t S, class Q, shift_kind K>
  static void run_s(std::size_t ch, std::size_t pixels, const std::int8_t* r0, const std::int8_t* r1,
                    const std::int8_t* r2, const void* packed, std::int8_t* out, const output_stage<Q>& p) noexcept {
    namespace ops = tessera::arch::sve_ops;
    const std::uint64_t crn = svcntb(), hl = svcnth();
    const std::size_t bytes = packed_dw_block_bytes(crn, 9, sizeof(std::int32_t), sizeof(std::int8_t));
    // Parameters in locals: int8 stores may alias anything, so members would be reloaded.
    const svint32_t zp = svdup_n_s32(p.zero_point), lo = svdup_n_s32(p.act_min), hi = svdup_n_s32(p.act_max);
    const Q q = p.q;
    svint32_t m = svdup_n_s32(0), mask = m, half_ = m;
    svuint32_t left = svdup_n_u32(0), right = left;
    if constexpr (std::is_same_v<Q, requant::per_tensor>) {
      m = svdup_n_s32(q.multiplier);
      ops::split_shift(q.shift, left, right, mask, half_);
    }
    const auto* blk = static_cast<const std::uint8_t*>(packed);
    for (std::uint64_t c0 = 0; c0 < ch; c0 += crn, blk += bytes) {
      const auto* bias = reinterpret_cast<const std::int32_t*>(blk);
      const auto* w = reinterpret_cast<const std::int8_t*>(blk + crn * sizeof(std::int32_t));
      for (std::uint64_t h = 0; h < crn && c0 + h < ch; h += hl)
        half<S, Q, K>(c0 + h, ch, pixels, r0 + c0 + h, r1 + c0 + h, r2 + c0 + h, bias + h, w + h, crn, out + c0 + h,
                      q, m, left, right, mask, half_, zp, lo, hi);
    }
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv3x3_qs8, tessera::arch::sve> {
  using type = tessera::kernels::dwconv3x3_qs8_2vl_sve;
};
