/// @file gemm_qs8_neon_i8mm.hpp
/// The int8 GEMM variant registered for the neon_i8mm tag (fixed path included by registry.hpp).
#pragma once
#include <tessera/kernels/gemm/neon/gemm_qs8_4x8c8_neon_i8mm.hpp>

namespace tessera::kernels {
/// Registered neon_i8mm int8 GEMM kernel.
using gemm_qs8_neon_i8mm_kernel = gemm_qs8_4x8c8_neon_i8mm;
}  // namespace tessera::kernels
