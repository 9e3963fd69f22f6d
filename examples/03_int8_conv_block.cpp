// The first blocks of an int8 MobileNetV1 at 32x32 input: conv 3x3 stride 2 (3 -> 8 channels,
// ReLU6), depthwise 3x3 (ReLU6), pointwise 1x1 (8 -> 16), as an edge application would run them:
// geometry checked once, weights packed once into a static arena sized by the operators' queries,
// a small panel workspace (16 rows instead of the ~64 KiB default), no heap, statuses everywhere.
// The same block then runs on the portable scalar kernels: the int8 outputs must be identical.
#include <cstdio>
#include <tessera/tessera.hpp>

using namespace tessera;

namespace {
constexpr std::int64_t kH = 32, kW = 32;

std::int8_t pseudo(std::size_t i, int salt) {
  return static_cast<std::int8_t>(static_cast<int>((i * 37 + static_cast<std::size_t>(salt) * 101) % 251) - 125);
}

/// Bytes rounded up to 64, so every buffer carved from the arena stays 64-byte aligned.
constexpr std::size_t up64(std::size_t n) { return (n + 63) / 64 * 64; }

alignas(64) std::uint8_t arena[48 * 1024];

/// Runs the block with conv kernel tag `Tag` (depthwise and pointwise follow the same tag);
/// writes the 16x16x16 output to `out`. Returns a status.
template <class Tag>
status run_block(std::int8_t* out, const char** kernels) {
  using conv = conv2d_s8<Tag>;
  using dw = depthwise_conv2d_s8<Tag>;
  conv_geometry g1, g2, g3;
  TESSERA_TRY(make_conv_geometry({.in_h = kH, .in_w = kW, .in_c = 3, .out_c = 8, .kernel_h = 3, .kernel_w = 3,
                                  .stride_h = 2, .stride_w = 2}, padding::same, g1));
  TESSERA_TRY(make_conv_geometry({.in_h = 16, .in_w = 16, .in_c = 8, .out_c = 8, .kernel_h = 3, .kernel_w = 3},
                                 padding::same, g2));
  TESSERA_TRY(make_conv_geometry({.in_h = 16, .in_w = 16, .in_c = 8, .out_c = 16}, padding::same, g3));

  // Carve the arena: packed weights, workspaces, activations.
  const std::size_t p1 = up64(conv::packed_weights_bytes(g1)), p2 = up64(dw::packed_weights_bytes(g2)),
                    p3 = up64(conv::packed_weights_bytes(g3));
  const std::size_t ws1 = up64(16 * conv::min_workspace_bytes(g1)), ws2 = up64(dw::workspace_bytes(g2));
  const std::size_t a0 = up64(g1.in_elems()), a1 = up64(g1.out_elems()), a2 = up64(g2.out_elems());
  const std::size_t need = p1 + p2 + p3 + ws1 + ws2 + a0 + a1 + a2;
  if (p1 == 0 || p2 == 0 || p3 == 0 || need > sizeof(arena)) return {status_code::buffer_too_small, "arena too small"};
  std::uint8_t* at = arena;
  auto take = [&](std::size_t n) { std::uint8_t* p = at; at += n; return p; };
  void* pk1 = take(p1);
  void* pk2 = take(p2);
  void* pk3 = take(p3);
  void* w1 = take(ws1);
  void* w2 = take(ws2);
  auto* x = reinterpret_cast<std::int8_t*>(take(a0));
  auto* y1 = reinterpret_cast<std::int8_t*>(take(a1));
  auto* y2 = reinterpret_cast<std::int8_t*>(take(a2));

  // "Trained" parameters: weights, biases, per-channel multipliers; activations zp -128 after ReLU6.
  static std::int8_t f1[8 * 27], f2[9 * 8], f3[16 * 8];
  static std::int32_t b1[8], b2[8], b3[16], m[16], s[16], m3[16], s3[16];
  for (std::size_t i = 0; i < sizeof f1; ++i) f1[i] = pseudo(i, 1);
  for (std::size_t i = 0; i < sizeof f2; ++i) f2[i] = pseudo(i, 2);
  for (std::size_t i = 0; i < sizeof f3; ++i) f3[i] = pseudo(i, 3);
  for (std::size_t o = 0; o < 16; ++o) {
    if (o < 8) b1[o] = b2[o] = static_cast<std::int32_t>(o * 300) - 1200;
    b3[o] = static_cast<std::int32_t>(o * 500) - 4000;
    quantized_multiplier q;
    TESSERA_TRY(quantize_multiplier(0.0006 + 0.00004 * static_cast<double>(o), q));
    m[o] = q.multiplier;
    s[o] = q.shift;
    TESSERA_TRY(quantize_multiplier(0.003 + 0.0002 * static_cast<double>(o), q));
    m3[o] = q.multiplier;
    s3[o] = q.shift;
  }
  for (std::size_t i = 0; i < g1.in_elems(); ++i) x[i] = pseudo(i, 4);

  TESSERA_TRY(conv::pack_weights(g1, f1, b1, /*input_zp=*/-1, pk1, p1));
  TESSERA_TRY(dw::pack_weights(g2, f2, b2, /*input_zp=*/-128, pk2, p2));
  TESSERA_TRY(conv::pack_weights(g3, f3, b3, /*input_zp=*/-128, pk3, p3));

  // ReLU6 at scale 6/255, zp -128: clamp to [-128, 127]; the last layer is linear.
  const output_stage<requant::per_channel> relu6{{m, s}, -128, -128, 127}, linear{{m3, s3}, 3, -128, 127};
  TESSERA_TRY(conv::run(g1, x, pk1, y1, relu6, w1, ws1));
  TESSERA_TRY(dw::run(g2, y1, pk2, y2, relu6, w2, ws2));
  TESSERA_TRY(conv::run(g3, y2, pk3, out, linear, nullptr, 0));  // pointwise: no workspace
  kernels[0] = conv::kernel::name;
  kernels[1] = dw::kernel::name;
  (void)need;
  return status::success();
}
}  // namespace

int main() {
  static std::int8_t fast[16 * 16 * 16], portable[16 * 16 * 16];
  const char* k_fast[2] = {};
  const char* k_scalar[2] = {};
  status st = run_block<arch::native>(fast, k_fast);
  if (st) st = run_block<arch::scalar>(portable, k_scalar);
  if (!st) {
    std::printf("error: %s\n", st.message());
    return 1;
  }
  std::uint32_t hash = 2166136261u;
  std::size_t differ = 0;
  for (std::size_t i = 0; i < sizeof fast; ++i) {
    hash = (hash ^ static_cast<std::uint8_t>(fast[i])) * 16777619u;
    differ += fast[i] != portable[i];
  }
  std::printf("int8 MobileNetV1 block 32x32x3 -> 16x16x16 on %s\n  conv/pointwise kernel %s, depthwise kernel %s\n",
              arch::native::name, k_fast[0], k_fast[1]);
  std::printf("  output hash %08lx, %lu of %lu values differ from the scalar kernels\n", static_cast<unsigned long>(hash),
              static_cast<unsigned long>(differ), static_cast<unsigned long>(sizeof fast));
  { int lo = 127, hi = -128; for (auto v : fast) { lo = v < lo ? v : lo; hi = v > hi ? v : hi; } std::printf("  range [%d, %d]\n", lo, hi); }
  std::printf("  first pixel:");
  for (std::size_t c = 0; c < 16; ++c) std::printf(" %d", fast[c]);
  std::printf("\n");
  return differ == 0 ? 0 : 1;
}
