/// @file registry_s16.hpp
/// Every 16x8 GEMM microkernel (int16 activations x int8 weights -> int16) compiled into this
/// translation unit: feeds tests, benchmarks and the conformance runner.
#pragma once
#include <tessera/arch/native.hpp>
#include <tessera/kernels/gemm/scalar/gemm_qs16_1x4c1_scalar.hpp>
#if TESSERA_HAS_SIMD
#include <tessera/kernels/gemm/simd/gemm_qs16_6x2vc2_simd.hpp>
#endif
#if TESSERA_HAS_NEON
#include <tessera/kernels/gemm/neon/gemm_qs16_1x16c1_neon_mlal.hpp>
#endif
#if TESSERA_HAS_SVE
#include <tessera/kernels/gemm/sve/gemm_qs16_4x2vlc4_sve_dot.hpp>
#endif
#if TESSERA_HAS_HELIUM
#include <tessera/kernels/gemm/helium/gemm_qs16_1x4c8_helium.hpp>
#endif

namespace tessera::kernels {

/// int16 x int8 -> int16 GEMM variants in this build (SVE2 selects the SVE kernel through the tag chain).
using gemm_qs16_registry = arch::type_list<gemm_qs16_1x4c1_scalar
#if TESSERA_HAS_SIMD
                                           , gemm_qs16_6x2vc2_simd
#endif
#if TESSERA_HAS_NEON
                                           , gemm_qs16_1x16c1_neon_mlal
#endif
#if TESSERA_HAS_SVE
                                           , gemm_qs16_4x2vlc4_sve_dot
#endif
#if TESSERA_HAS_HELIUM
                                           , gemm_qs16_1x4c8_helium
#endif
                                           >;

}  // namespace tessera::kernels
