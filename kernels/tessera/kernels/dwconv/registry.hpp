/// @file registry.hpp
/// Every depthwise convolution microkernel compiled into this translation unit, one list per op:
/// the lists feed the doctest TEST_CASE_TEMPLATEs (tests/unit/test_depthwise.cpp), the benchmarks
/// and the conformance runner. Adding a variant means one include and one list entry here, inside
/// its arch block; the kernel header itself specialises `tessera::ukernel<op::dwconv_*, Tag>` so
/// that `select_t<op::dwconv_qs8, Tag>` finds it. The scalar kernels serve every tag whose chain
/// has no closer registration.
#pragma once
#include <tessera/arch/native.hpp>
#include <tessera/kernels/dwconv/scalar/dwconv_f32_scalar.hpp>
#include <tessera/kernels/dwconv/scalar/dwconv_qs16_scalar.hpp>
#include <tessera/kernels/dwconv/scalar/dwconv_qs8_scalar.hpp>
#include <tessera/kernels/dwconv/scalar/dwconv3x3_f32_scalar.hpp>
#include <tessera/kernels/dwconv/scalar/dwconv3x3p_f32_scalar.hpp>
#include <tessera/kernels/dwconv/scalar/dwconv3x3_qs8_scalar.hpp>
#include <tessera/kernels/dwconv/scalar/dwconv5x5_f32_scalar.hpp>
#include <tessera/kernels/dwconv/scalar/dwconv5x5_qs8_scalar.hpp>

// ---- includes of the vector kernels, one block per arch macro ----------------------------------
#if TESSERA_HAS_SIMD
// (simd depthwise kernels)
// (simd 3x3 row kernels)
#include <tessera/kernels/dwconv/simd/dwconv3x3_qs8_2v_simd.hpp>
#include <tessera/kernels/dwconv/simd/dwconv3x3_f32_2x2v_simd_fma.hpp>
#include <tessera/kernels/dwconv/simd/dwconv3x3_f32_6x1v_simd_fma.hpp>
// (simd 5x5 row kernels)
#include <tessera/kernels/dwconv/simd/dwconv5x5_f32_8x1v_simd_fma.hpp>
#include <tessera/kernels/dwconv/simd/dwconv5x5_qs8_4x2v_simd.hpp>
#include <tessera/kernels/dwconv/simd/dwconv_f32_3x2v_simd_fma.hpp>
#include <tessera/kernels/dwconv/simd/dwconv_qs8_2v_simd.hpp>
#include <tessera/kernels/dwconv/simd/dwconv_qs16_2v_simd.hpp>
#endif
#if TESSERA_HAS_AVX512_VNNI
// (avx512 depthwise kernels)
#include <tessera/kernels/dwconv/avx512/dwconv3x3p_f32_7x1v_avx512_fma.hpp>
#endif
#if TESSERA_HAS_NEON
// (neon depthwise kernels)
// (neon 3x3 row kernels)
#include <tessera/kernels/dwconv/neon/dwconv3x3_f32_4x8_neon_fma.hpp>
#include <tessera/kernels/dwconv/neon/dwconv3x3_qs8_2x16_neon_mlal.hpp>
// (neon 5x5 row kernels)
#include <tessera/kernels/dwconv/neon/dwconv5x5_qs8_2x16_neon_mlal.hpp>
#include <tessera/kernels/dwconv/neon/dwconv5x5_f32_8x8_neon_fma.hpp>
#include <tessera/kernels/dwconv/neon/dwconv_f32_2x16_neon_fma.hpp>
#include <tessera/kernels/dwconv/neon/dwconv_qs8_16c_neon_mlal.hpp>
#include <tessera/kernels/dwconv/neon/dwconv_qs16_8c_neon_mlal.hpp>
#endif
#if TESSERA_HAS_SVE
// (sve depthwise kernels)
// (sve 3x3 row kernels)
#include <tessera/kernels/dwconv/sve/dwconv3x3_f32_8xvl_sve_fmla.hpp>
#include <tessera/kernels/dwconv/sve/dwconv3x3_qs8_2vl_sve.hpp>
// (sve 5x5 row kernels)
#include <tessera/kernels/dwconv/sve/dwconv5x5_f32_16xvl_sve_fmla.hpp>
#include <tessera/kernels/dwconv/sve/dwconv5x5_qs8_10xvl_sve.hpp>
#include <tessera/kernels/dwconv/sve/dwconv_f32_2vl_sve_fmla.hpp>
#include <tessera/kernels/dwconv/sve/dwconv_qs8_4vl_sve.hpp>
#include <tessera/kernels/dwconv/sve/dwconv_qs16_2vl_sve.hpp>
#endif
#if TESSERA_HAS_HELIUM
// (helium integer depthwise kernels)
#include <tessera/kernels/dwconv/helium/dwconv_qs8_2x8_helium.hpp>
#include <tessera/kernels/dwconv/helium/dwconv_qs16_2x8_helium.hpp>
#include <tessera/kernels/dwconv/helium/dwconv3x3_qs8_2x8_helium.hpp>
// (helium s8 5x5 row kernels)
#include <tessera/kernels/dwconv/helium/dwconv5x5_qs8_2x8_helium.hpp>
#endif
#if TESSERA_HAS_HELIUM_FP
// (helium fp32 depthwise kernels)
#include <tessera/kernels/dwconv/helium/dwconv_f32_2x8_helium_fma.hpp>
#include <tessera/kernels/dwconv/helium/dwconv3x3_f32_4x4_helium_fma.hpp>
#include <tessera/kernels/dwconv/helium/dwconv5x5_f32_4x4_helium_fma.hpp>
#endif

namespace tessera::kernels {

/// fp32 depthwise variants in this build.
using dwconv_f32_registry = arch::type_list<dwconv_f32_scalar
#if TESSERA_HAS_SIMD
// (simd f32 entries: ", name")
                                            , dwconv_f32_3x2v_simd_fma
#endif
#if TESSERA_HAS_NEON
// (neon f32 entries)
                                            , dwconv_f32_2x16_neon_fma
#endif
#if TESSERA_HAS_SVE
// (sve f32 entries)
                                            , dwconv_f32_2vl_sve_fmla
#endif
#if TESSERA_HAS_HELIUM_FP
// (helium fp32 entries)
                                            , dwconv_f32_2x8_helium_fma
#endif
                                            >;

/// int8 depthwise variants in this build.
using dwconv_qs8_registry = arch::type_list<dwconv_qs8_scalar
#if TESSERA_HAS_SIMD
// (simd s8 entries)
                                            , dwconv_qs8_2v_simd
#endif
#if TESSERA_HAS_NEON
// (neon s8 entries)
                                            , dwconv_qs8_16c_neon_mlal
#endif
#if TESSERA_HAS_SVE
// (sve s8 entries)
                                            , dwconv_qs8_4vl_sve
#endif
#if TESSERA_HAS_HELIUM
// (helium s8 entries)
                                            , dwconv_qs8_2x8_helium
#endif
                                            >;

/// int16 x int8 -> int16 depthwise variants in this build.
using dwconv_qs16_registry = arch::type_list<dwconv_qs16_scalar
#if TESSERA_HAS_SIMD
// (simd s16 entries)
                                             , dwconv_qs16_2v_simd
#endif
#if TESSERA_HAS_NEON
// (neon s16 entries)
                                             , dwconv_qs16_8c_neon_mlal
#endif
#if TESSERA_HAS_SVE
// (sve s16 entries)
                                             , dwconv_qs16_2vl_sve
#endif
#if TESSERA_HAS_HELIUM
// (helium s16 entries)
                                             , dwconv_qs16_2x8_helium
#endif
                                             >;

/// fp32 3x3 row kernels (op.hpp's row contract) in this build.
using dwconv3x3_f32_registry = arch::type_list<dwconv3x3_f32_scalar
#if TESSERA_HAS_SIMD
// (simd f32 row entries)
                                               , dwconv3x3_f32_6x1v_simd_fma
                                               , dwconv3x3_f32_2x2v_simd_fma
#endif
#if TESSERA_HAS_NEON
// (neon f32 row entries)
                                               , dwconv3x3_f32_4x8_neon_fma
#endif
#if TESSERA_HAS_SVE
// (sve f32 row entries)
                                               , dwconv3x3_f32_8xvl_sve_fmla
#endif
#if TESSERA_HAS_HELIUM_FP
                                               , dwconv3x3_f32_4x4_helium_fma
#endif
                                               >;

/// fp32 3x3 pitched row kernels (op.hpp's pitched row contract) in this build.
using dwconv3x3p_f32_registry = arch::type_list<dwconv3x3p_f32_scalar
#if TESSERA_HAS_AVX512_VNNI
                                                , dwconv3x3p_f32_7x1v_avx512_fma
#endif
                                                >;

/// int8 3x3 row kernels (op.hpp's row contract) in this build.
using dwconv3x3_qs8_registry = arch::type_list<dwconv3x3_qs8_scalar
#if TESSERA_HAS_SIMD
// (simd s8 row entries)
                                               , dwconv3x3_qs8_2v_simd
#endif
#if TESSERA_HAS_NEON
// (neon s8 row entries)
                                               , dwconv3x3_qs8_2x16_neon_mlal
#endif
#if TESSERA_HAS_SVE
// (sve s8 row entries)
                                               , dwconv3x3_qs8_2vl_sve
#endif
#if TESSERA_HAS_HELIUM
// (helium s8 row entries)
                                               , dwconv3x3_qs8_2x8_helium
#endif
                                               >;

/// fp32 5x5 row kernels (op.hpp's 5x5 row contract) in this build.
using dwconv5x5_f32_registry = arch::type_list<dwconv5x5_f32_scalar
#if TESSERA_HAS_SIMD
// (simd f32 5x5 row entries)
                                               , dwconv5x5_f32_8x1v_simd_fma
#endif
#if TESSERA_HAS_NEON
// (neon f32 5x5 row entries)
                                               , dwconv5x5_f32_8x8_neon_fma
#endif
#if TESSERA_HAS_SVE
// (sve f32 5x5 row entries)
                                               , dwconv5x5_f32_16xvl_sve_fmla
#endif
#if TESSERA_HAS_HELIUM_FP
// (helium f32 5x5 row entries)
                                               , dwconv5x5_f32_4x4_helium_fma
#endif
                                               >;

/// int8 5x5 row kernels (op.hpp's 5x5 row contract) in this build.
using dwconv5x5_qs8_registry = arch::type_list<dwconv5x5_qs8_scalar
#if TESSERA_HAS_SIMD
// (simd s8 5x5 row entries)
                                               , dwconv5x5_qs8_4x2v_simd
#endif
#if TESSERA_HAS_NEON
// (neon s8 5x5 row entries)
                                               , dwconv5x5_qs8_2x16_neon_mlal
#endif
#if TESSERA_HAS_SVE
// (sve s8 5x5 row entries)
                                               , dwconv5x5_qs8_10xvl_sve
#endif
#if TESSERA_HAS_HELIUM
// (helium s8 5x5 row entries)
                                               , dwconv5x5_qs8_2x8_helium
#endif
                                               >;
}  // namespace tessera::kernels
