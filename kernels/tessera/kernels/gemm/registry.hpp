/// @file registry.hpp
/// Every int8 GEMM microkernel compiled into this translation unit: feeds tests and benchmarks.
#pragma once
#include <tessera/arch/native.hpp>
#include <tessera/kernels/gemm/scalar/gemm_f32_4x4_scalar.hpp>
#include <tessera/kernels/gemm/scalar/gemm_qs8_1x4c1_scalar.hpp>

// Variants under construction are picked up as their headers land (temporary __has_include).
#if TESSERA_HAS_SIMD && __has_include(<tessera/kernels/gemm/simd/gemm_qs8_simd.hpp>)
#include <tessera/kernels/gemm/simd/gemm_qs8_simd.hpp>
#define TESSERA_REG_GEMM_SIMD , gemm_qs8_simd_kernel
#else
#define TESSERA_REG_GEMM_SIMD
#endif
#if TESSERA_HAS_NEON && __has_include(<tessera/kernels/gemm/neon/gemm_qs8_neon.hpp>)
#include <tessera/kernels/gemm/neon/gemm_qs8_neon.hpp>
#define TESSERA_REG_GEMM_NEON , gemm_qs8_neon_kernel
#else
#define TESSERA_REG_GEMM_NEON
#endif
#if TESSERA_HAS_NEON_DOT && __has_include(<tessera/kernels/gemm/neon/gemm_qs8_neon_dot.hpp>)
#include <tessera/kernels/gemm/neon/gemm_qs8_neon_dot.hpp>
#define TESSERA_REG_GEMM_NEON_DOT , gemm_qs8_neon_dot_kernel
#else
#define TESSERA_REG_GEMM_NEON_DOT
#endif
#if TESSERA_HAS_NEON_I8MM && __has_include(<tessera/kernels/gemm/neon/gemm_qs8_neon_i8mm.hpp>)
#include <tessera/kernels/gemm/neon/gemm_qs8_neon_i8mm.hpp>
#define TESSERA_REG_GEMM_NEON_I8MM , gemm_qs8_neon_i8mm_kernel
#else
#define TESSERA_REG_GEMM_NEON_I8MM
#endif
#if TESSERA_HAS_SVE && __has_include(<tessera/kernels/gemm/sve/gemm_qs8_sve.hpp>)
#include <tessera/kernels/gemm/sve/gemm_qs8_sve.hpp>
#define TESSERA_REG_GEMM_SVE , gemm_qs8_sve_kernel
#else
#define TESSERA_REG_GEMM_SVE
#endif
#if TESSERA_HAS_HELIUM && __has_include(<tessera/kernels/gemm/helium/gemm_qs8_helium.hpp>)
#include <tessera/kernels/gemm/helium/gemm_qs8_helium.hpp>
#define TESSERA_REG_GEMM_HELIUM , gemm_qs8_helium_kernel
#else
#define TESSERA_REG_GEMM_HELIUM
#endif

#if TESSERA_HAS_SIMD && __has_include(<tessera/kernels/gemm/simd/gemm_f32_simd.hpp>)
#include <tessera/kernels/gemm/simd/gemm_f32_simd.hpp>
#define TESSERA_REG_GEMM_F32_SIMD , gemm_f32_simd_kernel
#else
#define TESSERA_REG_GEMM_F32_SIMD
#endif
#if TESSERA_HAS_NEON && __has_include(<tessera/kernels/gemm/neon/gemm_f32_neon.hpp>)
#include <tessera/kernels/gemm/neon/gemm_f32_neon.hpp>
#define TESSERA_REG_GEMM_F32_NEON , gemm_f32_neon_kernel
#else
#define TESSERA_REG_GEMM_F32_NEON
#endif
#if TESSERA_HAS_SVE && __has_include(<tessera/kernels/gemm/sve/gemm_f32_sve.hpp>)
#include <tessera/kernels/gemm/sve/gemm_f32_sve.hpp>
#define TESSERA_REG_GEMM_F32_SVE , gemm_f32_sve_kernel
#else
#define TESSERA_REG_GEMM_F32_SVE
#endif
#if TESSERA_HAS_HELIUM_FP && __has_include(<tessera/kernels/gemm/helium/gemm_f32_helium.hpp>)
#include <tessera/kernels/gemm/helium/gemm_f32_helium.hpp>
#define TESSERA_REG_GEMM_F32_HELIUM , gemm_f32_helium_kernel
#else
#define TESSERA_REG_GEMM_F32_HELIUM
#endif

namespace tessera::kernels {

/// fp32 GEMM variants in this build.
using gemm_f32_registry = arch::type_list<gemm_f32_4x4_scalar TESSERA_REG_GEMM_F32_SIMD TESSERA_REG_GEMM_F32_NEON
                                              TESSERA_REG_GEMM_F32_SVE TESSERA_REG_GEMM_F32_HELIUM>;

/// int8 x int8 -> int8 GEMM variants in this build.
using gemm_qs8_registry = arch::type_list<gemm_qs8_1x4c1_scalar TESSERA_REG_GEMM_SIMD TESSERA_REG_GEMM_NEON
                                              TESSERA_REG_GEMM_NEON_DOT TESSERA_REG_GEMM_NEON_I8MM
                                                  TESSERA_REG_GEMM_SVE TESSERA_REG_GEMM_HELIUM>;

}  // namespace tessera::kernels
