/// @file gemm_qs8_sve.hpp
/// The SVE int8 GEMM variant registered in gemm/registry.hpp (fixed include path).
#pragma once
#include <tessera/kernels/gemm/sve/gemm_qs8_8x2vlc4_sve_dot.hpp>

namespace tessera::kernels {
using gemm_qs8_sve_kernel = gemm_qs8_8x2vlc4_sve_dot;
}  // namespace tessera::kernels
