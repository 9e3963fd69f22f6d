/// @file gemm_qs8_neon_dot.hpp
/// The int8 GEMM variant registered for the neon_dot tag (fixed path included by registry.hpp).
#pragma once
#include <tessera/kernels/gemm/neon/gemm_qs8_4x16c4_neon_dot.hpp>

namespace tessera::kernels {
/// Registered neon_dot int8 GEMM kernel.
using gemm_qs8_neon_dot_kernel = gemm_qs8_4x16c4_neon_dot;
}  // namespace tessera::kernels
