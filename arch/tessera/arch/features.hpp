/// @file features.hpp
/// Run-time CPU feature detection, for binaries that compile several tag paths (e.g. built with
/// -march=armv9-a+i8mm) and must pick one the CPU really has. AArch64 Linux reads HWCAP/HWCAP2 from
/// getauxval; x86-64 asks xsimd's cpuid; Cortex-M answers from the compile-time facts.
#pragma once
#include <tessera/arch/native.hpp>

#if defined(__aarch64__) && defined(__linux__)
#  include <sys/auxv.h>
#endif
#if TESSERA_HAS_SIMD && defined(__x86_64__)
#  include <xsimd/xsimd.hpp>
#endif

namespace tessera::arch {

/// CPU features seen at run time.
struct cpu_features {
  bool neon = false, dotprod = false, i8mm = false, sve = false, sve2 = false, fp16 = false;
  bool avx2_fma = false;  ///< x86-64 only
  bool avx512_vnni = false;  ///< x86-64 only: AVX-512 F, BW, VL and VNNI together
  bool mve = false;       ///< Cortex-M only (compile-time fact: M-profile has no HWCAP)
};

/// Reads the features of the CPU this process runs on.
inline cpu_features detect_cpu_features() noexcept {
  cpu_features f{};
#if defined(__aarch64__) && defined(__linux__)
  const unsigned long hw = getauxval(AT_HWCAP);
  const unsigned long hw2 = getauxval(AT_HWCAP2);
  f.neon = (hw & (1UL << 1)) != 0;     // HWCAP_ASIMD
  f.fp16 = (hw & (1UL << 10)) != 0;    // HWCAP_ASIMDHP
  f.dotprod = (hw & (1UL << 20)) != 0; // HWCAP_ASIMDDP
  f.sve = (hw & (1UL << 22)) != 0;     // HWCAP_SVE
  f.sve2 = (hw2 & (1UL << 1)) != 0;    // HWCAP2_SVE2
  f.i8mm = (hw2 & (1UL << 13)) != 0;   // HWCAP2_I8MM
#elif defined(__aarch64__)
  f.neon = TESSERA_HAS_NEON; f.dotprod = TESSERA_HAS_NEON_DOT; f.i8mm = TESSERA_HAS_NEON_I8MM;
  f.sve = TESSERA_HAS_SVE; f.sve2 = TESSERA_HAS_SVE2;
#endif
#if TESSERA_HAS_SIMD && defined(__x86_64__)
  f.avx2_fma = xsimd::available_architectures().fma3_avx2 != 0;
  f.avx512_vnni = f.avx2_fma && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                  __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
#endif
  f.mve = TESSERA_HAS_HELIUM;
  return f;
}

/// The features of this CPU, detected once.
inline const cpu_features& cpu() noexcept {
  static const cpu_features f = detect_cpu_features();
  return f;
}

/// Whether this CPU can run code for `Tag` (independent of whether it was compiled).
template <class Tag> inline bool supported_by_cpu() noexcept {
  const cpu_features& f = cpu();
  if constexpr (std::is_same_v<Tag, scalar>) return true;
  else if constexpr (std::is_same_v<Tag, simd>) {
#if defined(__aarch64__)
    return f.neon;
#else
    return f.avx2_fma;
#endif
  }
  else if constexpr (std::is_same_v<Tag, avx512_vnni>) return f.avx512_vnni;
  else if constexpr (std::is_same_v<Tag, neon>) return f.neon;
  else if constexpr (std::is_same_v<Tag, neon_dot>) return f.neon && f.dotprod;
  else if constexpr (std::is_same_v<Tag, neon_i8mm>) return f.neon && f.dotprod && f.i8mm;
  else if constexpr (std::is_same_v<Tag, sve>) return f.sve;
  else if constexpr (std::is_same_v<Tag, sve2>) return f.sve && f.sve2;
  else if constexpr (std::is_same_v<Tag, helium>) return f.mve;
  else return false;
}

/// Compiled into this binary and supported by the CPU it runs on.
template <class Tag> inline bool available() noexcept {
  if constexpr (!compiled<Tag>) return false;
  else return supported_by_cpu<Tag>();
}

namespace detail {
template <class List> struct best_available;
template <class T, class... Ts> struct best_available<type_list<T, Ts...>> {
  static const char* name() noexcept {
    return available<T>() ? T::name : best_available<type_list<Ts...>>::name();
  }
};
template <> struct best_available<type_list<>> { static const char* name() noexcept { return "scalar"; } };
}  // namespace detail

/// Name of the most specific tag that is both compiled in and supported by this CPU.
inline const char* best_available_tag_name() noexcept {
  return detail::best_available<all_tags>::name();
}

/// Calls `f(Tag{})` with the most specific tag of `List` that is available at run time (a runtime
/// walker for binaries that carry several paths, like xsimd::dispatch). Returns false when none is.
template <class F> bool dispatch_impl(type_list<>, F&);
template <class T, class... Ts, class F> bool dispatch_impl(type_list<T, Ts...>, F& f) {
  if constexpr (compiled<T>) {
    if (supported_by_cpu<T>()) { f(T{}); return true; }
  }
  if constexpr (sizeof...(Ts) > 0) return dispatch_impl(type_list<Ts...>{}, f);
  else return false;
}
template <class F> bool dispatch_impl(type_list<>, F&) { return false; }
template <class List, class F> bool dispatch(F&& f) { return dispatch_impl(List{}, f); }

}  // namespace tessera::arch
