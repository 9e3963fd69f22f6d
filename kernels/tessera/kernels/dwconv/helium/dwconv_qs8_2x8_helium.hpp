/// @file dwconv_qs8_2x8_helium.hpp
/// int8 depthwise convolution (channel multiplier 1) with fused TFLite requantization on
/// Cortex-M55/M85 Helium (MVE integer). Contract and packed format: dwconv/op.hpp.
///
/// Tile: 2 pixels x 8 channels; cr() = 8, packed blocks `int32 bias'[8]; int8 w[ks][8]`, so one
/// tap of a block is 8 bytes, loaded sign-extended to int16x8 (VLDRB.S16).
/// Products: VMULLB.S16 / VMULLT.S16 widen the even / odd lanes' int16 products to int32x4 (MVE
/// has no vector x vector integer VMLA), so each pixel keeps two accumulators, even channels
/// (0, 2, 4, 6) and odd channels (1, 3, 5, 7). Bias' is loaded de-interleaved (VLD20/VLD21), the
/// results are re-interleaved by the saturating VQMOVNB/VQMOVNT into one int16x8 and stored with
/// VSTRB.16 (low bytes).
/// Loop order: channel block outer, pixel pairs inner (an odd last pixel runs alone).
/// Per tap and pixel pair: 1 weight VLDRB.S16, 2 pointer loads (+ channel offset), 2 input
/// VLDRB.S16, 4 VMULL, 4 VADD for 16 MACs. ks = 9 and ks = 25 are fully unrolled compile-time
/// tap counts of the same loop; int32 sums wrap and are exact, so results equal dwconv_qs8_scalar
/// bit for bit.
/// Epilogue: MBQM through tessera::arch::helium_ops (VQRDMULH + rounding shift; when every shift
/// of the block is negative, as in TFLite's depthwise stages, no left shift and the unmasked
/// rounding fixup, rdpot_neg_nz, as dwconv3x3_qs8_2x8_helium), + zero point (wrapping), then
/// helium_ops::narrow_clamp as the row kernel: VQMOVNB/VQMOVNT to int16 (saturating, so one clamp
/// of 8 int16 lanes equals the int32 clamp for [act_min, act_max] within int8), VSTRB.16. Whole
/// calls on the Cortex-M55 (tools/arm-perf/drivers/dwconv_qs8_2x8_helium.cpp, per-tensor, GCC 12):
/// 1.307 instructions/MAC; 1.376 clamping the int32 lanes and narrowing into a zero vector, 1.474
/// before that with the general MBQM and the old tap order.
/// Tails: whole blocks run unpredicated; the last block of `channels % 8` channels runs a
/// VCTP16-predicated instance (zeroing input loads, predicated store, per-channel parameters by
/// predicated gathers): nothing at or past `channels` is read or written. Bias' and weights are
/// read as whole zero-padded blocks.
/// ISA: Armv8.1-M MVE (integer).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_HELIUM
#error "dwconv_qs8_2x8_helium.hpp needs Helium (MVE): compile for e.g. -mcpu=cortex-m55"
#endif

#include <arm_mve.h>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <tessera/arch/helium/fixedpoint.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct dwconv_qs8_2x8_helium {
  using arch = tessera::arch::helium;
  static constexpr const char* name = "dwconv_qs8_2x8_helium";
  /// Channel tile of the packed weights.
  static std::size_t cr() noexcept { return CR; }

  /// out[p][c] = requant(bias'[c] + sum_t in[p * in_step + t][c] * w[t][c]) for p < pixels, c < channels.
  /// @param[in]  in       pixels * in_step tap pointers (in_step >= ks), each to `channels` int8 values
  /// @param[in]  packed   op.hpp s8 blocks packed with cr() = 8 (4-byte aligned)
  /// @param[out] out      output pixel p at out + p * out_stride (`channels` values written)
  /// @param[in]  p        output stage; shifts in [-31, 30]; act_min, act_max within int8;
  ///                      per-channel arrays indexed by channel
  template <class Q>
  static void run(std::size_t channels, std::size_t pixels, std::size_t ks, const std::int8_t* const* in,
                  std::size_t in_step, const void* packed, std::int8_t* out, std::size_t out_stride,
                  const output_stage<Q>& p) noexcept {
    dispatch_taps(ks, [&](auto taps) { run_ks<decltype(taps)::value>(channels, pixels, ks, in, in_step, packed, out, out_stride, p); });
  }

  /// True when the 8 channels from c0 (a whole block) all have shift <= -1: such blocks take the
  /// negative-shift epilogue (helium_ops::rdpot_neg_nz) here and in dwconv3x3_qs8_2x8_helium.
  template <class Q> static bool right_shifts(const Q& q, std::size_t c0) noexcept {
    if constexpr (std::is_same_v<Q, requant::per_tensor>) {
      (void)c0;
      return q.shift < 0;
    } else {
      const int32x4_t s = vmaxq_s32(vldrwq_s32(q.shift + c0), vldrwq_s32(q.shift + c0 + 4));
      return vmaxvq_s32(INT32_MIN, s) < 0;
    }
  }

 private:
  static constexpr std::size_t CR = 8;

  /// Input tap x (8 channels, or the first `pc` lanes in a tail block) as int16x8.
  template <bool Tail>
  [[gnu::always_inline]] static inline int16x8_t load(const std::int8_t* x, mve_pred16_t pc) noexcept {
    if constexpr (Tail) return vldrbq_z_s16(x, pc);
    else return vldrbq_s16(x);
  }

  /// Requantizes even / odd channel accumulators of one pixel and stores its 8 (or pc) channels;
  /// Neg: every shift is in [-31, -1].
  template <bool Tail, bool Neg, class Q>
  [[gnu::always_inline]] static inline void store(std::int8_t* o, int32x4_t ae, int32x4_t ao, mve_pred16_t pc,
                                                  const Q& q, int32x4_t me, int32x4_t mo, int32x4_t se,
                                                  int32x4_t so, std::int32_t zp, int16x8_t lo,
                                                  int16x8_t hi) noexcept {
    namespace ops = tessera::arch::helium_ops;
    int32x4_t ye, yo;
    if constexpr (Neg && std::is_same_v<Q, requant::per_tensor>) {
      ye = ops::rdpot_neg_nz_n(ops::srdhm_n(ae, q.multiplier), q.shift);
      yo = ops::rdpot_neg_nz_n(ops::srdhm_n(ao, q.multiplier), q.shift);
    } else if constexpr (Neg) {
      ye = ops::rdpot_neg_nz(ops::srdhm(ae, me), se);
      yo = ops::rdpot_neg_nz(ops::srdhm(ao, mo), so);
    } else if constexpr (std::is_same_v<Q, requant::per_tensor>) {
      ye = ops::mbqm_n(ae, q.multiplier, q.shift);
      yo = ops::mbqm_n(ao, q.multiplier, q.shift);
    } else {
      ye = ops::mbqm(ae, me, se);
      yo = ops::mbqm(ao, mo, so);
    }
    ye = vaddq_n_s32(ye, zp);
    yo = vaddq_n_s32(yo, zp);
    // ae: dead here, its register takes the narrowed lanes (ye as in dwconv3x3_qs8_2x8_helium
    // costs GCC 12 a VMOV per pixel; a reloaded zero vector cost a load and a VMOV)
    const int16x8_t y = ops::narrow_clamp(ae, ye, yo, lo, hi);  // channel order again
    if constexpr (Tail) vstrbq_p_s16(o, y, pc);
    else vstrbq_s16(o, y);
  }

  /// Compiler scheduling fence (emits nothing): loads are not moved across it and the accumulators
  /// are materialised at it. Without it GCC 12 hoists the unrolled taps' weight loads out of the
  /// pixel loop, or reassociates the integer sums (all products first), and spills: the 8 Q
  /// registers hold the 4 accumulators and the operands of one tap only.
  [[gnu::always_inline]] static inline void schedule_fence(int32x4_t& e0, int32x4_t& o0, int32x4_t& e1,
                                                           int32x4_t& o1) noexcept {
    __asm__ volatile("" : "+w"(e0), "+w"(o0), "+w"(e1), "+w"(o1) : : "memory");
  }

  /// One tap of P (1 or 2) pixels: products of the even / odd lanes added to their accumulators.
  template <int P, bool Tail>
  [[gnu::always_inline]] static inline void tap(int32x4_t& e0, int32x4_t& o0, int32x4_t& e1, int32x4_t& o1,
                                                const std::int8_t* x0, const std::int8_t* x1, const std::int8_t* wt,
                                                mve_pred16_t pc) noexcept {
    // Input before weight: GCC 12 allocates the tap addresses better (25 taps, per-channel, general
    // MBQM: 479 instructions per pixel pair, not 500; weight first, next to the negative-shift
    // form, it put x0's address in a high register and a MOV per tap: VLDRB.S16 takes r0-r7 only).
    const int16x8_t v0 = load<Tail>(x0, pc);
    const int16x8_t wv = vldrbq_s16(wt);
    e0 = vaddq_s32(e0, vmullbq_int_s16(v0, wv));
    o0 = vaddq_s32(o0, vmulltq_int_s16(v0, wv));
    if constexpr (P > 1) {
      const int16x8_t v1 = load<Tail>(x1, pc);
      e1 = vaddq_s32(e1, vmullbq_int_s16(v1, wv));
      o1 = vaddq_s32(o1, vmulltq_int_s16(v1, wv));
    }
    schedule_fence(e0, o0, e1, o1);
  }

  /// P pixels (ip, ip + in_step) of the block at c0.
  template <std::size_t KS, int P, bool Tail, bool Neg, class Q>
  [[gnu::always_inline]] static inline void pixels_p(std::size_t ks, const std::int8_t* const* ip, std::size_t in_step,
                                                     std::size_t c0, const std::int8_t* w, int32x4x2_t bias,
                                                     std::int8_t* o, std::size_t out_stride, mve_pred16_t pc,
                                                     const Q& q, int32x4_t me, int32x4_t mo, int32x4_t se,
                                                     int32x4_t so, std::int32_t zp, int16x8_t lo,
                                                     int16x8_t hi) noexcept {
    const std::int8_t* const* ip1 = P > 1 ? ip + in_step : ip;
    // Launders the weight pointer: taps address it with immediate offsets instead of 9 hoisted
    // (and spilled) per-tap pointers; likewise pixel 1's tap pointers (immediate offsets from ip1,
    // not a register offset per tap from ip).
    __asm__("" : "+r"(w));
    __asm__("" : "+r"(ip1));
    int32x4_t e0 = bias.val[0], o0 = bias.val[1], e1 = bias.val[0], o1 = bias.val[1];
    if constexpr (KS != 0) {
#pragma GCC unroll 25
      for (std::size_t t = 0; t < KS; ++t) tap<P, Tail>(e0, o0, e1, o1, ip[t] + c0, ip1[t] + c0, w + t * CR, pc);
    } else {
      for (std::size_t t = 0; t < ks; ++t) tap<P, Tail>(e0, o0, e1, o1, ip[t] + c0, ip1[t] + c0, w + t * CR, pc);
    }
    store<Tail, Neg>(o, e0, o0, pc, q, me, mo, se, so, zp, lo, hi);
    if constexpr (P > 1) store<Tail, Neg>(o + out_stride, e1, o1, pc, q, me, mo, se, so, zp, lo, hi);
  }

  /// Every pixel of the channel block at c0 (Tail: fewer than 8 channels left, `pc` their lanes;
  /// Neg: every shift of the block is negative).
  template <std::size_t KS, bool Tail, bool Neg, class Q>
  [[gnu::always_inline]] static inline void block(std::size_t c0, std::size_t rem, std::size_t pixels, std::size_t ks, const std::int8_t* const* ip,
                    std::size_t in_step, const std::uint8_t* blk, std::int8_t* o, std::size_t out_stride, const Q& q,
                    std::int32_t zp, int16x8_t lo, int16x8_t hi) noexcept {
    const mve_pred16_t pc = vctp16q(static_cast<std::uint32_t>(rem));  // saturates at 8 lanes
    const int32x4x2_t bias = vld2q_s32(reinterpret_cast<const std::int32_t*>(blk));  // even, odd channels
    const auto* w = reinterpret_cast<const std::int8_t*>(blk + CR * sizeof(std::int32_t));
    int32x4_t me = vdupq_n_s32(0), mo = me, se = me, so = me;  // per-channel only: even / odd channels
    if constexpr (!std::is_same_v<Q, requant::per_tensor>) {
      const uint32x4_t even = vidupq_n_u32(0, 2);  // 0, 2, 4, 6
      const auto r = static_cast<std::uint32_t>(rem);
      const mve_pred16_t pe = vctp32q((r + 1) / 2), po = vctp32q(r / 2);  // lanes of channels < rem
      me = vldrwq_gather_shifted_offset_z_s32(q.multiplier + c0, even, pe);
      mo = vldrwq_gather_shifted_offset_z_s32(q.multiplier + c0 + 1, even, po);
      se = vldrwq_gather_shifted_offset_z_s32(q.shift + c0, even, pe);
      so = vldrwq_gather_shifted_offset_z_s32(q.shift + c0 + 1, even, po);
    }
    o += c0;
    std::size_t px = pixels;
    for (; px >= 2; px -= 2, ip += 2 * in_step, o += 2 * out_stride)
      pixels_p<KS, 2, Tail, Neg>(ks, ip, in_step, c0, w, bias, o, out_stride, pc, q, me, mo, se, so, zp, lo, hi);
    if (px != 0) pixels_p<KS, 1, Tail, Neg>(ks, ip, in_step, c0, w, bias, o, out_stride, pc, q, me, mo, se, so, zp, lo, hi);
  }

  /// KS > 0: the tap count is a compile-time constant; KS = 0: it is `ks_rt`. Whole blocks run in
  /// the negative-shift form where all their shifts are negative, the tail block in the general form.
  template <std::size_t KS, class Q>
  static void run_ks(std::size_t channels, std::size_t pixels, std::size_t ks_rt, const std::int8_t* const* in,
                     std::size_t in_step, const void* packed, std::int8_t* out, std::size_t out_stride,
                     const output_stage<Q>& p) noexcept {
    const std::size_t ks = KS != 0 ? KS : ks_rt;
    const std::size_t bytes = packed_dw_block_bytes(CR, ks, sizeof(std::int32_t), sizeof(std::int8_t));
    // Parameters in locals: int8 stores may alias anything, so members would be reloaded.
    const std::int32_t zp = p.zero_point;
    const int16x8_t lo = vdupq_n_s16(static_cast<std::int16_t>(p.act_min));
    const int16x8_t hi = vdupq_n_s16(static_cast<std::int16_t>(p.act_max));
    const Q q = p.q;
    const auto* blk = static_cast<const std::uint8_t*>(packed);
    std::size_t c0 = 0;
    for (; channels - c0 >= CR; c0 += CR, blk += bytes) {
      if (right_shifts(q, c0)) block<KS, false, true>(c0, CR, pixels, ks, in, in_step, blk, out, out_stride, q, zp, lo, hi);
      else block<KS, false, false>(c0, CR, pixels, ks, in, in_step, blk, out, out_stride, q, zp, lo, hi);
    }
    if (c0 != channels) block<KS, true, false>(c0, channels - c0, pixels, ks, in, in_step, blk, out, out_stride, q, zp, lo, hi);
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv_qs8, tessera::arch::helium> {
  using type = tessera::kernels::dwconv_qs8_2x8_helium;
};
