// A downstream program: one include, one call.
#include <cstdio>
#include <tessera/tessera.hpp>

int main() {
  const std::int32_t acc[4] = {100, -50, -100000, 100000};
  std::int8_t out[4];
  tessera::output_stage<tessera::requant::per_tensor> p;
  p.q = {1 << 30, -5};  // x 0.5 / 32
  p.act_min = -128;
  p.act_max = 127;
  if (!tessera::requantize(1, 4, acc, 4, out, 4, p)) return 1;
  std::printf("requantized: %d %d %d %d (tag %s)\n", out[0], out[1], out[2], out[3], tessera::arch::native::name);
  return 0;
}
