/// @file dwconv3x3_f32_simd_rows.hpp
/// Shared pieces of the fp32 3x3 depthwise row kernels on xsimd (the `simd` tag; op.hpp's row
/// contract), not a kernel: register tiles of N neighbouring output pixels and the driver that
/// walks a row with them. v = fp32 lanes of the xsimd arch (AVX2: 8, Neon64: 4); the packed blocks
/// are dwconv_f32_3x2v_simd_fma's (cr = 2v: float bias[2v], float w[9][2v]).
///
/// - `tile1<S, N>`: N pixels x v channels. The 9 weight vectors are loaded into registers (AVX2:
///   9 + N accumulators + 1 input = 16 ymm at N = 6) and each tap row's input columns are loaded
///   once: column i serves the outputs j with kx = i - S * j in 0..2 (stride 1: N + 2 loads per
///   3 N FMAs, stride 2: 2 N + 1).
/// - `tile2<S, N>`: N pixels x 2v channels (a whole block), 2 N accumulators, the weights as FMA
///   memory operands; every input cache line a tile touches is consumed by that tile.
/// - `run_row<S, N, Wide>`: groups of N pixels outer, the blocks of every channel inner (tile2,
///   or both v-lane halves of a block in turn with tile1, so that the two read the same lines
///   back to back and every input line is read in address order); 1..N-1 remaining pixels take
///   the same code with a smaller tile.
/// Accumulation order is the scalar kernel's (bias, then one fused multiply-add per tap in ky,
/// kx order), so results equal dwconv_f32_scalar's bit for bit; the clamp uses max/min, which may
/// return +0.0 where the scalar's comparisons keep -0.0.
/// Tails: channels % 2v in the last block: one v-lane tile1, then 1..v-1 channels in scalar code
/// with std::fma (same chain, same result); nothing outside the rows' windows or the output
/// pixels is accessed (the packed block is read whole).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SIMD
#error "dwconv3x3_f32_simd_rows.hpp needs the simd tag (TESSERA_USE_XSIMD=1 and AVX2+FMA on x86-64 or Neon on AArch64)"
#endif

#include <cmath>
#include <cstddef>
#include <type_traits>
#include <tessera/arch/simd/xsimd_bridge.hpp>
#include <tessera/kernels/dwconv/op.hpp>

namespace tessera::kernels::dw3x3_simd {

using f32 = xsimd::batch<float, tessera::arch::simd_arch>;
inline constexpr std::size_t V = f32::size;    ///< lanes per vector
inline constexpr std::size_t CR = 2 * V;        ///< channels per packed block
inline constexpr std::size_t BLOCK = CR * 10;  ///< floats per packed block: bias[2v] + w[9][2v]

/// Input row ky of the tile (rows r0..r2 at the tile's first input column).
[[gnu::always_inline]] inline const float* row(std::size_t ky, const float* r0, const float* r1, const float* r2) noexcept {
  return ky == 0 ? r0 : ky == 1 ? r1 : r2;
}

/// N pixels x v channels: pixel pitch `ch`, w at the vector's lanes of the block's bias (tap t
/// at w + CR * (t + 1)), output at o.
template <std::size_t S, std::size_t N>
[[gnu::always_inline]] inline void tile1(const float* r0, const float* r1, const float* r2, std::size_t ch,
                                         const float* w, float* o, const f32 lo, const f32 hi) noexcept {
  f32 wv[9];
#pragma GCC unroll 9
  for (std::size_t t = 0; t < 9; ++t) wv[t] = f32::load_unaligned(w + CR * (t + 1));
  f32 acc[N];
  const f32 b = f32::load_unaligned(w);
#pragma GCC unroll 8
  for (std::size_t j = 0; j < N; ++j) acc[j] = b;
#pragma GCC unroll 3
  for (std::size_t ky = 0; ky < 3; ++ky) {
    const float* x = row(ky, r0, r1, r2);
#pragma GCC unroll 20
    for (std::size_t i = 0; i < (N - 1) * S + 3; ++i) {
      const f32 xi = f32::load_unaligned(x + i * ch);
#pragma GCC unroll 8
      for (std::size_t j = 0; j < N; ++j) {
        if (i < S * j || i > S * j + 2) continue;
        acc[j] = xsimd::fma(xi, wv[ky * 3 + (i - S * j)], acc[j]);
      }
    }
  }
#pragma GCC unroll 8
  for (std::size_t j = 0; j < N; ++j) xsimd::min(xsimd::max(acc[j], lo), hi).store_unaligned(o + j * ch);
}

/// N pixels x 2v channels (the whole block at w); weights as FMA memory operands.
template <std::size_t S, std::size_t N>
[[gnu::always_inline]] inline void tile2(const float* r0, const float* r1, const float* r2, std::size_t ch,
                                         const float* w, float* o, const f32 lo, const f32 hi) noexcept {
  f32 a0[N], a1[N];
  const f32 b0 = f32::load_unaligned(w), b1 = f32::load_unaligned(w + V);
#pragma GCC unroll 8
  for (std::size_t j = 0; j < N; ++j) a0[j] = b0, a1[j] = b1;
#pragma GCC unroll 3
  for (std::size_t ky = 0; ky < 3; ++ky) {
    const float* x = row(ky, r0, r1, r2);
#pragma GCC unroll 20
    for (std::size_t i = 0; i < (N - 1) * S + 3; ++i) {
      const f32 x0 = f32::load_unaligned(x + i * ch), x1 = f32::load_unaligned(x + i * ch + V);
#pragma GCC unroll 8
      for (std::size_t j = 0; j < N; ++j) {
        if (i < S * j || i > S * j + 2) continue;
        const float* wt = w + CR * (ky * 3 + (i - S * j) + 1);
        a0[j] = xsimd::fma(x0, f32::load_unaligned(wt), a0[j]);
        a1[j] = xsimd::fma(x1, f32::load_unaligned(wt + V), a1[j]);
      }
    }
  }
#pragma GCC unroll 8
  for (std::size_t j = 0; j < N; ++j) {
    xsimd::min(xsimd::max(a0[j], lo), hi).store_unaligned(o + j * ch);
    xsimd::min(xsimd::max(a1[j], lo), hi).store_unaligned(o + j * ch + V);
  }
}

/// N pixels, every channel: full blocks (tile2, or two tile1 halves), then the last block's tail.
template <std::size_t S, std::size_t N, bool Wide>
void group(std::size_t ch, const float* r0, const float* r1, const float* r2, const float* blk, float* out,
           const f32 lo, const f32 hi, const f32_clamp& clamp) noexcept {
  std::size_t c = 0;
  for (; c + CR <= ch; c += CR, blk += BLOCK) {
    if constexpr (Wide) {
      tile2<S, N>(r0 + c, r1 + c, r2 + c, ch, blk, out + c, lo, hi);
    } else {
      tile1<S, N>(r0 + c, r1 + c, r2 + c, ch, blk, out + c, lo, hi);
      tile1<S, N>(r0 + c + V, r1 + c + V, r2 + c + V, ch, blk + V, out + c + V, lo, hi);
    }
  }
  if (c == ch) return;
  std::size_t k = 0;  // lane of c within the last block
  if (c + V <= ch) {
    tile1<S, N>(r0 + c, r1 + c, r2 + c, ch, blk, out + c, lo, hi);
    c += V, k = V;
  }
  for (; c < ch; ++c, ++k) {  // 1..v-1 channels: the same fma chain in scalar code
    for (std::size_t j = 0; j < N; ++j) {
      float a = blk[k];
      for (std::size_t ky = 0; ky < 3; ++ky) {
        const float* x = row(ky, r0, r1, r2) + j * S * ch + c;
        for (std::size_t kx = 0; kx < 3; ++kx) a = std::fma(x[kx * ch], blk[CR * (ky * 3 + kx + 1) + k], a);
      }
      a = a < clamp.min ? clamp.min : a;
      out[j * ch + c] = a > clamp.max ? clamp.max : a;
    }
  }
}

/// A whole row-kernel call (op.hpp) at stride S with N-pixel tiles (N <= 8).
template <std::size_t S, std::size_t N, bool Wide>
void run_row(std::size_t ch, std::size_t pixels, const float* r0, const float* r1, const float* r2,
             const void* packed, float* out, const f32_clamp& clamp) noexcept {
  const f32 lo(clamp.min), hi(clamp.max);
  for_each_pixel_group<N>(pixels, [&](auto n, std::size_t p) {
    const std::size_t q = p * S * ch;
    group<S, decltype(n)::value, Wide>(ch, r0 + q, r1 + q, r2 + q, static_cast<const float*>(packed), out + p * ch,
                                       lo, hi, clamp);
  });
}

}  // namespace tessera::kernels::dw3x3_simd
