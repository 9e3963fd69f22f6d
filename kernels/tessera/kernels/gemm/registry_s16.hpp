/// @file registry_s16.hpp
/// Every 16x8 GEMM microkernel (int16 activations x int8 weights -> int16) compiled into this
/// translation unit: feeds tests, benchmarks and the conformance runner.
#pragma once
#include <tessera/arch/native.hpp>
#include <tessera/kernels/gemm/scalar/gemm_qs16_1x4c1_scalar.hpp>
#if TESSERA_HAS_NEON
#include <tessera/kernels/gemm/neon/gemm_qs16_1x16c1_neon_mlal.hpp>
#endif

namespace tessera::kernels {

/// int16 x int8 -> int16 GEMM variants in this build. SVE and Helium select the Neon / scalar
/// kernel through the tag chain (see the kernels' headers and docs/design for why).
using gemm_qs16_registry = arch::type_list<gemm_qs16_1x4c1_scalar
#if TESSERA_HAS_NEON
                                           , gemm_qs16_1x16c1_neon_mlal
#endif
                                           >;

}  // namespace tessera::kernels
