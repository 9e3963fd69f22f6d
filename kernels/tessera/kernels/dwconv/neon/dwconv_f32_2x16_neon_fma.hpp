/// @file dwconv_f32_2x16_neon_fma.hpp
/// fp32 depthwise convolution (unipass, indirection buffer) on AArch64 Neon with FMLA.
///
/// Channel tile cr = 16: packed blocks (dwconv/op.hpp) of float bias[16], then float w[ks][16].
/// Register tile: 2 pixels x 16 channels. Per pixel pair, per full block of 16 channels: 2 x 4 q
/// accumulators start at the bias, then every tap t = 0..ks-1 (the scalar kernel's order) does one
/// LD1 {4 x q} of the tap's 16 weights, shared by both pixels, one LD1 {4 x q} of 16 inputs per
/// pixel and 8 FMLA (11 instructions per 32 MACs with post-incremented pointers, against 6 per
/// 16 for one pixel), then FMAX/FMIN clamp and one ST1 {4 x q} per pixel. An odd last pixel runs
/// alone (one weight load per 4 FMLA). ks = 9 and ks = 25 are compile-time specialisations (taps
/// unrolled; for 9 both pixels' 18 tap pointers live in registers and post-increment); any other
/// ks runs the same code with a run-time tap loop.
/// Results: each output is fma(...fma(fma(bias, x0, w0), x1, w1)..., x_{ks-1}, w_{ks-1}) then
/// clamped: identical, bit for bit, to a scalar kernel evaluating the same chain with std::fma
/// (or with a contracted `acc += x * w`); a scalar kernel that rounds x * w before adding differs
/// by float rounding only.
/// ISA: Armv8-A Advanced SIMD (FMLA is baseline AArch64).
/// Tails: channels % 16 in the last block: 4-lane steps, then 1-3 channels through lane loads and
/// lane stores (no input read or output written at or past `channels`; the packed block is whole).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_NEON
#error "dwconv_f32_2x16_neon_fma.hpp needs AArch64 Advanced SIMD (TESSERA_HAS_NEON)"
#endif

#include <arm_neon.h>
#include <cstddef>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>

namespace tessera::kernels {

struct dwconv_f32_2x16_neon_fma {
  using arch = tessera::arch::neon;
  static constexpr const char* name = "dwconv_f32_2x16_neon_fma";
  /// Channels per packed block.
  static std::size_t cr() noexcept { return CR; }

  /// out[p][c] = clamp(bias[c] + sum_t in[p * in_step + t][c] * w[t][c], clamp.min, clamp.max).
  /// @param[in]  in      pixels * in_step tap pointers (each to `channels` floats, or the zero row)
  /// @param[in]  packed  pack_dw<float, float>(channels, ks, cr(), ...) output
  /// @param[out] out     pixel p's `channels` outputs at out + p * out_stride
  static void run(std::size_t channels, std::size_t pixels, std::size_t ks, const float* const* in,
                  std::size_t in_step, const void* packed, float* out, std::size_t out_stride,
                  const f32_clamp& clamp) noexcept {
    dispatch_taps(ks, [&](auto taps) { run_ks<decltype(taps)::value>(channels, pixels, ks, in, in_step, packed, out, out_stride, clamp); });
  }

 private:
  static constexpr std::size_t CR = 16;

  /// KS = the compile-time tap count, or 0 for ks at run time.
  template <std::size_t KS>
  static void run_ks(std::size_t channels, std::size_t pixels, std::size_t ks_rt, const float* const* in,
                     std::size_t in_step, const void* packed, float* out, std::size_t out_stride,
                     const f32_clamp& clamp) noexcept {
    const std::size_t ks = KS != 0 ? KS : ks_rt;
    const float* const wbase = static_cast<const float*>(packed);
    const float32x4_t vmin = vdupq_n_f32(clamp.min), vmax = vdupq_n_f32(clamp.max);
    const std::size_t cfull = channels / CR * CR;
    std::size_t p = 0;
    for (; p + 2 <= pixels; p += 2) {
      const float* const* ip0 = in + p * in_step;
      const float* const* ip1 = ip0 + in_step;
      float* o0 = out + p * out_stride;
      float* o1 = o0 + out_stride;
      const float* w = wbase;
      if constexpr (KS == 9) {
        // Both pixels' tap pointers in registers, post-incremented by one block per step.
        const float* i0[KS];
        const float* i1[KS];
#pragma GCC unroll 32
        for (std::size_t t = 0; t < KS; ++t) i0[t] = ip0[t], i1[t] = ip1[t];
        for (std::size_t c = 0; c < cfull; c += CR, o0 += CR, o1 += CR) {
          float32x4x4_t a0 = load_bias(w), a1 = a0;
          advance(w);
#pragma GCC unroll 32
          for (std::size_t t = 0; t < KS; ++t) {
            const float32x4x4_t wv = vld1q_f32_x4(w);
            a0 = fma16(a0, vld1q_f32_x4(i0[t]), wv);
            a1 = fma16(a1, vld1q_f32_x4(i1[t]), wv);
            advance(i0[t]), advance(i1[t]), advance(w);
            pin(a0), pin(a1);
          }
          store16(o0, a0, vmin, vmax);
          store16(o1, a1, vmin, vmax);
        }
      } else {
        for (std::size_t c = 0; c < cfull; c += CR, o0 += CR, o1 += CR) {
          float32x4x4_t a0 = load_bias(w), a1 = a0;
          advance(w);
#pragma GCC unroll 32
          for (std::size_t t = 0; t < ks; ++t) {
            const float32x4x4_t wv = vld1q_f32_x4(w);
            a0 = fma16(a0, vld1q_f32_x4(ip0[t] + c), wv);
            a1 = fma16(a1, vld1q_f32_x4(ip1[t] + c), wv);
            advance(w);
          }
          store16(o0, a0, vmin, vmax);
          store16(o1, a1, vmin, vmax);
        }
      }
      if (cfull != channels) {
        tail(channels - cfull, cfull, ks, ip0, w, o0, vmin, vmax);
        tail(channels - cfull, cfull, ks, ip1, w, o1, vmin, vmax);
      }
    }
    if (p < pixels) single<KS>(channels, ks, in + p * in_step, wbase, out + p * out_stride, vmin, vmax);
  }

  /// One pixel (the odd last one): one weight load per 4 FMLA.
  template <std::size_t KS>
  static void single(std::size_t channels, std::size_t ks, const float* const* ip, const float* w, float* o,
                     float32x4_t vmin, float32x4_t vmax) noexcept {
    const std::size_t cfull = channels / CR * CR;
    if constexpr (KS == 9) {
      const float* i[KS];
#pragma GCC unroll 32
      for (std::size_t t = 0; t < KS; ++t) i[t] = ip[t];
      for (std::size_t c = 0; c < cfull; c += CR, o += CR) {
        float32x4x4_t acc = load_bias(w);
        advance(w);
#pragma GCC unroll 32
        for (std::size_t t = 0; t < KS; ++t) {
          acc = fma16(acc, vld1q_f32_x4(i[t]), vld1q_f32_x4(w));
          advance(i[t]), advance(w);
          pin(acc);
        }
        store16(o, acc, vmin, vmax);
      }
    } else {
      for (std::size_t c = 0; c < cfull; c += CR, o += CR) {
        float32x4x4_t acc = load_bias(w);
        advance(w);
        for (std::size_t t = 0; t < ks; ++t) {
          acc = fma16(acc, vld1q_f32_x4(ip[t] + c), vld1q_f32_x4(w));
          advance(w);
        }
        store16(o, acc, vmin, vmax);
      }
    }
    if (cfull != channels) tail(channels - cfull, cfull, ks, ip, w, o, vmin, vmax);
  }

  /// The block's 16 biases as the accumulators (LDP pairs: LD1 {4 x q} would need 4 MOVs out of
  /// its consecutive registers).
  [[gnu::always_inline]] static inline float32x4x4_t load_bias(const float* w) noexcept {
    float32x4x4_t a;
    a.val[0] = vld1q_f32(w), a.val[1] = vld1q_f32(w + 4), a.val[2] = vld1q_f32(w + 8), a.val[3] = vld1q_f32(w + 12);
    return a;
  }

  /// p += CR, opaque to the optimiser (an empty asm), so that the compilers keep one running
  /// pointer and fold the increment into the load (LD1 post-index) instead of materialising
  /// base + constant addresses with an ADD per load.
  [[gnu::always_inline]] static inline void advance(const float*& p) noexcept {
    p += CR;
    __asm__("" : "+r"(p));
  }

  /// clang only: the tap's FMLAs complete here and no later load moves above this point (no
  /// instruction). Without it clang 16 issues all taps' LD1 {4 x q} first and spills them to the
  /// stack (0.75 instructions/MAC instead of 0.5); GCC 12 schedules well without it.
  [[gnu::always_inline]] static inline void pin([[maybe_unused]] float32x4x4_t& a) noexcept {
#if defined(__clang__)
    __asm__ volatile("" : "+w"(a.val[0]), "+w"(a.val[1]), "+w"(a.val[2]), "+w"(a.val[3])::"memory");
#endif
  }

  [[gnu::always_inline]] static inline float32x4x4_t fma16(float32x4x4_t a, float32x4x4_t x, float32x4x4_t w) noexcept {
    a.val[0] = vfmaq_f32(a.val[0], x.val[0], w.val[0]);
    a.val[1] = vfmaq_f32(a.val[1], x.val[1], w.val[1]);
    a.val[2] = vfmaq_f32(a.val[2], x.val[2], w.val[2]);
    a.val[3] = vfmaq_f32(a.val[3], x.val[3], w.val[3]);
    return a;
  }

  [[gnu::always_inline]] static inline void store16(float* o, float32x4x4_t a, float32x4_t lo, float32x4_t hi) noexcept {
    a.val[0] = vminq_f32(vmaxq_f32(a.val[0], lo), hi);
    a.val[1] = vminq_f32(vmaxq_f32(a.val[1], lo), hi);
    a.val[2] = vminq_f32(vmaxq_f32(a.val[2], lo), hi);
    a.val[3] = vminq_f32(vmaxq_f32(a.val[3], lo), hi);
    vst1q_f32_x4(o, a);
  }

  /// The last rem (1..15) channels, starting at channel c; w is the last block's bias.
  static void tail(std::size_t rem, std::size_t c, std::size_t ks, const float* const* ip, const float* w, float* o,
                   float32x4_t lo, float32x4_t hi) noexcept {
    std::size_t g = 0;
    for (; g + 4 <= rem; g += 4) {
      float32x4_t a = vld1q_f32(w + g);
      for (std::size_t t = 0; t < ks; ++t) a = vfmaq_f32(a, vld1q_f32(ip[t] + c + g), vld1q_f32(w + CR * (t + 1) + g));
      vst1q_f32(o + g, vminq_f32(vmaxq_f32(a, lo), hi));
    }
    if (g == rem) return;
    const std::size_t r = rem - g;  // 1..3 channels: lane loads, zeros beyond (never stored)
    float32x4_t a = vld1q_f32(w + g);
    for (std::size_t t = 0; t < ks; ++t) a = vfmaq_f32(a, load_part(ip[t] + c + g, r), vld1q_f32(w + CR * (t + 1) + g));
    a = vminq_f32(vmaxq_f32(a, lo), hi);
    float* d = o + g;
    if (r & 2) { vst1_f32(d, vget_low_f32(a)); d += 2; a = vextq_f32(a, a, 2); }
    if (r & 1) vst1q_lane_f32(d, a, 0);
  }

  /// p[0..r) in lanes 0..r-1 (r in 1..3), zero elsewhere; nothing past p + r is read.
  static float32x4_t load_part(const float* p, std::size_t r) noexcept {
    if (r == 1) return vsetq_lane_f32(p[0], vdupq_n_f32(0.0f), 0);
    const float32x2_t lo = vld1_f32(p);
    return vcombine_f32(lo, r == 3 ? vset_lane_f32(p[2], vdup_n_f32(0.0f), 0) : vdup_n_f32(0.0f));
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv_f32, tessera::arch::neon> {
  using type = tessera::kernels::dwconv_f32_2x16_neon_fma;
};
