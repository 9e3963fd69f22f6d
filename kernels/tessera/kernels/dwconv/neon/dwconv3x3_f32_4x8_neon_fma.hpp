/// @file dwconv3x3_f32_4x8_neon_fma.hpp
/// fp32 3x3 depthwise row kernel (op.hpp's row contract: windows inside the input, stride 1 or 2
/// along x, direct addressing) on AArch64 Neon with FMLA.
///
/// Tile: 4 neighbouring output pixels x 8 channels (two float32x4 each). cr() = 16, the packed
/// blocks of dwconv_f32_2x16_neon_fma (`float bias[16]; float w[9][16]`), run as two 8-channel
/// halves. Per half the 9 x 2 weight vectors stay in registers for the whole row (18 of the 32
/// q registers; 8 accumulators, the clamp bounds and one input pair use the rest), and the kernel
/// streams each tap row's inputs once per group of 4 outputs: column i serves the outputs j with
/// kx = i - S * j in 0..2. Stride 1 loads 6 input pairs per tap row for 24 FMLA (18 LD1 {2 x q}
/// per 72 FMLA), stride 2 loads 9 (27 per 72); the unipass kernel loads a weight and an input
/// vector per FMLA (LD1 {4 x q} of 16 weights, shared by 2 pixels). Loop order: channel half
/// outer, groups of 4 pixels inner; 1..3 remaining pixels take the same code with a smaller tile.
/// Accumulation order is the scalar kernel's (bias, then one fused multiply-add per tap in ky, kx
/// order), so results equal dwconv_f32_scalar's and dwconv_f32_2x16_neon_fma's bit for bit.
/// Tails: channels % 8: one 4-channel slice, then 1..3 channels through lane loads and lane
/// stores; nothing outside the rows' windows or the output pixels is accessed (the packed block
/// is read whole).
/// ISA: Armv8-A Advanced SIMD (FMLA is baseline AArch64).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_NEON
#error "dwconv3x3_f32_4x8_neon_fma.hpp needs AArch64 Advanced SIMD (TESSERA_HAS_NEON)"
#endif

#include <arm_neon.h>
#include <cstddef>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/neon/dwconv_f32_2x16_neon_fma.hpp>
#include <tessera/kernels/dwconv/neon/dwconv_f32_neon_rows.hpp>
#include <tessera/kernels/dwconv/op.hpp>

namespace tessera::kernels {

struct dwconv3x3_f32_4x8_neon_fma {
  using arch = tessera::arch::neon;
  static constexpr const char* name = "dwconv3x3_f32_4x8_neon_fma";
  /// Channel tile of the packed weights (dwconv_f32_2x16_neon_fma's).
  static std::size_t cr() noexcept { return dwconv_f32_2x16_neon_fma::cr(); }

  /// `pixels` outputs of one row, windows inside the input, stride 1 or 2 along x (op.hpp).
  static void run(std::size_t channels, std::size_t pixels, std::size_t stride, const float* r0, const float* r1,
                  const float* r2, const void* packed, float* out, const f32_clamp& clamp) noexcept {
    if (stride == 1) run_s<1>(channels, pixels, r0, r1, r2, packed, out, clamp);
    else run_s<2>(channels, pixels, r0, r1, r2, packed, out, clamp);
  }

 private:
  static constexpr std::size_t CR = 16;
  static constexpr std::size_t BLOCK = CR * 10;  // floats per packed block: bias[16] + w[9][16]
  static constexpr std::size_t NP = 4;           // pixels per group

  /// V (1 or 2) vectors of 4 channels (dwconv_f32_neon_rows.hpp); Part: only lanes < rem (1..3)
  /// of a single vector.
  template <std::size_t V> using vec = dw_neon::vec<V>;

  template <std::size_t V, bool Part>
  [[gnu::always_inline]] static inline vec<V> load(const float* p, [[maybe_unused]] std::size_t rem) noexcept {
    vec<V> x;
    if constexpr (Part) {
      x.v[0] = load_part(p, rem);
    } else if constexpr (V == 2) {
      const float32x4x2_t t = vld1q_f32_x2(p);
      x.v[0] = t.val[0], x.v[1] = t.val[1];
    } else {
      x.v[0] = vld1q_f32(p);
    }
    return x;
  }

  template <std::size_t V, bool Part>
  [[gnu::always_inline]] static inline void store(float* o, vec<V> a, float32x4_t lo, float32x4_t hi,
                                                  [[maybe_unused]] std::size_t rem) noexcept {
#pragma GCC unroll 2
    for (std::size_t k = 0; k < V; ++k) a.v[k] = vminq_f32(vmaxq_f32(a.v[k], lo), hi);
    if constexpr (Part) {
      float32x4_t x = a.v[0];
      if (rem & 2) { vst1_f32(o, vget_low_f32(x)); o += 2; x = vextq_f32(x, x, 2); }
      if (rem & 1) vst1q_lane_f32(o, x, 0);
    } else if constexpr (V == 2) {
      vst1q_f32(o, a.v[0]), vst1q_f32(o + 4, a.v[1]);
    } else {
      vst1q_f32(o, a.v[0]);
    }
  }

  /// N pixels x 4V channels from input column 0 of rows r[3] (pixel pitch `ch`), weights wv in
  /// registers, biases at `bias`, output at `o`.
  template <std::size_t S, std::size_t N, std::size_t V, bool Part>
  [[gnu::always_inline]] static inline void group(const float* r0, const float* r1, const float* r2, std::size_t ch,
                                                  const vec<V> (&wv)[9],
                                                  const float* bias, float* o, std::size_t rem, float32x4_t lo,
                                                  float32x4_t hi) noexcept {
    vec<V> acc[N];
#pragma GCC unroll 4
    for (std::size_t j = 0; j < N; ++j)
#pragma GCC unroll 2
      for (std::size_t k = 0; k < V; ++k) acc[j].v[k] = vld1q_f32(bias + 4 * k);
#pragma GCC unroll 3
    for (std::size_t ky = 0; ky < 3; ++ky) {
      const float* x = ky == 0 ? r0 : ky == 1 ? r1 : r2;
#pragma GCC unroll 9
      for (std::size_t i = 0; i < (N - 1) * S + 3; ++i) {
        const vec<V> v = load<V, Part>(x, rem);
        dw_neon::advance(x, ch);
#pragma GCC unroll 4
        for (std::size_t j = 0; j < N; ++j) {
          if (i < S * j || i > S * j + 2) continue;
          const std::size_t t = ky * 3 + (i - S * j);
#pragma GCC unroll 2
          for (std::size_t k = 0; k < V; ++k) acc[j].v[k] = vfmaq_f32(acc[j].v[k], v.v[k], wv[t].v[k]);
        }
        dw_neon::pin<N, V>(acc);
      }
    }
#pragma GCC unroll 4
    for (std::size_t j = 0; j < N; ++j) store<V, Part>(o + j * ch, acc[j], lo, hi, rem);
  }

  /// Every pixel of 4V channels (Part: rem < 4 of them); w = their lanes of the block's bias.
  template <std::size_t S, std::size_t V, bool Part>
  static void slice(std::size_t ch, std::size_t pixels, const float* r0, const float* r1, const float* r2,
                    const float* w, float* out, std::size_t rem, float32x4_t lo, float32x4_t hi) noexcept {
    vec<V> wv[9];
#pragma GCC unroll 9
    for (std::size_t t = 0; t < 9; ++t)
#pragma GCC unroll 2
      for (std::size_t k = 0; k < V; ++k) wv[t].v[k] = vld1q_f32(w + CR * (t + 1) + 4 * k);
    std::size_t px = pixels;
    for (; px >= NP; px -= NP, out += NP * ch) {
      group<S, NP, V, Part>(r0, r1, r2, ch, wv, w, out, rem, lo, hi);
      r0 += NP * S * ch, r1 += NP * S * ch, r2 += NP * S * ch;
    }
    if (px == 3) group<S, 3, V, Part>(r0, r1, r2, ch, wv, w, out, rem, lo, hi);
    else if (px == 2) group<S, 2, V, Part>(r0, r1, r2, ch, wv, w, out, rem, lo, hi);
    else if (px == 1) group<S, 1, V, Part>(r0, r1, r2, ch, wv, w, out, rem, lo, hi);
  }

  template <std::size_t S>
  static void run_s(std::size_t channels, std::size_t pixels, const float* r0, const float* r1, const float* r2,
                    const void* packed, float* out, const f32_clamp& clamp) noexcept {
    const float32x4_t lo = vdupq_n_f32(clamp.min), hi = vdupq_n_f32(clamp.max);
    const float* blk = static_cast<const float*>(packed);
    auto w_at = [&](std::size_t c) { return blk + (c / CR) * BLOCK + c % CR; };  // c's lane of bias and taps
    std::size_t c = 0;
    for (; c + 8 <= channels; c += 8) slice<S, 2, false>(channels, pixels, r0 + c, r1 + c, r2 + c, w_at(c), out + c, 8, lo, hi);
    if (c + 4 <= channels) {
      slice<S, 1, false>(channels, pixels, r0 + c, r1 + c, r2 + c, w_at(c), out + c, 4, lo, hi);
      c += 4;
    }
    if (c < channels) slice<S, 1, true>(channels, pixels, r0 + c, r1 + c, r2 + c, w_at(c), out + c, channels - c, lo, hi);
  }

  /// p[0..r) in lanes 0..r-1 (r in 1..3), zero elsewhere; nothing past p + r is read.
  [[gnu::always_inline]] static inline float32x4_t load_part(const float* p, std::size_t r) noexcept {
    if (r == 1) return vsetq_lane_f32(p[0], vdupq_n_f32(0.0f), 0);
    const float32x2_t lo = vld1_f32(p);
    return vcombine_f32(lo, r == 3 ? vset_lane_f32(p[2], vdup_n_f32(0.0f), 0) : vdup_n_f32(0.0f));
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv3x3_f32, tessera::arch::neon> {
  using type = tessera::kernels::dwconv3x3_f32_4x8_neon_fma;
};
