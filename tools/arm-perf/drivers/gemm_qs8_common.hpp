/// @file gemm_qs8_common.hpp
/// Shared setup for the quantized GEMM drivers (gemm_qs8_* and, with TESSERA_PERF_QS16 defined
/// before the include, gemm_qs16_*): one K::run call at TESSERA_PERF_M x TESSERA_PERF_N x
/// TESSERA_PERF_K (default 196 x 128 x 128, M x N x K), weights packed in setup() with the kernel's
/// nr()/kr(), checked after the measured call against a plain reference loop. elements() counts MACs.
///
///  - qs8:  int8 A (input zero point -5, folded into bias' by pack_qs8_weights), int8 W, int32 bias,
///          per-channel output stage (TESSERA_PERF_PER_TENSOR: per-tensor); reference: wrapping int32
///          bias + sum (a - zin) * w, then tessera::requantize_one<int8_t>.
///  - qs16: int16 A, int8 W, int64 bias (int64 accumulator, TFLite's 16x8 default), per-channel
///          stage; reference: int64 bias + sum a * w, then tessera::requantize_one<int16_t>.
/// Inputs use the whole int8 / int16 range (weights include -128); shifts keep most outputs inside
/// the clamp, so a wrong sum shows. check() compares every output exactly.
#pragma once
#include <cstddef>
#include <cstdint>
#include <tessera/kernels/gemm/op.hpp>
#include <tessera/kernels/gemm/op_s16.hpp>
#include <tessera/quant/requantize.hpp>
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
// Largest nr of any driver's kernel (SVE 2 x 2048-bit int32 vectors = 128 channels) and kr.
#ifndef TESSERA_PERF_MAX_NR
#define TESSERA_PERF_MAX_NR 128
#endif
#define TESSERA_PERF_MAX_KR 16

namespace tessera_perf {
inline constexpr std::size_t kM = TESSERA_PERF_M, kN = TESSERA_PERF_N, kK = TESSERA_PERF_K;

#ifdef TESSERA_PERF_QS16
using act_t = std::int16_t;
using out_t = std::int16_t;
using bias_t = std::int64_t;
#else
using act_t = std::int8_t;
using out_t = std::int8_t;
using bias_t = std::int32_t;
#endif
#ifdef TESSERA_PERF_PER_TENSOR
using stage_t = tessera::output_stage<tessera::requant::per_tensor>;
#else
using stage_t = tessera::output_stage<tessera::requant::per_channel>;
#endif

inline constexpr std::int32_t kInputZp = -5;  // qs8 only (16x8 zero points are 0)
// Upper bound of both packed formats for any nr <= MAX_NR, kr <= MAX_KR (blocks x (bias + weights)).
inline constexpr std::size_t kPackedBytes =
    64 + (kN + TESSERA_PERF_MAX_NR) * (sizeof(std::int64_t) + kK + TESSERA_PERF_MAX_KR + 8);

alignas(64) inline act_t a[kM * kK];
alignas(64) inline std::int8_t w[kN * kK];  // W[n][k]
alignas(64) inline bias_t bias[kN];
alignas(64) inline out_t c[kM * kN];
alignas(64) inline unsigned char packed[kPackedBytes];
inline std::int32_t mult[kN], shift[kN];
inline stage_t stage;
inline bool packed_ok = false;

// Everything the wrapper sees goes through volatile globals: runtime sizes, unknown pointers.
inline volatile std::size_t v_m = kM, v_n = kN, v_k = kK;
inline const act_t* volatile v_a = a;
inline const void* volatile v_packed = packed;
inline const std::int32_t* volatile v_row_offset = nullptr;
inline out_t* volatile v_c = c;
inline const stage_t* volatile v_stage = &stage;

inline std::uint32_t lcg(std::uint32_t& s) { return s = s * 1664525u + 1013904223u; }
inline std::int32_t irand(std::uint32_t& s, std::int32_t lo, std::int32_t hi) {  // [lo, hi]
  const std::uint64_t range = static_cast<std::uint64_t>(std::int64_t{hi} - lo + 1);  // high bits of the LCG
  return static_cast<std::int32_t>(lo + static_cast<std::int64_t>((std::uint64_t{lcg(s)} * range) >> 32));
}

/// Fills A, W, bias, the output stage and packs W with the kernel's nr, kr (call from setup()).
inline void setup_gemm(std::size_t nr, std::size_t kr) {
  std::uint32_t s = 12345;
  constexpr std::int32_t amin = sizeof(act_t) == 1 ? -128 : -32768, amax = sizeof(act_t) == 1 ? 127 : 32767;
  for (auto& v : a) v = static_cast<act_t>(irand(s, amin, amax));
  for (auto& v : w) v = static_cast<std::int8_t>(irand(s, -128, 127));
  for (auto& v : bias) v = irand(s, -(1 << 20), 1 << 20);
  // |acc| ~ sqrt(K) * 74 * 74 (qs8) or sqrt(K) * 18900 * 74 (qs16): scale it to ~ the output range.
  const int base = sizeof(act_t) == 1 ? -9 : -10;
  for (std::size_t j = 0; j < kN; ++j) {
    mult[j] = (1 << 30) + irand(s, 0, (1 << 30) - 1);
    shift[j] = base - static_cast<std::int32_t>(j % 2);
  }
#ifdef TESSERA_PERF_PER_TENSOR
  stage.q = {mult[0], shift[0]};
#else
  stage.q = {mult, shift};
#endif
  stage.zero_point = sizeof(act_t) == 1 ? 3 : 0;
  stage.act_min = amin;
  stage.act_max = amax;
  auto weight_at = [](std::size_t n, std::size_t k) { return w[n * kK + k]; };
#ifdef TESSERA_PERF_QS16
  packed_ok = nr <= TESSERA_PERF_MAX_NR && kr <= TESSERA_PERF_MAX_KR &&
              tessera::kernels::packed_qs16_bytes(kN, kK, nr, kr) <= sizeof(packed);
  if (packed_ok)
    tessera::kernels::pack_qs16_weights(kN, kK, nr, kr, weight_at, [](std::size_t n) { return bias[n]; }, 64, packed);
  v_packed = tessera::kernels::qs16_blocks(packed);  // kernels take the blocks, not the header
#else
  packed_ok = nr <= TESSERA_PERF_MAX_NR && kr <= TESSERA_PERF_MAX_KR &&
              tessera::kernels::packed_qs8_bytes(kN, kK, nr, kr) <= sizeof(packed);
  if (packed_ok) tessera::kernels::pack_qs8_weights(kN, kK, nr, kr, weight_at, bias, kInputZp, 0, packed);
#endif
}

/// 0 if every output equals the reference, 1 on the first mismatch, 2 if packing did not fit.
int check() {
  if (!packed_ok) return 2;
  for (std::size_t i = 0; i < kM; ++i)
    for (std::size_t j = 0; j < kN; ++j) {
#ifdef TESSERA_PERF_QS16
      std::int64_t acc = bias[j];
      for (std::size_t kk = 0; kk < kK; ++kk) acc += std::int64_t{a[i * kK + kk]} * w[j * kK + kk];
      const out_t ref = tessera::requantize_one<out_t>(acc, stage, j);
#else
      std::uint32_t acc = static_cast<std::uint32_t>(bias[j]);  // int32 wrapping, as TFLite
      for (std::size_t kk = 0; kk < kK; ++kk)
        acc += static_cast<std::uint32_t>((std::int32_t{a[i * kK + kk]} - kInputZp) * std::int32_t{w[j * kK + kk]});
      const out_t ref = tessera::requantize_one<out_t>(static_cast<std::int32_t>(acc), stage, j);
#endif
      if (c[i * kN + j] != ref) return 1;
    }
  return 0;
}

std::size_t elements() { return kM * kN * kK; }
}  // namespace tessera_perf

/// The body of the measured wrapper: one K::run call, written directly in the wrapper.
#define TESSERA_PERF_GEMM_QS8(K)                                                                     \
  do {                                                                                               \
    const std::size_t m_ = tessera_perf::v_m, n_ = tessera_perf::v_n, k_ = tessera_perf::v_k;        \
    K::run(m_, n_, k_, tessera_perf::v_a, k_, tessera_perf::v_packed, tessera_perf::v_row_offset,    \
           tessera_perf::v_c, n_, *tessera_perf::v_stage);                                           \
  } while (0)
/// The same for the 16x8 kernels (int64 accumulator; no row offset).
#define TESSERA_PERF_GEMM_QS16(K)                                                                    \
  do {                                                                                               \
    const std::size_t m_ = tessera_perf::v_m, n_ = tessera_perf::v_n, k_ = tessera_perf::v_k;        \
    K::template run<std::int64_t>(m_, n_, k_, tessera_perf::v_a, k_, tessera_perf::v_packed,         \
                                  tessera_perf::v_c, n_, *tessera_perf::v_stage);                    \
  } while (0)
