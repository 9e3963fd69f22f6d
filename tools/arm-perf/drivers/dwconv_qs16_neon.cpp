// arm-perf: targets=aarch64 march=armv8-a unit=MAC
// Neon 16x8 depthwise 3x3 (int16 activations, int8 weights, int64 bias), stride 1, padding 1, on a
// 56 x 56 x 32 layer (TESSERA_PERF_HW, TESSERA_PERF_C override) with a per-channel output stage
// (-DTESSERA_PERF_PER_TENSOR=1: per-tensor; -DTESSERA_PERF_ACC32=1: Acc = int32_t, MBQM32 with
// the bias truncated to int32): one dwconv_qs16_8c_neon_mlal::run over all 3136 output pixels
// (in_step = 9 pointers per pixel, padding taps at a zero row of zeros). -DTESSERA_PERF_SCALAR=1
// measures dwconv_qs16_scalar instead (the baseline; cflags of a wrapper driver that defines it and
// includes this file). Checked bit for bit after the measured call against an int64 (or wrapping
// int32) sum + tessera::requantize_one. elements() counts MACs (pixels * channels * 9). Baseline
// Armv8-A, so the compilers cannot bring SVE into it.
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <tessera/kernels/dwconv/scalar/dwconv_qs16_scalar.hpp>
#include <tessera/kernels/dwconv/neon/dwconv_qs16_8c_neon_mlal.hpp>
#include <tessera/quant/requantize.hpp>
#include "dwconv_qs16_common.hpp"
#include "perf_harness.hpp"

#ifndef TESSERA_PERF_HW
#define TESSERA_PERF_HW 56
#endif
#ifndef TESSERA_PERF_C
#define TESSERA_PERF_C 32
#endif

#if TESSERA_PERF_SCALAR
using K = tessera::kernels::dwconv_qs16_scalar;
#else
using K = tessera::kernels::dwconv_qs16_8c_neon_mlal;
#endif

namespace tessera_perf {
inline constexpr std::size_t kHW = TESSERA_PERF_HW, kC = TESSERA_PERF_C, kKS = 9, kPix = kHW * kHW;
#if TESSERA_PERF_PER_TENSOR
using Q = tessera::requant::per_tensor;
#else
using Q = tessera::requant::per_channel;
#endif
#if TESSERA_PERF_ACC32
using Acc = std::int32_t;
#else
using Acc = std::int64_t;
#endif
alignas(64) inline std::int16_t input[kPix * kC];
alignas(64) inline std::int16_t zero[kC];
alignas(64) inline std::int8_t w[kKS * kC];
alignas(64) inline std::int64_t bias[kC];
alignas(64) inline std::int32_t mult[kC];
alignas(64) inline std::int32_t shift[kC];
alignas(64) inline std::int16_t out[kPix * kC];
// Room for any channel tile up to 16 (int64 bias + int8 weights per block).
alignas(64) inline std::int64_t packed[tessera::kernels::packed_dw_bytes(kC, kKS, 16, 8, 1) / 8 + 8];
inline const std::int16_t* ind[kPix * kKS];
inline tessera::output_stage<Q> stage;

inline volatile std::size_t v_c = kC, v_pix = kPix, v_ks = kKS;
inline const std::int16_t* const* volatile v_ind = ind;
inline const void* volatile v_packed = packed;
inline std::int16_t* volatile v_out = out;
inline const tessera::output_stage<Q>* volatile v_stage = &stage;

void setup() {
  std::uint32_t s = 777;
  for (auto& v : input) v = static_cast<std::int16_t>(lcg(s) >> 16);
  for (auto& v : zero) v = 0;
  for (auto& v : w) v = static_cast<std::int8_t>(lcg(s) >> 24);
  for (std::size_t c = 0; c < kC; ++c) {
    // int64 bias beyond int32 (|bias| < 2^36), so the int64 path is exercised; MBQM32 truncates it.
    bias[c] = static_cast<std::int64_t>(lcg(s)) * 16 - (std::int64_t{1} << 35);
    mult[c] = static_cast<std::int32_t>((1u << 30) + (lcg(s) >> 2));
    shift[c] = -static_cast<std::int32_t>(10 + lcg(s) % 6);
  }
#if TESSERA_PERF_PER_TENSOR
  stage.q = {mult[0], shift[0]};
#else
  stage.q = {mult, shift};
#endif
  stage.zero_point = 0, stage.act_min = -32000, stage.act_max = 32000;
  same_window_indirection(ind, input, zero, kHW, kC, 3);
  tessera::kernels::pack_dw<std::int64_t, std::int8_t>(
      kC, kKS, K::cr(), [](std::size_t t, std::size_t c) { return w[t * kC + c]; },
      [](std::size_t c) { return bias[c]; }, packed);
}

int check() { return check_dw_s16<Acc>(kPix, kC, kKS, ind, w, bias, stage, out); }

std::size_t elements() { return kPix * kC * kKS; }
}  // namespace tessera_perf

TESSERA_PERF_KERNEL {
  const std::size_t c = tessera_perf::v_c, pix = tessera_perf::v_pix, ks = tessera_perf::v_ks;
  K::run<tessera_perf::Acc>(c, pix, ks, tessera_perf::v_ind, ks, tessera_perf::v_packed, tessera_perf::v_out, c,
                            *tessera_perf::v_stage);
}
