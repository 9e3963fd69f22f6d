// arm-perf: targets=aarch64 march=armv8-a unit=MAC
// Neon int8 3x3 depthwise ROW kernel (op.hpp's row contract) with a per-channel output stage on the
// interior of a 112 x 112 x 32 layer (TESSERA_PERF_HW, TESSERA_PERF_C override), stride
// TESSERA_PERF_STRIDE (environment, 1 or 2; default 1) along x and y: one
// dwconv3x3_qs8_2x16_neon_mlal::run per output row over every output pixel whose window lies inside
// the input (stride 1: 110 x 110; stride 2: 55 x 55). Checked bit for bit after the measured call
// against dwconv_qs8_scalar on tap pointers. elements() counts MACs (pixels x C x 9).
// Not matched by dwconv.sh's drivers/dwconv_*.cpp glob: run it by name.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <tessera/kernels/dwconv/neon/dwconv3x3_qs8_2x16_neon_mlal.hpp>
#include <tessera/kernels/dwconv/scalar/dwconv_qs8_scalar.hpp>
#include "perf_harness.hpp"

#ifndef TESSERA_PERF_HW
#define TESSERA_PERF_HW 112
#endif
#ifndef TESSERA_PERF_C
#define TESSERA_PERF_C 32
#endif

using K = tessera::kernels::dwconv3x3_qs8_2x16_neon_mlal;
using Q = tessera::requant::per_channel;

namespace tessera_perf {
inline constexpr std::size_t kHW = TESSERA_PERF_HW, kC = TESSERA_PERF_C, kKs = 9;
alignas(64) inline std::int8_t input[kHW * kHW * kC];
alignas(64) inline std::int8_t weights[kKs * kC];
alignas(64) inline std::int32_t bias[kC], mult[kC], shift[kC];
alignas(64) inline std::int8_t out[kHW * kHW * kC];
alignas(64) inline std::int8_t ref[kHW * kHW * kC];
alignas(64) inline std::int32_t packed[tessera::kernels::packed_dw_bytes(kC, kKs, 16, 4, 1) / 4];
alignas(64) inline std::int32_t packed_ref[tessera::kernels::packed_dw_bytes(kC, kKs, 4, 4, 1) / 4];
inline tessera::output_stage<Q> stage;
inline std::size_t stride = 1, out_hw = kHW - 2;

inline volatile std::size_t v_c = kC, v_stride = 1, v_ohw = kHW - 2;
inline const std::int8_t* volatile v_in = input;
inline const void* volatile v_packed = packed;
inline std::int8_t* volatile v_out = out;
inline const tessera::output_stage<Q>* volatile v_stage = &stage;

inline std::uint32_t lcg(std::uint32_t& s) { return s = s * 1664525u + 1013904223u; }

void setup() {
  const char* s_env = std::getenv("TESSERA_PERF_STRIDE");
  stride = s_env && std::strcmp(s_env, "2") == 0 ? 2 : 1;
  out_hw = (kHW - 3) / stride + 1;
  v_stride = stride, v_ohw = out_hw;
  std::uint32_t s = 777;
  for (auto& v : input) v = static_cast<std::int8_t>(lcg(s) >> 24);
  for (auto& v : weights) v = static_cast<std::int8_t>(lcg(s) >> 24);
  for (std::size_t c = 0; c < kC; ++c) {
    bias[c] = static_cast<std::int32_t>(lcg(s) >> 20) - 2048;
    mult[c] = static_cast<std::int32_t>((1u << 30) + (lcg(s) >> 2));
    shift[c] = -static_cast<std::int32_t>(6 + lcg(s) % 4);
  }
  stage = {{mult, shift}, 3, -128, 127};
  auto w_at = [](std::size_t t, std::size_t c) { return weights[t * kC + c]; };
  auto b_at = [](std::size_t c) { return bias[c]; };
  tessera::kernels::pack_dw<std::int32_t, std::int8_t>(kC, kKs, K::cr(), w_at, b_at, packed);
  tessera::kernels::pack_dw<std::int32_t, std::int8_t>(kC, kKs, 4, w_at, b_at, packed_ref);
}

int check() {
  const std::int8_t* ptrs[kKs];
  for (std::size_t y = 0; y < out_hw; ++y)
    for (std::size_t x = 0; x < out_hw; ++x) {
      for (std::size_t t = 0; t < kKs; ++t) ptrs[t] = input + ((y * stride + t / 3) * kHW + x * stride + t % 3) * kC;
      tessera::kernels::dwconv_qs8_scalar::run(kC, 1, kKs, ptrs, kKs, packed_ref, ref + (y * out_hw + x) * kC, kC, stage);
    }
  return std::memcmp(out, ref, out_hw * out_hw * kC) != 0;
}

std::size_t elements() { return out_hw * out_hw * kC * kKs; }
}  // namespace tessera_perf

TESSERA_PERF_KERNEL {
  const std::size_t c = tessera_perf::v_c, s = tessera_perf::v_stride, n = tessera_perf::v_ohw;
  const std::int8_t* in = tessera_perf::v_in;
  const void* packed = tessera_perf::v_packed;
  std::int8_t* o = tessera_perf::v_out;
  const auto& st = *tessera_perf::v_stage;
  const std::size_t pitch = tessera_perf::kHW * c;
  for (std::size_t y = 0; y < n; ++y) {
    const std::int8_t* r0 = in + y * s * pitch;
    K::run(c, n, s, r0, r0 + pitch, r0 + 2 * pitch, packed, o + y * n * c, st);
  }
}
