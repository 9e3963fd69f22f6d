// A two-layer int8 perceptron (64 -> 32 -> 10) from tessera's fully_connected_s8, as a
// microcontroller application would run it: weights packed once into a caller-owned static arena
// sized by the operator's queries, no heap, every step returning a status.
#include <cstdio>
#include <tessera/tessera.hpp>

using namespace tessera;
using fc = fully_connected_s8<>;  // the best kernel for this build's arch::native

namespace {
constexpr std::size_t kIn = 64, kHidden = 32, kOut = 10;

// Deterministic "trained" weights for the demo.
std::int8_t weight(std::size_t o, std::size_t i, int salt) {
  return static_cast<std::int8_t>(static_cast<int>((o * 31 + i * 17 + static_cast<std::size_t>(salt)) % 255) - 127);
}

// Packed weights of both layers. The packed size depends on the kernel's channel block `nr`, which
// for SVE kernels grows with the vector length (at 2048 bits these two layers need 13 KiB), so a
// portable static arena is sized for the largest kernel it may meet; the queries below check it.
alignas(4) std::uint8_t arena[32768];
}  // namespace

int main() {
  static std::int8_t w1[kHidden * kIn], w2[kOut * kHidden];
  static std::int32_t b1[kHidden], b2[kOut];
  for (std::size_t o = 0; o < kHidden; ++o) {
    b1[o] = static_cast<std::int32_t>(o) * 100 - 1600;
    for (std::size_t i = 0; i < kIn; ++i) w1[o * kIn + i] = weight(o, i, 1);
  }
  for (std::size_t o = 0; o < kOut; ++o) {
    b2[o] = 0;
    for (std::size_t i = 0; i < kHidden; ++i) w2[o * kHidden + i] = weight(o, i, 2);
  }

  // Quantization: input scale 0.02 zp -5; weights 0.01 (symmetric); hidden 0.05 zp -128 (ReLU);
  // logits 0.5 zp 0.
  const std::size_t bytes1 = fc::packed_weights_bytes(kHidden, kIn), bytes2 = fc::packed_weights_bytes(kOut, kHidden);
  if (bytes1 + bytes2 > sizeof(arena)) {
    std::printf("arena too small: need %lu bytes\n", static_cast<unsigned long>(bytes1 + bytes2));
    return 1;
  }
  void* p1 = arena;
  void* p2 = arena + bytes1;  // bytes1 is a multiple of 4: packed blocks hold int32 biases
  quantized_multiplier q1, q2;
  status st = quantize_conv_multiplier(0.02f, 0.01f, 0.05f, q1);
  if (st) st = quantize_conv_multiplier(0.05f, 0.01f, 0.5f, q2);
  if (st) st = fc::pack_weights(kHidden, kIn, w1, b1, /*input_zp=*/-5, /*weight_zp=*/0, p1, bytes1);
  if (st) st = fc::pack_weights(kOut, kHidden, w2, b2, /*input_zp=*/-128, 0, p2, bytes2);
  if (!st) {
    std::printf("error: %s\n", st.message());
    return 1;
  }

  std::int8_t x[kIn], hidden[kHidden], logits[kOut];
  for (std::size_t i = 0; i < kIn; ++i) x[i] = static_cast<std::int8_t>(static_cast<int>(i * 7 % 200) - 100);
  output_stage<requant::per_tensor> relu{{q1.multiplier, q1.shift}, -128, -128, 127};  // ReLU: clamp at zp
  output_stage<requant::per_tensor> linear{{q2.multiplier, q2.shift}, 0, -128, 127};
  st = fc::run(1, kIn, kHidden, x, kIn, p1, hidden, kHidden, relu);
  if (st) st = fc::run(1, kHidden, kOut, hidden, kHidden, p2, logits, kOut, linear);
  if (!st) {
    std::printf("error: %s\n", st.message());
    return 1;
  }
  std::size_t best = 0;
  std::printf("int8 MLP 64-32-10 on %s (kernel %s), %lu bytes of packed weights\nlogits:", arch::native::name,
              fc::kernel::name, static_cast<unsigned long>(bytes1 + bytes2));
  for (std::size_t o = 0; o < kOut; ++o) {
    std::printf(" %d", logits[o]);
    if (logits[o] > logits[best]) best = o;
  }
  std::printf("\nclass %lu (%.1f)\n", static_cast<unsigned long>(best), 0.5 * logits[best]);
  return 0;
}
