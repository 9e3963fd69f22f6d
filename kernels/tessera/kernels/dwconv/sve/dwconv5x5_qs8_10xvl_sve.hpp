/// @file dwconv5x5_qs8_10xvl_sve.hpp
/// int8 5x5 depthwise row kernel (op.hpp's 5x5 row contract: windows inside the input, stride 1 or
/// 2 along x, direct addressing) with fused TFLite requantization on SVE, vector-length agnostic;
/// the sve tag's int8 5x5 row kernel.
///
/// cr() = svcntb(), the packed blocks of dwconv_qs8_4vl_sve with ks = 25 (`int32 bias'[cr]; int8
/// w[25][cr]`), run as four one-int32-vector quarters (svcntw() channels; a quarter with no channel
/// is skipped, so 32 channels at 512 bits cost two).
/// Tile: N neighbouring output pixels x one int32 vector of channels, N = 10 at stride 1 and 8 at
/// stride 2; the N accumulators stay in registers for the whole window (N + 10 weight vectors +
/// column temporaries + the stage's parameters: with N = 12 GCC 12 spills weights, and the loop
/// costs 43.8 (stride 1) / 57.8 (stride 2) instructions per output, per-channel stage, against 42.7 / 50.5).
/// SDOT by input column, as dwconv3x3_qs8_2vl_sve: the bytes of tap rows 0-3 of one input column
/// are interleaved (ZIP1 8-bit, ZIP1 16-bit) so that each 32-bit lane holds (r0, r1, r2, r3) of one
/// channel, and tap row 4 of the column is loaded zero-extended to 32 bits (LD1B into .S lanes:
/// (r4, 0, 0, 0)). The weights of column kx are held the same way once per quarter: taps (kx,
/// 5 + kx, 10 + kx, 15 + kx) interleaved, and tap 20 + kx sign-extended to 32 bits (its upper
/// bytes meet the input's zero bytes): 10 vectors in registers. The (N - 1) * S + 5 columns of a
/// tile are each loaded and interleaved once (4 LD1B + 1 LD1B-to-.S + 3 ZIP) and feed the outputs
/// j with kx = i - S * j in 0..4 by two SDOTs each. Per output at stride 1 ((N + 4) / N columns):
/// about 7 loads + 4 ZIP + 10 SDOT for 25 * svcntw() MACs (stride 2: (2N + 3) / N columns), then
/// about 16 instructions of requantization, against 25 pointer loads, 25 LD1SB input + 25 LD1SB
/// weight loads and 25 MLA per vector in dwconv_qs8_4vl_sve's ks = 25 path.
/// Column addresses are [row, off] with one running byte offset (one ADD per column).
/// The int32 sums wrap and are exact, so results equal dwconv5x5_qs8_scalar's bit for bit.
/// Epilogue: as dwconv_qs8_4vl_sve (sve/requant_stage.hpp: SRDHM/RDPOT, SVE1; a per-tensor stage
/// applies only the half of MBQM its shift needs; per-channel parameters are loaded once per quarter),
/// ST1B narrowing store; the 1..N-1 remaining pixels of a row take the same code with a smaller tile.
/// Tails: channels by svwhilelt predicates on the input loads (bytes and words: nothing at or past
/// `channels` of a pixel is read), the per-channel parameter loads and the stores; weights and bias'
/// are read inside their (zero-padded) block.
/// ISA: Armv8.2-A SVE (SVE1 instructions only; SDOT is SVE1).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SVE
#error "dwconv5x5_qs8_10xvl_sve.hpp needs SVE (TESSERA_HAS_SVE)"
#endif

#include <arm_sve.h>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <tessera/arch/sve/requant_stage.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>
#include <tessera/kernels/dwconv/sve/dwconv_qs8_4vl_sve.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct dwconv5x5_qs8_10xvl_sve {
  using arch = tessera::arch::sve;
  static constexpr const char* name = "dwconv5x5_qs8_10xvl_sve";
  /// Channel tile of the packed weights (dwconv_qs8_4vl_sve's: one byte vector).
  static std::size_t cr() noexcept { return dwconv_qs8_4vl_sve::cr(); }

  /// `pixels` outputs of one row, 5x5 windows inside the input, stride 1 or 2 along x (op.hpp).
  template <class Q>
  static void run(std::size_t channels, std::size_t pixels, std::size_t stride, const std::int8_t* const* rows,
                  const void* packed, std::int8_t* out, const output_stage<Q>& p) noexcept {
    if constexpr (std::is_same_v<Q, requant::per_tensor>) {
      if (p.q.shift > 0) dispatch<Q, shift_kind::left>(channels, pixels, stride, rows, packed, out, p);
      else dispatch<Q, shift_kind::right>(channels, pixels, stride, rows, packed, out, p);
    } else {
      dispatch<Q, shift_kind::both>(channels, pixels, stride, rows, packed, out, p);
    }
  }

 private:
  /// Which MBQM steps the stage needs (sve/requant_stage.hpp).
  using shift_kind = tessera::arch::sve_ops::shift_kind;
  /// Pixels per tile at stride 1 and 2 (N accumulators + 10 weights + column temporaries + the
  /// stage's parameters in 32 z registers; larger tiles spill, see the file comment).
  static constexpr std::size_t N1 = 10, N2 = 8;
  static_assert(N1 >= 1 && N1 <= 16 && N2 >= 1 && N2 <= 16, "at most 16 accumulators");
  using vi = svint32_t;
  using vb = svint8_t;

  template <class Q, shift_kind K>
  static void dispatch(std::size_t channels, std::size_t pixels, std::size_t stride, const std::int8_t* const* rows,
                       const void* packed, std::int8_t* out, const output_stage<Q>& p) noexcept {
    if (stride == 1) run_s<1, N1, Q, K>(channels, pixels, rows, packed, out, p);
    else run_s<2, N2, Q, K>(channels, pixels, rows, packed, out, p);
  }

// The ten weight vectors: u_kx = taps (kx, 5 + kx, 10 + kx, 15 + kx) interleaved, e_kx = tap 20 + kx
// sign-extended to 32 bits (as bytes).
#define TT_DW5_WPARAMS vb u0, vb u1, vb u2, vb u3, vb u4, vb e0, vb e1, vb e2, vb e3, vb e4
#define TT_DW5_WARGS u0, u1, u2, u3, u4, e0, e1, e2, e3, e4

  /// a += column I's taps of output J if column I is in its window (kx = I - S*J).
  template <std::size_t S, std::size_t NT, std::size_t I, std::size_t J>
  [[gnu::always_inline]] static inline void tap(vi& a, vb q, vb r, TT_DW5_WPARAMS) noexcept {
    if constexpr (J < NT && I >= S * J && I - S * J <= 4) {
      constexpr std::size_t kx = I - S * J;
      const vb u = kx == 0 ? u0 : kx == 1 ? u1 : kx == 2 ? u2 : kx == 3 ? u3 : u4;
      const vb e = kx == 0 ? e0 : kx == 1 ? e1 : kx == 2 ? e2 : kx == 3 ? e3 : e4;
      a = svdot_s32(a, q, u);
      a = svdot_s32(a, r, e);
    }
  }

  /// Column I (byte offset `off` of the rows x0..x4): loaded and interleaved once, then its SDOTs
  /// into the accumulators a (J = 0, 1, ...); advances `off` by one pixel.
  template <std::size_t S, std::size_t NT, std::size_t I, std::size_t... J, class... A>
  [[gnu::always_inline]] static inline void column(std::index_sequence<J...>, const std::int8_t* x0,
                                                   const std::int8_t* x1, const std::int8_t* x2,
                                                   const std::int8_t* x3, const std::uint8_t* x4, std::size_t& off,
                                                   std::size_t ch, svbool_t pb, svbool_t pw, TT_DW5_WPARAMS,
                                                   A&... a) noexcept {
    const svint16_t l01 = svreinterpret_s16_s8(svzip1_s8(svld1_s8(pb, x0 + off), svld1_s8(pb, x1 + off)));
    const svint16_t l23 = svreinterpret_s16_s8(svzip1_s8(svld1_s8(pb, x2 + off), svld1_s8(pb, x3 + off)));
    const vb q = svreinterpret_s8_s16(svzip1_s16(l01, l23));
    const vb r = svreinterpret_s8_u32(svld1ub_u32(pw, x4 + off));
    off += ch;
    __asm__("" : "+r"(off));  // one running offset: no per-column I * ch constants
    (tap<S, NT, I, J>(a, q, r, TT_DW5_WARGS), ...);
  }

  template <std::size_t S, std::size_t NT, std::size_t... I, class... A>
  [[gnu::always_inline]] static inline void columns(std::index_sequence<I...>, const std::int8_t* x0,
                                                    const std::int8_t* x1, const std::int8_t* x2,
                                                    const std::int8_t* x3, const std::uint8_t* x4, std::size_t ch,
                                                    svbool_t pb, svbool_t pw, TT_DW5_WPARAMS, A&... a) noexcept {
    std::size_t off = 0;
    (column<S, NT, I>(std::index_sequence_for<A...>{}, x0, x1, x2, x3, x4, off, ch, pb, pw, TT_DW5_WARGS, a...), ...);
  }

  /// Requantizes and stores output J of the tile (if J < NT) at o + off; advances off by one pixel.
  template <std::size_t NT, std::size_t J, shift_kind K>
  [[gnu::always_inline]] static inline void store(std::int8_t* o, std::size_t& off, std::size_t ch, svbool_t pw,
                                                  vi a, vi m, svuint32_t left, svuint32_t right, vi mask, vi half,
                                                  vi zp, vi lo, vi hi) noexcept {
    if constexpr (J < NT) {
      svst1b_s32(pw, o + off, tessera::arch::sve_ops::requant_clamp<K>(a, m, left, right, mask, half, zp, lo, hi));
      off += ch;
      __asm__("" : "+r"(off));
    }
  }
  template <std::size_t NT, shift_kind K, std::size_t... J, class... A>
  [[gnu::always_inline]] static inline void stores(std::index_sequence<J...>, std::int8_t* o, std::size_t ch,
                                                   svbool_t pw, vi m, svuint32_t left, svuint32_t right, vi mask,
                                                   vi half, vi zp, vi lo, vi hi, A&... a) noexcept {
    std::size_t off = 0;
    (store<NT, J, K>(o, off, ch, pw, a, m, left, right, mask, half, zp, lo, hi), ...);
  }

  /// NT (1..N) pixels of one channel vector: x_k the first window's input in tap row k, o its output.
  template <std::size_t S, std::size_t NT, shift_kind K>
  [[gnu::always_inline]] static inline void group(const std::int8_t* x0, const std::int8_t* x1,
                                                  const std::int8_t* x2, const std::int8_t* x3,
                                                  const std::int8_t* x4, std::size_t ch, svbool_t pb, svbool_t pw,
                                                  vi b, TT_DW5_WPARAMS, std::int8_t* o, vi m, svuint32_t left,
                                                  svuint32_t right, vi mask, vi half, vi zp, vi lo,
                                                  vi hi) noexcept {
    vi a0 = b, a1 = b, a2 = b, a3 = b, a4 = b, a5 = b, a6 = b, a7 = b;
    vi a8 = b, a9 = b, a10 = b, a11 = b, a12 = b, a13 = b, a14 = b, a15 = b;
    columns<S, NT>(std::make_index_sequence<(NT - 1) * S + 5>{}, x0, x1, x2, x3,
                   reinterpret_cast<const std::uint8_t*>(x4), ch, pb, pw, TT_DW5_WARGS, a0, a1, a2, a3, a4, a5, a6,
                   a7, a8, a9, a10, a11, a12, a13, a14, a15);
    stores<NT, K>(std::make_index_sequence<16>{}, o, ch, pw, m, left, right, mask, half, zp, lo, hi, a0, a1, a2, a3,
                  a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15);
  }

  /// The last px = 1..NT pixels (px = 0: nothing).
  template <std::size_t S, std::size_t NT, shift_kind K>
  [[gnu::always_inline]] static inline void tail(std::size_t px, const std::int8_t* x0, const std::int8_t* x1,
                                                 const std::int8_t* x2, const std::int8_t* x3,
                                                 const std::int8_t* x4, std::size_t ch, svbool_t pb, svbool_t pw,
                                                 vi b, TT_DW5_WPARAMS, std::int8_t* o, vi m, svuint32_t left,
                                                 svuint32_t right, vi mask, vi half, vi zp, vi lo, vi hi) noexcept {
    if constexpr (NT > 0) {
      if (px == NT) group<S, NT, K>(x0, x1, x2, x3, x4, ch, pb, pw, b, TT_DW5_WARGS, o, m, left, right, mask, half, zp, lo, hi);
      else tail<S, NT - 1, K>(px, x0, x1, x2, x3, x4, ch, pb, pw, b, TT_DW5_WARGS, o, m, left, right, mask, half, zp, lo, hi);
    }
  }

  /// Every pixel of the svcntw() channels at c (rows[k] + c its tap rows; bias: its bias'; w: its
  /// weight of tap 0 in the block; crn: the block's tap pitch; o: its output).
  template <std::size_t S, std::size_t N, class Q, shift_kind K>
  static void quarter(std::uint64_t c, std::size_t ch, std::size_t pixels, const std::int8_t* const* rows,
                      const std::int32_t* bias, const std::int8_t* w, std::uint64_t crn, std::int8_t* o,
                      const Q& q, vi m, svuint32_t left, svuint32_t right, vi mask, vi half, vi zp, vi lo,
                      vi hi) noexcept {
    const std::uint64_t vl = svcntw();
    const svbool_t all = svptrue_b32();
    const svbool_t pb = svwhilelt_b8_u64(c, c + vl < ch ? c + vl : ch), pw = svwhilelt_b32_u64(c, ch);
    const svbool_t pwb = svwhilelt_b8_u64(0, vl);  // vl weight bytes of a tap
    vb u0, u1, u2, u3, u4, e0, e1, e2, e3, e4;
    {
      auto interleave = [&](std::size_t kx) {
        const svint16_t l01 = svreinterpret_s16_s8(svzip1_s8(svld1_s8(pwb, w + kx * crn), svld1_s8(pwb, w + (5 + kx) * crn)));
        const svint16_t l23 =
            svreinterpret_s16_s8(svzip1_s8(svld1_s8(pwb, w + (10 + kx) * crn), svld1_s8(pwb, w + (15 + kx) * crn)));
        return svreinterpret_s8_s16(svzip1_s16(l01, l23));
      };
      auto widen = [&](std::size_t kx) { return svreinterpret_s8_s32(svld1sb_s32(all, w + (20 + kx) * crn)); };
      u0 = interleave(0), u1 = interleave(1), u2 = interleave(2), u3 = interleave(3), u4 = interleave(4);
      e0 = widen(0), e1 = widen(1), e2 = widen(2), e3 = widen(3), e4 = widen(4);
    }
    const vi b = svld1_s32(all, bias);
    if constexpr (!std::is_same_v<Q, requant::per_tensor>) {
      m = svld1_s32(pw, q.multiplier + c);
      tessera::arch::sve_ops::split_shift(svld1_s32(pw, q.shift + c), left, right, mask, half);
    }
    const std::int8_t *x0 = rows[0] + c, *x1 = rows[1] + c, *x2 = rows[2] + c, *x3 = rows[3] + c, *x4 = rows[4] + c;
    std::size_t px = pixels;
    for (; px >= N; px -= N, x0 += N * S * ch, x1 += N * S * ch, x2 += N * S * ch, x3 += N * S * ch,
                    x4 += N * S * ch, o += N * ch)
      group<S, N, K>(x0, x1, x2, x3, x4, ch, pb, pw, b, TT_DW5_WARGS, o, m, left, right, mask, half, zp, lo, hi);
    tail<S, N - 1, K>(px, x0, x1, x2, x3, x4, ch, pb, pw, b, TT_DW5_WARGS, o, m, left, right, mask, half, zp, lo, hi);
  }
#undef TT_DW5_WARGS
#undef TT_DW5_WPARAMS

  template <std::size_t S, std::size_t N, class Q, shift_kind K>
  static void run_s(std::size_t ch, std::size_t pixels, const std::int8_t* const* rows, const void* packed,
                    std::int8_t* out, const output_stage<Q>& p) noexcept {
    namespace ops = tessera::arch::sve_ops;
    const std::uint64_t crn = svcntb(), vl = svcntw();
    const std::size_t bytes = packed_dw_block_bytes(crn, 25, sizeof(std::int32_t), sizeof(std::int8_t));
    // Parameters in locals: int8 stores may alias anything, so members would be reloaded.
    const vi zp = svdup_n_s32(p.zero_point), lo = svdup_n_s32(p.act_min), hi = svdup_n_s32(p.act_max);
    const Q q = p.q;
    vi m = svdup_n_s32(0), mask = m, half = m;
    svuint32_t left = svdup_n_u32(0), right = left;
    if constexpr (std::is_same_v<Q, requant::per_tensor>) {
      m = svdup_n_s32(q.multiplier);
      ops::split_shift(q.shift, left, right, mask, half);
    }
    const auto* blk = static_cast<const std::uint8_t*>(packed);
    for (std::uint64_t c0 = 0; c0 < ch; c0 += crn, blk += bytes) {
      const auto* bias = reinterpret_cast<const std::int32_t*>(blk);
      const auto* w = reinterpret_cast<const std::int8_t*>(blk + crn * sizeof(std::int32_t));
      for (std::uint64_t v = 0; v < crn && c0 + v < ch; v += vl)
        quarter<S, N, Q, K>(c0 + v, ch, pixels, rows, bias + v, w + v, crn, out + c0 + v, q, m, left, right, mask, half,
                         zp, lo, hi);
    }
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv5x5_qs8, tessera::arch::sve> {
  using type = tessera::kernels::dwconv5x5_qs8_10xvl_sve;
};
