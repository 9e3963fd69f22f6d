/// @file gemm_qs8_neon.hpp
/// Forwarding header: the int8 GEMM variant registry.hpp lists for the `neon` tag (Armv8.0, no dotprod).
#pragma once
#include <tessera/kernels/gemm/neon/gemm_qs8_1x16c16_neon_mlal.hpp>

namespace tessera::kernels {
/// The `neon` int8 GEMM in gemm_qs8_registry.
using gemm_qs8_neon_kernel = gemm_qs8_1x16c16_neon_mlal;
}  // namespace tessera::kernels
