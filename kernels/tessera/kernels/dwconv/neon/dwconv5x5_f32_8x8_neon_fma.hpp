/// @file dwconv5x5_f32_8x8_neon_fma.hpp
/// fp32 5x5 depthwise row kernel (op.hpp's 5x5 row contract: windows inside the input, stride 1
/// or 2 along x, direct addressing) on AArch64 Neon with FMLA.
///
/// Tile: 8 neighbouring output pixels x 8 channels (two float32x4 each). cr() = 16, the packed
/// blocks of dwconv_f32_2x16_neon_fma with ks = 25 (`float bias[16]; float w[25][16]`), run as
/// two 8-channel halves. The 16 accumulators stay in registers for the whole window; tap rows are
/// the outer loop, and each takes its 5 x 2 weight vectors into registers (16 + 10 + one input
/// pair + the clamp bounds = 30 of the 32 q registers) and streams its input columns once for
/// the up to 5 outputs that use each: column i serves the outputs j with kx = i - S * j in 0..4.
/// Per tap row, stride 1: 5 weight pairs + 12 input pairs (LD1 {2 x q}, post-indexed by the pixel
/// pitch) for 80 FMLA; stride 2: 5 + 19 for 80. The unipass kernel loads a weight vector per two
/// FMLA and an input vector per FMLA. Loop order: groups of 8 pixels outer, the 8-channel slices
/// of every block inner, so neighbouring slices read the same input lines back to back.
/// Results: every accumulator starts at the bias and takes the 25 taps in ky, kx order, one fused
/// multiply-add each (tap rows outer, columns in increasing kx within a row): the scalar kernel's
/// chain, so results equal dwconv_f32_scalar's and dwconv_f32_2x16_neon_fma's bit for bit (the
/// FMAX/FMIN clamp may return +0.0 where the scalar's comparisons keep -0.0).
/// Tails: 1..7 remaining pixels take the same code with a smaller tile; channels % 8: one
/// 4-channel slice, then 1..3 channels through lane loads and lane stores. Nothing outside the
/// rows' windows or the output pixels is accessed (the packed block is read whole).
/// ISA: Armv8-A Advanced SIMD (FMLA is baseline AArch64).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_NEON
#error "dwconv5x5_f32_8x8_neon_fma.hpp needs AArch64 Advanced SIMD (TESSERA_HAS_NEON)"
#endif

#include <arm_neon.h>
#include <cstddef>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/neon/dwconv_f32_2x16_neon_fma.hpp>
#include <tessera/kernels/dwconv/neon/dwconv_f32_neon_rows.hpp>
#include <tessera/kernels/dwconv/op.hpp>

namespace tessera::kernels {

struct dwconv5x5_f32_8x8_neon_fma {
  using arch = tessera::arch::neon;
  static constexpr const char* name = "dwconv5x5_f32_8x8_neon_fma";
  /// Channel tile of the packed weights (dwconv_f32_2x16_neon_fma's).
  static std::size_t cr() noexcept { return dwconv_f32_2x16_neon_fma::cr(); }

  /// `pixels` outputs of one row, 5x5 windows inside the input, stride 1 or 2 along x (op.hpp).
  static void run(std::size_t channels, std::size_t pixels, std::size_t stride, const float* const* rows,
                  const void* packed, float* out, const f32_clamp& clamp) noexcept {
    if (stride == 1) run_s<1>(channels, pixels, rows, static_cast<const float*>(packed), out, clamp);
    else run_s<2>(channels, pixels, rows, static_cast<const float*>(packed), out, clamp);
  }

 private:
  static constexpr std::size_t CR = 16;
  static constexpr std::size_t BLOCK = CR * 26;  // floats per packed block: bias[16] + w[25][16]
  static constexpr std::size_t NP = 8;           // pixels per group

  /// V (1 or 2) vectors of 4 channels (dwconv_f32_neon_rows.hpp); Part: only lanes < rem (1..3)
  /// of a single vector.
  template <std::size_t V> using vec = dw_neon::vec<V>;

  /// The 4V channels at p (Part: lanes < rem), then p += ch. GCC: one LD1 post-indexed by the
  /// pixel pitch (GCC 12 does not fold the increment into vld1q_f32_x2 and adds it separately);
  /// clang folds it itself.
  template <std::size_t V, bool Part>
  [[gnu::always_inline]] static inline vec<V> load_next(const float*& p, std::size_t ch,
                                                        [[maybe_unused]] std::size_t rem) noexcept {
    vec<V> x;
    if constexpr (Part) {
      x.v[0] = load_part(p, rem);
      dw_neon::advance(p, ch);
    } else {
#if defined(__GNUC__) && !defined(__clang__)
      if constexpr (V == 2) {
        float32x4x2_t t;
        __asm__("ld1 {%S0.4s - %T0.4s}, [%1], %2" : "=w"(t), "+r"(p) : "r"(ch * sizeof(float)), "m"(*(const float(*)[8])p));
        x.v[0] = t.val[0], x.v[1] = t.val[1];
      } else {
        __asm__("ld1 {%0.4s}, [%1], %2" : "=w"(x.v[0]), "+r"(p) : "r"(ch * sizeof(float)), "m"(*(const float(*)[4])p));
      }
#else
      if constexpr (V == 2) {
        const float32x4x2_t t = vld1q_f32_x2(p);
        x.v[0] = t.val[0], x.v[1] = t.val[1];
      } else {
        x.v[0] = vld1q_f32(p);
      }
      dw_neon::advance(p, ch);
#endif
    }
    return x;
  }

  /// Clamps a and stores its 4V channels (Part: lanes < rem) at o, then o += ch.
  template <std::size_t V, bool Part>
  [[gnu::always_inline]] static inline void store_next(float*& o, std::size_t ch, vec<V> a, float32x4_t lo,
                                                       float32x4_t hi, [[maybe_unused]] std::size_t rem) noexcept {
#pragma GCC unroll 2
    for (std::size_t k = 0; k < V; ++k) a.v[k] = vminq_f32(vmaxq_f32(a.v[k], lo), hi);
    if constexpr (Part) {
      float* d = o;
      float32x4_t x = a.v[0];
      if (rem & 2) { vst1_f32(d, vget_low_f32(x)); d += 2; x = vextq_f32(x, x, 2); }
      if (rem & 1) vst1q_lane_f32(d, x, 0);
    } else {
#pragma GCC unroll 2
      for (std::size_t k = 0; k < V; ++k) vst1q_f32(o + 4 * k, a.v[k]);
    }
    o += ch;
  }

  /// N copies of the 4V biases at w.
  template <std::size_t N, std::size_t V>
  [[gnu::always_inline]] static inline void load_bias(vec<V> (&acc)[N], const float* w) noexcept {
#pragma GCC unroll 16
    for (std::size_t j = 0; j < N; ++j)
#pragma GCC unroll 2
      for (std::size_t k = 0; k < V; ++k) acc[j].v[k] = vld1q_f32(w + 4 * k);
  }

  /// One tap row of an N x 4V tile: its 5 weight vectors (wr = the row's tap kx = 0, taps CR
  /// apart) into registers, then its (N - 1) * S + 5 input columns from x (pixel pitch `ch`),
  /// column i into the accumulators j with kx = i - S * j in 0..4.
  template <std::size_t S, std::size_t N, std::size_t V, bool Part>
  [[gnu::always_inline]] static inline void tap_row(vec<V> (&acc)[N], const float* x, std::size_t ch, const float* wr,
                                                    std::size_t rem) noexcept {
    vec<V> wv[5];
#pragma GCC unroll 5
    for (std::size_t kx = 0; kx < 5; ++kx)
#pragma GCC unroll 2
      for (std::size_t k = 0; k < V; ++k) wv[kx].v[k] = vld1q_f32(wr + CR * kx + 4 * k);
#pragma GCC unroll 40
    for (std::size_t i = 0; i < (N - 1) * S + 5; ++i) {
      const vec<V> v = load_next<V, Part>(x, ch, rem);
#pragma GCC unroll 16
      for (std::size_t j = 0; j < N; ++j) {
        if (i < S * j || i > S * j + 4) continue;
#pragma GCC unroll 2
        for (std::size_t k = 0; k < V; ++k) acc[j].v[k] = vfmaq_f32(acc[j].v[k], v.v[k], wv[i - S * j].v[k]);
      }
      dw_neon::pin<N, V>(acc);
    }
  }

  /// N pixels x 4V channels: tap rows r[0..4] at the group's first input pixel, channel offset c
  /// (pixel pitch `ch`); w at the slice's lanes of the block's bias (tap t at w + CR * (t + 1));
  /// output at o.
  template <std::size_t S, std::size_t N, std::size_t V, bool Part>
  [[gnu::always_inline]] static inline void tile(const float* const* r, std::size_t c, std::size_t ch, const float* w,
                                                 float* o, std::size_t rem, float32x4_t lo, float32x4_t hi) noexcept {
    vec<V> acc[N];
    load_bias<N, V>(acc, w);
    // Not unrolled: unrolling the 5 tap rows lets GCC hoist loads across them and spill (+10%).
#pragma GCC unroll 1
    for (std::size_t ky = 0; ky < 5; ++ky) tap_row<S, N, V, Part>(acc, r[ky] + c, ch, w + CR * (ky * 5 + 1), rem);
#pragma GCC unroll 16
    for (std::size_t j = 0; j < N; ++j) store_next<V, Part>(o, ch, acc[j], lo, hi, rem);
  }

  /// N pixels, every channel: both 8-channel halves of every full block, then the last block's
  /// 8-channel half, 4-channel slice and 1..3 channels (as many as there are).
  template <std::size_t S, std::size_t N>
  [[gnu::always_inline]] static inline void group(std::size_t ch, const float* const* r, const float* w, float* out,
                                                  float32x4_t lo, float32x4_t hi) noexcept {
    std::size_t c = 0;
    for (; c + CR <= ch; c += CR, w += BLOCK) {
      tile<S, N, 2, false>(r, c, ch, w, out + c, 8, lo, hi);
      tile<S, N, 2, false>(r, c + 8, ch, w + 8, out + c + 8, 8, lo, hi);
    }
    if (c + 8 <= ch) {
      tile<S, N, 2, false>(r, c, ch, w, out + c, 8, lo, hi);
      c += 8, w += 8;
    }
    if (c + 4 <= ch) {
      tile<S, N, 1, false>(r, c, ch, w, out + c, 4, lo, hi);
      c += 4, w += 4;
    }
    if (c < ch) tile<S, N, 1, true>(r, c, ch, w, out + c, ch - c, lo, hi);
  }

  template <std::size_t S>
  static void run_s(std::size_t ch, std::size_t pixels, const float* const* rows, const float* packed, float* out,
                    const f32_clamp& clamp) noexcept {
    const float32x4_t lo = vdupq_n_f32(clamp.min), hi = vdupq_n_f32(clamp.max);
    for_each_pixel_group<NP>(pixels, [&](auto n, std::size_t p) {
      const std::size_t q = p * S * ch;
      const float* r[5] = {rows[0] + q, rows[1] + q, rows[2] + q, rows[3] + q, rows[4] + q};
      group<S, decltype(n)::value>(ch, static_cast<const float* const*>(r), packed, out + p * ch, lo, hi);
    });
  }

  /// p[0..r) in lanes 0..r-1 (r in 1..3), zero elsewhere; nothing past p + r is read.
  [[gnu::always_inline]] static inline float32x4_t load_part(const float* p, std::size_t r) noexcept {
    if (r == 1) return vsetq_lane_f32(p[0], vdupq_n_f32(0.0f), 0);
    const float32x2_t lo = vld1_f32(p);
    return vcombine_f32(lo, r == 3 ? vset_lane_f32(p[2], vdup_n_f32(0.0f), 0) : vdup_n_f32(0.0f));
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv5x5_f32, tessera::arch::neon> {
  using type = tessera::kernels::dwconv5x5_f32_8x8_neon_fma;
};
