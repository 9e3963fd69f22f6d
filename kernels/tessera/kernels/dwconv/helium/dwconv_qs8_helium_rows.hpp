/// @file dwconv_qs8_helium_rows.hpp
/// Shared parts of the int8 depthwise row kernels on Cortex-M55/M85 Helium (MVE integer),
/// dwconv3x3_qs8_2x8_helium (KS = 9) and dwconv5x5_qs8_2x8_helium (KS = 25): the channel tile
/// (cr() = 8, dwconv_qs8_2x8_helium's packed blocks), the per-block stack of constants (weights
/// widened to int16, bias' and the output stage as vectors, block_constants), the int16 x int16
/// -> int32 MAC (VMULLB/VMULLT + VADD), the compiler fences and the requantizing epilogue
/// (requant_store: + bias', MBQM with or without the left shift, + zero point, saturating narrow,
/// clamp, VSTRB.16). Moved here unchanged from dwconv3x3_qs8_2x8_helium.hpp (its code is the same:
/// the M55 driver's assembly is identical but for symbol names); see that file for the reasoning.
/// The kernels derive from dwconv_qs8_helium_rows<KS> (private) and keep their tap walks.
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_HELIUM
#error "dwconv_qs8_helium_rows.hpp needs Helium (MVE): compile for e.g. -mcpu=cortex-m55"
#endif

#include <arm_mve.h>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <tessera/arch/helium/fixedpoint.hpp>
#include <tessera/kernels/dwconv/helium/dwconv_qs8_2x8_helium.hpp>
#include <tessera/kernels/dwconv/op.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

/// The helpers of the int8 row kernels whose packed blocks hold KS taps (9: 3x3, 25: 5x5).
template <std::size_t KS> struct dwconv_qs8_helium_rows {
 protected:
  static constexpr std::size_t CR = 8;  // = cr()
  static constexpr std::size_t BLOCK = CR * sizeof(std::int32_t) + KS * CR;  // bytes per packed block
  static_assert(BLOCK == packed_dw_block_bytes(CR, KS, sizeof(std::int32_t), 1));

  /// The block's stack k: everything a group reads besides the input, at these byte offsets of one
  /// register: the KS taps' weights widened to int16, bias' of the even and odd channels, the
  /// output stage's left shift max(s, 0), multiplier and right shift min(s, 0) (even, then odd
  /// channels; per-tensor: the even vector serves both), the zero point, act_min and act_max as
  /// int16x8.
  enum : std::size_t {
    K_W = 0, K_BIAS = 2 * KS * CR, K_SHL = K_BIAS + 32, K_MUL = K_SHL + 32, K_SHR = K_MUL + 32, K_ZP = K_SHR + 32,
    K_LO = K_ZP + 16, K_HI = K_LO + 16, K_BYTES = K_HI + 16
  };

  /// One input column (8 channels, or the first `pc` lanes in a tail block) as int16x8.
  template <bool Tail>
  [[gnu::always_inline]] static inline int16x8_t load(const std::int8_t* x, mve_pred16_t pc) noexcept {
    if constexpr (Tail) return vldrbq_z_s16(x, pc);
    else return vldrbq_s16(x);
  }

  /// Compiler scheduling fence (emits nothing), as in dwconv_qs8_2x8_helium: loads are not moved
  /// across it and the accumulators are materialised at it, so GCC 12 neither hoists the taps'
  /// loads (8 Q registers: 4 accumulators, a weight, two input columns and a product) nor
  /// reassociates the sums and spills.
  template <std::size_t N>
  [[gnu::always_inline]] static inline void fence(int32x4_t& e0, int32x4_t& o0, int32x4_t& e1, int32x4_t& o1) noexcept {
    if constexpr (N > 1) __asm__ volatile("" : "+w"(e0), "+w"(o0), "+w"(e1), "+w"(o1) : : "memory");
    else __asm__ volatile("" : "+w"(e0), "+w"(o0) : : "memory");
  }

  /// e += x * w on the even channels, o on the odd ones (int32 products of int16 lanes); First:
  /// e = x * w, o likewise (the bias is added in the epilogue).
  template <bool First = false>
  [[gnu::always_inline]] static inline void mac(int32x4_t& e, int32x4_t& o, int16x8_t x, int16x8_t w) noexcept {
    if constexpr (First) {
      e = vmullbq_int_s16(x, w), o = vmulltq_int_s16(x, w);
    } else {
      e = vaddq_s32(e, vmullbq_int_s16(x, w));
      o = vaddq_s32(o, vmulltq_int_s16(x, w));
    }
  }

  /// Narrows one pixel's requantized even / odd channels (saturating, so clamping the 8 int16
  /// lanes once equals clamping the int32 values: [lo, hi] lies within int8) and stores them.
  template <bool Tail>
  [[gnu::always_inline]] static inline void narrow_store(std::int8_t* o, int32x4_t ye, int32x4_t yo, int16x8_t lo,
                                                         int16x8_t hi, mve_pred16_t pc) noexcept {
    const int16x8_t y = tessera::arch::helium_ops::narrow_clamp(ye, ye, yo, lo, hi);  // channel order again
    if constexpr (Tail) vstrbq_p_s16(o, y, pc);
    else vstrbq_s16(o, y);
  }

  /// Int32 vector at byte offset `off` of the block's stack k.
  [[gnu::always_inline]] static inline int32x4_t kv(const std::uint8_t* k, std::size_t off) noexcept {
    return vldrwq_s32(reinterpret_cast<const std::int32_t*>(k + off));
  }

  /// Adds bias', requantizes (MBQM as dwconv_qs8_2x8_helium, + zero point, clamp) N (1 or 2)
  /// pixels' accumulators and stores pixel j at o + j ch, vectors from the block's stack k. One
  /// vector at a time, fenced: GCC 12 would otherwise load them all up front and spill.
  template <std::size_t N, bool Tail, class F>
  [[gnu::always_inline]] static inline void requant_store(std::int8_t* o, std::size_t ch, int32x4_t e0, int32x4_t o0,
                                                          int32x4_t e1, int32x4_t o1, mve_pred16_t pc,
                                                          const std::uint8_t* k) noexcept {
    namespace ops = tessera::arch::helium_ops;
    // f(x, vector at off) on the even channels, f(x, vector at off + 16, or off) on the odd ones
    auto each = [&](std::size_t off, bool both, auto f) {
      int32x4_t v = kv(k, off);
      e0 = f(e0, v);
      if constexpr (N > 1) e1 = f(e1, v);
      if (both) v = kv(k, off + 16);
      o0 = f(o0, v);
      if constexpr (N > 1) o1 = f(o1, v);
      fence<N>(e0, o0, e1, o1);
    };
    each(K_BIAS, true, [](int32x4_t x, int32x4_t b) { return vaddq_s32(x, b); });
    constexpr bool pc2 = !F::per_tensor;  // odd channels have their own stage vectors
    if constexpr (F::right_shifts) {      // max(s, 0) = 0 in every lane: no left shift
      each(K_MUL, pc2, [](int32x4_t x, int32x4_t m) { return ops::srdhm(x, m); });
      each(K_SHR, pc2, [](int32x4_t x, int32x4_t s) { return ops::rdpot_neg_nz(x, s); });
    } else {
      each(K_SHL, pc2, [](int32x4_t x, int32x4_t s) { return ops::shl_wrap(x, s); });
      each(K_MUL, pc2, [](int32x4_t x, int32x4_t m) { return ops::srdhm(x, m); });
      each(K_SHR, pc2, [](int32x4_t x, int32x4_t s) { return ops::rdpot_neg(x, s); });
    }
    each(K_ZP, false, [](int32x4_t x, int32x4_t zp) { return vaddq_s32(x, zp); });
    const int16x8_t lo = vreinterpretq_s16_s32(kv(k, K_LO)), hi = vreinterpretq_s16_s32(kv(k, K_HI));
    narrow_store<Tail>(o, e0, o0, lo, hi, pc);
    if constexpr (N > 1) narrow_store<Tail>(o + ch, e1, o1, lo, hi, pc);
  }


  /// The epilogue's form: per-tensor stage, and whether every shift of the block is negative
  /// (TFLite's usual depthwise stages), which saves its left shift and a mask.
  template <bool PerTensor, bool RightShifts> struct form {
    static constexpr bool per_tensor = PerTensor, right_shifts = RightShifts;
  };

  /// Fills the block's stack k for the packed block blk of channels [c0, c0 + rem), in address
  /// order through one stepping pointer (GCC 12 otherwise keeps a register, or a stack slot, per
  /// offset).
  template <class Q>
  static void block_constants(std::uint8_t* k, const std::uint8_t* blk, std::size_t c0, std::size_t rem,
                              const output_stage<Q>& p) noexcept {
    auto* kw = reinterpret_cast<std::int16_t*>(k + K_W);
    const auto* w = reinterpret_cast<const std::int8_t*>(blk + CR * sizeof(std::int32_t));
#pragma GCC unroll 1
    for (std::size_t t = 0; t < KS; ++t, w += CR, kw += CR) vstrhq_s16(kw, vldrbq_s16(w));
    auto* kp = reinterpret_cast<std::int32_t*>(k + K_BIAS);
    auto put = [&](int32x4_t x) { vstrwq_s32(kp, x), kp += 4; };
    const int32x4x2_t bias = vld2q_s32(reinterpret_cast<const std::int32_t*>(blk));  // even, odd channels
    put(bias.val[0]), put(bias.val[1]);
    const int32x4_t zero = vdupq_n_s32(0);
    int32x4_t me, mo, se, so;  // multiplier and shift, even / odd channels < rem
    if constexpr (std::is_same_v<Q, requant::per_tensor>) {
      me = mo = vdupq_n_s32(p.q.multiplier), se = so = vdupq_n_s32(p.q.shift);
    } else if (rem == CR) {
      const int32x4x2_t m = vld2q_s32(p.q.multiplier + c0), s = vld2q_s32(p.q.shift + c0);
      me = m.val[0], mo = m.val[1], se = s.val[0], so = s.val[1];
    } else {  // gathered: nothing at or past channel c0 + rem is read
      const uint32x4_t even = vidupq_n_u32(0, 2);
      const auto n = static_cast<std::uint32_t>(rem);
      const mve_pred16_t pe = vctp32q((n + 1) / 2), po = vctp32q(n / 2);
      me = vldrwq_gather_shifted_offset_z_s32(p.q.multiplier + c0, even, pe);
      mo = vldrwq_gather_shifted_offset_z_s32(p.q.multiplier + c0 + 1, even, po);
      se = vldrwq_gather_shifted_offset_z_s32(p.q.shift + c0, even, pe);
      so = vldrwq_gather_shifted_offset_z_s32(p.q.shift + c0 + 1, even, po);
    }
    put(vmaxq_s32(se, zero)), put(vmaxq_s32(so, zero));
    put(me), put(mo);
    put(vminq_s32(se, zero)), put(vminq_s32(so, zero));
    put(vdupq_n_s32(p.zero_point));
    put(vreinterpretq_s32_s16(vdupq_n_s16(static_cast<std::int16_t>(p.act_min))));
    put(vreinterpretq_s32_s16(vdupq_n_s16(static_cast<std::int16_t>(p.act_max))));
  }

  /// Calls `f.template operator()<Tail, Form>(blk, c0, nb)` for every packed block blk of channels
  /// [c0, c0 + nb): whole blocks in the negative-shift form where all their shifts are negative,
  /// the tail block (fewer than 8 channels) in the general form (both kernels' channel loop).
  template <class Q, class F>
  [[gnu::always_inline]] static inline void for_each_block(std::size_t channels, const void* packed,
                                                           const output_stage<Q>& p, F&& f) noexcept {
    constexpr bool pt = std::is_same_v<Q, requant::per_tensor>;
    const auto* blk = static_cast<const std::uint8_t*>(packed);
    std::size_t c0 = 0;
    for (; channels - c0 >= CR; c0 += CR, blk += BLOCK) {
      if (dwconv_qs8_2x8_helium::right_shifts(p.q, c0)) f.template operator()<false, form<pt, true>>(blk, c0, CR);
      else f.template operator()<false, form<pt, false>>(blk, c0, CR);
    }
    if (c0 != channels) f.template operator()<true, form<pt, false>>(blk, c0, channels - c0);
  }
};

}  // namespace tessera::kernels
