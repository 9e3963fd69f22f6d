/// @file dwconv_qs8_16c_neon_mlal.hpp
/// int8 depthwise convolution (unipass, indirection buffer) with fused TFLite requantization on
/// AArch64 Neon (Armv8.0: SMLAL of int8 into int16, UADDW into int32).
///
/// Channel tile cr = 16: packed blocks (dwconv/op.hpp) of int32 bias'[16], then int8 w[ks][16].
/// Taps go in pairs (t, t+1). For 8 channels, p = K + x_t w_t + x_{t+1} w_{t+1} in int16 with
/// K = 32512 (MOV + 2 SMLAL/SMLAL2): the two products lie in [-16256, 16384] each (weights and
/// inputs may both be -128), their sum in [-32512, 32768], so p is in [0, 65280] and exact as an
/// unsigned 16-bit value although it wraps as int16; UADDW/UADDW2 add it, zero-extended, to the
/// int32 accumulators, which start at bias' - K * (number of pairs). An odd last tap is one
/// SMULL/SMULL2 (|x w| <= 2^14) added with SADDW/SADDW2. All int32 sums wrap, so the result equals
/// the scalar kernel's wrapping bias' + sum_t x_t w_t bit for bit, for every ks.
/// Per pair of taps and 16 channels (32 MACs): 2 LDR q (inputs), 1 LDP q (weights), 2 MOV,
/// 4 SMLAL, 4 UADDW = 13 instructions; each weight vector is loaded once per pixel.
/// Epilogue in registers (neon/requant_stage.hpp): MBQM = RDPOT(SQRDMULH(acc << left, m), right),
/// + zero point (int32), SQXTN to int16 and int8 (saturation, then the clamp to [act_min, act_max]
/// inside int8 equals TFLite's int32 clamp), SMAX/SMIN, one 16-byte store. Per-tensor or
/// per-channel (multiplier and shift arrays indexed by channel).
/// ks = 9 and ks = 25 are compile-time specialisations (for 9 the tap pointers live in registers
/// and post-increment); any other ks runs the same code with a run-time tap loop.
/// ISA: Armv8-A Advanced SIMD (no dotprod).
/// Tails: channels % 16 in the last block, 8 channels at a time (single taps: SMULL + SADDW), the
/// last 1-7 inputs through lane loads and the outputs through lane stores, per-channel parameters
/// through zeroed bounce arrays: nothing at or past `channels` is read or written (the packed block
/// is read whole).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_NEON
#error "dwconv_qs8_16c_neon_mlal.hpp needs AArch64 Advanced SIMD (TESSERA_HAS_NEON)"
#endif

#include <arm_neon.h>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <tessera/arch/neon/requant_stage.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct dwconv_qs8_16c_neon_mlal {
  using arch = tessera::arch::neon;
  static constexpr const char* name = "dwconv_qs8_16c_neon_mlal";
  /// Channels per packed block.
  static std::size_t cr() noexcept { return CR; }

  /// out[p][c] = requant(bias'[c] + sum_t in[p * in_step + t][c] * w[t][c]) (wrapping int32).
  /// @param[in]  in      pixels * in_step tap pointers (each to `channels` int8 values, or the zero row)
  /// @param[in]  packed  pack_dw<int32_t, int8_t>(channels, ks, cr(), ...) output, 4-byte aligned
  /// @param[out] out     pixel p's `channels` outputs at out + p * out_stride
  template <class Q>
  static void run(std::size_t channels, std::size_t pixels, std::size_t ks, const std::int8_t* const* in,
                  std::size_t in_step, const void* packed, std::int8_t* out, std::size_t out_stride,
                  const output_stage<Q>& p) noexcept {
    dispatch_taps(ks, [&](auto taps) { run_ks<decltype(taps)::value>(channels, pixels, ks, in, in_step, packed, out, out_stride, p); });
  }

 private:
  static constexpr std::size_t CR = 16;
  static constexpr std::int16_t K16 = 32512;  // pair offset: K + [-32512, 32768] = [0, 65280]

  /// Output-stage parameters in registers (per-tensor) or pointers (per-channel).
  using stage = tessera::arch::neon_ops::qs8_stage;

  template <std::size_t KS, class Q>
  static void run_ks(std::size_t channels, std::size_t pixels, std::size_t ks_rt, const std::int8_t* const* in,
                     std::size_t in_step, const void* packed, std::int8_t* out, std::size_t out_stride,
                     const output_stage<Q>& p) noexcept {
    constexpr bool per_tensor = std::is_same_v<Q, requant::per_tensor>;
    const std::size_t ks = KS != 0 ? KS : ks_rt;
    const std::size_t pairs = ks / 2;
    // Accumulators start at bias' - K * pairs (wrapping).
    const int32x4_t corr = vdupq_n_s32(static_cast<std::int32_t>(0u - static_cast<std::uint32_t>(K16) * pairs));
    const int16x8_t kv = vdupq_n_s16(K16);
    using tessera::arch::neon_ops::advance;   // p += n, opaque: loads keep post-indexing
    using tessera::arch::neon_ops::requant8;  // MBQM + zero point of 8 channels, saturated to int16
    const stage st = tessera::arch::neon_ops::make_qs8_stage<per_tensor>(p);
    const std::size_t cfull = channels / CR * CR;
    const auto* const wbase = static_cast<const std::int8_t*>(packed);

    for (std::size_t px = 0; px < pixels; ++px) {
      const std::int8_t* const* ip = in + px * in_step;
      std::int8_t* o = out + px * out_stride;
      const std::int8_t* w = wbase;  // the current block's bias, then its weights
      // Tap pointers: in registers, post-incremented (KS = 9), or indexed by channel.
      [[maybe_unused]] const std::int8_t* i[KS == 9 ? 9 : 1];
      if constexpr (KS == 9) {
#pragma GCC unroll 9
        for (std::size_t t = 0; t < 9; ++t) i[t] = ip[t];
      }
      for (std::size_t c = 0; c < cfull; c += CR, o += CR) {
        const auto* b = reinterpret_cast<const std::int32_t*>(w);
        uint32x4_t a0 = vreinterpretq_u32_s32(vaddq_s32(vld1q_s32(b), corr));
        uint32x4_t a1 = vreinterpretq_u32_s32(vaddq_s32(vld1q_s32(b + 4), corr));
        uint32x4_t a2 = vreinterpretq_u32_s32(vaddq_s32(vld1q_s32(b + 8), corr));
        uint32x4_t a3 = vreinterpretq_u32_s32(vaddq_s32(vld1q_s32(b + 12), corr));
        advance(w, CR * sizeof(std::int32_t));
        auto x_at = [&](std::size_t t) noexcept {
          if constexpr (KS == 9) {
            const int8x16_t x = vld1q_s8(i[t]);
            advance(i[t], CR);
            return x;
          } else {
            return vld1q_s8(ip[t] + c);
          }
        };
#pragma GCC unroll 16
        for (std::size_t t = 0; t + 1 < ks; t += 2) {
          const int8x16_t x0 = x_at(t), x1 = x_at(t + 1);
          int8x16x2_t wv;  // two LDR/LDP, not LD1 {2 x q}: its consecutive registers cost MOVs
          wv.val[0] = vld1q_s8(w), wv.val[1] = vld1q_s8(w + CR);
          advance(w, 2 * CR);
          const int16x8_t pl = vmlal_s8(vmlal_s8(kv, vget_low_s8(x0), vget_low_s8(wv.val[0])), vget_low_s8(x1),
                                        vget_low_s8(wv.val[1]));
          const int16x8_t ph = vmlal_high_s8(vmlal_high_s8(kv, x0, wv.val[0]), x1, wv.val[1]);
          a0 = vaddw_u16(a0, vget_low_u16(vreinterpretq_u16_s16(pl)));
          a1 = vaddw_high_u16(a1, vreinterpretq_u16_s16(pl));
          a2 = vaddw_u16(a2, vget_low_u16(vreinterpretq_u16_s16(ph)));
          a3 = vaddw_high_u16(a3, vreinterpretq_u16_s16(ph));
        }
        int32x4_t y0 = vreinterpretq_s32_u32(a0), y1 = vreinterpretq_s32_u32(a1);
        int32x4_t y2 = vreinterpretq_s32_u32(a2), y3 = vreinterpretq_s32_u32(a3);
        if (ks % 2 != 0) {
          const int8x16_t x = x_at(ks - 1), wv = vld1q_s8(w);
          advance(w, CR);
          const int16x8_t pl = vmull_s8(vget_low_s8(x), vget_low_s8(wv)), ph = vmull_high_s8(x, wv);
          y0 = vaddw_s16(y0, vget_low_s16(pl)), y1 = vaddw_high_s16(y1, pl);
          y2 = vaddw_s16(y2, vget_low_s16(ph)), y3 = vaddw_high_s16(y3, ph);
        }
        const int16x8_t h0 = requant8<per_tensor>(y0, y1, st, c), h1 = requant8<per_tensor>(y2, y3, st, c + 8);
        const int8x16_t r = vminq_s8(vmaxq_s8(vqmovn_high_s16(vqmovn_s16(h0), h1), st.lo), st.hi);
        vst1q_s8(o, r);
      }
      if (cfull != channels) tail<per_tensor>(channels - cfull, cfull, ks, ip, w, o, st);
    }
  }

  /// The last rem (1..15) channels from channel c, 8 at a time; w is the last block's bias.
  template <bool PerTensor>
  static void tail(std::size_t rem, std::size_t c, std::size_t ks, const std::int8_t* const* ip, const std::int8_t* w,
                   std::int8_t* o, const stage& st0) noexcept {
    using tessera::arch::neon_ops::requant8;
    const auto* bias = reinterpret_cast<const std::int32_t*>(w);
    const std::int8_t* wt = w + CR * sizeof(std::int32_t);
    for (std::size_t g = 0; g < rem; g += 8) {
      const std::size_t r = rem - g < 8 ? rem - g : 8;
      int32x4_t y0 = vld1q_s32(bias + g), y1 = vld1q_s32(bias + g + 4);
      for (std::size_t t = 0; t < ks; ++t) {
        const int8x8_t x = r == 8 ? vld1_s8(ip[t] + c + g) : load_part(ip[t] + c + g, r);
        const int16x8_t pr = vmull_s8(x, vld1_s8(wt + CR * t + g));
        y0 = vaddw_s16(y0, vget_low_s16(pr)), y1 = vaddw_high_s16(y1, pr);
      }
      stage st = st0;
      std::size_t cc = c + g;
      alignas(16) std::int32_t mb[8] = {}, sb[8] = {};
      if constexpr (!PerTensor) {
        if (r < 8) {  // the parameter arrays end at channel `channels` - 1
          std::memcpy(mb, st.mul + cc, r * sizeof(std::int32_t));
          std::memcpy(sb, st.sh + cc, r * sizeof(std::int32_t));
          st.mul = mb, st.sh = sb, cc = 0;
        }
      }
      const int8x8_t v = vmin_s8(vmax_s8(vqmovn_s16(requant8<PerTensor>(y0, y1, st, cc)), vget_low_s8(st.lo)),
                                 vget_low_s8(st.hi));
      store_part(o + g, v, r);
    }
  }

  /// p[0..r) in lanes 0..r-1 (r in 1..7), zero elsewhere; nothing past p + r is read.
  static int8x8_t load_part(const std::int8_t* p, std::size_t r) noexcept {
    std::uint64_t v = 0;
    std::size_t k = 0;
    if (r & 4) { std::uint32_t u; std::memcpy(&u, p, 4); v = u; k = 4; }
    if (r & 2) { std::uint16_t u; std::memcpy(&u, p + k, 2); v |= std::uint64_t{u} << (8 * k); k += 2; }
    if (r & 1) v |= std::uint64_t{static_cast<std::uint8_t>(p[k])} << (8 * k);
    return vcreate_s8(v);
  }

  /// Stores lanes 0..r-1 of v to p[0..r) (r in 1..8).
  static void store_part(std::int8_t* p, int8x8_t v, std::size_t r) noexcept {
    if (r == 8) { vst1_s8(p, v); return; }
    std::uint64_t u = vget_lane_u64(vreinterpret_u64_s8(v), 0);
    if (r & 4) { const auto x = static_cast<std::uint32_t>(u); std::memcpy(p, &x, 4); p += 4, u >>= 32; }
    if (r & 2) { const auto x = static_cast<std::uint16_t>(u); std::memcpy(p, &x, 2); p += 2, u >>= 16; }
    if (r & 1) *p = static_cast<std::int8_t>(u);
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv_qs8, tessera::arch::neon> {
  using type = tessera::kernels::dwconv_qs8_16c_neon_mlal;
};
