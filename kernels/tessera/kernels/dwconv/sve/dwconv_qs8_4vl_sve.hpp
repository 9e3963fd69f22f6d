/// @file dwconv_qs8_4vl_sve.hpp
/// int8 depthwise convolution (channel multiplier 1) with fused TFLite requantization on SVE,
/// vector-length agnostic. Contract and packed format: dwconv/op.hpp.
///
/// Tile: cr() = 4 * svcntw() = svcntb() channels (four int32 accumulator vectors); packed blocks
/// `int32 bias'[cr]; int8 w[ks][cr]`, so one tap of a block is exactly one byte vector.
/// Loop order: channel block outer, pixels inner. A last block of at most 2 (1) vectors' worth of
/// channels runs a 2- (1-) accumulator instance: no work on all-inactive vectors (32 channels at
/// 512 bits cost half of a full block).
/// ks = 9: taps run in groups of four through SDOT. Per group the four taps' input byte vectors
/// are interleaved with ZIP1/ZIP2 (8-bit, then 16-bit) so that each 32-bit lane holds the four taps
/// of one channel; one SDOT per accumulator then adds four taps' products (q_i holds channels
/// [i*vl, (i+1)*vl), vl = svcntw()). The block's weights are interleaved the same way once and stay
/// in registers (8 vectors), the ninth tap runs as 4 LD1SB (sign-extending to int32) + 4 MLA against
/// 4 pre-widened weight vectors. Per pixel: 9 pointer loads, 8 LD1B + 4 LD1SB, 16 ZIP, 8 SDOT, 4 MLA
/// for 9 * svcntb() MACs.
/// Other ks (25 included): per tap 4 LD1SB of the input, 4 LD1SB of the weights and 4 MLA (int32).
/// The int32 sums wrap and are exact, so every path equals dwconv_qs8_scalar bit for bit.
/// Epilogue (per accumulator vector): tessera::arch::sve_ops SRDHM/RDPOT (SVE1: SMULH + MUL,
/// reference RDPOT; a per-tensor stage applies only the half of MBQM its shift needs), + zero point
/// (wrapping), clamp, ST1B narrowing store.
/// Tails: channels by a svwhilelt_b8 predicate on the LD1B input loads, svwhilelt_b32 predicates
/// on the LD1SB input loads, per-channel parameter loads and the stores (nothing at or past
/// `channels` is read or written); bias' and weights are read as whole zero-padded blocks.
/// ISA: Armv8.2-A SVE (SVE1 instructions only; SDOT is SVE1).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SVE
#error "dwconv_qs8_4vl_sve.hpp needs SVE (TESSERA_HAS_SVE)"
#endif

#include <arm_sve.h>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <tessera/arch/sve/requant_stage.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct dwconv_qs8_4vl_sve {
  using arch = tessera::arch::sve;
  static constexpr const char* name = "dwconv_qs8_4vl_sve";
  /// Channel tile of the packed weights: four int32 vectors = one byte vector (VL dependent).
  static std::size_t cr() noexcept { return svcntb(); }

  /// out[p][c] = requant(bias'[c] + sum_t in[p * in_step + t][c] * w[t][c]) for p < pixels, c < channels.
  /// @param[in]  in       pixels * in_step tap pointers (in_step >= ks), each to `channels` int8 values
  /// @param[in]  packed   op.hpp s8 blocks packed with cr() (4-byte aligned)
  /// @param[out] out      output pixel p at out + p * out_stride (`channels` values written)
  /// @param[in]  p        output stage; shifts in [-31, 30]; per-channel arrays indexed by channel
  template <class Q>
  static void run(std::size_t channels, std::size_t pixels, std::size_t ks, const std::int8_t* const* in,
                  std::size_t in_step, const void* packed, std::int8_t* out, std::size_t out_stride,
                  const output_stage<Q>& p) noexcept {
    if constexpr (std::is_same_v<Q, requant::per_tensor>) {
      if (p.q.shift > 0) dispatch_ks<Q, shift_kind::left>(channels, pixels, ks, in, in_step, packed, out, out_stride, p);
      else dispatch_ks<Q, shift_kind::right>(channels, pixels, ks, in, in_step, packed, out, out_stride, p);
    } else {
      dispatch_ks<Q, shift_kind::both>(channels, pixels, ks, in, in_step, packed, out, out_stride, p);
    }
  }

 private:
  /// Which MBQM steps the stage needs (sve/requant_stage.hpp).
  using shift_kind = tessera::arch::sve_ops::shift_kind;

  template <class Q, shift_kind S>
  static void dispatch_ks(std::size_t channels, std::size_t pixels, std::size_t ks, const std::int8_t* const* in,
                          std::size_t in_step, const void* packed, std::int8_t* out, std::size_t out_stride,
                          const output_stage<Q>& p) noexcept {
    dispatch_taps(ks, [&](auto taps) { run_ks<decltype(taps)::value, Q, S>(channels, pixels, ks, in, in_step, packed, out, out_stride, p); });
  }

  /// Interleaves four byte vectors so that 32-bit lane j of q_i holds (a0, a1, a2, a3)[i*vl + j],
  /// for the first V (1, 2 or 4) of the q_i (ZIPs of halves no q_i needs are skipped).
  template <int V>
  [[gnu::always_inline]] static inline void interleave4(svint8_t a0, svint8_t a1, svint8_t a2, svint8_t a3,
                                                        svint8_t& q0, svint8_t& q1, svint8_t& q2,
                                                        svint8_t& q3) noexcept {
    const svint16_t l01 = svreinterpret_s16_s8(svzip1_s8(a0, a1)), l23 = svreinterpret_s16_s8(svzip1_s8(a2, a3));
    q0 = svreinterpret_s8_s16(svzip1_s16(l01, l23));
    if constexpr (V > 1) q1 = svreinterpret_s8_s16(svzip2_s16(l01, l23));
    if constexpr (V > 2) {
      const svint16_t h01 = svreinterpret_s16_s8(svzip2_s8(a0, a1)), h23 = svreinterpret_s16_s8(svzip2_s8(a2, a3));
      q2 = svreinterpret_s8_s16(svzip1_s16(h01, h23));
      q3 = svreinterpret_s8_s16(svzip2_s16(h01, h23));
    }
  }

  /// Four taps (pointers x0..x3 at the block's first channel) into the first V accumulators by SDOT.
  template <int V>
  [[gnu::always_inline]] static inline void group4(svint32_t& a0, svint32_t& a1, svint32_t& a2, svint32_t& a3,
                                                   const std::int8_t* x0, const std::int8_t* x1,
                                                   const std::int8_t* x2, const std::int8_t* x3, svbool_t pb,
                                                   svint8_t w0, svint8_t w1, svint8_t w2, svint8_t w3) noexcept {
    svint8_t q0, q1 = w1, q2 = w2, q3 = w3;
    interleave4<V>(svld1_s8(pb, x0), svld1_s8(pb, x1), svld1_s8(pb, x2), svld1_s8(pb, x3), q0, q1, q2, q3);
    a0 = svdot_s32(a0, q0, w0);
    if constexpr (V > 1) a1 = svdot_s32(a1, q1, w1);
    if constexpr (V > 2) {
      a2 = svdot_s32(a2, q2, w2);
      a3 = svdot_s32(a3, q3, w3);
    }
  }

  /// One tap by widening: a_i += sext(x[i*vl..]) * w_i (w_i already int32), first V vectors.
  template <int V>
  [[gnu::always_inline]] static inline void tap_widen(svint32_t& a0, svint32_t& a1, svint32_t& a2, svint32_t& a3,
                                                      const std::int8_t* x, svbool_t p0, svbool_t p1, svbool_t p2,
                                                      svbool_t p3, svint32_t w0, svint32_t w1, svint32_t w2,
                                                      svint32_t w3) noexcept {
    const svbool_t all = svptrue_b32();
    a0 = svmla_s32_x(all, a0, svld1sb_vnum_s32(p0, x, 0), w0);
    if constexpr (V > 1) a1 = svmla_s32_x(all, a1, svld1sb_vnum_s32(p1, x, 1), w1);
    if constexpr (V > 2) {
      a2 = svmla_s32_x(all, a2, svld1sb_vnum_s32(p2, x, 2), w2);
      a3 = svmla_s32_x(all, a3, svld1sb_vnum_s32(p3, x, 3), w3);
    }
  }

  /// Requantizes and stores accumulator vector `a` (channels c + [0, vl)) under pn; a per-channel
  /// stage loads (predicated) and prepares its multiplier and shift here.
  template <class Q, shift_kind S>
  [[gnu::always_inline]] static inline void store(std::int8_t* o, svint32_t a, svbool_t pn, const Q& q,
                                                  std::uint64_t c, svint32_t m, svuint32_t left, svuint32_t right,
                                                  svint32_t mask, svint32_t half, svint32_t zp, svint32_t lo,
                                                  svint32_t hi) noexcept {
    namespace ops = tessera::arch::sve_ops;
    if constexpr (!std::is_same_v<Q, requant::per_tensor>) {
      m = svld1_s32(pn, q.multiplier + c);
      ops::split_shift(svld1_s32(pn, q.shift + c), left, right, mask, half);
    }
    svst1b_s32(pn, o, ops::requant_clamp<S>(a, m, left, right, mask, half, zp, lo, hi));
  }

  /// All pixels of the channel block starting at c0, of which the first V (1, 2 or 4) int32 vectors
  /// hold channels (a partial last block runs with fewer accumulators).
  template <std::size_t KS, int V, class Q, shift_kind S>
  static void block(std::uint64_t c0, std::size_t channels, std::size_t pixels, std::size_t ks,
                    const std::int8_t* const* ip, std::size_t in_step, const std::uint8_t* blk, std::int8_t* o,
                    std::size_t out_stride, const Q& q, svint32_t m, svuint32_t left, svuint32_t right,
                    svint32_t mask, svint32_t half, svint32_t zp, svint32_t lo, svint32_t hi) noexcept {
    const svbool_t all = svptrue_b32(), all8 = svptrue_b8();
    const std::uint64_t vl = svcntw(), crn = svcntb();
    const svbool_t pb = svwhilelt_b8_u64(c0, channels);
    const svbool_t p0 = svwhilelt_b32_u64(c0, channels), p1 = svwhilelt_b32_u64(c0 + vl, channels);
    const svbool_t p2 = svwhilelt_b32_u64(c0 + 2 * vl, channels), p3 = svwhilelt_b32_u64(c0 + 3 * vl, channels);
    const auto* bias = reinterpret_cast<const std::int32_t*>(blk);
    const auto* w = reinterpret_cast<const std::int8_t*>(blk + crn * sizeof(std::int32_t));
    o += c0;
    // Accumulators of vectors >= V are never used (and never stored).
    const svint32_t zero = svdup_n_s32(0);
    svint32_t b1 = zero, b2 = zero, b3 = zero;
    if constexpr (KS == 9) {
      // Weights of taps 0-3 and 4-7 interleaved like the inputs; tap 8 widened to int32.
      const svint8_t z8 = svdup_n_s8(0);  // interleaved weights of vectors >= V: unused
      svint8_t u0, u1 = z8, u2 = z8, u3 = z8, v0, v1 = z8, v2 = z8, v3 = z8;
      interleave4<V>(svld1_vnum_s8(all8, w, 0), svld1_vnum_s8(all8, w, 1), svld1_vnum_s8(all8, w, 2),
                     svld1_vnum_s8(all8, w, 3), u0, u1, u2, u3);
      interleave4<V>(svld1_vnum_s8(all8, w, 4), svld1_vnum_s8(all8, w, 5), svld1_vnum_s8(all8, w, 6),
                     svld1_vnum_s8(all8, w, 7), v0, v1, v2, v3);
      const std::int8_t* w8 = w + 8 * crn;
      const svint32_t e0 = svld1sb_vnum_s32(all, w8, 0);
      svint32_t e1 = zero, e2 = zero, e3 = zero;
      if constexpr (V > 1) e1 = svld1sb_vnum_s32(all, w8, 1);
      if constexpr (V > 2) {
        e2 = svld1sb_vnum_s32(all, w8, 2);
        e3 = svld1sb_vnum_s32(all, w8, 3);
      }
      for (std::size_t px = pixels; px != 0; --px, ip += in_step, o += out_stride) {
        svint32_t a0 = svld1_vnum_s32(all, bias, 0), a1 = b1, a2 = b2, a3 = b3;
        if constexpr (V > 1) a1 = svld1_vnum_s32(all, bias, 1);
        if constexpr (V > 2) {
          a2 = svld1_vnum_s32(all, bias, 2);
          a3 = svld1_vnum_s32(all, bias, 3);
        }
        group4<V>(a0, a1, a2, a3, ip[0] + c0, ip[1] + c0, ip[2] + c0, ip[3] + c0, pb, u0, u1, u2, u3);
        group4<V>(a0, a1, a2, a3, ip[4] + c0, ip[5] + c0, ip[6] + c0, ip[7] + c0, pb, v0, v1, v2, v3);
        tap_widen<V>(a0, a1, a2, a3, ip[8] + c0, p0, p1, p2, p3, e0, e1, e2, e3);
        store<Q, S>(o, a0, p0, q, c0, m, left, right, mask, half, zp, lo, hi);
        if constexpr (V > 1) store<Q, S>(o + vl, a1, p1, q, c0 + vl, m, left, right, mask, half, zp, lo, hi);
        if constexpr (V > 2) {
          store<Q, S>(o + 2 * vl, a2, p2, q, c0 + 2 * vl, m, left, right, mask, half, zp, lo, hi);
          store<Q, S>(o + 3 * vl, a3, p3, q, c0 + 3 * vl, m, left, right, mask, half, zp, lo, hi);
        }
      }
    } else {
      for (std::size_t px = pixels; px != 0; --px, ip += in_step, o += out_stride) {
        svint32_t a0 = svld1_vnum_s32(all, bias, 0), a1 = b1, a2 = b2, a3 = b3;
        if constexpr (V > 1) a1 = svld1_vnum_s32(all, bias, 1);
        if constexpr (V > 2) {
          a2 = svld1_vnum_s32(all, bias, 2);
          a3 = svld1_vnum_s32(all, bias, 3);
        }
        const std::int8_t* wt = w;
        for (std::size_t t = 0; t < (KS != 0 ? KS : ks); ++t, wt += crn) {
          svint32_t f1 = zero, f2 = zero, f3 = zero;
          if constexpr (V > 1) f1 = svld1sb_vnum_s32(all, wt, 1);
          if constexpr (V > 2) {
            f2 = svld1sb_vnum_s32(all, wt, 2);
            f3 = svld1sb_vnum_s32(all, wt, 3);
          }
          tap_widen<V>(a0, a1, a2, a3, ip[t] + c0, p0, p1, p2, p3, svld1sb_vnum_s32(all, wt, 0), f1, f2, f3);
        }
        store<Q, S>(o, a0, p0, q, c0, m, left, right, mask, half, zp, lo, hi);
        if constexpr (V > 1) store<Q, S>(o + vl, a1, p1, q, c0 + vl, m, left, right, mask, half, zp, lo, hi);
        if constexpr (V > 2) {
          store<Q, S>(o + 2 * vl, a2, p2, q, c0 + 2 * vl, m, left, right, mask, half, zp, lo, hi);
          store<Q, S>(o + 3 * vl, a3, p3, q, c0 + 3 * vl, m, left, right, mask, half, zp, lo, hi);
        }
      }
    }
  }

  /// KS > 0: the tap count is a compile-time constant; KS = 0: it is `ks_rt`.
  template <std::size_t KS, class Q, shift_kind S>
  static void run_ks(std::size_t channels, std::size_t pixels, std::size_t ks_rt, const std::int8_t* const* in,
                     std::size_t in_step, const void* packed, std::int8_t* out, std::size_t out_stride,
                     const output_stage<Q>& p) noexcept {
    namespace ops = tessera::arch::sve_ops;
    const std::size_t ks = KS != 0 ? KS : ks_rt;
    const std::uint64_t vl = svcntw(), crn = svcntb();
    const std::size_t bytes = packed_dw_block_bytes(crn, ks, sizeof(std::int32_t), sizeof(std::int8_t));
    // Parameters in locals: int8 stores may alias anything, so members would be reloaded.
    const svint32_t zp = svdup_n_s32(p.zero_point), lo = svdup_n_s32(p.act_min), hi = svdup_n_s32(p.act_max);
    const Q q = p.q;
    svint32_t m = svdup_n_s32(0), mask = m, half = m;
    svuint32_t left = svdup_n_u32(0), right = left;
    if constexpr (std::is_same_v<Q, requant::per_tensor>) {
      m = svdup_n_s32(q.multiplier);
      ops::split_shift(q.shift, left, right, mask, half);
    }
    const auto* blk = static_cast<const std::uint8_t*>(packed);
    for (std::uint64_t c0 = 0; c0 < channels; c0 += crn, blk += bytes) {
      const std::uint64_t rem = channels - c0;
      if (rem > 2 * vl)
        block<KS, 4, Q, S>(c0, channels, pixels, ks, in, in_step, blk, out, out_stride, q, m, left, right, mask,
                           half, zp, lo, hi);
      else if (rem > vl)
        block<KS, 2, Q, S>(c0, channels, pixels, ks, in, in_step, blk, out, out_stride, q, m, left, right, mask,
                           half, zp, lo, hi);
      else
        block<KS, 1, Q, S>(c0, channels, pixels, ks, in, in_step, blk, out, out_stride, q, m, left, right, mask,
                           half, zp, lo, hi);
    }
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv_qs8, tessera::arch::sve> {
  using type = tessera::kernels::dwconv_qs8_4vl_sve;
};
