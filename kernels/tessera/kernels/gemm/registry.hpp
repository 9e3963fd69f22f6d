/// @file registry.hpp
/// Every GEMM microkernel compiled into this translation unit, one list per op: the lists feed the
/// doctest TEST_CASE_TEMPLATEs, the benchmarks and the conformance runner. Adding a variant means
/// one include and one list entry here, under its arch macro.
#pragma once
#include <tessera/arch/native.hpp>
#include <tessera/kernels/gemm/scalar/gemm_f32_4x4_scalar.hpp>
#include <tessera/kernels/gemm/scalar/gemm_qs8_1x4c1_scalar.hpp>
#if TESSERA_HAS_SIMD
#include <tessera/kernels/gemm/simd/gemm_f32_6x2v_simd_fma.hpp>
#include <tessera/kernels/gemm/simd/gemm_qs8_6x2vc2_simd.hpp>
#endif
#if TESSERA_HAS_AVX512_VNNI
#include <tessera/kernels/gemm/avx512/gemm_f32_8x32_avx512_fma.hpp>
#include <tessera/kernels/gemm/avx512/gemm_qs8_8x32c4_avx512_vnni.hpp>
#endif
#if TESSERA_HAS_NEON
#include <tessera/kernels/gemm/neon/gemm_f32_8x12_neon_fma.hpp>
#include <tessera/kernels/gemm/neon/gemm_qs8_1x16c16_neon_mlal.hpp>
#endif
#if TESSERA_HAS_NEON_DOT
#include <tessera/kernels/gemm/neon/gemm_qs8_4x16c4_neon_dot.hpp>
#endif
#if TESSERA_HAS_NEON_I8MM
#include <tessera/kernels/gemm/neon/gemm_qs8_4x16c8_neon_i8mm.hpp>
#endif
#if TESSERA_HAS_SVE
#include <tessera/kernels/gemm/sve/gemm_f32_8x2vl_sve_fmla.hpp>
#include <tessera/kernels/gemm/sve/gemm_qs8_8x2vlc4_sve_dot.hpp>
#endif
#if TESSERA_HAS_HELIUM
#include <tessera/kernels/gemm/helium/gemm_qs8_2x3c16_helium.hpp>
#endif
#if TESSERA_HAS_HELIUM_FP
#include <tessera/kernels/gemm/helium/gemm_f32_3x8_helium_fma.hpp>
#endif

namespace tessera::kernels {

/// int8 x int8 -> int8 GEMM variants in this build.
using gemm_qs8_registry = arch::type_list<gemm_qs8_1x4c1_scalar
#if TESSERA_HAS_SIMD
                                          , gemm_qs8_6x2vc2_simd
#endif
#if TESSERA_HAS_AVX512_VNNI
                                          , gemm_qs8_8x32c4_avx512_vnni
#endif
#if TESSERA_HAS_NEON
                                          , gemm_qs8_1x16c16_neon_mlal
#endif
#if TESSERA_HAS_NEON_DOT
                                          , gemm_qs8_4x16c4_neon_dot
#endif
#if TESSERA_HAS_NEON_I8MM
                                          , gemm_qs8_4x16c8_neon_i8mm
#endif
#if TESSERA_HAS_SVE
                                          , gemm_qs8_8x2vlc4_sve_dot
#endif
#if TESSERA_HAS_HELIUM
                                          , gemm_qs8_2x3c16_helium
#endif
                                          >;

/// fp32 GEMM variants in this build.
using gemm_f32_registry = arch::type_list<gemm_f32_4x4_scalar
#if TESSERA_HAS_SIMD
                                          , gemm_f32_6x2v_simd_fma
#endif
#if TESSERA_HAS_AVX512_VNNI
                                          , gemm_f32_8x32_avx512_fma
#endif
#if TESSERA_HAS_NEON
                                          , gemm_f32_8x12_neon_fma
#endif
#if TESSERA_HAS_SVE
                                          , gemm_f32_8x2vl_sve_fmla
#endif
#if TESSERA_HAS_HELIUM_FP
                                          , gemm_f32_3x8_helium_fma
#endif
                                          >;

}  // namespace tessera::kernels
