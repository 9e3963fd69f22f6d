/// @file gemm_f32_common.hpp
/// Shared setup for the gemm_f32_* drivers: K::run(M, N, K, ...) of C = A x B + bias (clamp off)
/// at TESSERA_PERF_M x TESSERA_PERF_N x TESSERA_PERF_K (default 196 x 128 x 128), B packed by
/// pack_f32_b with K::nr() in setup(), checked after the measured call against an fp64 reference
/// with the rounding bound of tests/unit/test_gemm_f32.cpp. elements() counts MACs (M*N*K).
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <tessera/kernels/gemm/op_f32.hpp>
#include "perf_harness.hpp"

#ifndef TESSERA_PERF_M
#define TESSERA_PERF_M 196
#endif
#ifndef TESSERA_PERF_N
#define TESSERA_PERF_N 128
#endif
#ifndef TESSERA_PERF_K
#define TESSERA_PERF_K 128
#endif
// Largest nr of any driver's kernel (SVE 3 x 2048-bit vectors = 192 columns) for the static buffer.
#ifndef TESSERA_PERF_MAX_NR
#define TESSERA_PERF_MAX_NR 192
#endif

namespace tessera_perf {
inline constexpr std::size_t kM = TESSERA_PERF_M, kN = TESSERA_PERF_N, kK = TESSERA_PERF_K;

alignas(64) inline float a[kM * kK];
alignas(64) inline float b[kK * kN];
alignas(64) inline float bias[kN];
alignas(64) inline float c[kM * kN];
alignas(64) inline float packed[(kN + TESSERA_PERF_MAX_NR) * (kK + 1)];
inline tessera::f32_clamp clamp;

// Everything the wrapper sees goes through volatile globals: runtime sizes, unknown pointers.
inline volatile std::size_t v_m = kM, v_n = kN, v_k = kK;
inline const float* volatile v_a = a;
inline const void* volatile v_packed = packed;
inline float* volatile v_c = c;
inline const tessera::f32_clamp* volatile v_clamp = &clamp;

inline std::uint32_t lcg(std::uint32_t& s) { return s = s * 1664525u + 1013904223u; }
inline float frand(std::uint32_t& s) { return static_cast<float>(static_cast<std::int32_t>(lcg(s) >> 21) - 1024) / 512.0f; }

/// Fills A, B, bias and packs B with the kernel's nr (call from the driver's setup()).
inline void setup_gemm(std::size_t nr) {
  std::uint32_t s = 777;
  for (auto& v : a) v = frand(s);
  for (auto& v : b) v = frand(s);
  for (auto& v : bias) v = frand(s);
  tessera::kernels::pack_f32_b(kN, kK, nr, [](std::size_t kk, std::size_t j) { return b[kk * kN + j]; }, bias, packed);
}

int check() {
  const double u = std::ldexp(1.0, -24);
  for (std::size_t i = 0; i < kM; ++i)
    for (std::size_t j = 0; j < kN; ++j) {
      double ref = bias[j], mag = std::fabs(bias[j]);
      for (std::size_t kk = 0; kk < kK; ++kk) {
        ref += static_cast<double>(a[i * kK + kk]) * b[kk * kN + j];
        mag += std::fabs(static_cast<double>(a[i * kK + kk]) * b[kk * kN + j]);
      }
      if (!(std::fabs(c[i * kN + j] - ref) <= 2.0 * static_cast<double>(kK + 2) * u * mag + 1e-30)) return 1;
    }
  return 0;
}

std::size_t elements() { return kM * kN * kK; }
}  // namespace tessera_perf

/// The body of the measured wrapper: one K::run call, written directly in the wrapper.
#define TESSERA_PERF_GEMM_F32(K)                                                                     \
  do {                                                                                               \
    const std::size_t m_ = tessera_perf::v_m, n_ = tessera_perf::v_n, k_ = tessera_perf::v_k;        \
    K::run(m_, n_, k_, tessera_perf::v_a, k_, tessera_perf::v_packed, tessera_perf::v_c, n_,         \
           *tessera_perf::v_clamp);                                                                  \
  } while (0)
