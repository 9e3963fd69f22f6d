/// @file dwconv_qs16_2v_simd.hpp
/// 16x8 depthwise convolution (int16 activations x int8 weights -> int16, channel multiplier 1)
/// with fused TFLite requantization on xsimd (the `simd` tag), over an indirection buffer.
/// Contract and packed format: dwconv/op.hpp. Bit for bit dwconv_qs16_scalar.
///
/// Tile: cr = 2v channels, v = int32 lanes of the xsimd arch (AVX2: 16 channels; Neon64: 8);
/// packed blocks `int64 bias[2v]; int8 w[ks][2v]` (8-byte aligned). Loop order: channel block
/// outer, pixels inner, so a block's weights and requantization constants are prepared once per
/// call. The block's 2v channels live in two int32 accumulators in the ISA's tile order
/// (xsimd_bridge.hpp's dw16_* helpers; parameters are permuted to it once per block).
/// Taps go in pairs (t, t+1) (an odd last tap pairs with a zero input and zero weights). Per pixel
/// and pair: 2 tap-pointer loads, 2 loads of 2v int16 inputs, then
///   AVX2: VPUNPCKLWD/HWD of the inputs, 2 VPMADDWD with the pair's weights (sign-extended and
///         interleaved once per block): x_t w_t + x_t+1 w_t+1 per channel, 32 MACs;
///   Neon: 4 SMLAL/SMLAL2 (int16 x int16 -> int32), 16 MACs.
/// Exactness: |x w| <= 2^15 * 2^7 = 2^22, so every product and pair sum is exact in int32.
/// Acc = int32_t: accumulators start at the int64 bias truncated to int32 and wrap (as the scalar
/// kernel's uint32 sum); MBQM32 in vectors (simd_ops::mbqm), exactly as dwconv_qs16_scalar.
/// Acc = int64_t: the pairs are summed in int32 in runs of at most 256 taps: |run| <= 256 * 2^22
/// = 2^30 < 2^31, exact for every ks the op allows (taps <= 2^24 go in as many runs as needed).
/// MBQM64 = (int32)((x * rm + 2^(t-1)) >> t), x = bias + sum, rm = the 16-bit multiplier, t = 15 -
/// shift in [8, 46]. x * rm = bias * rm + sum_runs run * rm exactly in int64 (|x| < 2^47, 0 <= rm
/// <= 2^15: |x * rm| < 2^62), so bias * rm + 2^(t-1) is formed once per block (scalar) and each
/// run's int32 sums are multiplied in 32 x 32 -> 64 (AVX2 VPMULDQ on even and odd lanes; Neon
/// SMLAL/SMLAL2), then shifted right arithmetically by t (AVX2: VPSRLVQ + sign fix-up; Neon SSHL)
/// and narrowed (low 32 bits, wrapping) to int32: the scalar kernel's value for every x it
/// computes without overflow (|bias| <= 2^46 as the op checks). Blocks whose every t <= 32 (shift
/// >= -17) skip the fix-up: bits t..t+31 of the product all lie inside its 64 bits. ks <= 256
/// (KS = 9, 25) runs no run loop.
/// Epilogue: + zero point (wrapping), int32 clamp, the low 16 bits stored in channel order (wraps
/// like the scalar static_cast when the clamp is wider than int16).
/// Tails: the last block's nb < 2v channels read each tap's inputs through a zeroed stack bounce
/// buffer (memcpy of exactly nb values) and write through one; per-channel parameters are read
/// only for channels < `channels`. Bias and weights are read as whole zero-padded blocks.
/// ks = 9 and ks = 25 are compile-time tap counts (pairs unrolled); other ks a run-time pair loop,
/// with the block's weight pairs prepared on the stack when ks <= 26 and per pixel above.
/// ISA: x86-64 AVX2+FMA (xsimd fma3<avx2>) or AArch64 Neon (xsimd neon64).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SIMD
#error "dwconv_qs16_2v_simd.hpp needs the simd tag (TESSERA_USE_XSIMD=1 and AVX2+FMA on x86-64 or Neon on AArch64)"
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <tessera/arch/simd/dot.hpp>
#include <tessera/arch/simd/xsimd_bridge.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct dwconv_qs16_2v_simd {
  using arch = tessera::arch::simd;
  static constexpr const char* name = "dwconv_qs16_2v_simd";

 private:
  using i16 = tessera::arch::simd_ops::i16;
  using i32 = tessera::arch::simd_ops::i32;
  using i64 = tessera::arch::simd_ops::i64;
  static constexpr std::size_t L = i32::size;   // int32 lanes per accumulator
  static constexpr std::size_t CR = i16::size;  // channels per block (= 2L)
  static constexpr std::size_t H = i64::size;   // int64 lanes per part (= L / 2)
  static constexpr std::size_t kMaxPairs = 13;  // tap pairs prepared on the stack per block (ks <= 26)
  static constexpr std::size_t kRun = 256;      // taps per exact int32 partial sum (Acc = int64_t)

 public:
  /// Channels per packed block.
  static std::size_t cr() noexcept { return CR; }

  /// out[p][c] = requant(bias[c] + sum_t in[p * in_step + t][c] * w[t][c]) for p < pixels, c < channels.
  /// @tparam Acc         int64_t (MBQM64) or int32_t (wrapping int32 sum, MBQM32)
  /// @param[in]  in      pixels * in_step tap pointers (in_step >= ks), each to `channels` int16 values
  /// @param[in]  packed  op.hpp s16 blocks packed with cr() (8-byte aligned)
  /// @param[out] out     output pixel p at out + p * out_stride (`channels` values written)
  /// @param[in]  p       output stage (MBQM32: shifts in [-31, 30]; MBQM64: multipliers >= 0, shifts
  ///                     in [-31, 7]); per-channel arrays indexed by channel
  template <class Acc, class Q>
  static void run(std::size_t channels, std::size_t pixels, std::size_t ks, const std::int16_t* const* in,
                  std::size_t in_step, const void* packed, std::int16_t* out, std::size_t out_stride,
                  const output_stage<Q>& p) noexcept {
    static_assert(std::is_same_v<Acc, std::int64_t> || std::is_same_v<Acc, std::int32_t>,
                  "dwconv_qs16: the accumulator is int64_t or int32_t");
    dispatch_taps(ks, [&](auto taps) { run_ks<decltype(taps)::value, Acc>(channels, pixels, ks, in, in_step, packed, out, out_stride, p); });
  }

 private:
  /// The 2v int16 inputs at x (Full) or the first nb of them, zero elsewhere.
  template <bool Full>
  [[gnu::always_inline]] static inline i16 load_x(const std::int16_t* x, std::size_t nb) noexcept {
    if constexpr (Full) {
      (void)nb;
      return i16::load_unaligned(x);
    } else {
      alignas(64) std::int16_t b[CR] = {};
      std::memcpy(b, x, nb * sizeof(std::int16_t));
      return i16::load_aligned(b);
    }
  }

  /// The weights of taps (t, t + 1) of the block at w as dw16_mac2 takes them (t + 1 == ks: zeros).
  [[gnu::always_inline]] static inline void weight_pair(const std::int8_t* w, std::size_t t, std::size_t ks, i16& p0,
                                                        i16& p1) noexcept {
    namespace ops = tessera::arch::simd_ops;
    const i16 wa = ops::load_widen_s8(w + CR * t);
    const i16 wb = t + 1 < ks ? ops::load_widen_s8(w + CR * (t + 1)) : i16(std::int16_t{0});
    ops::dw16_weight_pair(wa, wb, p0, p1);
  }

  /// Taps [t0, t1) of one pixel (t0 even; t1 - t0 even unless t1 == ks) added to (lo, hi).
  /// KS > 0: t0 = 0, t1 = KS, weights from the stacked pairs (unrolled).
  template <std::size_t KS, bool Full>
  [[gnu::always_inline]] static inline void taps(i32& lo, i32& hi, const std::int16_t* const* ip, std::size_t t0,
                                                 std::size_t t1, std::size_t ks, std::size_t c0, std::size_t nb,
                                                 const std::int8_t* w, const i16* wp0, const i16* wp1,
                                                 bool stacked) noexcept {
    namespace ops = tessera::arch::simd_ops;
    if constexpr (KS != 0) {
      (void)t0, (void)t1, (void)ks, (void)w, (void)stacked;
#pragma GCC unroll 13
      for (std::size_t t = 0; t < KS; t += 2) {
        const i16 xa = load_x<Full>(ip[t] + c0, nb);
        const i16 xb = t + 1 < KS ? load_x<Full>(ip[t + 1] + c0, nb) : i16(std::int16_t{0});
        ops::dw16_mac2(lo, hi, xa, xb, wp0[t / 2], wp1[t / 2]);
      }
    } else {
      for (std::size_t t = t0; t < t1; t += 2) {
        const i16 xa = load_x<Full>(ip[t] + c0, nb);
        const i16 xb = t + 1 < t1 ? load_x<Full>(ip[t + 1] + c0, nb) : i16(std::int16_t{0});
        i16 p0, p1;
        if (stacked) p0 = wp0[t / 2], p1 = wp1[t / 2];
        else weight_pair(w, t, ks, p0, p1);
        ops::dw16_mac2(lo, hi, xa, xb, p0, p1);
      }
    }
  }

  /// + zero point (wrapping), clamp, store 2v (Full) or nb outputs in channel order.
  template <bool Full>
  [[gnu::always_inline]] static inline void put(std::int16_t* o, i32 y_lo, i32 y_hi, i32 zp, i32 lo, i32 hi,
                                                std::size_t nb) noexcept {
    namespace ops = tessera::arch::simd_ops;
    y_lo = xsimd::min(xsimd::max(y_lo + zp, lo), hi);
    y_hi = xsimd::min(xsimd::max(y_hi + zp, lo), hi);
    if constexpr (Full) {
      (void)nb;
      ops::dw16_store_s16(o, y_lo, y_hi);
    } else {
      alignas(64) std::int16_t b[CR];
      ops::dw16_store_s16(b, y_lo, y_hi);
      std::memcpy(o, b, nb * sizeof(std::int16_t));
    }
  }

  /// KS > 0: the tap count is a compile-time constant; KS = 0: it is `ks_rt`.
  template <std::size_t KS, class Acc, class Q>
  static void run_ks(std::size_t channels, std::size_t pixels, std::size_t ks_rt, const std::int16_t* const* in,
                     std::size_t in_step, const void* packed, std::int16_t* out, std::size_t out_stride,
                     const output_stage<Q>& p) noexcept {
    const std::size_t ks = KS != 0 ? KS : ks_rt;
    const std::size_t bytes = packed_dw_block_bytes(CR, ks, sizeof(std::int64_t), sizeof(std::int8_t));
    const output_stage<Q> st = p;  // a local copy: the int16 stores may alias p's members
    const auto* blk = static_cast<const std::uint8_t*>(packed);
    const std::size_t cfull = channels / CR * CR;
    std::size_t c0 = 0;
    for (; c0 < cfull; c0 += CR, blk += bytes)
      block<KS, true, Acc>(ks, CR, c0, pixels, in, in_step, blk, out + c0, out_stride, st);
    if (c0 < channels) block<KS, false, Acc>(ks, channels - c0, c0, pixels, in, in_step, blk, out + c0, out_stride, st);
  }

  /// One block of channels c0..c0+nb-1 (nb = 2v when Full) over every pixel.
  template <std::size_t KS, bool Full, class Acc, class Q>
  static void block(std::size_t ks, std::size_t nb, std::size_t c0, std::size_t pixels, const std::int16_t* const* ip,
                    std::size_t in_step, const std::uint8_t* blk, std::int16_t* o, std::size_t out_stride,
                    const output_stage<Q>& p) noexcept {
    namespace ops = tessera::arch::simd_ops;
    constexpr bool per_tensor = std::is_same_v<Q, requant::per_tensor>;
    const auto* bias = reinterpret_cast<const std::int64_t*>(blk);
    const auto* w = reinterpret_cast<const std::int8_t*>(blk + CR * sizeof(std::int64_t));
    const i32 zp(p.zero_point), lo(p.act_min), hi(p.act_max);
    // Per-channel parameters in channel order (padded channels: multiplier 0, shift 0).
    alignas(64) std::int32_t mb[CR], sb[CR];
    for (std::size_t j = 0; j < CR; ++j) {
      if constexpr (per_tensor) {
        mb[j] = p.q.multiplier, sb[j] = p.q.shift;
      } else {
        mb[j] = j < nb ? p.q.multiplier[c0 + j] : 0;
        sb[j] = j < nb ? p.q.shift[c0 + j] : 0;
      }
    }
    // The block's weight pairs, widened once (ks <= 2 kMaxPairs).
    const std::size_t pairs = (ks + 1) / 2;
    const bool stacked = KS != 0 || pairs <= kMaxPairs;  // KS = 9, 25: always (13 pairs at most)
    i16 wp0[kMaxPairs], wp1[kMaxPairs];
    if (stacked) {
#pragma GCC unroll 13
      for (std::size_t k = 0; k < (KS != 0 ? (KS + 1) / 2 : pairs); ++k) weight_pair(w, 2 * k, ks, wp0[k], wp1[k]);
    }
    if constexpr (std::is_same_v<Acc, std::int32_t>) {
      alignas(64) std::int32_t b32[CR];
      for (std::size_t j = 0; j < CR; ++j) b32[j] = static_cast<std::int32_t>(bias[j]);  // low word (wraps)
      i32 b_lo, b_hi, m_lo, m_hi, s_lo, s_hi;
      ops::dw16_load_i32(b32, b_lo, b_hi);
      ops::dw16_load_i32(mb, m_lo, m_hi);
      ops::dw16_load_i32(sb, s_lo, s_hi);
      for (std::size_t px = pixels; px != 0; --px, ip += in_step, o += out_stride) {
        i32 a_lo = b_lo, a_hi = b_hi;
        taps<KS, Full>(a_lo, a_hi, ip, 0, ks, ks, c0, nb, w, wp0, wp1, stacked);
        put<Full>(o, ops::mbqm(a_lo, m_lo, s_lo), ops::mbqm(a_hi, m_hi, s_hi), zp, lo, hi, nb);
      }
    } else {
      // rm = MBQM64's 16-bit multiplier, t = 15 - shift; x0 = bias * rm + 2^(t-1) (exact in int64).
      alignas(64) std::int32_t rmb[CR];
      alignas(64) std::int64_t x0[CR], tb[CR];
      for (std::size_t j = 0; j < CR; ++j) {
        const std::int32_t m = mb[j];
        rmb[j] = m < 0x7FFF0000 ? (m + (1 << 15)) >> 16 : 0x7FFF;
        tb[j] = 15 - sb[j];
        x0[j] = bias[j] * rmb[j] + (std::int64_t{1} << (tb[j] - 1));
      }
      i32 rm_lo, rm_hi;
      ops::dw16_load_i32(rmb, rm_lo, rm_hi);
      // x0 and t in the parts' lane order: part q of accumulator h holds its int32 lanes dw16_s64_lane(q, k).
      alignas(64) std::int64_t xs[2][2][H], ts[2][2][H];
      for (std::size_t h = 0; h < 2; ++h)
        for (std::size_t q = 0; q < 2; ++q)
          for (std::size_t k = 0; k < H; ++k) {
            const std::size_t c = ops::dw16_channel(h, ops::dw16_s64_lane(q, k));
            xs[h][q][k] = x0[c], ts[h][q][k] = tb[c];
          }
      const i64 x00 = i64::load_aligned(xs[0][0]), x01 = i64::load_aligned(xs[0][1]);
      const i64 x10 = i64::load_aligned(xs[1][0]), x11 = i64::load_aligned(xs[1][1]);
      const i64 t00 = i64::load_aligned(ts[0][0]), t01 = i64::load_aligned(ts[0][1]);
      const i64 t10 = i64::load_aligned(ts[1][0]), t11 = i64::load_aligned(ts[1][1]);
      // Every t <= 32 (shift >= -17, most real layers): the low 32 bits of x >> t need no sign fix-up.
      bool small_t = true;
      for (std::size_t j = 0; j < CR; ++j) small_t = small_t && tb[j] <= 32;
      auto pixel_loop = [&](auto small) {
        constexpr bool Small = decltype(small)::value;
        for (std::size_t px = pixels; px != 0; --px, ip += in_step, o += out_stride) {
          i64 y00 = x00, y01 = x01, y10 = x10, y11 = x11;
          if constexpr (KS != 0 && KS <= kRun) {  // one run: no run loop
            i32 a_lo(0), a_hi(0);
            taps<KS, Full>(a_lo, a_hi, ip, 0, KS, ks, c0, nb, w, wp0, wp1, stacked);
            ops::dw16_mla_wide(y00, y01, a_lo, rm_lo);
            ops::dw16_mla_wide(y10, y11, a_hi, rm_hi);
          } else {
            for (std::size_t t0 = 0; t0 < ks; t0 += kRun) {
              const std::size_t t1 = ks - t0 < kRun ? ks : t0 + kRun;
              i32 a_lo(0), a_hi(0);
              taps<0, Full>(a_lo, a_hi, ip, t0, t1, ks, c0, nb, w, wp0, wp1, stacked);
              ops::dw16_mla_wide(y00, y01, a_lo, rm_lo);
              ops::dw16_mla_wide(y10, y11, a_hi, rm_hi);
            }
          }
          i32 r_lo, r_hi;
          if constexpr (Small) {
            r_lo = ops::dw16_join(ops::dw16_sra64_lo32(y00, t00), ops::dw16_sra64_lo32(y01, t01));
            r_hi = ops::dw16_join(ops::dw16_sra64_lo32(y10, t10), ops::dw16_sra64_lo32(y11, t11));
          } else {
            r_lo = ops::dw16_join(ops::sra64(y00, t00), ops::sra64(y01, t01));
            r_hi = ops::dw16_join(ops::sra64(y10, t10), ops::sra64(y11, t11));
          }
          put<Full>(o, r_lo, r_hi, zp, lo, hi, nb);
        }
      };
      if (small_t) pixel_loop(std::true_type{});
      else pixel_loop(std::false_type{});
    }
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv_qs16, tessera::arch::simd> {
  using type = tessera::kernels::dwconv_qs16_2v_simd;
};
