/// @file registry.hpp
/// Every requantization microkernel compiled into this translation unit. The lists feed the
/// doctest TEST_CASE_TEMPLATEs and the benchmarks; adding a variant means one line here.
#pragma once
#include <tessera/arch/native.hpp>
#include <tessera/kernels/requant/scalar/requant_s32_scalar.hpp>
#include <tessera/kernels/requant/scalar/requant_s64_scalar.hpp>
#if TESSERA_HAS_SIMD
#include <tessera/kernels/requant/simd/requant_s32_simd.hpp>
#endif
#if TESSERA_HAS_NEON
#include <tessera/kernels/requant/neon/requant_s32_neon.hpp>
#include <tessera/kernels/requant/neon/requant_s64_neon.hpp>
#endif
#if TESSERA_HAS_SVE
#include <tessera/kernels/requant/sve/requant_s32_sve.hpp>
#include <tessera/kernels/requant/sve/requant_s64_sve.hpp>
#endif
#if TESSERA_HAS_SVE2
#include <tessera/kernels/requant/sve2/requant_s32_sve2.hpp>
#endif
#if TESSERA_HAS_HELIUM
#include <tessera/kernels/requant/helium/requant_s32_helium.hpp>
#endif

namespace tessera::kernels {

/// int32-accumulator requantization variants in this build.
using requant_s32_registry = arch::type_list<requant_s32_scalar
#if TESSERA_HAS_SIMD
                                             , requant_s32_simd
#endif
#if TESSERA_HAS_NEON
                                             , requant_s32_neon
#endif
#if TESSERA_HAS_SVE
                                             , requant_s32_sve
#endif
#if TESSERA_HAS_SVE2
                                             , requant_s32_sve2
#endif
#if TESSERA_HAS_HELIUM
                                             , requant_s32_helium
#endif
                                             >;

/// int64-accumulator (16x8) requantization variants in this build. Helium has no 64-bit lane
/// arithmetic (MVE lacks 64-bit vector add/shift), so it falls back to scalar by the tag chain.
using requant_s64_registry = arch::type_list<requant_s64_scalar
#if TESSERA_HAS_NEON
                                             , requant_s64_neon
#endif
#if TESSERA_HAS_SVE
                                             , requant_s64_sve
#endif
                                             >;

}  // namespace tessera::kernels
