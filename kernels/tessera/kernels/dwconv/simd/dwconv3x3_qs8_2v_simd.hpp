/// @file dwconv3x3_qs8_2v_simd.hpp
/// int8 3x3 depthwise row kernel (op.hpp's row contract: windows inside the input, stride 1 or 2
/// along x, direct addressing) with fused TFLite requantization on xsimd (the `simd` tag), exact
/// like the scalar kernel (wrapping int32 sums, TFLite's MBQM).
///
/// cr() = 2v = dwconv_qs8_2v_simd's (AVX2: 16 channels), the same packed blocks (`int32 bias'[16];
/// int8 w[9][16]`). Channel block outer, pixels inner: per block the weights are widened and paired
/// once and stay in registers or on the stack for the whole row.
///
/// x86-64 AVX2 (the tuned path): VPMADDWD on int16 tap pairs interleaved per channel (lo = channels
/// 0-3, 8-11, hi = 4-7, 12-15, as in dwconv_qs8_2v_simd). Tap rows 0 and 1 pair down the column:
/// (r0[i], r1[i]) with (w[kx], w[3 + kx]); each input column i is loaded, widened (VPMOVSXBW) and
/// interleaved once and serves every output whose window holds it (stride 1: three, kx = i - j;
/// stride 2: one or two). Tap row 2 pairs along the row: U_i = (r2[i], r2[i + 1]) serves output j
/// with (w6, w7) at i = S j and with (0, w8) (stride 1, i = j + 1) or (w8, 0) (stride 2, i = S j + 2).
/// Per output and 16 channels: 10 VPMADDWD + 10 VPADDD (9 full pairs' worth), and at stride 1 three
/// widening loads and four unpacks (stride 2: six and six).
///
/// Epilogue: the unipass kernel's, chosen per block. When every channel of the block has shift in
/// [-23, -1] and |zero point| <= 255 (real TFLite depthwise layers), fast_requant_lo_hi: one int64
/// rounding instead of MBQM's two: with P = acc * m (exact VPMULDQ product) and e = -shift,
/// MBQM(acc) + zp == floor((P + C) / 2^(31+e)) with C = 2^30 + 2^(e+30) + zp 2^(31+e) - [P < 0] 2^31
/// (proof at dwconv_qs8_2v_simd::fast_requant), then saturating packs and the clamp in int8.
/// Otherwise requant_lo_hi (MBQM in int32 lanes).
///
/// Other ISAs (AArch64 Neon64): the unipass kernel over tap pointers built on the stack
/// (for_each_row_chunk), as the scalar row kernel does.
/// Tails: the last block with nb < 16 channels loads each column's nb inputs through a zeroed stack
/// bounce buffer and writes its nb outputs from one; per-channel parameters are read only for
/// channels < `channels`. Nothing outside r_ky[0, ((pixels - 1) S + 3) channels) is read.
/// ISA: x86-64 AVX2+FMA (xsimd fma3<avx2>) or AArch64 Neon (xsimd neon64).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SIMD
#error "dwconv3x3_qs8_2v_simd.hpp needs the simd tag (TESSERA_USE_XSIMD=1 and AVX2+FMA on x86-64 or Neon on AArch64)"
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <tessera/arch/simd/xsimd_bridge.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>
#include <tessera/kernels/dwconv/simd/dwconv_qs8_2v_simd.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct dwconv3x3_qs8_2v_simd {
  using arch = tessera::arch::simd;
  static constexpr const char* name = "dwconv3x3_qs8_2v_simd";
  /// Channel tile of the packed weights (dwconv_qs8_2v_simd's).
  static std::size_t cr() noexcept { return dwconv_qs8_2v_simd::cr(); }

  /// `pixels` outputs of one row, windows inside the input, stride 1 or 2 along x (op.hpp).
  template <class Q>
  static void run(std::size_t channels, std::size_t pixels, std::size_t stride, const std::int8_t* r0,
                  const std::int8_t* r1, const std::int8_t* r2, const void* packed, std::int8_t* out,
                  const output_stage<Q>& p) noexcept {
#if defined(__x86_64__)
    run_x86(channels, pixels, stride, r0, r1, r2, packed, out, p);
#else
    for_each_row_chunk(channels, pixels, stride, r0, r1, r2,
                       [&](const std::int8_t* const* ptrs, std::size_t j0, std::size_t n) {
                         dwconv_qs8_2v_simd::run(channels, n, 9, ptrs, 9, packed, out + j0 * channels, channels, p);
                       });
#endif
  }

#if defined(__x86_64__)
 private:
  using i32 = tessera::arch::simd_ops::i32;
  static constexpr std::size_t CR = 16;
  static_assert(CR == tessera::arch::simd_ops::i16::size, "the block is one int16 vector of channels");
  using uni = dwconv_qs8_2v_simd;

  /// Per-block state: paired weights (lo / hi channel halves) and the epilogue's parameters.
  struct block_consts {
    __m256i w01[3][2];  // (w[kx], w[3 + kx]) interleaved, kx = 0..2
    __m256i w67[2];     // (w6, w7)
    __m256i w8[2];      // (0, w8) at stride 1, (w8, 0) at stride 2
    __m256i bias[2];
    uni::row_stage st;  // output stage (fast or MBQM)
  };

  /// Loads and prepares block constants; returns whether the fast epilogue applies.
  template <std::size_t S, class Q>
  static bool prepare(const std::uint8_t* blk, std::size_t c0, std::size_t nb, const Q& q, std::int32_t zp,
                      block_consts& k) noexcept {
    const auto* w = reinterpret_cast<const std::int8_t*>(blk + CR * sizeof(std::int32_t));
    __m256i wt[9];
    for (std::size_t t = 0; t < 9; ++t)
      wt[t] = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + CR * t)));
    for (std::size_t kx = 0; kx < 3; ++kx) {
      k.w01[kx][0] = _mm256_unpacklo_epi16(wt[kx], wt[3 + kx]);
      k.w01[kx][1] = _mm256_unpackhi_epi16(wt[kx], wt[3 + kx]);
    }
    k.w67[0] = _mm256_unpacklo_epi16(wt[6], wt[7]);
    k.w67[1] = _mm256_unpackhi_epi16(wt[6], wt[7]);
    const __m256i z = _mm256_setzero_si256();
    k.w8[0] = S == 1 ? _mm256_unpacklo_epi16(z, wt[8]) : _mm256_unpacklo_epi16(wt[8], z);
    k.w8[1] = S == 1 ? _mm256_unpackhi_epi16(z, wt[8]) : _mm256_unpackhi_epi16(wt[8], z);
    uni::split_lo_hi(reinterpret_cast<const std::int32_t*>(blk), k.bias[0], k.bias[1]);
    return uni::prepare_row_stage(c0, nb, q, zp, k.st);
  }

  [[gnu::always_inline]] static inline __m256i madd(__m256i acc, __m256i x, __m256i w) noexcept {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(x, w));
  }

  /// One block (16 channels, Tail: nb of them) of every pixel.
  template <std::size_t S, bool Fast, bool Tail>
  static void block(std::size_t ch, std::size_t pixels, const std::int8_t* p0, const std::int8_t* p1,
                    const std::int8_t* p2, std::int8_t* o, std::size_t nb, const block_consts& k, i32 zp, i32 lo,
                    i32 hi, __m128i lo8, __m128i hi8) noexcept {
    // Column pair of tap rows 0 and 1 at the pointers, interleaved (lo, hi); advances them.
    auto col01 = [&](__m256i& c_lo, __m256i& c_hi) {
      const __m256i x0 = uni::row_load<Tail>(p0, nb), x1 = uni::row_load<Tail>(p1, nb);
      p0 += ch, p1 += ch;
      c_lo = _mm256_unpacklo_epi16(x0, x1);
      c_hi = _mm256_unpackhi_epi16(x0, x1);
    };
    auto col2 = [&]() {
      const __m256i x = uni::row_load<Tail>(p2, nb);
      p2 += ch;
      return x;
    };
    auto emit = [&](__m256i a_lo, __m256i a_hi) {
      uni::row_store<Tail>(o, uni::row_requant<Fast>(a_lo, a_hi, k.st, zp, lo, hi, lo8, hi8), nb);
      o += ch;
    };
    if constexpr (S == 1) {
      // Column i completes output i - 2, continues i - 1, starts i. U = (r2[i - 1], r2[i]).
      __m256i c_lo, c_hi;
      col01(c_lo, c_hi);
      __m256i x2p = col2();
      __m256i a_lo = madd(k.bias[0], c_lo, k.w01[0][0]), a_hi = madd(k.bias[1], c_hi, k.w01[0][1]);
      col01(c_lo, c_hi);
      __m256i x2c = col2();
      __m256i u_lo = _mm256_unpacklo_epi16(x2p, x2c), u_hi = _mm256_unpackhi_epi16(x2p, x2c);
      a_lo = madd(madd(a_lo, c_lo, k.w01[1][0]), u_lo, k.w67[0]);
      a_hi = madd(madd(a_hi, c_hi, k.w01[1][1]), u_hi, k.w67[1]);
      __m256i b_lo = madd(k.bias[0], c_lo, k.w01[0][0]), b_hi = madd(k.bias[1], c_hi, k.w01[0][1]);
      x2p = x2c;
      // Steady state: columns 2 .. pixels - 1 (each starts an output).
      for (std::size_t i = 2; i < pixels; ++i) {
        col01(c_lo, c_hi);
        x2c = col2();
        u_lo = _mm256_unpacklo_epi16(x2p, x2c), u_hi = _mm256_unpackhi_epi16(x2p, x2c);
        x2p = x2c;
        const __m256i n_lo = madd(k.bias[0], c_lo, k.w01[0][0]), n_hi = madd(k.bias[1], c_hi, k.w01[0][1]);
        a_lo = madd(madd(a_lo, c_lo, k.w01[2][0]), u_lo, k.w8[0]);
        a_hi = madd(madd(a_hi, c_hi, k.w01[2][1]), u_hi, k.w8[1]);
        b_lo = madd(madd(b_lo, c_lo, k.w01[1][0]), u_lo, k.w67[0]);
        b_hi = madd(madd(b_hi, c_hi, k.w01[1][1]), u_hi, k.w67[1]);
        emit(a_lo, a_hi);
        a_lo = b_lo, a_hi = b_hi, b_lo = n_lo, b_hi = n_hi;
      }
      // Column pixels (pixels >= 2: completes pixels - 2, continues pixels - 1) and pixels + 1.
      col01(c_lo, c_hi);
      x2c = col2();
      u_lo = _mm256_unpacklo_epi16(x2p, x2c), u_hi = _mm256_unpackhi_epi16(x2p, x2c);
      x2p = x2c;
      a_lo = madd(madd(a_lo, c_lo, k.w01[2][0]), u_lo, k.w8[0]);
      a_hi = madd(madd(a_hi, c_hi, k.w01[2][1]), u_hi, k.w8[1]);
      if (pixels >= 2) {
        b_lo = madd(madd(b_lo, c_lo, k.w01[1][0]), u_lo, k.w67[0]);
        b_hi = madd(madd(b_hi, c_hi, k.w01[1][1]), u_hi, k.w67[1]);
        emit(a_lo, a_hi);
        col01(c_lo, c_hi);
        x2c = col2();
        u_lo = _mm256_unpacklo_epi16(x2p, x2c), u_hi = _mm256_unpackhi_epi16(x2p, x2c);
        b_lo = madd(madd(b_lo, c_lo, k.w01[2][0]), u_lo, k.w8[0]);
        b_hi = madd(madd(b_hi, c_hi, k.w01[2][1]), u_hi, k.w8[1]);
        emit(b_lo, b_hi);
      } else {
        emit(a_lo, a_hi);
      }
    } else {
      // Output j: columns 2j (carried), 2j + 1, 2j + 2; U_j = (r2[2j], r2[2j + 1]) carried, U_j+1 new.
      __m256i c_lo, c_hi;
      col01(c_lo, c_hi);
      __m256i x2a = col2();
      __m256i x2b = col2();
      __m256i u_lo = _mm256_unpacklo_epi16(x2a, x2b), u_hi = _mm256_unpackhi_epi16(x2a, x2b);
      for (std::size_t j = 0; j < pixels; ++j) {
        __m256i a_lo = madd(madd(k.bias[0], c_lo, k.w01[0][0]), u_lo, k.w67[0]);
        __m256i a_hi = madd(madd(k.bias[1], c_hi, k.w01[0][1]), u_hi, k.w67[1]);
        col01(c_lo, c_hi);
        a_lo = madd(a_lo, c_lo, k.w01[1][0]), a_hi = madd(a_hi, c_hi, k.w01[1][1]);
        col01(c_lo, c_hi);  // column 2j + 2, carried to output j + 1
        a_lo = madd(a_lo, c_lo, k.w01[2][0]), a_hi = madd(a_hi, c_hi, k.w01[2][1]);
        x2a = col2();                           // r2[2j + 2]
        x2b = j + 1 < pixels ? col2() : x2a;    // r2[2j + 3] (its weight is 0 for output j)
        u_lo = _mm256_unpacklo_epi16(x2a, x2b), u_hi = _mm256_unpackhi_epi16(x2a, x2b);
        a_lo = madd(a_lo, u_lo, k.w8[0]), a_hi = madd(a_hi, u_hi, k.w8[1]);
        emit(a_lo, a_hi);
      }
    }
  }

  template <std::size_t S, class Q>
  static void run_s(std::size_t channels, std::size_t pixels, const std::int8_t* r0, const std::int8_t* r1,
                    const std::int8_t* r2, const void* packed, std::int8_t* out, const output_stage<Q>& p) noexcept {
    // Parameters in locals: the int8 stores may alias anything, so p's members would be reloaded.
    const i32 zp(p.zero_point), lo(p.act_min), hi(p.act_max);
    const __m128i lo8 = _mm_set1_epi8(static_cast<char>(p.act_min)), hi8 = _mm_set1_epi8(static_cast<char>(p.act_max));
    const std::int32_t zps = p.zero_point;
    const auto q = p.q;
    const std::size_t bytes = packed_dw_block_bytes(CR, 9, sizeof(std::int32_t), sizeof(std::int8_t));
    const auto* blk = static_cast<const std::uint8_t*>(packed);
    for (std::size_t c0 = 0; c0 < channels; c0 += CR, blk += bytes) {
      const std::size_t nb = channels - c0 < CR ? channels - c0 : CR;
      block_consts k;
      const bool fast = prepare<S>(blk, c0, nb, q, zps, k);
      if (nb == CR) {
        if (fast) block<S, true, false>(channels, pixels, r0 + c0, r1 + c0, r2 + c0, out + c0, nb, k, zp, lo, hi, lo8, hi8);
        else block<S, false, false>(channels, pixels, r0 + c0, r1 + c0, r2 + c0, out + c0, nb, k, zp, lo, hi, lo8, hi8);
      } else {
        if (fast) block<S, true, true>(channels, pixels, r0 + c0, r1 + c0, r2 + c0, out + c0, nb, k, zp, lo, hi, lo8, hi8);
        else block<S, false, true>(channels, pixels, r0 + c0, r1 + c0, r2 + c0, out + c0, nb, k, zp, lo, hi, lo8, hi8);
      }
    }
  }

  template <class Q>
  static void run_x86(std::size_t channels, std::size_t pixels, std::size_t stride, const std::int8_t* r0,
                      const std::int8_t* r1, const std::int8_t* r2, const void* packed, std::int8_t* out,
                      const output_stage<Q>& p) noexcept {
    if (pixels == 0) return;
    if (stride == 1) run_s<1>(channels, pixels, r0, r1, r2, packed, out, p);
    else run_s<2>(channels, pixels, r0, r1, r2, packed, out, p);
  }
#endif
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv3x3_qs8, tessera::arch::simd> {
  using type = tessera::kernels::dwconv3x3_qs8_2v_simd;
};
