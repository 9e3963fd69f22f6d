// Must NOT compile: int64 accumulators (16x8 kernels) only produce int16.
#include <tessera/tessera.hpp>

int main() {
  std::int64_t acc[4] = {};
  std::int8_t out[4] = {};
  tessera::output_stage<tessera::requant::per_tensor> p;
  return tessera::requantize(1, 4, acc, 4, out, 4, p).ok() ? 0 : 1;
}
