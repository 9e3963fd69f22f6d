/// @file dwconv5x5_qs8_2x16_neon_mlal.hpp
/// int8 5x5 depthwise row kernel (op.hpp's 5x5 row contract: windows inside the input, stride 1
/// or 2 along x, direct addressing) with fused TFLite requantization on AArch64 Neon (Armv8.0:
/// SMLAL of int8 into int16, UADDW into int32).
///
/// Tile: 2 neighbouring output pixels x 16 channels (8 int32x4 accumulators). cr() = 16, the
/// packed blocks of dwconv_qs8_16c_neon_mlal with ks = 25 (`int32 bias'[16]; int8 w[25][16]`).
/// Taps go in pairs, 12 pairs + 1 single per window as in the unipass kernel: tap rows 0 and 1
/// are streamed together column by column, (0, kx) with (1, kx), their 10 weight vectors in
/// registers; then rows 2 and 3 likewise; then row 4 alone, keeping its previous column: (4, 0)
/// with (4, 1), (4, 2) with (4, 3), and (4, 4) single (SMULL/SMULL2 + SADDW/SADDW2). Each input
/// column is loaded once (LD1 post-indexed by the pixel pitch) for both pixels of the group:
/// stride 1: 6 columns x 5 rows = 30 loads + 25 weight vectors per 800 MACs (stride 2: 40 + 25);
/// the unipass kernel loads 25 inputs and 13 weight vectors per 400.
/// Pair arithmetic, chosen per packed block (needs_offset): a pair sum x_a w_a + x_b w_b lies in
/// [-32512, 32768], and reaches past int16 only where both weights are -128. Blocks with no such
/// channel in any of their 12 pairs (all of them for weights in [-127, 127]) run SMULL + SMLAL in
/// int16 (exact, in [-32512, 32640]) + SADDW into int32 accumulators that start at bias': 8
/// instructions per 32 MACs. Other blocks run dwconv_qs8_16c_neon_mlal's offset pair
/// (dwconv_qs8_neon_rows.hpp): p = K + x_a w_a + x_b w_b with K = 32512 (MOV + 2 SMLAL, exact as
/// unsigned 16-bit) + UADDW, accumulators starting at bias' - 12 K: 10 instructions per 32 MACs.
/// Every int32 sum wraps, so either way the result equals the scalar kernel's wrapping
/// bias' + sum_t x_t w_t bit for bit.
/// An empty asm on the accumulators after each column (pin) keeps GCC from hoisting later
/// columns' loads and spilling them (4 pixels a group spill anyway: 16 accumulators + 10 weights).
/// Epilogue in registers, dwconv3x3_qs8_2x16_neon_mlal's (dwconv_qs8_neon_rows.hpp store_pixel on
/// neon/requant_stage.hpp): MBQM = RDPOT(SQRDMULH(acc << left, m), right), + zero point, SQXTN to
/// int16 and int8, SMAX/SMIN, one 16-byte store per pixel. Per-tensor or per-channel.
/// Loop order: channel block outer (its bias, less 12 K on the offset path, in a 16-int32 stack
/// buffer), pixel pairs inner; an odd last pixel runs alone.
/// Tails: channels % 16 in the last block: inputs through 8/4/2/1-byte loads into a zeroed vector,
/// outputs through 8/4/2/1-byte stores (neon/gemm_int8.hpp's load_partial, store_partial), 8
/// remaining channels on 8-lane arithmetic, per-channel parameters through zeroed bounce arrays:
/// nothing outside the rows' windows or the output pixels is read or written (the packed block is
/// read whole).
/// ISA: Armv8-A Advanced SIMD (no dotprod).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_NEON
#error "dwconv5x5_qs8_2x16_neon_mlal.hpp needs AArch64 Advanced SIMD (TESSERA_HAS_NEON)"
#endif

#include <arm_neon.h>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <tessera/arch/neon/requant_stage.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/neon/dwconv_qs8_16c_neon_mlal.hpp>
#include <tessera/kernels/dwconv/neon/dwconv_qs8_neon_rows.hpp>
#include <tessera/kernels/dwconv/op.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct dwconv5x5_qs8_2x16_neon_mlal {
  using arch = tessera::arch::neon;
  static constexpr const char* name = "dwconv5x5_qs8_2x16_neon_mlal";
  /// Channel tile of the packed weights (dwconv_qs8_16c_neon_mlal's).
  static std::size_t cr() noexcept { return dwconv_qs8_16c_neon_mlal::cr(); }

  /// `pixels` outputs of one row, 5x5 windows inside the input, stride 1 or 2 along x (op.hpp).
  template <class Q>
  static void run(std::size_t channels, std::size_t pixels, std::size_t stride, const std::int8_t* const* rows,
                  const void* packed, std::int8_t* out, const output_stage<Q>& p) noexcept {
    constexpr bool per_tensor = std::is_same_v<Q, requant::per_tensor>;
    const stage st = tessera::arch::neon_ops::make_qs8_stage<per_tensor>(p);
    if (stride == 1) run_s<1, per_tensor>(channels, pixels, rows, packed, out, st);
    else run_s<2, per_tensor>(channels, pixels, rows, packed, out, st);
  }

 private:
  static constexpr std::size_t CR = 16;
  static constexpr std::size_t BLOCK = CR * sizeof(std::int32_t) + 25 * CR;  // bytes per packed block
  static constexpr std::size_t NP = 2;                                       // pixels per group
  static constexpr std::size_t PAIRS = 12;  // offset pairs per window (the 25th tap is single)

  using stage = tessera::arch::neon_ops::qs8_stage;
  using acc16 = dw_neon::acc16;

  /// One input column at p (16 bytes; Half: 8, upper lanes zero; Part: rem bytes, zeros beyond),
  /// then p += ch. GCC and clang: one LD1 post-indexed by the pixel pitch (neither folds the
  /// opaque increment into LDR q, which has no register post-index).
  template <bool Part, bool Half>
  [[gnu::always_inline]] static inline int8x16_t load_next(const std::int8_t*& p, std::size_t ch,
                                                           [[maybe_unused]] std::size_t rem) noexcept {
    int8x16_t x;
    if constexpr (Part) {
      x = dw_neon::load_col<true, Half>(p, rem);
      tessera::arch::neon_ops::advance(p, ch);
    } else if constexpr (Half) {
      int8x8_t h;
      __asm__("ld1 {%0.8b}, [%1], %2" : "=w"(h), "+r"(p) : "r"(ch), "m"(*(const std::int8_t(*)[8])p));
      x = vcombine_s8(h, vdup_n_s8(0));
    } else {
      __asm__("ld1 {%0.16b}, [%1], %2" : "=w"(x), "+r"(p) : "r"(ch), "m"(*(const std::int8_t(*)[16])p));
    }
    return x;
  }

  /// The column's arithmetic completes here and no load moves above it (no instruction): without
  /// it GCC hoists the later columns' loads and spills them.
  template <std::size_t N, bool Half> [[gnu::always_inline]] static inline void pin(acc16 (&acc)[N]) noexcept {
#pragma GCC unroll 8
    for (std::size_t j = 0; j < N; ++j)
#pragma GCC unroll 4
      for (std::size_t k = 0; k < (Half ? 2 : 4); ++k) __asm__ volatile("" : "+w"(acc[j].v[k])::"memory");
  }

  /// a += x0 * w0 + x1 * w1 (16 channels; Half: the low 8). Off: through the offset pair
  /// (dwconv_qs8_neon_rows.hpp: MOV + 2 SMLAL + UADDW per 8 channels); otherwise the block has
  /// no channel where both weights are -128, so the sum lies in [-32512, 32640] and fits int16 as
  /// it is: SMULL + SMLAL + SADDW.
  template <bool Off, bool Half>
  [[gnu::always_inline]] static inline void pair(acc16& a, int8x16_t x0, int8x16_t w0, int8x16_t x1, int8x16_t w1,
                                                 int16x8_t kv) noexcept {
    if constexpr (Off) {
      dw_neon::pair<Half>(a, x0, w0, x1, w1, kv);
    } else {
      const int16x8_t pl = vmlal_s8(vmull_s8(vget_low_s8(x0), vget_low_s8(w0)), vget_low_s8(x1), vget_low_s8(w1));
      a.v[0] = vreinterpretq_u32_s32(vaddw_s16(vreinterpretq_s32_u32(a.v[0]), vget_low_s16(pl)));
      a.v[1] = vreinterpretq_u32_s32(vaddw_high_s16(vreinterpretq_s32_u32(a.v[1]), pl));
      if constexpr (!Half) {
        const int16x8_t ph = vmlal_high_s8(vmull_high_s8(x0, w0), x1, w1);
        a.v[2] = vreinterpretq_u32_s32(vaddw_s16(vreinterpretq_s32_u32(a.v[2]), vget_low_s16(ph)));
        a.v[3] = vreinterpretq_u32_s32(vaddw_high_s16(vreinterpretq_s32_u32(a.v[3]), ph));
      }
    }
  }

  /// Tap rows a and b (a + 1) of an N-pixel group together: their 2 x 5 weight vectors (wa: row
  /// a's kx = 0, taps CR apart; row b's follow 5 CR later) into registers, then each input column
  /// i of both rows loaded once and paired (a, kx) with (b, kx) into the outputs j with
  /// kx = i - S j in 0..4.
  template <std::size_t S, std::size_t N, bool Off, bool Part, bool Half>
  [[gnu::always_inline]] static inline void row_pair(acc16 (&acc)[N], const std::int8_t* ra, const std::int8_t* rb,
                                                     std::size_t ch, const std::int8_t* wa, int16x8_t kv,
                                                     std::size_t rem) noexcept {
    int8x16_t w[10];
#pragma GCC unroll 10
    for (std::size_t t = 0; t < 10; ++t) w[t] = vld1q_s8(wa + CR * t);
#pragma GCC unroll 20
    for (std::size_t i = 0; i < (N - 1) * S + 5; ++i) {
      const int8x16_t xa = load_next<Part, Half>(ra, ch, rem), xb = load_next<Part, Half>(rb, ch, rem);
#pragma GCC unroll 8
      for (std::size_t j = 0; j < N; ++j) {
        if (i < S * j || i > S * j + 4) continue;
        const std::size_t kx = i - S * j;
        pair<Off, Half>(acc[j], xa, w[kx], xb, w[5 + kx], kv);
      }
      pin<N, Half>(acc);
    }
  }

  /// Tap row 4 alone: (4, 0) with (4, 1) when column S j + 1 arrives (the previous column kept),
  /// (4, 2) with (4, 3) at S j + 3, then (4, 4) as a single tap at S j + 4.
  template <std::size_t S, std::size_t N, bool Off, bool Part, bool Half>
  [[gnu::always_inline]] static inline void row_last(acc16 (&acc)[N], const std::int8_t* r, std::size_t ch,
                                                     const std::int8_t* wr, int16x8_t kv, std::size_t rem) noexcept {
    int8x16_t w[5];
#pragma GCC unroll 5
    for (std::size_t t = 0; t < 5; ++t) w[t] = vld1q_s8(wr + CR * t);
    int8x16_t prev = vdupq_n_s8(0);
#pragma GCC unroll 20
    for (std::size_t i = 0; i < (N - 1) * S + 5; ++i) {
      const int8x16_t x = load_next<Part, Half>(r, ch, rem);
#pragma GCC unroll 8
      for (std::size_t j = 0; j < N; ++j) {
        if (i == S * j + 1) pair<Off, Half>(acc[j], prev, w[0], x, w[1], kv);
        else if (i == S * j + 3) pair<Off, Half>(acc[j], prev, w[2], x, w[3], kv);
        else if (i == S * j + 4) dw_neon::single<Half>(acc[j], x, w[4]);
      }
      prev = x;
      pin<N, Half>(acc);
    }
  }

  /// N pixels x 16 channels (Half: 8) from tap rows r[0..4] at the group's first input pixel
  /// (pixel pitch `ch`); wt = the block's tap 0 weights, bc = bias' - 12 K, output at `o`.
  template <std::size_t S, std::size_t N, bool Off, bool PerTensor, bool Part, bool Half>
  [[gnu::always_inline]] static inline void group(const std::int8_t* const (&r)[5], std::size_t ch,
                                                  const std::int8_t* wt, const std::int32_t* bc, int16x8_t kv,
                                                  std::int8_t* o, std::size_t rem, const stage& st) noexcept {
    acc16 acc[N];
#pragma GCC unroll 8
    for (std::size_t j = 0; j < N; ++j)
#pragma GCC unroll 4
      for (std::size_t k = 0; k < (Half ? 2 : 4); ++k) acc[j].v[k] = vreinterpretq_u32_s32(vld1q_s32(bc + 4 * k));
    row_pair<S, N, Off, Part, Half>(acc, r[0], r[1], ch, wt, kv, rem);
    row_pair<S, N, Off, Part, Half>(acc, r[2], r[3], ch, wt + 10 * CR, kv, rem);
    row_last<S, N, Off, Part, Half>(acc, r[4], ch, wt + 20 * CR, kv, rem);
#pragma GCC unroll 8
    for (std::size_t j = 0; j < N; ++j) dw_neon::store_pixel<PerTensor, Part, Half>(acc[j], o + j * ch, rem, st);
  }

  /// Every pixel of one block's 16 channels (Part: rem < 16 of them; Half: at most 8 of them, on
  /// 8-lane arithmetic); rows at the slice's first channel, blk = the packed block.
  template <std::size_t S, bool PerTensor, bool Part, bool Half>
  static void slice(std::size_t ch, std::size_t pixels, const std::int8_t* const* rows, std::size_t c,
                    const std::int8_t* blk, std::int8_t* out, std::size_t rem, stage st) noexcept {
    const auto* bias = reinterpret_cast<const std::int32_t*>(blk);
    const std::int8_t* wt = blk + CR * sizeof(std::int32_t);
    alignas(16) std::int32_t bc[CR];
    std::memcpy(bc, bias, sizeof bc);
    alignas(16) std::int32_t mb[CR] = {}, sb[CR] = {};
    if constexpr (!PerTensor && Part) {  // the parameter arrays end at channel `channels` - 1
      std::memcpy(mb, st.mul, rem * sizeof(std::int32_t));
      std::memcpy(sb, st.sh, rem * sizeof(std::int32_t));
      st.mul = mb, st.sh = sb;
    }
    if (needs_offset(wt)) pixels_of<S, true, PerTensor, Part, Half>(ch, pixels, rows, c, wt, bc, out, rem, st);
    else pixels_of<S, false, PerTensor, Part, Half>(ch, pixels, rows, c, wt, bc, out, rem, st);
  }

  /// Whether some channel of the block has both weights of one of its 12 tap pairs at -128 (only
  /// then can a pair sum reach 32768 and need the offset); tap t's weights at wt + CR t.
  static bool needs_offset(const std::int8_t* wt) noexcept {
    const int8x16_t m128 = vdupq_n_s8(-128);
    auto is_min = [&](std::size_t t) noexcept { return vceqq_s8(vld1q_s8(wt + CR * t), m128); };
    uint8x16_t any = vandq_u8(is_min(20), is_min(21));
    any = vorrq_u8(any, vandq_u8(is_min(22), is_min(23)));
#pragma GCC unroll 5
    for (std::size_t kx = 0; kx < 5; ++kx) {
      any = vorrq_u8(any, vandq_u8(is_min(kx), is_min(5 + kx)));
      any = vorrq_u8(any, vandq_u8(is_min(10 + kx), is_min(15 + kx)));
    }
    return vmaxvq_u8(any) != 0;
  }

  /// The pixel groups of one slice (slice's arguments; bc = bias', less 12 K when Off).
  template <std::size_t S, bool Off, bool PerTensor, bool Part, bool Half>
  static void pixels_of(std::size_t ch, std::size_t pixels, const std::int8_t* const* rows, std::size_t c,
                        const std::int8_t* wt, std::int32_t* bc, std::int8_t* out, std::size_t rem,
                        const stage& st) noexcept {
    if constexpr (Off) {
      const int32x4_t corr = vdupq_n_s32(static_cast<std::int32_t>(0u - static_cast<std::uint32_t>(dw_neon::qs8_pair_k) * PAIRS));
#pragma GCC unroll 4
      for (std::size_t k = 0; k < 4; ++k) vst1q_s32(bc + 4 * k, vaddq_s32(vld1q_s32(bc + 4 * k), corr));
    }
    const int16x8_t kv = vdupq_n_s16(dw_neon::qs8_pair_k);
    for_each_pixel_group<NP>(pixels, [&](auto n, std::size_t p) {
      const std::size_t q = p * S * ch + c;
      const std::int8_t* const r[5] = {rows[0] + q, rows[1] + q, rows[2] + q, rows[3] + q, rows[4] + q};
      group<S, decltype(n)::value, Off, PerTensor, Part, Half>(r, ch, wt, bc, kv, out + p * ch, rem, st);
    });
  }

  template <std::size_t S, bool PerTensor>
  static void run_s(std::size_t channels, std::size_t pixels, const std::int8_t* const* rows, const void* packed,
                    std::int8_t* out, const stage& st0) noexcept {
    const auto* blk = static_cast<const std::int8_t*>(packed);
    for (std::size_t c = 0; c < channels; c += CR, blk += BLOCK) {
      stage st = st0;
      if constexpr (!PerTensor) st.mul += c, st.sh += c;
      const std::size_t rem = channels - c;
      if (rem >= CR) slice<S, PerTensor, false, false>(channels, pixels, rows, c, blk, out + c, CR, st);
      else if (rem == CR / 2) slice<S, PerTensor, false, true>(channels, pixels, rows, c, blk, out + c, rem, st);
      else if (rem < CR / 2) slice<S, PerTensor, true, true>(channels, pixels, rows, c, blk, out + c, rem, st);
      else slice<S, PerTensor, true, false>(channels, pixels, rows, c, blk, out + c, rem, st);
    }
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv5x5_qs8, tessera::arch::neon> {
  using type = tessera::kernels::dwconv5x5_qs8_2x16_neon_mlal;
};
