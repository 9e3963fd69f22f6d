/// @file dwconv5x5_f32_8x1v_simd_fma.hpp
/// fp32 5x5 depthwise row kernel (op.hpp's 5x5 row contract: windows inside the input, stride 1
/// or 2 along x, direct addressing) on xsimd (the `simd` tag) with FMA; the simd tag's 5x5 row
/// kernel.
///
/// cr() = 2v, v = fp32 lanes of the xsimd arch (AVX2: 16, Neon64: 8): the packed blocks of
/// dwconv_f32_3x2v_simd_fma with ks = 25 (float bias[2v], float w[25][2v]).
/// Register tile: N neighbouring output pixels x one v-lane vector (N = 8 at stride 1 and 2).
/// The N accumulators stay in registers for the whole window; tap rows are the outer loop, and
/// each takes its 5 weight vectors into registers (AVX2: N + 5 + 1 input = 14 ymm) and loads each
/// of its input columns once for the up to 5 outputs that use it: per tap row, 5 weight loads and
/// N + 4 input loads (stride 2: 2 N + 3) for 5 N FMAs, where the unipass kernel loads a tap
/// pointer, an input vector and a weight per FMA pair. Groups of pixels outer, the two v-lane
/// halves of every block in turn inner, so the two read the same input lines back to back.
/// Results: every accumulator starts at the bias and takes the 25 taps in ky, kx order, one fma
/// each (tap rows outer, columns in increasing kx within a row): the scalar kernel's chain, so
/// results equal dwconv_f32_scalar's bit for bit, except that the clamp uses max/min, which may
/// return +0.0 where the scalar's comparisons keep -0.0.
/// Tails: 1..N-1 remaining pixels take the same code with a smaller tile; channels % 2v in the
/// last block: one v-lane tile, then 1..v-1 channels in scalar code with std::fma (same chain).
/// Nothing outside the rows' windows or the output pixels is accessed (the packed block is read
/// whole).
/// ISA: x86-64 AVX2+FMA (xsimd fma3<avx2>) or AArch64 Neon (xsimd neon64).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SIMD
#error "dwconv5x5_f32_8x1v_simd_fma.hpp needs the simd tag (TESSERA_USE_XSIMD=1 and AVX2+FMA on x86-64 or Neon on AArch64)"
#endif

#include <cmath>
#include <cstddef>
#include <tessera/arch/simd/xsimd_bridge.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>
#include <tessera/kernels/dwconv/simd/dwconv_f32_3x2v_simd_fma.hpp>

namespace tessera::kernels {

struct dwconv5x5_f32_8x1v_simd_fma {
  using arch = tessera::arch::simd;
  static constexpr const char* name = "dwconv5x5_f32_8x1v_simd_fma";
  /// Channel tile of the packed weights (dwconv_f32_3x2v_simd_fma's).
  static std::size_t cr() noexcept { return dwconv_f32_3x2v_simd_fma::cr(); }

  /// `pixels` outputs of one row, 5x5 windows inside the input, stride 1 or 2 along x (op.hpp).
  static void run(std::size_t channels, std::size_t pixels, std::size_t stride, const float* const* rows,
                  const void* packed, float* out, const f32_clamp& clamp) noexcept {
    if (stride == 1) run_row<1, N1>(channels, pixels, rows, static_cast<const float*>(packed), out, clamp);
    else run_row<2, N2>(channels, pixels, rows, static_cast<const float*>(packed), out, clamp);
  }

 private:
  using f32 = xsimd::batch<float, tessera::arch::simd_arch>;
  static constexpr std::size_t V = f32::size;
  static constexpr std::size_t CR = 2 * V;
  static constexpr std::size_t BLOCK = CR * 26;  ///< floats per packed block: bias[2v] + w[25][2v]
  static constexpr std::size_t N1 = 8, N2 = 8;   ///< pixels per tile at stride 1, 2

  /// N pixels x v channels: tap rows x[0..4] at the tile's first input column (pixel pitch ch),
  /// w at the vector's lanes of the block's bias (tap t at w + CR * (t + 1)), output at o.
  template <std::size_t S, std::size_t N>
  [[gnu::always_inline]] static inline void tile(const float* const* x, std::size_t ch, const float* w, float* o,
                                                 const f32 lo, const f32 hi) noexcept {
    f32 acc[N];
    const f32 b = f32::load_unaligned(w);
#pragma GCC unroll 8
    for (std::size_t j = 0; j < N; ++j) acc[j] = b;
#pragma GCC unroll 1
    for (std::size_t ky = 0; ky < 5; ++ky) {
      f32 wv[5];
#pragma GCC unroll 5
      for (std::size_t kx = 0; kx < 5; ++kx) wv[kx] = f32::load_unaligned(w + CR * (ky * 5 + kx + 1));
      const float* xr = x[ky];
#pragma GCC unroll 20
      for (std::size_t i = 0; i < (N - 1) * S + 5; ++i) {
        const f32 xi = f32::load_unaligned(xr + i * ch);
#pragma GCC unroll 8
        for (std::size_t j = 0; j < N; ++j) {
          if (i < S * j || i > S * j + 4) continue;
          acc[j] = xsimd::fma(xi, wv[i - S * j], acc[j]);
        }
      }
    }
#pragma GCC unroll 8
    for (std::size_t j = 0; j < N; ++j) xsimd::min(xsimd::max(acc[j], lo), hi).store_unaligned(o + j * ch);
  }

  /// N pixels, every channel: both v-lane halves of every full block, then the last block's tail.
  template <std::size_t S, std::size_t N>
  static void group(std::size_t ch, const float* const* r, const float* blk, float* out, const f32 lo, const f32 hi,
                    const f32_clamp& clamp) noexcept {
    const float* x[5];
    std::size_t c = 0;
    auto at = [&](std::size_t off) noexcept {
      for (std::size_t ky = 0; ky < 5; ++ky) x[ky] = r[ky] + off;
      return static_cast<const float* const*>(x);
    };
    for (; c + CR <= ch; c += CR, blk += BLOCK) {
      tile<S, N>(at(c), ch, blk, out + c, lo, hi);
      tile<S, N>(at(c + V), ch, blk + V, out + c + V, lo, hi);
    }
    if (c == ch) return;
    std::size_t k = 0;  // lane of c within the last block
    if (c + V <= ch) {
      tile<S, N>(at(c), ch, blk, out + c, lo, hi);
      c += V, k = V;
    }
    for (; c < ch; ++c, ++k) {  // 1..v-1 channels: the same fma chain in scalar code
      for (std::size_t j = 0; j < N; ++j) {
        float a = blk[k];
        for (std::size_t ky = 0; ky < 5; ++ky) {
          const float* xr = r[ky] + j * S * ch + c;
          for (std::size_t kx = 0; kx < 5; ++kx) a = std::fma(xr[kx * ch], blk[CR * (ky * 5 + kx + 1) + k], a);
        }
        a = a < clamp.min ? clamp.min : a;
        out[j * ch + c] = a > clamp.max ? clamp.max : a;
      }
    }
  }

  template <std::size_t S, std::size_t N>
  static void run_row(std::size_t ch, std::size_t pixels, const float* const* rows, const float* packed, float* out,
                      const f32_clamp& clamp) noexcept {
    const f32 lo(clamp.min), hi(clamp.max);
    for_each_pixel_group<N>(pixels, [&](auto n, std::size_t p) {
      const std::size_t q = p * S * ch;
      const float* r[5] = {rows[0] + q, rows[1] + q, rows[2] + q, rows[3] + q, rows[4] + q};
      group<S, decltype(n)::value>(ch, r, packed, out + p * ch, lo, hi, clamp);
    });
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv5x5_f32, tessera::arch::simd> {
  using type = tessera::kernels::dwconv5x5_f32_8x1v_simd_fma;
};
