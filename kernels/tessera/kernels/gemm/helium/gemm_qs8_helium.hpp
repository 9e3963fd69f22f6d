/// @file gemm_qs8_helium.hpp
/// The Helium int8 GEMM variant registered in gemm/registry.hpp (fixed include path).
#pragma once
#include <tessera/kernels/gemm/helium/gemm_qs8_2x3c16_helium.hpp>

namespace tessera::kernels {
using gemm_qs8_helium_kernel = gemm_qs8_2x3c16_helium;
}  // namespace tessera::kernels
