/// @file dwconv3x3_f32_6x1v_simd_fma.hpp
/// fp32 3x3 depthwise row kernel (op.hpp's row contract: windows inside the input, stride 1 or 2
/// along x, direct addressing) on xsimd (the `simd` tag) with FMA; the simd tag's row kernel.
///
/// cr() = 2v, v = fp32 lanes of the xsimd arch (AVX2: 16, Neon64: 8): the packed blocks of
/// dwconv_f32_3x2v_simd_fma. Register tile (dw3x3_simd::tile1): 6 neighbouring output pixels at
/// stride 1, 4 at stride 2, x one v-lane vector; the tile holds its 9 weight vectors in registers
/// (AVX2: 9 + 6 accumulators + 1 input = 16 ymm) and loads each input column of a tap row once
/// for the up to 3 outputs that use it: per 6 pixels at stride 1, 24 input + 10 weight and bias
/// loads for 54 FMAs (the unipass kernel: 72 loads). Groups of pixels outer, both halves of every
/// block in turn inner (dwconv3x3_f32_simd_rows.hpp). Measured on the Zen 4 VM (AVX2, host
/// microbenchmark of the row kernel alone, noisy shared VM): 6 pixels at stride 1 matched 5 and
/// beat 4 by 0-5% and 3 by ~45% (112x112x32); 4 at stride 2 matched 3 and beat 6 by ~20%
/// (112x112x64); whole-block tiles (tile2) lost 15-30% at stride 1 and up to 10% at stride 2,
/// except at a pixel pitch of 2 KiB (512 channels, MobileNet's 14x14 layers), where a tile's
/// input columns fall into 2 L1 sets and the
/// second half's loads miss (v-lane tiles there: 12-22% of peak, whole-block tiles of 2 pixels:
/// 37%): pitches that are multiples of 2 KiB go to dwconv3x3_f32_2x2v_simd_fma when the rows too
/// are a multiple of 2 KiB apart (the depthwise operator's split path on 512 channels), and stay
/// here when they are not (its padded-row cache staggers its rows across L1 sets: 14x14x512
/// 49 GFLOP/s here against 36 on the 2x2v tiles of unstaggered rows).
/// Results, tails and accesses: dwconv3x3_f32_simd_rows.hpp (bit for bit the scalar kernel's).
/// ISA: x86-64 AVX2+FMA (xsimd fma3<avx2>) or AArch64 Neon (xsimd neon64).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SIMD
#error "dwconv3x3_f32_6x1v_simd_fma.hpp needs the simd tag (TESSERA_USE_XSIMD=1 and AVX2+FMA on x86-64 or Neon on AArch64)"
#endif

#include <cstddef>
#include <cstdint>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>
#include <tessera/kernels/dwconv/simd/dwconv3x3_f32_2x2v_simd_fma.hpp>
#include <tessera/kernels/dwconv/simd/dwconv3x3_f32_simd_rows.hpp>
#include <tessera/kernels/dwconv/simd/dwconv_f32_3x2v_simd_fma.hpp>

namespace tessera::kernels {

struct dwconv3x3_f32_6x1v_simd_fma {
  using arch = tessera::arch::simd;
  static constexpr const char* name = "dwconv3x3_f32_6x1v_simd_fma";
  /// Channel tile of the packed weights (dwconv_f32_3x2v_simd_fma's).
  static std::size_t cr() noexcept { return dwconv_f32_3x2v_simd_fma::cr(); }

  /// `pixels` outputs of one row, windows inside the input, stride 1 or 2 along x (op.hpp).
  static void run(std::size_t channels, std::size_t pixels, std::size_t stride, const float* r0, const float* r1,
                  const float* r2, const void* packed, float* out, const f32_clamp& clamp) noexcept {
    if (channels * sizeof(float) % 2048 == 0 && (same_sets(r0, r1) || same_sets(r1, r2))) {
      dwconv3x3_f32_2x2v_simd_fma::run(channels, pixels, stride, r0, r1, r2, packed, out, clamp);
    } else if (stride == 1) {
      dw3x3_simd::run_row<1, N1, false>(channels, pixels, r0, r1, r2, packed, out, clamp);
    } else {
      dw3x3_simd::run_row<2, N2, false>(channels, pixels, r0, r1, r2, packed, out, clamp);
    }
  }

 private:
  static constexpr std::size_t N1 = 6, N2 = 4;  // pixels per tile at stride 1, 2
  /// True when a and b are a multiple of 2 KiB apart: with such a pixel pitch, the two rows' input
  /// columns then fall into the same two L1 sets.
  static bool same_sets(const float* a, const float* b) noexcept {
    return (reinterpret_cast<std::uintptr_t>(a) - reinterpret_cast<std::uintptr_t>(b)) % 2048 == 0;
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv3x3_f32, tessera::arch::simd> {
  using type = tessera::kernels::dwconv3x3_f32_6x1v_simd_fma;
};
