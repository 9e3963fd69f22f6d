/// @file dwconv_qs16_2vl_sve.hpp
/// 16x8 depthwise convolution (int16 activations x int8 weights -> int16, channel multiplier 1)
/// with fused TFLite requantization on SVE, vector-length agnostic. Contract and packed format:
/// dwconv/op.hpp.
///
/// Tile: cr() = 2 * svcntw() channels (two int32 vectors); packed blocks `int64 bias[cr];
/// int8 w[ks][cr]` (padded to 8 bytes). Loop order: channel block outer, pixels inner.
/// Per pixel and tap: one pointer load, 2 LD1SH (int16 -> int32) of the input, 2 LD1SB of the
/// weights, 2 MLA (int32). Products are exact in int32 (|in * w| <= 2^22).
/// Acc = int32_t: the bias truncated to int32 (UZP1 of the two int64 halves), the sum wrapping in
/// int32, MBQM32 (tessera::arch::sve_ops::mbqm32), exactly as dwconv_qs16_scalar.
/// Acc = int64_t: the taps' products are summed in int32 in runs of at most 256 taps (|sum| <=
/// 2^30, exact), each run widened (SUNPKLO/HI) into int64 accumulators that start at the bias;
/// MBQM64 (sve_ops::mbqm64) then gives the scalar kernel's int64 result bit for bit.
/// Epilogue: + zero point (wrapping), clamp, ST1H narrowing store.
/// Tails: channels by svwhilelt_b32 predicates on the input loads, per-channel parameter loads and
/// the stores (nothing at or past `channels` is read or written); bias and weights are read as
/// whole zero-padded blocks. ks = 9 and ks = 25 are compile-time tap counts of the general loop.
/// ISA: Armv8.2-A SVE (SVE1 instructions only).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SVE
#error "dwconv_qs16_2vl_sve.hpp needs SVE (TESSERA_HAS_SVE)"
#endif

#include <arm_sve.h>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <tessera/arch/sve/fixedpoint.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct dwconv_qs16_2vl_sve {
  using arch = tessera::arch::sve;
  static constexpr const char* name = "dwconv_qs16_2vl_sve";
  /// Channel tile of the packed weights: two int32 vectors (vector-length dependent).
  static std::size_t cr() noexcept { return 2 * svcntw(); }

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
  /// Taps [t0, t1) of one pixel added to (a0, a1) in wrapping int32.
  [[gnu::always_inline]] static inline void taps(svint32_t& a0, svint32_t& a1, const std::int16_t* const* ip,
                                                 std::size_t t0, std::size_t t1, std::uint64_t c0,
                                                 const std::int8_t* w, std::uint64_t crn, svbool_t p0,
                                                 svbool_t p1) noexcept {
    const svbool_t all = svptrue_b32();
    const std::int8_t* wt = w + t0 * crn;
    for (std::size_t t = t0; t < t1; ++t, wt += crn) {
      const std::int16_t* x = ip[t] + c0;
      a0 = svmla_s32_x(all, a0, svld1sh_s32(p0, x), svld1sb_s32(all, wt));
      a1 = svmla_s32_x(all, a1, svld1sh_vnum_s32(p1, x, 1), svld1sb_vnum_s32(all, wt, 1));
    }
  }

  /// + zero point, clamp, ST1H of the active lanes.
  [[gnu::always_inline]] static inline void put(std::int16_t* o, svint32_t y, svbool_t pn, svint32_t zp, svint32_t lo,
                                                svint32_t hi) noexcept {
    namespace ops = tessera::arch::sve_ops;
    ops::store_narrow(pn, o, ops::clamp(svadd_s32_x(svptrue_b32(), y, zp), lo, hi));
  }

  /// KS > 0: the tap count is a compile-time constant; KS = 0: it is `ks_rt`.
  template <std::size_t KS, class Acc, class Q>
  static void run_ks(std::size_t channels, std::size_t pixels, std::size_t ks_rt, const std::int16_t* const* in,
                     std::size_t in_step, const void* packed, std::int16_t* out, std::size_t out_stride,
                     const output_stage<Q>& p) noexcept {
    namespace ops = tessera::arch::sve_ops;
    constexpr bool per_tensor = std::is_same_v<Q, requant::per_tensor>;
    const std::size_t ks = KS != 0 ? KS : ks_rt;
    const svbool_t all = svptrue_b32(), all64 = svptrue_b64();
    const std::uint64_t vl = svcntw(), vd = svcntd(), crn = 2 * vl;
    const std::size_t bytes = packed_dw_block_bytes(crn, ks, sizeof(std::int64_t), sizeof(std::int8_t));
    // Parameters in locals: the stores may alias anything, so members would be reloaded.
    const svint32_t zp = svdup_n_s32(p.zero_point), lo = svdup_n_s32(p.act_min), hi = svdup_n_s32(p.act_max);
    const Q q = p.q;
    const auto* blk = static_cast<const std::uint8_t*>(packed);
    for (std::uint64_t c0 = 0; c0 < channels; c0 += crn, blk += bytes) {
      const svbool_t p0 = svwhilelt_b32_u64(c0, channels), p1 = svwhilelt_b32_u64(c0 + vl, channels);
      const auto* bias = reinterpret_cast<const std::int64_t*>(blk);
      const auto* w = reinterpret_cast<const std::int8_t*>(blk + crn * sizeof(std::int64_t));
      svint32_t m0, m1, s0, s1;
      if constexpr (per_tensor) {
        m0 = m1 = svdup_n_s32(q.multiplier);
        s0 = s1 = svdup_n_s32(q.shift);
      } else {
        m0 = svld1_s32(p0, q.multiplier + c0);
        m1 = svld1_s32(p1, q.multiplier + c0 + vl);
        s0 = svld1_s32(p0, q.shift + c0);
        s1 = svld1_s32(p1, q.shift + c0 + vl);
      }
      const std::int16_t* const* ip = in;
      std::int16_t* o = out + c0;
      if constexpr (std::is_same_v<Acc, std::int32_t>) {
        // int64 bias truncated to int32 (UZP1 keeps each lane's low half), in channel order.
        const svint32_t b0 = ops::narrow_s32(svld1_vnum_s64(all64, bias, 0), svld1_vnum_s64(all64, bias, 1));
        const svint32_t b1 = ops::narrow_s32(svld1_vnum_s64(all64, bias, 2), svld1_vnum_s64(all64, bias, 3));
        const svuint32_t l0 = svreinterpret_u32_s32(svmax_n_s32_x(all, s0, 0));
        const svuint32_t r0 = svreinterpret_u32_s32(svmax_n_s32_x(all, svneg_s32_x(all, s0), 0));
        const svint32_t k0 = ops::rdpot_mask(r0), h0 = svasr_n_s32_x(all, k0, 1);
        const svuint32_t l1 = svreinterpret_u32_s32(svmax_n_s32_x(all, s1, 0));
        const svuint32_t r1 = svreinterpret_u32_s32(svmax_n_s32_x(all, svneg_s32_x(all, s1), 0));
        const svint32_t k1 = ops::rdpot_mask(r1), h1 = svasr_n_s32_x(all, k1, 1);
        for (std::size_t px = pixels; px != 0; --px, ip += in_step, o += out_stride) {
          svint32_t a0 = b0, a1 = b1;
          taps(a0, a1, ip, 0, ks, c0, w, crn, p0, p1);
          put(o, ops::mbqm32(a0, m0, l0, r0, k0, h0), p0, zp, lo, hi);
          put(o + vl, ops::mbqm32(a1, m1, l1, r1, k1, h1), p1, zp, lo, hi);
        }
      } else {
        const svint64_t b00 = svld1_vnum_s64(all64, bias, 0), b01 = svld1_vnum_s64(all64, bias, 1);
        const svint64_t b10 = svld1_vnum_s64(all64, bias, 2), b11 = svld1_vnum_s64(all64, bias, 3);
        (void)vd;
        for (std::size_t px = pixels; px != 0; --px, ip += in_step, o += out_stride) {
          svint64_t x00 = b00, x01 = b01, x10 = b10, x11 = b11;
          for (std::size_t t0 = 0; t0 < ks; t0 += 256) {
            const std::size_t t1 = ks - t0 < 256 ? ks : t0 + 256;
            svint32_t a0 = svdup_n_s32(0), a1 = a0;
            taps(a0, a1, ip, t0, t1, c0, w, crn, p0, p1);
            x00 = svadd_s64_x(all64, x00, svunpklo_s64(a0));
            x01 = svadd_s64_x(all64, x01, svunpkhi_s64(a0));
            x10 = svadd_s64_x(all64, x10, svunpklo_s64(a1));
            x11 = svadd_s64_x(all64, x11, svunpkhi_s64(a1));
          }
          put(o, ops::mbqm64(x00, x01, m0, s0), p0, zp, lo, hi);
          put(o + vl, ops::mbqm64(x10, x11, m1, s1), p1, zp, lo, hi);
        }
      }
    }
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv_qs16, tessera::arch::sve> {
  using type = tessera::kernels::dwconv_qs16_2vl_sve;
};
