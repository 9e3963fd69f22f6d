/// @file dwconv3x3_f32_6x2v_avx512_fma.hpp
/// fp32 3x3 depthwise row kernel (op.hpp's row contract: windows inside the input, stride 1 or 2
/// along x, direct addressing) on x86-64 AVX-512F (the `avx512_vnni` tag) with FMA.
///
/// cr() = 32, dwconv_f32_3x2v_avx512_fma's packed blocks (float bias[32], float w[9][32]).
/// Register tile: N neighbouring output pixels x one whole block (2 zmm per pixel, 2 N
/// accumulators), the weights as FMA memory operands; each tap row's input columns are loaded
/// once (2 zmm, one cache line each) for the up to 3 outputs that use them: per 6 pixels at
/// stride 1, 48 input loads for 108 FMAs (the unipass kernel: 216 loads). N = 6 at stride 1, 4 at
/// stride 2. Groups of pixels outer, blocks inner; 1..N-1 remaining pixels take the same code with
/// a smaller tile (op.hpp's for_each_pixel_group).
/// Measured on the Zen 4 VM (bench_conv, whole operator, clang 16): this tile and one holding the
/// 18 weight vectors in registers ran within 2% on every layer (the latter's register pressure
/// makes the compiler reload inputs); 4 pixels lost 13% and 2 lost 40% at 112x112x32; one-vector
/// tiles (16 channels, 9 weights in registers, up to 12 pixels) lost 3-10%, and 35% at 512
/// channels. At pixel pitches that are multiples of 2 KiB the tile's input columns share two L1
/// sets whatever its shape (14x14x512: 37 GFLOP/s against 52 at 544 channels); the operator's
/// padded-row cache, whose rows it staggers across sets, removes that (50 GFLOP/s).
/// Results: each accumulator starts at the bias and takes the nine taps in ky, kx order, one FMA
/// each: dwconv_f32_scalar's chain, bit for bit (the clamp uses max/min: -0.0 may become +0.0).
/// Tails: the last block's channels % 32 run the same tile with masked loads and stores; nothing
/// outside the rows' windows or the output pixels is accessed (the packed block is read whole).
/// ISA: x86-64 AVX-512F (`-march=x86-64-v4 -mavx512vnni`, the avx512_vnni tag's flags).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_AVX512_VNNI
#error "dwconv3x3_f32_6x2v_avx512_fma.hpp needs x86-64 AVX-512 (TESSERA_HAS_AVX512_VNNI; e.g. -march=x86-64-v4 -mavx512vnni)"
#endif

#include <cstddef>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/avx512/dwconv_f32_3x2v_avx512_fma.hpp>
#include <tessera/kernels/dwconv/op.hpp>

#include <tessera/arch/avx512/intrinsics_begin.hpp>  // until intrinsics_end.hpp below

namespace tessera::kernels {

struct dwconv3x3_f32_6x2v_avx512_fma {
  using arch = tessera::arch::avx512_vnni;
  static constexpr const char* name = "dwconv3x3_f32_6x2v_avx512_fma";
  /// Channel tile of the packed weights (dwconv_f32_3x2v_avx512_fma's).
  static std::size_t cr() noexcept { return CR; }

  /// `pixels` outputs of one row, windows inside the input, stride 1 or 2 along x (op.hpp).
  static void run(std::size_t channels, std::size_t pixels, std::size_t stride, const float* r0, const float* r1,
                  const float* r2, const void* packed, float* out, const f32_clamp& clamp) noexcept {
    if (stride == 1) run_row<1, N1>(channels, pixels, r0, r1, r2, packed, out, clamp);
    else run_row<2, N2>(channels, pixels, r0, r1, r2, packed, out, clamp);
  }

 private:
  static constexpr std::size_t L = 16, CR = 2 * L, BLOCK = CR * 10;  // lanes, channels, floats per block
  static constexpr std::size_t N1 = 6, N2 = 4;                         // pixels per tile at stride 1, 2

  template <std::size_t S, std::size_t N>
  static void run_row(std::size_t ch, std::size_t pixels, const float* r0, const float* r1, const float* r2,
                      const void* packed, float* out, const f32_clamp& clamp) noexcept {
    const __m512 lo = _mm512_set1_ps(clamp.min), hi = _mm512_set1_ps(clamp.max);
    const std::size_t cfull = ch / CR * CR, r = ch - cfull;
    const auto m0 = static_cast<__mmask16>(r >= L ? 0xFFFFu : (1u << r) - 1);
    const auto m1 = static_cast<__mmask16>(r > L ? (1u << (r - L)) - 1 : 0u);
    for_each_pixel_group<N>(pixels, [&](auto n, std::size_t p) {
      constexpr std::size_t n_ = decltype(n)::value;
      const std::size_t q = p * S * ch;
      const float* blk = static_cast<const float*>(packed);
      std::size_t c = 0;
      for (; c < cfull; c += CR, blk += BLOCK)
        tile<S, n_, false>(r0 + q + c, r1 + q + c, r2 + q + c, ch, blk, out + p * ch + c, lo, hi, 0, 0);
      if (m0 != 0) tile<S, n_, true>(r0 + q + c, r1 + q + c, r2 + q + c, ch, blk, out + p * ch + c, lo, hi, m0, m1);
    });
  }

  template <bool Masked> [[gnu::always_inline]] static __m512 load(const float* p, __mmask16 m) noexcept {
    if constexpr (Masked) return _mm512_maskz_loadu_ps(m, p);
    else return _mm512_loadu_ps(p);
  }
  template <bool Masked> [[gnu::always_inline]] static void store(float* p, __mmask16 m, __m512 v) noexcept {
    if constexpr (Masked) _mm512_mask_storeu_ps(p, m, v);
    else _mm512_storeu_ps(p, v);
  }

  /// N pixels x the block at w (weights as FMA memory operands): rows r0..r2 at the tile's first
  /// input column, pixel pitch ch; masks m0 / m1 for the block's two vectors.
  template <std::size_t S, std::size_t N, bool Masked>
  [[gnu::always_inline]] static inline void tile(const float* r0, const float* r1, const float* r2, std::size_t ch,
                                                  const float* w, float* o, const __m512 lo, const __m512 hi,
                                                  __mmask16 m0, __mmask16 m1) noexcept {
    __m512 a0[N], a1[N];
    const __m512 b0 = _mm512_loadu_ps(w), b1 = _mm512_loadu_ps(w + L);
#pragma GCC unroll 16
    for (std::size_t j = 0; j < N; ++j) a0[j] = b0, a1[j] = b1;
#pragma GCC unroll 3
    for (std::size_t ky = 0; ky < 3; ++ky) {
      const float* x = ky == 0 ? r0 : ky == 1 ? r1 : r2;
#pragma GCC unroll 40
      for (std::size_t i = 0; i < (N - 1) * S + 3; ++i) {
        const __m512 x0 = load<Masked>(x + i * ch, m0), x1 = load<Masked>(x + i * ch + L, m1);
#pragma GCC unroll 16
        for (std::size_t j = 0; j < N; ++j) {
          if (i < S * j || i > S * j + 2) continue;
          const float* wt = w + CR * (ky * 3 + (i - S * j) + 1);
          a0[j] = _mm512_fmadd_ps(x0, _mm512_loadu_ps(wt), a0[j]);
          a1[j] = _mm512_fmadd_ps(x1, _mm512_loadu_ps(wt + L), a1[j]);
        }
      }
    }
#pragma GCC unroll 16
    for (std::size_t j = 0; j < N; ++j) {
      store<Masked>(o + j * ch, m0, _mm512_min_ps(_mm512_max_ps(a0[j], lo), hi));
      store<Masked>(o + j * ch + L, m1, _mm512_min_ps(_mm512_max_ps(a1[j], lo), hi));
    }
  }

};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv3x3_f32, tessera::arch::avx512_vnni> {
  using type = tessera::kernels::dwconv3x3_f32_6x2v_avx512_fma;
};

#include <tessera/arch/avx512/intrinsics_end.hpp>
