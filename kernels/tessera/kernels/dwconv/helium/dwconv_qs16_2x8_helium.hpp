/// @file dwconv_qs16_2x8_helium.hpp
/// 16x8 depthwise convolution (int16 activations x int8 weights -> int16, channel multiplier 1)
/// with fused TFLite requantization on Cortex-M55/M85 Helium (MVE integer). Contract and packed
/// format: dwconv/op.hpp.
///
/// Tile: 2 pixels x 8 channels; cr() = 8, packed blocks `int64 bias[8]; int8 w[ks][8]` (8-byte
/// aligned). Per tap: weights VLDRB.S16 (int8 -> int16x8), inputs VLDRH.16, VMULLB.S16 /
/// VMULLT.S16 (even / odd lanes' products, exact in int32: |in * w| <= 2^22) added to even and odd
/// channel accumulators (MVE has no vector x vector integer VMLA), as dwconv_qs8_2x8_helium.
/// Loop order: channel block outer, pixel pairs inner (an odd last pixel runs alone).
/// Acc = int32_t: accumulators start at the int64 bias truncated to int32 (VLDRW gathers of the
/// low words of the even / odd channels), wrap in int32; MBQM32 in vectors (helium_ops::mbqm),
/// + zero point (wrapping), then helium_ops::narrow_clamp: VQMOVNB/VQMOVNT back to channel order
/// (saturating to int16, so one clamp of 8 int16 lanes equals the int32 clamp for [act_min,
/// act_max] within int16), VSTRH: bit for bit dwconv_qs16_scalar. Whole calls on the Cortex-M55
/// (tools/arm-perf/drivers/dwconv_qs16_2x8_helium.cpp, 28x28x32, per-channel), instructions/MAC:
/// GCC 12 1.495, clang-16 1.429; 1.487 / 1.457 clamping the int32 lanes and narrowing into a zero
/// vector (per-tensor: 1.401 / 1.441 against 1.436 / 1.455).
/// Acc = int64_t: Helium has no 64-bit lanes, so the int32 vectors hold only partial sums of runs
/// of at most 256 taps (|sum| <= 2^30, exact); each run is stored to a small int32 array and added
/// per lane, in scalar code, to int64 accumulators that start at the bias; each output is then
/// tessera::requantize_one (scalar MBQM64, + zero point, clamp) and a scalar int16 store.
/// Tails: whole blocks run unpredicated; the last block of `channels % 8` channels runs a
/// VCTP16-predicated instance (zeroing input loads, predicated store, predicated gathers of the
/// per-channel parameters; the scalar int64 epilogue stops at `channels`): nothing at or past
/// `channels` is read or written. Bias and weights are read as whole zero-padded blocks.
/// ks = 9 and ks = 25 are fully unrolled compile-time tap counts of the same loop.
/// ISA: Armv8.1-M MVE (integer).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_HELIUM
#error "dwconv_qs16_2x8_helium.hpp needs Helium (MVE): compile for e.g. -mcpu=cortex-m55"
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

struct dwconv_qs16_2x8_helium {
  using arch = tessera::arch::helium;
  static constexpr const char* name = "dwconv_qs16_2x8_helium";
  /// Channel tile of the packed weights.
  static std::size_t cr() noexcept { return CR; }

  /// out[p][c] = requant(bias[c] + sum_t in[p * in_step + t][c] * w[t][c]) for p < pixels, c < channels.
  /// @tparam Acc         int64_t (MBQM64, scalar epilogue) or int32_t (wrapping int32 sum, MBQM32)
  /// @param[in]  in      pixels * in_step tap pointers (in_step >= ks), each to `channels` int16 values
  /// @param[in]  packed  op.hpp s16 blocks packed with cr() = 8 (8-byte aligned)
  /// @param[out] out     output pixel p at out + p * out_stride (`channels` values written)
  /// @param[in]  p       output stage (MBQM32: shifts in [-31, 30]; MBQM64: as requantize_one);
  ///                     act_min, act_max within int16; per-channel arrays indexed by channel
  template <class Acc, class Q>
  static void run(std::size_t channels, std::size_t pixels, std::size_t ks, const std::int16_t* const* in,
                  std::size_t in_step, const void* packed, std::int16_t* out, std::size_t out_stride,
                  const output_stage<Q>& p) noexcept {
    static_assert(std::is_same_v<Acc, std::int64_t> || std::is_same_v<Acc, std::int32_t>,
                  "dwconv_qs16: the accumulator is int64_t or int32_t");
    dispatch_taps(ks, [&](auto taps) { run_ks<decltype(taps)::value, Acc>(channels, pixels, ks, in, in_step, packed, out, out_stride, p); });
  }

 private:
  static constexpr std::size_t CR = 8;
  static constexpr std::size_t RUN = 256;  // taps per exact int32 partial sum (Acc = int64_t)

  /// Input tap x (8 channels, or the first lanes of `pc` in a tail block).
  template <bool Tail>
  [[gnu::always_inline]] static inline int16x8_t load(const std::int16_t* x, mve_pred16_t pc) noexcept {
    if constexpr (Tail) return vldrhq_z_s16(x, pc);
    else return vldrhq_s16(x);
  }

  /// Scheduling fence (emits nothing): keeps GCC from hoisting the unrolled taps' weight loads out
  /// of the pixel loop or reassociating the sums, which spills (see dwconv_qs8_2x8_helium).
  [[gnu::always_inline]] static inline void schedule_fence(int32x4_t& e0, int32x4_t& o0, int32x4_t& e1,
                                                           int32x4_t& o1) noexcept {
    __asm__ volatile("" : "+w"(e0), "+w"(o0), "+w"(e1), "+w"(o1) : : "memory");
  }

  /// Taps [t0, t1) of P (1 or 2) pixels added to the even / odd channel accumulators.
  template <std::size_t KS, int P, bool Tail>
  [[gnu::always_inline]] static inline void taps(int32x4_t& e0, int32x4_t& o0, int32x4_t& e1, int32x4_t& o1,
                                                 const std::int16_t* const* ip, const std::int16_t* const* ip1,
                                                 std::size_t t0, std::size_t t1, std::size_t c0,
                                                 const std::int8_t* w, mve_pred16_t pc) noexcept {
    // Launders the weight pointer: taps address it with immediate offsets.
    __asm__("" : "+r"(w));
    auto tap = [&](std::size_t t) __attribute__((always_inline)) {
      const int16x8_t wv = vldrbq_s16(w + t * CR);
      const int16x8_t v0 = load<Tail>(ip[t] + c0, pc);
      e0 = vaddq_s32(e0, vmullbq_int_s16(v0, wv));
      o0 = vaddq_s32(o0, vmulltq_int_s16(v0, wv));
      if constexpr (P > 1) {
        const int16x8_t v1 = load<Tail>(ip1[t] + c0, pc);
        e1 = vaddq_s32(e1, vmullbq_int_s16(v1, wv));
        o1 = vaddq_s32(o1, vmulltq_int_s16(v1, wv));
      }
      schedule_fence(e0, o0, e1, o1);
    };
    if constexpr (KS != 0) {
      (void)t0, (void)t1;
#pragma GCC unroll 25
      for (std::size_t t = 0; t < KS; ++t) tap(t);
    } else {
      for (std::size_t t = t0; t < t1; ++t) tap(t);
    }
  }

  /// MBQM32 of one pixel's even / odd accumulators, + zero point, clamp, store 8 (or pc) channels.
  template <bool Tail, class Q>
  [[gnu::always_inline]] static inline void store32(std::int16_t* o, int32x4_t ae, int32x4_t ao, mve_pred16_t pc,
                                                    const Q& q, int32x4_t me, int32x4_t mo, int32x4_t se,
                                                    int32x4_t so, std::int32_t zp, int16x8_t lo,
                                                    int16x8_t hi) noexcept {
    namespace ops = tessera::arch::helium_ops;
    int32x4_t ye, yo;
    if constexpr (std::is_same_v<Q, requant::per_tensor>) {
      ye = ops::mbqm_n(ae, q.multiplier, q.shift);
      yo = ops::mbqm_n(ao, q.multiplier, q.shift);
    } else {
      ye = ops::mbqm(ae, me, se);
      yo = ops::mbqm(ao, mo, so);
    }
    ye = vaddq_n_s32(ye, zp);
    yo = vaddq_n_s32(yo, zp);
    // ae: dead here, its register takes the narrowed lanes (no VMOV), as in dwconv_qs8_2x8_helium
    const int16x8_t y = ops::narrow_clamp(ae, ye, yo, lo, hi);  // channel order again
    if constexpr (Tail) vstrhq_p_s16(o, y, pc);
    else vstrhq_s16(o, y);
  }

  /// Adds one run's even / odd int32 sums to the int64 accumulators, per lane (scalar).
  [[gnu::always_inline]] static inline void widen(std::int64_t* acc, int32x4_t e, int32x4_t o) noexcept {
    std::int32_t se[4], so[4];
    vst1q_s32(se, e), vst1q_s32(so, o);
    for (std::size_t i = 0; i < 4; ++i) acc[2 * i] += se[i], acc[2 * i + 1] += so[i];
  }

  /// P pixels (ip, ip + in_step) of the block at c0 (n = live channels).
  template <std::size_t KS, int P, bool Tail, class Acc, class Q>
  [[gnu::always_inline]] static inline void pixels_p(std::size_t ks, const std::int16_t* const* ip,
                                                     std::size_t in_step, std::size_t c0, std::size_t n,
                                                     const std::int64_t* bias, const std::int8_t* w, int32x4_t be,
                                                     int32x4_t bo, std::int16_t* o, std::size_t out_stride,
                                                     mve_pred16_t pc, const output_stage<Q>& p, int32x4_t me,
                                                     int32x4_t mo, int32x4_t se, int32x4_t so, int16x8_t lo,
                                                     int16x8_t hi) noexcept {
    const std::int16_t* const* ip1 = P > 1 ? ip + in_step : ip;
    if constexpr (std::is_same_v<Acc, std::int32_t>) {
      int32x4_t e0 = be, o0 = bo, e1 = be, o1 = bo;
      taps<KS, P, Tail>(e0, o0, e1, o1, ip, ip1, 0, ks, c0, w, pc);
      store32<Tail>(o, e0, o0, pc, p.q, me, mo, se, so, p.zero_point, lo, hi);
      if constexpr (P > 1) store32<Tail>(o + out_stride, e1, o1, pc, p.q, me, mo, se, so, p.zero_point, lo, hi);
    } else {
      std::int64_t x0[CR], x1[CR];
      for (std::size_t j = 0; j < CR; ++j) x0[j] = x1[j] = bias[j];
      for (std::size_t t0 = 0; t0 < ks; t0 += RUN) {
        const std::size_t t1 = ks - t0 < RUN ? ks : t0 + RUN;
        int32x4_t e0 = vdupq_n_s32(0), o0 = e0, e1 = e0, o1 = e0;
        taps<(KS != 0 && KS <= RUN ? KS : 0), P, Tail>(e0, o0, e1, o1, ip, ip1, t0, t1, c0, w, pc);
        widen(x0, e0, o0);
        if constexpr (P > 1) widen(x1, e1, o1);
      }
      for (std::size_t j = 0; j < n; ++j) o[j] = requantize_one<std::int16_t>(x0[j], p, c0 + j);
      if constexpr (P > 1)
        for (std::size_t j = 0; j < n; ++j) o[out_stride + j] = requantize_one<std::int16_t>(x1[j], p, c0 + j);
    }
  }

  /// Every pixel of the channel block at c0 (Tail: rem < 8 channels left, `pc` their lanes).
  template <std::size_t KS, bool Tail, class Acc, class Q>
  static void block(std::size_t c0, std::size_t rem, std::size_t pixels, std::size_t ks, const std::int16_t* const* ip,
                    std::size_t in_step, const std::uint8_t* blk, std::int16_t* o, std::size_t out_stride,
                    const output_stage<Q>& p, int16x8_t lo, int16x8_t hi) noexcept {
    const mve_pred16_t pc = vctp16q(static_cast<std::uint32_t>(rem));  // saturates at 8 lanes
    const auto* bias = reinterpret_cast<const std::int64_t*>(blk);
    const auto* w = reinterpret_cast<const std::int8_t*>(blk + CR * sizeof(std::int64_t));
    int32x4_t be = vdupq_n_s32(0), bo = be, me = be, mo = be, se = be, so = be;
    if constexpr (std::is_same_v<Acc, std::int32_t>) {
      // Low words of the int64 biases of the even (words 0, 4, 8, 12) and odd (2, 6, ...) channels.
      const uint32x4_t four = vidupq_n_u32(0, 4);
      const auto* b32 = reinterpret_cast<const std::int32_t*>(blk);
      be = vldrwq_gather_shifted_offset_s32(b32, four);
      bo = vldrwq_gather_shifted_offset_s32(b32 + 2, four);
      if constexpr (!std::is_same_v<Q, requant::per_tensor>) {
        const uint32x4_t even = vidupq_n_u32(0, 2);  // 0, 2, 4, 6
        const auto r = static_cast<std::uint32_t>(rem);
        const mve_pred16_t pe = vctp32q((r + 1) / 2), po = vctp32q(r / 2);  // lanes of channels < rem
        me = vldrwq_gather_shifted_offset_z_s32(p.q.multiplier + c0, even, pe);
        mo = vldrwq_gather_shifted_offset_z_s32(p.q.multiplier + c0 + 1, even, po);
        se = vldrwq_gather_shifted_offset_z_s32(p.q.shift + c0, even, pe);
        so = vldrwq_gather_shifted_offset_z_s32(p.q.shift + c0 + 1, even, po);
      }
    }
    o += c0;
    std::size_t px = pixels;
    for (; px >= 2; px -= 2, ip += 2 * in_step, o += 2 * out_stride)
      pixels_p<KS, 2, Tail, Acc>(ks, ip, in_step, c0, rem, bias, w, be, bo, o, out_stride, pc, p, me, mo, se, so, lo, hi);
    if (px != 0)
      pixels_p<KS, 1, Tail, Acc>(ks, ip, in_step, c0, rem, bias, w, be, bo, o, out_stride, pc, p, me, mo, se, so, lo, hi);
  }

  /// KS > 0: the tap count is a compile-time constant; KS = 0: it is `ks_rt`.
  template <std::size_t KS, class Acc, class Q>
  static void run_ks(std::size_t channels, std::size_t pixels, std::size_t ks_rt, const std::int16_t* const* in,
                     std::size_t in_step, const void* packed, std::int16_t* out, std::size_t out_stride,
                     const output_stage<Q>& p) noexcept {
    const std::size_t ks = KS != 0 ? KS : ks_rt;
    const std::size_t bytes = packed_dw_block_bytes(CR, ks, sizeof(std::int64_t), sizeof(std::int8_t));
    // act_min, act_max lie within int16 (validate<std::int16_t>): the int16 clamp after the
    // saturating narrow equals the int32 clamp.
    const int16x8_t lo = vdupq_n_s16(static_cast<std::int16_t>(p.act_min));
    const int16x8_t hi = vdupq_n_s16(static_cast<std::int16_t>(p.act_max));
    const output_stage<Q> st = p;  // a local copy: the int16 stores may alias p's members
    const auto* blk = static_cast<const std::uint8_t*>(packed);
    std::size_t c0 = 0;
    for (; channels - c0 >= CR; c0 += CR, blk += bytes)
      block<KS, false, Acc>(c0, CR, pixels, ks, in, in_step, blk, out, out_stride, st, lo, hi);
    if (c0 != channels)
      block<KS, true, Acc>(c0, channels - c0, pixels, ks, in, in_step, blk, out, out_stride, st, lo, hi);
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv_qs16, tessera::arch::helium> {
  using type = tessera::kernels::dwconv_qs16_2x8_helium;
};
