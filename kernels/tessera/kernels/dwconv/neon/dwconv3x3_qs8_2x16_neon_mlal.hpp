/// @file dwconv3x3_qs8_2x16_neon_mlal.hpp
/// int8 3x3 depthwise row kernel (op.hpp's row contract: windows inside the input, stride 1 or 2
/// along x, direct addressing) with fused TFLite requantization on AArch64 Neon (Armv8.0: SMLAL
/// of int8 into int16, UADDW into int32).
///
/// Tile: 2 neighbouring output pixels x 16 channels. cr() = 16, the packed blocks of
/// dwconv_qs8_16c_neon_mlal (`int32 bias'[16]; int8 w[9][16]`): the block's nine weight vectors
/// stay in 9 q registers for the whole row. Arithmetic is dwconv_qs8_16c_neon_mlal's: taps go in
/// pairs, p = K + x_a w_a + x_b w_b in int16 with K = 32512 (MOV + 2 SMLAL/SMLAL2; p in
/// [0, 65280], exact as unsigned 16-bit), added zero-extended with UADDW/UADDW2 to int32
/// accumulators that start at bias' - 4 K; the ninth tap is one SMULL/SMULL2 + SADDW/SADDW2.
/// Every int32 sum wraps, so the result equals the scalar kernel's wrapping bias' + sum_t x_t w_t
/// bit for bit whatever the pairing. Pairs here: (ky 0, kx) with (ky 1, kx) for kx = 0..2, taps
/// (2, 0) with (2, 1), then (2, 2) alone: tap rows 0 and 1 are streamed together column by column
/// and row 2 keeps its previous column, so each input column of a group is loaded once and serves
/// both pixels (stride 1: 4 columns x 3 rows = 12 LDR q per 2 x 144 MACs; stride 2: 15; the
/// unipass kernel loads 9 inputs and 5 weight vectors per pixel).
/// Epilogue in registers, dwconv_qs8_16c_neon_mlal's (neon/requant_stage.hpp): MBQM =
/// RDPOT(SQRDMULH(acc << left, m), right), + zero point, SQXTN to int16 and int8, SMAX/SMIN, one
/// 16-byte store per pixel. Per-tensor or per-channel (arrays indexed by channel).
/// Loop order: channel block outer, pixel pairs inner; an odd last pixel runs alone.
/// Tails: channels % 16 in the last block: inputs through 8/4/2/1-byte loads into a zeroed vector,
/// outputs through 8/4/2/1-byte stores (neon/gemm_int8.hpp's load_partial, store_partial),
/// per-channel parameters through zeroed bounce arrays: nothing outside the rows' windows or the
/// output pixels is read or written (the packed block is read whole).
/// ISA: Armv8-A Advanced SIMD (no dotprod).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_NEON
#error "dwconv3x3_qs8_2x16_neon_mlal.hpp needs AArch64 Advanced SIMD (TESSERA_HAS_NEON)"
#endif

#include <arm_neon.h>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <tessera/arch/neon/gemm_int8.hpp>
#include <tessera/arch/neon/requant_stage.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/neon/dwconv_qs8_16c_neon_mlal.hpp>
#include <tessera/kernels/dwconv/neon/dwconv_qs8_neon_rows.hpp>
#include <tessera/kernels/dwconv/op.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct dwconv3x3_qs8_2x16_neon_mlal {
  using arch = tessera::arch::neon;
  static constexpr const char* name = "dwconv3x3_qs8_2x16_neon_mlal";
  /// Channel tile of the packed weights (dwconv_qs8_16c_neon_mlal's).
  static std::size_t cr() noexcept { return dwconv_qs8_16c_neon_mlal::cr(); }

  /// `pixels` outputs of one row, windows inside the input, stride 1 or 2 along x (op.hpp).
  template <class Q>
  static void run(std::size_t channels, std::size_t pixels, std::size_t stride, const std::int8_t* r0,
                  const std::int8_t* r1, const std::int8_t* r2, const void* packed, std::int8_t* out,
                  const output_stage<Q>& p) noexcept {
    constexpr bool per_tensor = std::is_same_v<Q, requant::per_tensor>;
    const stage st = tessera::arch::neon_ops::make_qs8_stage<per_tensor>(p);
    if (stride == 1) run_s<1, per_tensor>(channels, pixels, r0, r1, r2, packed, out, st);
    else run_s<2, per_tensor>(channels, pixels, r0, r1, r2, packed, out, st);
  }

 private:
  static constexpr std::size_t CR = 16;
  static constexpr std::size_t BLOCK = CR * sizeof(std::int32_t) + 9 * CR;  // bytes per packed block
  static constexpr std::size_t NP = 2;                                       // pixels per group
  static constexpr std::int16_t K16 = dw_neon::qs8_pair_k;  // pair offset (dwconv_qs8_neon_rows.hpp)
  static constexpr std::size_t PAIRS = 4;

  /// Output-stage parameters in registers (per-tensor) or pointers (per-channel, at the slice's
  /// first channel).
  using stage = tessera::arch::neon_ops::qs8_stage;

  using acc16 = dw_neon::acc16;

  /// N pixels x 16 channels (Half: 8) from input column 0 of rows r0..r2 (pixel pitch `ch`),
  /// weights w in registers, accumulators starting at b (bias' - 4 K), output at `o`.
  template <std::size_t S, std::size_t N, bool PerTensor, bool Part, bool Half>
  [[gnu::always_inline]] static inline void group(const std::int8_t* r0, const std::int8_t* r1, const std::int8_t* r2,
                                                  std::size_t ch, const int8x16_t (&w)[9], const acc16& b,
                                                  int16x8_t kv, std::int8_t* o, std::size_t rem,
                                                  const stage& st) noexcept {
    namespace ops = tessera::arch::neon_ops;
    constexpr std::size_t cols = (N - 1) * S + 3;
    acc16 acc[N];
#pragma GCC unroll 2
    for (std::size_t j = 0; j < N; ++j) acc[j] = b;
    // Tap rows 0 and 1 together: column i pairs (0, kx) with (1, kx) for the outputs it serves.
#pragma GCC unroll 5
    for (std::size_t i = 0; i < cols; ++i) {
      const int8x16_t x0 = dw_neon::load_col<Part, Half>(r0, rem), x1 = dw_neon::load_col<Part, Half>(r1, rem);
      ops::advance(r0, ch), ops::advance(r1, ch);
#pragma GCC unroll 2
      for (std::size_t j = 0; j < N; ++j) {
        if (i < S * j || i > S * j + 2) continue;
        const std::size_t kx = i - S * j;
        dw_neon::pair<Half>(acc[j], x0, w[kx], x1, w[3 + kx], kv);
      }
    }
    // Tap row 2: (2, 0) with (2, 1) when column S j + 1 arrives, then (2, 2) alone.
    int8x16_t prev = vdupq_n_s8(0);
#pragma GCC unroll 5
    for (std::size_t i = 0; i < cols; ++i) {
      const int8x16_t x = dw_neon::load_col<Part, Half>(r2, rem);
      ops::advance(r2, ch);
#pragma GCC unroll 2
      for (std::size_t j = 0; j < N; ++j) {
        if (i == S * j + 1) dw_neon::pair<Half>(acc[j], prev, w[6], x, w[7], kv);
        else if (i == S * j + 2) dw_neon::single<Half>(acc[j], x, w[8]);
      }
      prev = x;
    }
#pragma GCC unroll 2
    for (std::size_t j = 0; j < N; ++j) {
      const int16x8_t h0 = ops::requant8<PerTensor>(vreinterpretq_s32_u32(acc[j].v[0]), vreinterpretq_s32_u32(acc[j].v[1]), st, 0);
      if constexpr (Half) {
        const int8x8_t v = vmin_s8(vmax_s8(vqmovn_s16(h0), vget_low_s8(st.lo)), vget_low_s8(st.hi));
        if constexpr (Part) ops::store_partial(o + j * ch, vcombine_s8(v, v), rem);
        else vst1_s8(o + j * ch, v);
        continue;
      }
      const int16x8_t h1 = ops::requant8<PerTensor>(vreinterpretq_s32_u32(acc[j].v[2]), vreinterpretq_s32_u32(acc[j].v[3]), st, 8);
      const int8x16_t v = vminq_s8(vmaxq_s8(vqmovn_high_s16(vqmovn_s16(h0), h1), st.lo), st.hi);
      if constexpr (Part) ops::store_partial(o + j * ch, v, rem);
      else vst1q_s8(o + j * ch, v);
    }
  }

  /// Every pixel of one block's 16 channels (Part: rem < 16 of them; Half: at most 8 of them, on
  /// 8-lane arithmetic); blk = the packed block.
  template <std::size_t S, bool PerTensor, bool Part, bool Half>
  static void slice(std::size_t ch, std::size_t pixels, const std::int8_t* r0, const std::int8_t* r1,
                    const std::int8_t* r2, const std::int8_t* blk, std::int8_t* out, std::size_t rem,
                    stage st) noexcept {
    int8x16_t w[9];
#pragma GCC unroll 9
    for (std::size_t t = 0; t < 9; ++t) w[t] = vld1q_s8(blk + CR * sizeof(std::int32_t) + CR * t);
    const auto* bias = reinterpret_cast<const std::int32_t*>(blk);
    const int32x4_t corr = vdupq_n_s32(static_cast<std::int32_t>(0u - static_cast<std::uint32_t>(K16) * PAIRS));
    acc16 b;
#pragma GCC unroll 4
    for (std::size_t k = 0; k < 4; ++k) b.v[k] = vreinterpretq_u32_s32(vaddq_s32(vld1q_s32(bias + 4 * k), corr));
    const int16x8_t kv = vdupq_n_s16(K16);
    alignas(16) std::int32_t mb[CR] = {}, sb[CR] = {};
    if constexpr (!PerTensor && Part) {  // the parameter arrays end at channel `channels` - 1
      std::memcpy(mb, st.mul, rem * sizeof(std::int32_t));
      std::memcpy(sb, st.sh, rem * sizeof(std::int32_t));
      st.mul = mb, st.sh = sb;
    }
    std::size_t px = pixels;
    for (; px >= NP; px -= NP, out += NP * ch) {
      group<S, NP, PerTensor, Part, Half>(r0, r1, r2, ch, w, b, kv, out, rem, st);
      r0 += NP * S * ch, r1 += NP * S * ch, r2 += NP * S * ch;
    }
    if (px == 1) group<S, 1, PerTensor, Part, Half>(r0, r1, r2, ch, w, b, kv, out, rem, st);
  }

  template <std::size_t S, bool PerTensor>
  static void run_s(std::size_t channels, std::size_t pixels, const std::int8_t* r0, const std::int8_t* r1,
                    const std::int8_t* r2, const void* packed, std::int8_t* out, const stage& st0) noexcept {
    const auto* blk = static_cast<const std::int8_t*>(packed);
    for (std::size_t c = 0; c < channels; c += CR, blk += BLOCK) {
      stage st = st0;
      if constexpr (!PerTensor) st.mul += c, st.sh += c;
      const std::size_t rem = channels - c;
      if (rem >= CR) slice<S, PerTensor, false, false>(channels, pixels, r0 + c, r1 + c, r2 + c, blk, out + c, CR, st);
      else if (rem == CR / 2) slice<S, PerTensor, false, true>(channels, pixels, r0 + c, r1 + c, r2 + c, blk, out + c, rem, st);
      else if (rem < CR / 2) slice<S, PerTensor, true, true>(channels, pixels, r0 + c, r1 + c, r2 + c, blk, out + c, rem, st);
      else slice<S, PerTensor, true, false>(channels, pixels, r0 + c, r1 + c, r2 + c, blk, out + c, rem, st);
    }
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv3x3_qs8, tessera::arch::neon> {
  using type = tessera::kernels::dwconv3x3_qs8_2x16_neon_mlal;
};
