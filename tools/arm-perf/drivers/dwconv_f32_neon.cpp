// arm-perf: targets=aarch64 march=armv8-a unit=MAC
// Neon fp32 depthwise 3x3, stride 1, padding 1, on a 112 x 112 x 32 layer (TESSERA_PERF_HW,
// TESSERA_PERF_C override): one dwconv_f32_2x16_neon_fma::run over all 12544 output pixels
// (in_step = 9 pointers per pixel, padding taps at a zero row), checked bit for bit after the
// measured call against an fma chain in the kernel's tap order. elements() counts MACs
// (pixels * channels * 9). Baseline Armv8-A, so the compilers cannot bring SVE into it.
#include <cmath>
#include <cstddef>
#include <cstring>
#include <tessera/kernels/dwconv/neon/dwconv_f32_2x16_neon_fma.hpp>
#include "perf_harness.hpp"

#ifndef TESSERA_PERF_HW
#define TESSERA_PERF_HW 112
#endif
#ifndef TESSERA_PERF_C
#define TESSERA_PERF_C 32
#endif

using K = tessera::kernels::dwconv_f32_2x16_neon_fma;

namespace tessera_perf {
inline constexpr std::size_t kHW = TESSERA_PERF_HW, kC = TESSERA_PERF_C, kKS = 9, kPix = kHW * kHW;
alignas(64) inline float input[kPix * kC];
alignas(64) inline float zero[kC];
alignas(64) inline float w[kKS * kC];
alignas(64) inline float bias[kC];
alignas(64) inline float out[kPix * kC];
alignas(64) inline float packed[(kC + 16) * (kKS + 1)];
inline const float* ind[kPix * kKS];
inline tessera::f32_clamp clamp{-4.0f, 4.0f};

inline volatile std::size_t v_c = kC, v_pix = kPix, v_ks = kKS;
inline const float* const* volatile v_ind = ind;
inline const void* volatile v_packed = packed;
inline float* volatile v_out = out;
inline const tessera::f32_clamp* volatile v_clamp = &clamp;

inline std::uint32_t lcg(std::uint32_t& s) { return s = s * 1664525u + 1013904223u; }
inline float frand(std::uint32_t& s) { return static_cast<float>(static_cast<std::int32_t>(lcg(s) >> 21) - 1024) / 512.0f; }

void setup() {
  std::uint32_t s = 777;
  for (auto& v : input) v = frand(s);
  for (auto& v : w) v = frand(s);
  for (auto& v : bias) v = frand(s);
  for (std::size_t y = 0; y < kHW; ++y)
    for (std::size_t x = 0; x < kHW; ++x)
      for (std::size_t t = 0; t < kKS; ++t) {
        const long iy = static_cast<long>(y) + static_cast<long>(t / 3) - 1, ix = static_cast<long>(x) + static_cast<long>(t % 3) - 1;
        const bool in = iy >= 0 && ix >= 0 && iy < static_cast<long>(kHW) && ix < static_cast<long>(kHW);
        ind[(y * kHW + x) * kKS + t] = in ? input + (static_cast<std::size_t>(iy) * kHW + static_cast<std::size_t>(ix)) * kC : zero;
      }
  tessera::kernels::pack_dw<float, float>(kC, kKS, K::cr(), [](std::size_t t, std::size_t c) { return w[t * kC + c]; },
                                          [](std::size_t c) { return bias[c]; }, packed);
}

int check() {
  for (std::size_t p = 0; p < kPix; ++p)
    for (std::size_t c = 0; c < kC; ++c) {
      float a = bias[c];
      for (std::size_t t = 0; t < kKS; ++t) a = std::fma(ind[p * kKS + t][c], w[t * kC + c], a);
      a = std::fmin(std::fmax(a, clamp.min), clamp.max);
      if (std::memcmp(&a, &out[p * kC + c], sizeof a) != 0) return 1;
    }
  return 0;
}

std::size_t elements() { return kPix * kC * kKS; }
}  // namespace tessera_perf

TESSERA_PERF_KERNEL {
  const std::size_t c = tessera_perf::v_c, pix = tessera_perf::v_pix, ks = tessera_perf::v_ks;
  K::run(c, pix, ks, tessera_perf::v_ind, ks, tessera_perf::v_packed, tessera_perf::v_out, c, *tessera_perf::v_clamp);
}
