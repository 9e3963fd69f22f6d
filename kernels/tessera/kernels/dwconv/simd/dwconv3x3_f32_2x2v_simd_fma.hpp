/// @file dwconv3x3_f32_2x2v_simd_fma.hpp
/// fp32 3x3 depthwise row kernel (op.hpp's row contract: windows inside the input, stride 1 or 2
/// along x, direct addressing) on xsimd (the `simd` tag) with FMA: tiles of 2 output pixels x one
/// whole packed block of 2v channels (dw3x3_simd::tile2: 4 accumulators, each input cache line
/// consumed by one tile, weights as FMA memory operands), pairs of pixels outer, blocks inner.
/// (At 512 channels on the Zen 4 VM, row kernel alone: 2 pixels 37% of peak, 1: 28%, 3: 32%,
/// 4: 27%; blocks outer, each over the whole row: 15-19%.)
/// cr() = 2v (AVX2: 16, Neon64: 8), dwconv_f32_3x2v_simd_fma's blocks.
/// This is the path dwconv3x3_f32_6x1v_simd_fma takes when the pixel pitch is a multiple of
/// 2 KiB (channels % 512 == 0), where its v-lane halves would evict each other's lines from L1;
/// it specialises no ukernel (6x1v is the simd row kernel) and is registered so that the tests
/// check it on every channel count. Results, tails and accesses: dwconv3x3_f32_simd_rows.hpp
/// (bit for bit the scalar kernel's).
/// ISA: x86-64 AVX2+FMA (xsimd fma3<avx2>) or AArch64 Neon (xsimd neon64).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_SIMD
#error "dwconv3x3_f32_2x2v_simd_fma.hpp needs the simd tag (TESSERA_USE_XSIMD=1 and AVX2+FMA on x86-64 or Neon on AArch64)"
#endif

#include <cstddef>
#include <tessera/arch/tags.hpp>
#include <tessera/kernels/dwconv/op.hpp>
#include <tessera/kernels/dwconv/simd/dwconv3x3_f32_simd_rows.hpp>
#include <tessera/kernels/dwconv/simd/dwconv_f32_3x2v_simd_fma.hpp>

namespace tessera::kernels {

struct dwconv3x3_f32_2x2v_simd_fma {
  using arch = tessera::arch::simd;
  static constexpr const char* name = "dwconv3x3_f32_2x2v_simd_fma";
  /// Channel tile of the packed weights (dwconv_f32_3x2v_simd_fma's).
  static std::size_t cr() noexcept { return dwconv_f32_3x2v_simd_fma::cr(); }

  /// `pixels` outputs of one row, windows inside the input, stride 1 or 2 along x (op.hpp).
  static void run(std::size_t channels, std::size_t pixels, std::size_t stride, const float* r0, const float* r1,
                  const float* r2, const void* packed, float* out, const f32_clamp& clamp) noexcept {
    if (stride == 1) dw3x3_simd::run_row<1, 2, true>(channels, pixels, r0, r1, r2, packed, out, clamp);
    else dw3x3_simd::run_row<2, 2, true>(channels, pixels, r0, r1, r2, packed, out, clamp);
  }
};

}  // namespace tessera::kernels
