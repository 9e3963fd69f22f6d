/// @file native.hpp
/// The one place where compiler ISA macros (ACLE, x86) become tessera facts.
/// `compiled<Tag>` says whether code for `Tag` can be emitted in this translation unit;
/// `native` is the most specific compiled tag.
#pragma once
#include <tessera/arch/tags.hpp>
#include <type_traits>

// ---- translate the compiler's macros once -------------------------------------------------
#if defined(__aarch64__) && defined(__ARM_NEON)
#  define TESSERA_HAS_NEON 1
#else
#  define TESSERA_HAS_NEON 0
#endif
#if TESSERA_HAS_NEON && defined(__ARM_FEATURE_DOTPROD)
#  define TESSERA_HAS_NEON_DOT 1
#else
#  define TESSERA_HAS_NEON_DOT 0
#endif
#if TESSERA_HAS_NEON_DOT && defined(__ARM_FEATURE_MATMUL_INT8)
#  define TESSERA_HAS_NEON_I8MM 1
#else
#  define TESSERA_HAS_NEON_I8MM 0
#endif
#if TESSERA_HAS_NEON && defined(__ARM_FEATURE_SVE)
#  define TESSERA_HAS_SVE 1
#else
#  define TESSERA_HAS_SVE 0
#endif
#if TESSERA_HAS_SVE && defined(__ARM_FEATURE_SVE2)
#  define TESSERA_HAS_SVE2 1
#else
#  define TESSERA_HAS_SVE2 0
#endif
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#  define TESSERA_HAS_HELIUM 1
#  if (__ARM_FEATURE_MVE & 2)
#    define TESSERA_HAS_HELIUM_FP 1
#  else
#    define TESSERA_HAS_HELIUM_FP 0
#  endif
#else
#  define TESSERA_HAS_HELIUM 0
#  define TESSERA_HAS_HELIUM_FP 0
#endif
// simd needs xsimd (the build defines TESSERA_USE_XSIMD when it finds it) and a SIMD ISA xsimd
// drives: AVX2+FMA on x86-64, Neon on AArch64. Cortex-M has neither.
#if defined(TESSERA_USE_XSIMD) && TESSERA_USE_XSIMD && \
    ((defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__)) || TESSERA_HAS_NEON)
#  define TESSERA_HAS_SIMD 1
#else
#  define TESSERA_HAS_SIMD 0
#endif
// avx512_vnni: the simd tag's x86-64 build plus AVX-512 F/BW/VL and VNNI (-march=x86-64-v4
// -mavx512vnni, or -march=native on a Zen 4 / Ice Lake).
#if TESSERA_HAS_SIMD && defined(__x86_64__) && defined(__AVX512F__) && defined(__AVX512BW__) && \
    defined(__AVX512VL__) && defined(__AVX512VNNI__)
#  define TESSERA_HAS_AVX512_VNNI 1
#else
#  define TESSERA_HAS_AVX512_VNNI 0
#endif
// AVX-512 VBMI (byte permutes: Zen 4, Ice Lake and later) on top of that: the conv panel
// gather's byte-permute rows (kernels/gather/avx512). Add -mavx512vbmi (or -march=native).
#if TESSERA_HAS_AVX512_VNNI && defined(__AVX512VBMI__)
#  define TESSERA_HAS_AVX512_VBMI 1
#else
#  define TESSERA_HAS_AVX512_VBMI 0
#endif
// Half precision storage type where the target has one.
#if defined(__ARM_FP16_FORMAT_IEEE) || \
    (defined(__FLT16_MAX__) && (defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 13)))
#  define TESSERA_HAS_F16 1
#else
#  define TESSERA_HAS_F16 0
#endif

namespace tessera::arch {

/// Whether code for `Tag` can be compiled in this translation unit (ISA macros present).
template <class Tag> inline constexpr bool compiled = false;
template <> inline constexpr bool compiled<scalar> = true;
template <> inline constexpr bool compiled<simd> = TESSERA_HAS_SIMD;
template <> inline constexpr bool compiled<avx512_vnni> = TESSERA_HAS_AVX512_VNNI;
template <> inline constexpr bool compiled<neon> = TESSERA_HAS_NEON;
template <> inline constexpr bool compiled<neon_dot> = TESSERA_HAS_NEON_DOT;
template <> inline constexpr bool compiled<neon_i8mm> = TESSERA_HAS_NEON_I8MM;
template <> inline constexpr bool compiled<sve> = TESSERA_HAS_SVE;
template <> inline constexpr bool compiled<sve2> = TESSERA_HAS_SVE2;
template <> inline constexpr bool compiled<helium> = TESSERA_HAS_HELIUM;

namespace detail {
template <class List> struct first_compiled;
template <class T, class... Ts> struct first_compiled<type_list<T, Ts...>> {
  using type = std::conditional_t<compiled<T>, T, typename first_compiled<type_list<Ts...>>::type>;
};
template <> struct first_compiled<type_list<>> { using type = scalar; };
}  // namespace detail

/// The most specific tag the compiler's target flags allow (derived once from ISA macros).
using native = typename detail::first_compiled<all_tags>::type;

}  // namespace tessera::arch
