/// @file gemm_f32_simd.hpp
/// Forwarding header: the fp32 GEMM variant registry.hpp lists for the `simd` tag.
#pragma once
#include <tessera/kernels/gemm/simd/gemm_f32_6x2v_simd_fma.hpp>

namespace tessera::kernels {
/// The `simd` fp32 GEMM in gemm_f32_registry.
using gemm_f32_simd_kernel = gemm_f32_6x2v_simd_fma;
}  // namespace tessera::kernels
