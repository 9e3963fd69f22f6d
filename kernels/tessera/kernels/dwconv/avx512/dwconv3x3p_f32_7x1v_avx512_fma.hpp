/// @file dwconv3x3p_f32_7x1v_avx512_fma.hpp
/// fp32 3x3 depthwise pitched row kernel (op.hpp's pitched row contract) on AVX-512F: the
/// `avx512_vnni` tag's kernel for the depthwise operator's channel-group path, and for its row
/// path where detail::dw::pitched_rows_pay (both pitches equal to the channels).
///
/// `run2`: stride 2, two output rows per call from five tap rows (tiles of 3 pixels x 2 rows), for
/// the row path of 64-channel layers (detail::dw::paired_rows_pay).
///
/// Register tile: 7 neighbouring output pixels x 16 channels (one zmm, one cache line), the 9
/// weight vectors of the block in registers (7 + 9 + 1 input = 17 of 32 zmm), each input column
/// of a tap row loaded once for the up to 3 outputs that use it (stride 1: 9 loads per 21 FMAs,
/// stride 2: 15 per 21). Pixel tiles outer, the group's blocks inner, so a tile's stores fill
/// whole lines of consecutive channels. The operator hands it groups of 64 channels
/// (group_channels; 128 on narrow rows) copied into rows of 64-float (128-float) pixels, or whole
/// NHWC rows of up to 128 channels on the row path; with the input read once per group row
/// and each group's rows in L1, 14x14x512 (MobileNetV1's layer e) ran at 66-71 GFLOP/s in
/// tools/x86-probe/dw_slab.cpp against 43 for the operator's AVX2 padded-row path in the same
/// process (groups of 16 channels: 41-45, of 32: 53-66, of 128: 47-71; tiles of 7, 8, 10 and 14
/// pixels within 10%, 7 best). The operator's 64-float pitch is a compile-time constant here, so
/// each input load is a base register plus an immediate; other pitches step one pointer per
/// column. g++ 12 folded the input loads into the
/// FMAs (each input column loaded once per output that uses it: 53-57 GFLOP/s against clang's
/// 60-70); an empty asm keeps each load in a register, and g++ now runs 64-70 on e, q and r.
/// Channel tails: the last block's lanes past `channels` are masked on every load and store.
/// Results equal dwconv_f32_scalar's bit for bit (bias, then one fma per tap in ky, kx order);
/// the clamp uses max/min, which may return +0.0 where the scalar's comparisons keep -0.0.
/// Accesses: only the `channels` elements of each input pixel the windows cover and of each
/// output pixel (masked); packed blocks are read whole (16 channels, padding included).
/// ISA: x86-64 AVX-512F (the avx512_vnni tag's builds).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_AVX512_VNNI
#error "dwconv3x3p_f32_7x1v_avx512_fma.hpp needs the avx512_vnni tag (x86-64 AVX-512 F/BW/VL/VNNI)"
#endif

#include <cstddef>
#include <cstdint>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>

#include <tessera/arch/avx512/intrinsics_begin.hpp>

namespace tessera::kernels {

struct dwconv3x3p_f32_7x1v_avx512_fma {
  using arch = tessera::arch::avx512_vnni;
  static constexpr const char* name = "dwconv3x3p_f32_7x1v_avx512_fma";
  static constexpr bool preferred = true;
  /// Channel tile of the packed weights: one zmm (dwconv_f32_3x2v_simd_fma's 2 x 8 on AVX2).
  static std::size_t cr() noexcept { return V; }
  /// Channels per operator call: 4 blocks (256-byte pixels in the operator's rows).
  static std::size_t group_channels() noexcept { return 4 * V; }

  /// `pixels` outputs of one row at pitches in_pitch / out_pitch (op.hpp's pitched row contract).
  static void run(std::size_t channels, std::size_t pixels, std::size_t stride, const float* r0, const float* r1,
                  const float* r2, std::size_t in_pitch, const void* packed, float* out, std::size_t out_pitch,
                  const f32_clamp& clamp) noexcept {
    const auto* blk = static_cast<const float*>(packed);
    // The operator's group rows (64-float pixels) with the pitch as a constant: every input load
    // of a tile is then one base register plus an immediate offset.
    if (in_pitch == 4 * V) {
      if (stride == 1) row<1, 4 * V>(channels, pixels, r0, r1, r2, in_pitch, blk, out, out_pitch, clamp);
      else row<2, 4 * V>(channels, pixels, r0, r1, r2, in_pitch, blk, out, out_pitch, clamp);
    } else {
      if (stride == 1) row<1, 0>(channels, pixels, r0, r1, r2, in_pitch, blk, out, out_pitch, clamp);
      else row<2, 0>(channels, pixels, r0, r1, r2, in_pitch, blk, out, out_pitch, clamp);
    }
  }

  /// Stride 2, two output rows (op.hpp's two-row entry): out and out + out_row_pitch from the tap
  /// rows r0 + k * row_pitch, k < 5, the middle one loaded once for both. Tiles of 3 pixels x 2
  /// rows x 16 channels: 6 accumulators, 5 x 7 input loads for 54 FMAs (two `run` tiles of 3
  /// pixels: 42 loads). On MobileNetV1's layer d (112x112x64, aligned input) the operator ran at
  /// 60-62 GFLOP/s against 52 with `run` row by row (tools/x86-probe/dw_rows_ab.cpp); in a loop-
  /// order probe 3x2 beat 2x2 (1.0x), 4x2-7x2 (0.9-1.0x) and 3 rows of 3 (0.9x). The 64-float
  /// pitch is a constant here too; at run-time pitches clang's code lost (docs/performance.md).
  static void run2(std::size_t channels, std::size_t pixels, const float* r0, std::size_t row_pitch,
                   std::size_t in_pitch, const void* packed, float* out, std::size_t out_row_pitch,
                   std::size_t out_pitch, const f32_clamp& clamp) noexcept {
    const auto* blk = static_cast<const float*>(packed);
    if (in_pitch == 4 * V) rows2<4 * V>(channels, pixels, r0, row_pitch, in_pitch, blk, out, out_row_pitch, out_pitch, clamp);
    else rows2<0>(channels, pixels, r0, row_pitch, in_pitch, blk, out, out_row_pitch, out_pitch, clamp);
  }

 private:
  static constexpr std::size_t V = 16;          ///< fp32 lanes per zmm
  static constexpr std::size_t BLOCK = V * 10;  ///< floats per packed block: bias[16] + w[9][16]
  static constexpr std::size_t N = 7;           ///< pixels per tile
  static constexpr std::size_t N2 = 3;          ///< pixels per two-row tile

  /// Column i of a tap row starting at `base`, in one register: base + i * IP for a compile-time
  /// pitch IP, else the pointer `xp`, which then steps by `ip` (one pointer per row: the 15
  /// offsets i * ip of a stride-2 tile would not fit the general registers; g++ spilled them).
  template <std::size_t IP>
  [[gnu::always_inline]] static inline __m512 column(__mmask16 m, const float* base, std::size_t i, const float*& xp,
                                                     std::size_t ip) noexcept {
    __m512 xi = _mm512_maskz_loadu_ps(m, IP != 0 ? base + i * IP : xp);
    if constexpr (IP == 0) {
      xp += ip;
      asm("" : "+r"(xp));  // keeps the compilers from rebuilding i * ip
    }
#if defined(__GNUC__) && !defined(__clang__)
    // g++ 12 would fold this load into each of its up to 3 FMAs (3 loads where 1 does: 63 per
    // stride-1 tile instead of 27, and Zen 4 issues one 512-bit load per cycle): keep it in a register.
    asm("" : "+v"(xi));
#endif
    return xi;
  }
  /// The 9 weight vectors of a packed block (after its bias).
  [[gnu::always_inline]] static inline void load_weights(const float* blk, __m512 (&w)[9]) noexcept {
#pragma GCC unroll 9
    for (std::size_t t = 0; t < 9; ++t) w[t] = _mm512_loadu_ps(blk + V * (t + 1));
  }
  /// clamp(acc) to the lanes of `m` at o.
  [[gnu::always_inline]] static inline void store(float* o, __mmask16 m, __m512 acc, __m512 lo, __m512 hi) noexcept {
    _mm512_mask_storeu_ps(o, m, _mm512_min_ps(_mm512_max_ps(acc, lo), hi));
  }
  /// `tile(c, blk, m)` for each 16-channel block of `channels` in turn: channel offset, packed
  /// block, lanes (the last block's lanes past `channels` masked).
  template <class Tile>
  [[gnu::always_inline]] static inline void each_block(std::size_t channels, const float* blk, Tile&& tile) noexcept {
    std::size_t c = 0;
    for (; c + V <= channels; c += V, blk += BLOCK) tile(c, blk, static_cast<__mmask16>(0xFFFF));
    if (c < channels) tile(c, blk, static_cast<__mmask16>((1u << (channels - c)) - 1));
  }

  /// n pixels x the lanes of `m` of one block: x0..x2 at the tile's first input column.
  template <std::size_t S, std::size_t n, std::size_t IP>
  [[gnu::always_inline]] static inline void tile(const float* x0, const float* x1, const float* x2, std::size_t ip,
                                                 const float* blk, float* o, std::size_t op, __mmask16 m, __m512 lo,
                                                 __m512 hi) noexcept {
    __m512 w[9];
    load_weights(blk, w);
    __m512 acc[n];
    const __m512 b = _mm512_loadu_ps(blk);
#pragma GCC unroll 8
    for (std::size_t j = 0; j < n; ++j) acc[j] = b;
    const float* rows[3] = {x0, x1, x2};
#pragma GCC unroll 3
    for (std::size_t ky = 0; ky < 3; ++ky) {
      const float* xp = rows[ky];
#pragma GCC unroll 16
      for (std::size_t i = 0; i < (n - 1) * S + 3; ++i) {
        const __m512 xi = column<IP>(m, rows[ky], i, xp, ip);
#pragma GCC unroll 8
        for (std::size_t j = 0; j < n; ++j) {
          if (i < S * j || i > S * j + 2) continue;
          acc[j] = _mm512_fmadd_ps(xi, w[ky * 3 + (i - S * j)], acc[j]);
        }
      }
    }
#pragma GCC unroll 8
    for (std::size_t j = 0; j < n; ++j) store(o + j * op, m, acc[j], lo, hi);
  }

  /// n pixels x every channel: the group's blocks in turn.
  template <std::size_t S, std::size_t n, std::size_t IP>
  [[gnu::always_inline]] static inline void pixels_n(std::size_t channels, const float* x0, const float* x1,
                                                     const float* x2, std::size_t ip, const float* blk, float* o,
                                                     std::size_t op, __m512 lo, __m512 hi) noexcept {
    each_block(channels, blk, [&](std::size_t c, const float* b, __mmask16 m) {
      tile<S, n, IP>(x0 + c, x1 + c, x2 + c, ip, b, o + c, op, m, lo, hi);
    });
  }

  /// IP: the input pitch when known at compile time, else 0.
  template <std::size_t S, std::size_t IP>
  static void row(std::size_t channels, std::size_t pixels, const float* r0, const float* r1, const float* r2,
                  std::size_t ip, const float* blk, float* out, std::size_t op, const f32_clamp& clamp) noexcept {
    const __m512 lo = _mm512_set1_ps(clamp.min), hi = _mm512_set1_ps(clamp.max);
    for_each_pixel_group<N>(pixels, [&](auto n, std::size_t p) {
      const std::size_t q = p * S * (IP != 0 ? IP : ip);
      pixels_n<S, decltype(n)::value, IP>(channels, r0 + q, r1 + q, r2 + q, ip, blk, out + p * op, op, lo, hi);
    });
  }

  /// n pixels x 2 rows x the lanes of `m` of one block (stride 2): x at the tile's first input
  /// column of tap row 0, rp elements between tap rows, orp between the two output rows.
  template <std::size_t n, std::size_t IP>
  [[gnu::always_inline]] static inline void tile2(const float* x, std::size_t rp, std::size_t ip, const float* blk,
                                                  float* o, std::size_t orp, std::size_t op, __mmask16 m, __m512 lo,
                                                  __m512 hi) noexcept {
    __m512 w[9];
    load_weights(blk, w);
    __m512 acc[2][n];
    const __m512 b = _mm512_loadu_ps(blk);
#pragma GCC unroll 4
    for (std::size_t j = 0; j < n; ++j) acc[0][j] = acc[1][j] = b;
#pragma GCC unroll 5
    for (std::size_t ky = 0; ky < 5; ++ky) {
      const float* xp = x + ky * rp;
#pragma GCC unroll 8
      for (std::size_t i = 0; i < 2 * n + 1; ++i) {
        const __m512 xi = column<IP>(m, x + ky * rp, i, xp, ip);
#pragma GCC unroll 4
        for (std::size_t j = 0; j < n; ++j) {
          if (i < 2 * j || i > 2 * j + 2) continue;
          const std::size_t kx = i - 2 * j;
          if (ky < 3) acc[0][j] = _mm512_fmadd_ps(xi, w[ky * 3 + kx], acc[0][j]);
          if (ky >= 2) acc[1][j] = _mm512_fmadd_ps(xi, w[(ky - 2) * 3 + kx], acc[1][j]);
        }
      }
    }
#pragma GCC unroll 4
    for (std::size_t j = 0; j < n; ++j) {
      store(o + j * op, m, acc[0][j], lo, hi);
      store(o + orp + j * op, m, acc[1][j], lo, hi);
    }
  }

  /// Two output rows, stride 2, in tiles of N2 pixels x every channel.
  template <std::size_t IP>
  static void rows2(std::size_t channels, std::size_t pixels, const float* r0, std::size_t rp, std::size_t ip,
                    const float* blk0, float* out, std::size_t orp, std::size_t op, const f32_clamp& clamp) noexcept {
    const __m512 lo = _mm512_set1_ps(clamp.min), hi = _mm512_set1_ps(clamp.max);
    for_each_pixel_group<N2>(pixels, [&](auto n, std::size_t p) {
      constexpr std::size_t nn = decltype(n)::value;
      const float* x = r0 + p * 2 * (IP != 0 ? IP : ip);
      float* o = out + p * op;
      each_block(channels, blk0, [&](std::size_t c, const float* b, __mmask16 m) {
        tile2<nn, IP>(x + c, rp, ip, b, o + c, orp, op, m, lo, hi);
      });
    });
  }
};

}  // namespace tessera::kernels

#include <tessera/arch/avx512/intrinsics_end.hpp>

template <> struct tessera::ukernel<tessera::op::dwconv3x3p_f32, tessera::arch::avx512_vnni> {
  using type = tessera::kernels::dwconv3x3p_f32_7x1v_avx512_fma;
};
