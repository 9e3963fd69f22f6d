// arm-perf: targets=aarch64 march=armv8-a unit=MAC
// Neon fp32 3x3 depthwise ROW kernel (op.hpp's row contract) on the interior of a 112 x 112 x 32
// layer (TESSERA_PERF_HW, TESSERA_PERF_C override), stride TESSERA_PERF_STRIDE (environment, 1 or
// 2; default 1) along x and y: one dwconv3x3_f32_4x8_neon_fma::run per output row over every
// output pixel whose 3x3 window lies inside the input (stride 1: 110 rows of 110 pixels; stride 2:
// 55 x 55), as depthwise_conv2d_f32 makes them. Checked bit for bit after the measured call against
// dwconv_f32_scalar (same fused tap order) on tap pointers. elements() counts MACs (pixels x C x 9).
// Not matched by dwconv.sh's drivers/dwconv_*.cpp glob: run it by name (see results-dwconv3x3.md).
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <tessera/kernels/dwconv/neon/dwconv3x3_f32_4x8_neon_fma.hpp>
#include <tessera/kernels/dwconv/scalar/dwconv_f32_scalar.hpp>
#include "perf_harness.hpp"

#ifndef TESSERA_PERF_HW
#define TESSERA_PERF_HW 112
#endif
#ifndef TESSERA_PERF_C
#define TESSERA_PERF_C 32
#endif

using K = tessera::kernels::dwconv3x3_f32_4x8_neon_fma;

namespace tessera_perf {
inline constexpr std::size_t kHW = TESSERA_PERF_HW, kC = TESSERA_PERF_C, kKs = 9;
alignas(64) inline float input[kHW * kHW * kC];
alignas(64) inline float weights[kKs * kC];
alignas(64) inline float bias[kC];
alignas(64) inline float out[kHW * kHW * kC];
alignas(64) inline float ref[kHW * kHW * kC];
alignas(64) inline float packed[tessera::kernels::packed_dw_bytes(kC, kKs, 16, 4, 4) / 4];
alignas(64) inline float packed_ref[tessera::kernels::packed_dw_bytes(kC, kKs, 4, 4, 4) / 4];
inline tessera::f32_clamp clamp{-6.0f, 6.0f};
inline std::size_t stride = 1, out_hw = kHW - 2;

inline volatile std::size_t v_c = kC, v_stride = 1, v_ohw = kHW - 2;
inline const float* volatile v_in = input;
inline const void* volatile v_packed = packed;
inline float* volatile v_out = out;
inline const tessera::f32_clamp* volatile v_clamp = &clamp;

inline std::uint32_t lcg(std::uint32_t& s) { return s = s * 1664525u + 1013904223u; }
inline float frand(std::uint32_t& s) { return static_cast<float>(static_cast<std::int32_t>(lcg(s) >> 21) - 1024) / 512.0f; }

void setup() {
  const char* s_env = std::getenv("TESSERA_PERF_STRIDE");
  stride = s_env && std::strcmp(s_env, "2") == 0 ? 2 : 1;
  out_hw = (kHW - 3) / stride + 1;
  v_stride = stride, v_ohw = out_hw;
  std::uint32_t s = 4242;
  for (auto& v : input) v = frand(s);
  for (auto& v : weights) v = frand(s);
  for (auto& v : bias) v = frand(s);
  auto w_at = [](std::size_t t, std::size_t c) { return weights[t * kC + c]; };
  auto b_at = [](std::size_t c) { return bias[c]; };
  tessera::kernels::pack_dw<float, float>(kC, kKs, K::cr(), w_at, b_at, packed);
  tessera::kernels::pack_dw<float, float>(kC, kKs, 4, w_at, b_at, packed_ref);
}

int check() {
  const float* ptrs[kKs];
  for (std::size_t y = 0; y < out_hw; ++y)
    for (std::size_t x = 0; x < out_hw; ++x) {
      for (std::size_t t = 0; t < kKs; ++t) ptrs[t] = input + ((y * stride + t / 3) * kHW + x * stride + t % 3) * kC;
      tessera::kernels::dwconv_f32_scalar::run(kC, 1, kKs, ptrs, kKs, packed_ref, ref + (y * out_hw + x) * kC, kC, clamp);
    }
  return std::memcmp(out, ref, out_hw * out_hw * kC * sizeof(float)) != 0;
}

std::size_t elements() { return out_hw * out_hw * kC * kKs; }
}  // namespace tessera_perf

TESSERA_PERF_KERNEL {
  const std::size_t c = tessera_perf::v_c, s = tessera_perf::v_stride, n = tessera_perf::v_ohw;
  const float* in = tessera_perf::v_in;
  const void* packed = tessera_perf::v_packed;
  float* o = tessera_perf::v_out;
  const auto& cl = *tessera_perf::v_clamp;
  const std::size_t pitch = tessera_perf::kHW * c;
  for (std::size_t y = 0; y < n; ++y) {
    const float* r0 = in + y * s * pitch;
    K::run(c, n, s, r0, r0 + pitch, r0 + 2 * pitch, packed, o + y * n * c, cl);
  }
}
