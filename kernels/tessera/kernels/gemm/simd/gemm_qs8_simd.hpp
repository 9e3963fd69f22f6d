/// @file gemm_qs8_simd.hpp
/// Forwarding header: the int8 GEMM variant registry.hpp lists for the `simd` tag.
#pragma once
#include <tessera/kernels/gemm/simd/gemm_qs8_4x2vc2_simd.hpp>

namespace tessera::kernels {
/// The `simd` int8 GEMM in gemm_qs8_registry.
using gemm_qs8_simd_kernel = gemm_qs8_4x2vc2_simd;
}  // namespace tessera::kernels
