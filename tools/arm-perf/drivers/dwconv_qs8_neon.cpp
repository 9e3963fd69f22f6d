// arm-perf: targets=aarch64 march=armv8-a unit=MAC
// Neon int8 depthwise 3x3, stride 1, padding 1, on a 112 x 112 x 32 layer (TESSERA_PERF_HW,
// TESSERA_PERF_C override) with a per-channel output stage (-DTESSERA_PERF_PER_TENSOR=1: per-tensor):
// one dwconv_qs8_16c_neon_mlal::run over all 12544 output pixels (in_step = 9 pointers per pixel,
// padding taps at a zero row holding the input zero point), checked bit for bit after the measured
// call against a wrapping int32 sum + tessera::requantize_one. elements() counts MACs
// (pixels * channels * 9). Baseline Armv8-A, so the compilers cannot bring SVE into it.
#include <cstddef>
#include <cstdint>
#include <tessera/kernels/dwconv/neon/dwconv_qs8_16c_neon_mlal.hpp>
#include <tessera/quant/requantize.hpp>
#include "perf_harness.hpp"

#ifndef TESSERA_PERF_HW
#define TESSERA_PERF_HW 112
#endif
#ifndef TESSERA_PERF_C
#define TESSERA_PERF_C 32
#endif

using K = tessera::kernels::dwconv_qs8_16c_neon_mlal;

namespace tessera_perf {
inline constexpr std::size_t kHW = TESSERA_PERF_HW, kC = TESSERA_PERF_C, kKS = 9, kPix = kHW * kHW;
#if TESSERA_PERF_PER_TENSOR
using Q = tessera::requant::per_tensor;
#else
using Q = tessera::requant::per_channel;
#endif
alignas(64) inline std::int8_t input[kPix * kC];
alignas(64) inline std::int8_t zero[kC];
alignas(64) inline std::int8_t w[kKS * kC];
alignas(64) inline std::int32_t bias[kC];
alignas(64) inline std::int32_t mult[kC];
alignas(64) inline std::int32_t shift[kC];
alignas(64) inline std::int8_t out[kPix * kC];
alignas(64) inline std::int32_t packed[(kC + 16) * (kKS + 4)];
inline const std::int8_t* ind[kPix * kKS];
inline tessera::output_stage<Q> stage;

inline volatile std::size_t v_c = kC, v_pix = kPix, v_ks = kKS;
inline const std::int8_t* const* volatile v_ind = ind;
inline const void* volatile v_packed = packed;
inline std::int8_t* volatile v_out = out;
inline const tessera::output_stage<Q>* volatile v_stage = &stage;

inline std::uint32_t lcg(std::uint32_t& s) { return s = s * 1664525u + 1013904223u; }

void setup() {
  std::uint32_t s = 777;
  const std::int32_t zin = 3;
  for (auto& v : input) v = static_cast<std::int8_t>(lcg(s) >> 24);
  for (auto& v : zero) v = static_cast<std::int8_t>(zin);
  for (auto& v : w) v = static_cast<std::int8_t>(lcg(s) >> 24);
  for (std::size_t c = 0; c < kC; ++c) {
    bias[c] = static_cast<std::int32_t>(lcg(s) >> 20) - 2048;
    mult[c] = static_cast<std::int32_t>((1u << 30) + (lcg(s) >> 2));
    shift[c] = -static_cast<std::int32_t>(6 + lcg(s) % 4);
  }
#if TESSERA_PERF_PER_TENSOR
  stage.q = {mult[0], shift[0]};
#else
  stage.q = {mult, shift};
#endif
  stage.zero_point = -5, stage.act_min = -128, stage.act_max = 127;
  for (std::size_t y = 0; y < kHW; ++y)
    for (std::size_t x = 0; x < kHW; ++x)
      for (std::size_t t = 0; t < kKS; ++t) {
        const long iy = static_cast<long>(y) + static_cast<long>(t / 3) - 1, ix = static_cast<long>(x) + static_cast<long>(t % 3) - 1;
        const bool in = iy >= 0 && ix >= 0 && iy < static_cast<long>(kHW) && ix < static_cast<long>(kHW);
        ind[(y * kHW + x) * kKS + t] = in ? input + (static_cast<std::size_t>(iy) * kHW + static_cast<std::size_t>(ix)) * kC : zero;
      }
  // bias' = bias - zin * sum_t w[t]
  tessera::kernels::pack_dw<std::int32_t, std::int8_t>(
      kC, kKS, K::cr(), [](std::size_t t, std::size_t c) { return w[t * kC + c]; },
      [zin](std::size_t c) {
        std::int32_t sw = 0;
        for (std::size_t t = 0; t < kKS; ++t) sw += w[t * kC + c];
        return bias[c] - zin * sw;
      },
      packed);
}

int check() {
  const std::int32_t zin = 3;
  for (std::size_t p = 0; p < kPix; ++p)
    for (std::size_t c = 0; c < kC; ++c) {
      std::int32_t a = bias[c];  // TFLite: bias + sum (in - zin) * w
      for (std::size_t t = 0; t < kKS; ++t) a += (ind[p * kKS + t][c] - zin) * w[t * kC + c];
      if (tessera::requantize_one<std::int8_t>(a, stage, c) != out[p * kC + c]) return 1;
    }
  return 0;
}

std::size_t elements() { return kPix * kC * kKS; }
}  // namespace tessera_perf

TESSERA_PERF_KERNEL {
  const std::size_t c = tessera_perf::v_c, pix = tessera_perf::v_pix, ks = tessera_perf::v_ks;
  K::run(c, pix, ks, tessera_perf::v_ind, ks, tessera_perf::v_packed, tessera_perf::v_out, c, *tessera_perf::v_stage);
}
