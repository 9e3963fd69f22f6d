/// @file dwconv5x5_qs8_4x2v_simd.hpp
/// int8 5x5 depthwise row kernel (op.hpp's 5x5 row contract: windows inside the input, stride 1
/// or 2 along x, direct addressing) with fused TFLite requantization on xsimd (the `simd` tag),
/// exact like the scalar kernel (wrapping int32 sums, TFLite's MBQM).
///
/// cr() = 2v = dwconv_qs8_2v_simd's (AVX2: 16 channels), the same packed blocks (`int32 bias'[16];
/// int8 w[25][16]`). Channel block outer, pixels inner; per block the 25 weights are widened and
/// paired once into a stack table that the VPMADDWDs read as memory operands (26 paired vectors do
/// not fit 16 ymm registers beside the sums).
///
/// x86-64 AVX2 (the tuned path): tiles of 4 output pixels x 16 channels, 8 int32 accumulators
/// (lo = channels 0-3, 8-11, hi = 4-7, 12-15, as in dwconv_qs8_2v_simd) live for the whole window.
/// Tap rows 0-1 and 2-3 pair down the column: each input column i of the two rows is loaded,
/// widened (VPMOVSXBW) and interleaved once, and serves every output j of the tile whose window
/// holds it (kx = i - S j) with (w[5 ky + kx], w[5 ky + 5 + kx]). Tap row 4 pairs along the row:
/// U_i = (r4[i], r4[i + 1]) serves output j with (w20, w21) at i = S j, (w22, w23) at S j + 2 and
/// (0, w24) at S j + 3, so no column past S j + 4 is read. Per output and 16 channels: 26 VPMADDWD
/// + 26 VPADDD (13 tap pairs x lo / hi); at stride 1 per tile 40 widening loads and 46 unpacks
/// (10 and 11.5 per output, against 25 and 26 on the unipass kernel, plus its 25 tap pointers).
/// Integer sums are exact in any order, so results are the scalar kernel's bits.
///
/// Epilogue: the unipass kernel's per block (dwconv_qs8_2v_simd::prepare_row_stage): the one-rounding
/// fast form where every shift is in [-23, -1] and |zero point| <= 255, else MBQM in int32 lanes.
///
/// Other ISAs (AArch64 Neon64): the unipass kernel over tap pointers built on the stack
/// (for_each_row_chunk<5>), as the scalar row kernel does.
/// Tails: pixels by 1-3 pixel tiles; the last block with nb < 16 channels loads each column's nb
/// inputs through a zeroed stack buffer and writes its nb outputs from one; per-channel parameters
/// are read only for channels < `channels`. Nothing outside rows[ky][0, ((pixels - 1) S + 5)
/// channels) is read.
/// ISA: x86-64 AVX2+FMA (xsimd fma3<avx2>) or AArch64 Neon (xsimd neon64).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SIMD
#error "dwconv5x5_qs8_4x2v_simd.hpp needs the simd tag (TESSERA_USE_XSIMD=1 and AVX2+FMA on x86-64 or Neon on AArch64)"
#endif

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>
#include <tessera/kernels/dwconv/simd/dwconv_qs8_2v_simd.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct dwconv5x5_qs8_4x2v_simd {
  using arch = tessera::arch::simd;
  static constexpr const char* name = "dwconv5x5_qs8_4x2v_simd";
  /// Channel tile of the packed weights (dwconv_qs8_2v_simd's).
  static std::size_t cr() noexcept { return dwconv_qs8_2v_simd::cr(); }

  /// `pixels` outputs of one row, 5x5 windows inside the input, stride 1 or 2 along x (op.hpp).
  template <class Q>
  static void run(std::size_t channels, std::size_t pixels, std::size_t stride, const std::int8_t* const* rows,
                  const void* packed, std::int8_t* out, const output_stage<Q>& p) noexcept {
#if defined(__x86_64__)
    if (pixels == 0) return;
    if (stride == 1) run_s<1>(channels, pixels, rows, packed, out, p);
    else run_s<2>(channels, pixels, rows, packed, out, p);
#else
    for_each_row_chunk<5>(channels, pixels, stride, rows,
                          [&](const std::int8_t* const* ptrs, std::size_t j0, std::size_t n) {
                            dwconv_qs8_2v_simd::run(channels, n, 25, ptrs, 25, packed, out + j0 * channels, channels, p);
                          });
#endif
  }

#if defined(__x86_64__)
 private:
  using i32 = tessera::arch::simd_ops::i32;
  using uni = dwconv_qs8_2v_simd;
  static constexpr std::size_t CR = 16;
  static constexpr std::size_t N = 4;  // output pixels per tile
  static_assert(CR == tessera::arch::simd_ops::i16::size, "the block is one int16 vector of channels");

  /// Per-block state: paired weights (lo / hi channel halves) and the output stage.
  struct block_consts {
    __m256i wp[2][5][2];  // tap-row pair q (rows 2q, 2q + 1): (w[10q + kx], w[10q + 5 + kx]), kx = 0..4
    __m256i w4[3][2];     // tap row 4 along the row: (w20, w21), (w22, w23), (0, w24)
    __m256i bias[2];
    uni::row_stage st;
  };

  // The lambdas below are inlined into one straight-line tile (else the sums live in memory).
#define TESSERA_DW5_INLINE __attribute__((always_inline))
  /// Calls f(integral_constant<I>) for I = B .. E - 1 (unrolled: the sums stay in registers).
  template <std::size_t B, std::size_t E, class F> [[gnu::always_inline]] static inline void static_for(F&& f) noexcept {
    if constexpr (B < E) {
      f(std::integral_constant<std::size_t, B>{});
      static_for<B + 1, E>(f);
    }
  }

  /// Loads and prepares block constants; returns whether the fast epilogue applies.
  template <class Q>
  static bool prepare(const std::uint8_t* blk, std::size_t c0, std::size_t nb, const Q& q, std::int32_t zp,
                      block_consts& k) noexcept {
    const auto* w = reinterpret_cast<const std::int8_t*>(blk + CR * sizeof(std::int32_t));
    __m256i wt[25];
    for (std::size_t t = 0; t < 25; ++t)
      wt[t] = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + CR * t)));
    for (std::size_t q2 = 0; q2 < 2; ++q2)
      for (std::size_t kx = 0; kx < 5; ++kx) {
        k.wp[q2][kx][0] = _mm256_unpacklo_epi16(wt[10 * q2 + kx], wt[10 * q2 + 5 + kx]);
        k.wp[q2][kx][1] = _mm256_unpackhi_epi16(wt[10 * q2 + kx], wt[10 * q2 + 5 + kx]);
      }
    const __m256i z = _mm256_setzero_si256();
    k.w4[0][0] = _mm256_unpacklo_epi16(wt[20], wt[21]), k.w4[0][1] = _mm256_unpackhi_epi16(wt[20], wt[21]);
    k.w4[1][0] = _mm256_unpacklo_epi16(wt[22], wt[23]), k.w4[1][1] = _mm256_unpackhi_epi16(wt[22], wt[23]);
    k.w4[2][0] = _mm256_unpacklo_epi16(z, wt[24]), k.w4[2][1] = _mm256_unpackhi_epi16(z, wt[24]);
    uni::split_lo_hi(reinterpret_cast<const std::int32_t*>(blk), k.bias[0], k.bias[1]);
    return uni::prepare_row_stage(c0, nb, q, zp, k.st);
  }

  /// Compiler scheduling fence (emits nothing) after each input column: loads are not moved across
  /// it and the sums are materialised at it. Without it both compilers hoist later columns' loads
  /// and unpacks and spill (clang 16: 59 ymm stores per block loop, g++ 12: 180).
  template <std::size_t n> [[gnu::always_inline]] static inline void fence(__m256i (&acc)[n][2]) noexcept {
    static_assert(n >= 1 && n <= N, "a fence for 1..4 pixels");
    __asm__ volatile("" : "+x"(acc[0][0]), "+x"(acc[0][1]) : : "memory");
    if constexpr (n >= 2) __asm__ volatile("" : "+x"(acc[1][0]), "+x"(acc[1][1]));
    if constexpr (n >= 3) __asm__ volatile("" : "+x"(acc[2][0]), "+x"(acc[2][1]));
    if constexpr (n >= 4) __asm__ volatile("" : "+x"(acc[3][0]), "+x"(acc[3][1]));
  }

  [[gnu::always_inline]] static inline __m256i madd(__m256i acc, __m256i x, const __m256i& w) noexcept {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(x, w));
  }

  /// Outputs [0, n) of a tile whose first window starts at r[ky] (16 channels, Tail: nb of them).
  template <std::size_t S, std::size_t n, bool Fast, bool Tail>
  [[gnu::always_inline]] static inline void tile(std::size_t ch, const std::int8_t* const (&r)[5], std::int8_t* o,
                                                 std::size_t nb, const block_consts& k, i32 zp, i32 lo, i32 hi,
                                                 __m128i lo8, __m128i hi8) noexcept {
    __m256i acc[n][2];
    static_for<0, n>([&](auto j) TESSERA_DW5_INLINE { acc[j][0] = k.bias[0], acc[j][1] = k.bias[1]; });
    constexpr std::size_t cols = (n - 1) * S + 5;
    static_for<0, 2>([&](auto q2c) TESSERA_DW5_INLINE {  // tap rows 2 q2 and 2 q2 + 1, paired down the column
      constexpr std::size_t q2 = decltype(q2c)::value;
      const std::int8_t* p0 = r[2 * q2];
      const std::int8_t* p1 = r[2 * q2 + 1];
      static_for<0, cols>([&](auto ic) TESSERA_DW5_INLINE {
        constexpr std::size_t i = decltype(ic)::value;
        const __m256i x0 = uni::row_load<Tail>(p0 + i * ch, nb), x1 = uni::row_load<Tail>(p1 + i * ch, nb);
        const __m256i c_lo = _mm256_unpacklo_epi16(x0, x1), c_hi = _mm256_unpackhi_epi16(x0, x1);
        static_for<0, n>([&](auto jc) TESSERA_DW5_INLINE {
          constexpr std::size_t j = decltype(jc)::value;
          constexpr std::size_t kx = i - S * j;  // wraps (large) when i < S j
          if constexpr (i >= S * j && kx < 5) {
            acc[j][0] = madd(acc[j][0], c_lo, k.wp[q2][kx][0]);
            acc[j][1] = madd(acc[j][1], c_hi, k.wp[q2][kx][1]);
          }
        });
        fence(acc);
      });
    });
    // Tap row 4: U_i = (r4[i], r4[i + 1]), i = 0 .. (n - 1) S + 3.
    const std::int8_t* p4 = r[4];
    __m256i x = uni::row_load<Tail>(p4, nb);
    static_for<0, cols - 1>([&](auto ic) TESSERA_DW5_INLINE {
      constexpr std::size_t i = decltype(ic)::value;
      const __m256i xn = uni::row_load<Tail>(p4 + (i + 1) * ch, nb);
      const __m256i u_lo = _mm256_unpacklo_epi16(x, xn), u_hi = _mm256_unpackhi_epi16(x, xn);
      x = xn;
      static_for<0, n>([&](auto jc) TESSERA_DW5_INLINE {
        constexpr std::size_t j = decltype(jc)::value;
        if constexpr (i >= S * j) {
          constexpr std::size_t d = i - S * j;
          if constexpr (d == 0 || d == 2 || d == 3) {
            constexpr std::size_t wi = d == 0 ? 0 : d - 1;
            acc[j][0] = madd(acc[j][0], u_lo, k.w4[wi][0]);
            acc[j][1] = madd(acc[j][1], u_hi, k.w4[wi][1]);
          }
        }
      });
      fence(acc);
    });
    static_for<0, n>([&](auto j) TESSERA_DW5_INLINE {
      uni::row_store<Tail>(o + j * ch, uni::row_requant<Fast>(acc[j][0], acc[j][1], k.st, zp, lo, hi, lo8, hi8), nb);
    });
  }

  /// One block (16 channels, Tail: nb of them) of every pixel.
  template <std::size_t S, bool Fast, bool Tail>
  static void block(std::size_t ch, std::size_t pixels, const std::int8_t* const* rows, std::size_t c0, std::int8_t* o,
                    std::size_t nb, const block_consts& k, i32 zp, i32 lo, i32 hi, __m128i lo8,
                    __m128i hi8) noexcept {
    for_each_pixel_group<N>(pixels, [&](auto n, std::size_t p) TESSERA_DW5_INLINE {
      const std::size_t off = p * S * ch + c0;
      const std::int8_t* const r[5] = {rows[0] + off, rows[1] + off, rows[2] + off, rows[3] + off, rows[4] + off};
      tile<S, decltype(n)::value, Fast, Tail>(ch, r, o + p * ch, nb, k, zp, lo, hi, lo8, hi8);
    });
  }

  template <std::size_t S, class Q>
  static void run_s(std::size_t channels, std::size_t pixels, const std::int8_t* const* rows, const void* packed,
                    std::int8_t* out, const output_stage<Q>& p) noexcept {
    // Parameters in locals: the int8 stores may alias anything, so p's members would be reloaded.
    const i32 zp(p.zero_point), lo(p.act_min), hi(p.act_max);
    const __m128i lo8 = _mm_set1_epi8(static_cast<char>(p.act_min)), hi8 = _mm_set1_epi8(static_cast<char>(p.act_max));
    const std::int32_t zps = p.zero_point;
    const auto q = p.q;
    const std::int8_t* const r[5] = {rows[0], rows[1], rows[2], rows[3], rows[4]};
    const std::size_t bytes = packed_dw_block_bytes(CR, 25, sizeof(std::int32_t), sizeof(std::int8_t));
    const auto* blk = static_cast<const std::uint8_t*>(packed);
    for (std::size_t c0 = 0; c0 < channels; c0 += CR, blk += bytes) {
      const std::size_t nb = channels - c0 < CR ? channels - c0 : CR;
      block_consts k;
      const bool fast = prepare(blk, c0, nb, q, zps, k);
      if (nb == CR) {
        if (fast) block<S, true, false>(channels, pixels, r, c0, out + c0, nb, k, zp, lo, hi, lo8, hi8);
        else block<S, false, false>(channels, pixels, r, c0, out + c0, nb, k, zp, lo, hi, lo8, hi8);
      } else {
        if (fast) block<S, true, true>(channels, pixels, r, c0, out + c0, nb, k, zp, lo, hi, lo8, hi8);
        else block<S, false, true>(channels, pixels, r, c0, out + c0, nb, k, zp, lo, hi, lo8, hi8);
      }
    }
  }
#undef TESSERA_DW5_INLINE
#endif
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv5x5_qs8, tessera::arch::simd> {
  using type = tessera::kernels::dwconv5x5_qs8_4x2v_simd;
};
