// A first tessera program: describe tensors with static and dynamic extents, derive TFLite
// requantization parameters from float scales, and requantize int32 accumulators to int8 with the
// best microkernel for this CPU, picked at compile time.
#include <cstdio>
#include <tessera/tessera.hpp>

using namespace tessera;

int main() {
  // Accumulators of a layer with 8 output channels, 2 rows (batch); rows are a run-time size.
  std::int32_t acc_data[2 * 8];
  for (int i = 0; i < 16; ++i) acc_data[i] = (i - 8) * 1234;
  auto acc = make_view(acc_data, make_extents(2, c<8>{}));  // [rows (dynamic), 8 (static)]

  // Scales: input 0.05, weights 0.02, output 0.1 -> real factor 0.01.
  quantized_multiplier qm;
  if (status st = quantize_conv_multiplier(0.05f, 0.02f, 0.1f, qm); !st) {
    std::printf("error: %s\n", st.message());
    return 1;
  }
  output_stage<requant::per_tensor> stage{{qm.multiplier, qm.shift}, /*zero_point=*/-10, -128, 127};

  std::int8_t out_data[2 * 8];
  auto out = make_view(out_data, make_extents(2, c<8>{}));
  const status st = requantize(acc.extent(0), acc.extent(1), acc.data, acc.stride(0), out.data, out.stride(0), stage);
  if (!st) {
    std::printf("error: %s\n", st.message());
    return 1;
  }
  std::printf("tessera %s: native tag %s, kernel %s\n", "0.1", arch::native::name,
              select_t<op::requantize<std::int32_t, std::int8_t, requant::per_tensor>>::name);
  std::printf("multiplier %d shift %d\n", static_cast<int>(qm.multiplier), static_cast<int>(qm.shift));
  for (std::size_t r = 0; r < out.extent(0); ++r) {
    for (std::size_t col = 0; col < out.extent(1); ++col) std::printf("%5d", out(r, col));
    std::printf("\n");
  }
  return 0;
}
