/// @file dwconv3x3_f32_4x4_helium_fma.hpp
/// fp32 3x3 depthwise row kernel (op.hpp's row contract: windows inside the input, stride 1 or 2
/// along x, direct addressing) on Cortex-M55/M85 Helium (MVE with floating point).
///
/// Tile (stride 1): 4 neighbouring output pixels x 4 channels (one float32x4 each). cr() = 8, the
/// packed blocks of dwconv_f32_2x8_helium_fma (`float bias[8]; float w[9][8]`), run as two 4-lane
/// halves. With 8 Q registers the nine weights cannot stay resident, so per tap row the kernel
/// holds that row's 3 weights, the 4 accumulators and one input vector (8 registers) and streams
/// the row's inputs once: 6 input vectors for 12 VFMA (each input serves up to 3 outputs), against
/// a weight and an input load per VFMA for the unipass kernel. Stride 2 runs the unipass kernel
/// (see run).
/// Loop order: channel half outer, groups of 4 pixels inner; 1..3 remaining pixels take the same
/// code with a smaller tile.
/// Accumulation order is the scalar kernel's (bias, then one fused multiply-add per tap in ky, kx
/// order), so results equal dwconv_f32_scalar's bit for bit.
/// Tails: whole halves run unpredicated; the last 1..3 channels run VCTP32-predicated (zeroing
/// loads, predicated stores); nothing outside the rows' windows or the output pixels is accessed.
/// ISA: Armv8.1-M MVE with floating point (MVE-F).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_HELIUM_FP
#error "dwconv3x3_f32_4x4_helium_fma.hpp needs Helium with floating point (MVE-F): compile for e.g. -mcpu=cortex-m55"
#endif

#include <arm_mve.h>
#include <cstddef>
#include <cstdint>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/helium/dwconv_f32_2x8_helium_fma.hpp>
#include <tessera/kernels/dwconv/helium/dwconv_f32_helium_rows.hpp>
#include <tessera/kernels/dwconv/op.hpp>

namespace tessera::kernels {

struct dwconv3x3_f32_4x4_helium_fma {
  using arch = tessera::arch::helium;
  static constexpr const char* name = "dwconv3x3_f32_4x4_helium_fma";
  /// Channel tile of the packed weights (dwconv_f32_2x8_helium_fma's).
  static std::size_t cr() noexcept { return CR; }

  /// `pixels` outputs of one row, windows inside the input, stride 1 or 2 along x (op.hpp).
  static void run(std::size_t channels, std::size_t pixels, std::size_t stride, const float* r0, const float* r1,
                  const float* r2, const void* packed, float* out, const f32_clamp& clamp) noexcept {
    if (stride == 1) {
      run_s1(channels, pixels, r0, r1, r2, packed, out, clamp);
      return;
    }
    // Stride 2: a sliding tile shares too few loads to pay for its address arithmetic on 8 Q
    // registers (whole operator on 28x28x64 -> 14x14: 1.508 instructions/MAC against 1.450
    // unipass), so the unipass kernel runs over tap pointers built on the stack.
    for_each_row_chunk(channels, pixels, stride, r0, r1, r2, [&](const float* const* ptrs, std::size_t j0, std::size_t n) {
      dwconv_f32_2x8_helium_fma::run(channels, n, 9, ptrs, 9, packed, out + j0 * channels, channels, clamp);
    });
  }

 private:
  static constexpr std::size_t CR = 8;
  static constexpr std::size_t BLOCK = CR * 10;  // floats per packed block: bias[8] + w[9][8]

  // dw_helium::load<Tail>() and dw_helium::schedule_fence<N>(): dwconv_f32_helium_rows.hpp.

  /// N pixels x 4 channels at input column 0 of rows r[3] (pixel pitch `ch`), weights `w` (tap t's
  /// 4 lanes at w + t * CR), output at `o`.
  template <std::size_t S, std::size_t N, bool Tail>
  [[gnu::always_inline]] static inline void group(const float* const* r, std::size_t ch, const float* w, float32x4_t bias,
                                                  float* o, mve_pred16_t pr, float32x4_t lo, float32x4_t hi) noexcept {
    __asm__("" : "+r"(w));  // taps address the weights with immediate offsets, not hoisted pointers
    float32x4_t acc[N];
#pragma GCC unroll 4
    for (std::size_t j = 0; j < N; ++j) acc[j] = bias;
#pragma GCC unroll 3
    for (std::size_t ky = 0; ky < 3; ++ky) {
      const float32x4_t w0 = vldrwq_f32(w + (ky * 3) * CR), w1 = vldrwq_f32(w + (ky * 3 + 1) * CR),
                        w2 = vldrwq_f32(w + (ky * 3 + 2) * CR);
      const float* x = r[ky];
      // Input column i serves outputs j with kx = i - S * j in 0..2, in increasing kx per output.
#pragma GCC unroll 9
      for (std::size_t i = 0; i < (N - 1) * S + 3; ++i) {
        const float32x4_t v = dw_helium::load<Tail>(x + i * ch, pr);
#pragma GCC unroll 4
        for (std::size_t j = 0; j < N; ++j) {
          if (i < S * j || i > S * j + 2) continue;
          const std::size_t kx = i - S * j;
          acc[j] = vfmaq_f32(acc[j], v, kx == 0 ? w0 : kx == 1 ? w1 : w2);
        }
        dw_helium::schedule_fence(acc);
      }
    }
#pragma GCC unroll 4
    for (std::size_t j = 0; j < N; ++j) {
      const float32x4_t a = vminnmq_f32(vmaxnmq_f32(acc[j], lo), hi);
      if constexpr (Tail) vstrwq_p_f32(o + j * ch, a, pr);
      else vstrwq_f32(o + j * ch, a);
    }
  }

  /// Every pixel of the 4 channels at c (Tail: rem < 4 of them), block weights at w (lane offset applied).
  template <std::size_t S, bool Tail>
  static void half(std::size_t ch, std::size_t pixels, const float* r0, const float* r1, const float* r2,
                   const float* w, float* out, std::size_t rem, float32x4_t lo, float32x4_t hi) noexcept {
    const mve_pred16_t pr = vctp32q(static_cast<std::uint32_t>(rem));
    const float32x4_t bias = vldrwq_f32(w);
    const float* wt = w + CR;
    const float* r[3] = {r0, r1, r2};
    std::size_t px = pixels;
    for (; px >= 4; px -= 4, out += 4 * ch) {
      group<S, 4, Tail>(r, ch, wt, bias, out, pr, lo, hi);
      for (auto& p : r) p += 4 * S * ch;
    }
    if (px == 3) group<S, 3, Tail>(r, ch, wt, bias, out, pr, lo, hi);
    else if (px == 2) group<S, 2, Tail>(r, ch, wt, bias, out, pr, lo, hi);
    else if (px == 1) group<S, 1, Tail>(r, ch, wt, bias, out, pr, lo, hi);
  }

  static void run_s1(std::size_t channels, std::size_t pixels, const float* r0, const float* r1, const float* r2,
                    const void* packed, float* out, const f32_clamp& clamp) noexcept {
    const float32x4_t lo = vdupq_n_f32(clamp.min), hi = vdupq_n_f32(clamp.max);
    const float* blk = static_cast<const float*>(packed);
    for (std::size_t c = 0; c < channels; c += 4) {
      const float* w = blk + (c / CR) * BLOCK + c % CR;  // this half's lanes of bias and taps
      const std::size_t rem = channels - c;
      if (rem >= 4) half<1, false>(channels, pixels, r0 + c, r1 + c, r2 + c, w, out + c, 4, lo, hi);
      else half<1, true>(channels, pixels, r0 + c, r1 + c, r2 + c, w, out + c, rem, lo, hi);
    }
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv3x3_f32, tessera::arch::helium> {
  using type = tessera::kernels::dwconv3x3_f32_4x4_helium_fma;
};
