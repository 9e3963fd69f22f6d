// Panel against strided_gemm on conv2d_f32<arch::avx512_vnni> (gemm_f32_8x32_avx512_fma), SAME
// padding, one process, the two interleaved; prints best-of-reps times, their ratio and the count
// of outputs that differ (must be 0). docs/performance.md, "Layer (a) without the panel copy:
// strided segments".
//   strided_layers REPS [LETTERS]   MobileNet-like first layers (a, i, j, k, l, x, y, z); LETTERS
//                                   picks layers by their first letter
//   strided_layers REPS small       tiny images (outputs 1-19 pixels wide)
#include <tessera/tessera.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
using namespace tessera;
using conv = conv2d_f32<arch::avx512_vnni>;
struct L { const char* name; int hw, ic, oc, k, s; };

static void measure(const L& l, int reps, int min_iters) {
  conv_shape s; s.in_h = s.in_w = l.hw; s.in_c = l.ic; s.out_c = l.oc; s.kernel_h = s.kernel_w = l.k; s.stride_h = s.stride_w = l.s;
  conv_geometry g; if (!make_conv_geometry(s, padding::same, g).ok()) abort();
  std::vector<float> x(g.in_elems()), w(g.out_c * g.depth()), b(g.out_c);
  srand(1); for (auto& v : x) v = (rand() % 129 - 64) / 32.f; for (auto& v : w) v = (rand() % 129 - 64) / 64.f; for (auto& v : b) v = rand() % 17 - 8;
  std::vector<std::uint64_t> pk(conv::packed_weights_bytes(g) / 8 + 8);
  if (!conv::pack_weights(g, w.data(), b.data(), pk.data(), conv::packed_weights_bytes(g)).ok()) abort();
  conv_algorithm al[2] = {conv_algorithm::panel_gemm, conv_algorithm::strided_gemm};
  std::vector<float> o[2] = {std::vector<float>(g.out_elems()), std::vector<float>(g.out_elems())};
  std::vector<std::uint64_t> ws[2];
  for (int a = 0; a < 2; ++a) { ws[a].resize(conv::workspace_bytes(g, al[a]) / 8 + 1);
    if (!conv::run(g, x.data(), pk.data(), o[a].data(), {}, ws[a].data(), conv::workspace_bytes(g, al[a]), al[a]).ok()) abort(); }
  size_t diff = 0; for (size_t i = 0; i < o[0].size(); ++i) diff += o[0][i] != o[1][i];
  double best[2] = {1e9, 1e9};
  int iters = std::max(min_iters, int(2e8 / (g.out_pixels() * g.out_c * g.depth())));
  for (int r = 0; r < reps; ++r) for (int a = 0; a < 2; ++a) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < iters; ++i) (void)conv::run(g, x.data(), pk.data(), o[a].data(), {}, ws[a].data(), conv::workspace_bytes(g, al[a]), al[a]);
    double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / iters;
    best[a] = std::min(best[a], us);
  }
  printf("%s %-22s panel %8.1f us  strided %8.1f us  ratio %.3f  diffs %zu  ws %zu/%zu\n", l.name, conv::kernel::name, best[0], best[1], best[0] / best[1], diff,
         conv::workspace_bytes(g, al[0]), conv::workspace_bytes(g, al[1]));
}

int main(int argc, char** argv) {
  static const L layers[] = {{"a 3x3s2 224x3->32", 224, 3, 32, 3, 2}, {"i 7x7s2 224x3->64", 224, 3, 64, 7, 2},
                             {"j 3x3s1 56x8->32", 56, 8, 32, 3, 1}, {"k 3x3s1 56x16->32", 56, 16, 32, 3, 1},
                             {"l 3x3s1 56x24->32", 56, 24, 32, 3, 1}, {"x 3x3s1 112x1->32", 112, 1, 32, 3, 1},
                             {"y 5x5s1 56x3->32", 56, 3, 32, 5, 1}, {"z 3x3s1 112x3->32", 112, 3, 32, 3, 1}};
  static const L small[] = {{"s1 7x7x3 3x3s1", 7, 3, 32, 3, 1}, {"s2 14x14x8 3x3s2", 14, 8, 32, 3, 2}, {"s3 10x10x3 5x5s1", 10, 3, 32, 5, 1}, {"s4 4x4x16 3x3s1", 4, 16, 16, 3, 1}, {"s5 28x28x4 7x7s2", 28, 4, 64, 7, 2}, {"s6 3x3x1 3x3s1", 3, 1, 8, 3, 1}, {"s7 56x56x3 3x3s3->100", 56, 3, 100, 3, 3}, {"s8 20x20x12 1x1s2", 20, 12, 48, 1, 2}};
  int reps = argc > 1 ? atoi(argv[1]) : 5;
  if (argc > 2 && strcmp(argv[2], "small") == 0) {
    for (const L& l : small) measure(l, reps, 200);
    return 0;
  }
  for (const L& l : layers)
    if (argc <= 2 || strchr(argv[2], l.name[0])) measure(l, reps, 20);
}
