/// @file tags.hpp
/// Architecture tags: empty types in a single-parent chain. Microkernel selection starts at a
/// requested tag and walks `parent` until it finds an implementation (see dispatch/select.hpp).
///
///   scalar <- simd <- neon <- neon_dot <- neon_i8mm
///                 |     \<- sve <- sve2
///                 \<- avx512_vnni                    (the x86-64 host only)
///   scalar <- helium
#pragma once

namespace tessera::arch {

/// Portable C++; every op has a kernel here. The last fallback and the oracle.
struct scalar { using parent = void;   static constexpr const char* name = "scalar"; };
/// xsimd-backed portable SIMD (x86-64 AVX2+FMA on the host, Neon on AArch64).
struct simd : scalar { using parent = scalar; static constexpr const char* name = "simd"; };
/// x86-64 AVX-512 (F, BW, VL) with VNNI's VPDPBUSD (4 int8 MACs per 32-bit lane): the host ISA of
/// the peers tessera is benchmarked against (Zen 4, Ice Lake and later). The int8 and fp32 GEMMs
/// have kernels here (the fp32 one needs only AVX-512F); every other op walks up to `simd`.
struct avx512_vnni : simd { using parent = simd; static constexpr const char* name = "avx512_vnni"; };
/// AArch64 Advanced SIMD with FMA, hand-written ACLE intrinsics.
struct neon : simd { using parent = simd; static constexpr const char* name = "neon"; };
/// Neon + SDOT/UDOT (Armv8.2 dotprod).
struct neon_dot : neon { using parent = neon; static constexpr const char* name = "neon_dot"; };
/// Neon + SMMLA (Armv8.6 i8mm); implies dotprod.
struct neon_i8mm : neon_dot { using parent = neon_dot; static constexpr const char* name = "neon_i8mm"; };
/// SVE, vector-length agnostic (128..2048 bits).
struct sve : neon { using parent = neon; static constexpr const char* name = "sve"; };
/// SVE2 (Armv9).
struct sve2 : sve { using parent = sve; static constexpr const char* name = "sve2"; };
/// Cortex-M55/M85 M-profile Vector Extension (MVE, Helium), tail-predicated.
struct helium : scalar { using parent = scalar; static constexpr const char* name = "helium"; };

/// A compile-time list of tags (or of any types).
template <class... Ts> struct type_list { static constexpr unsigned size = sizeof...(Ts); };

/// Every tag tessera knows, most specific first within each chain.
using all_tags = type_list<sve2, sve, neon_i8mm, neon_dot, neon, avx512_vnni, simd, helium, scalar>;

/// True when `Tag` is `Base` or inherits from it along the parent chain.
template <class Tag, class Base>
inline constexpr bool derives_from = __is_base_of(Base, Tag);

}  // namespace tessera::arch
