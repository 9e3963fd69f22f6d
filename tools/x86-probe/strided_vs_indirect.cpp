// strided_gemm against indirect_gemm on conv2d_f32<arch::avx512_vnni> (gemm_f32_8x32_avx512_fma),
// one process, the two alternated per repetition (paired). For each shape: median of the
// per-repetition times of each (thread CPU time per call), median of the per-repetition ratios
// indirect/strided, the ratio of the fastest repetitions (min), and the count of outputs
// differing (must be 0: same tiles, same FMA order). CHUNK_MS: ms per repetition (100).
//   usage: strided_vs_indirect REPS [h w ic oc k s]...   (SAME padding, batch 1)
//   no shapes: the default sweep (in_c 32..96 on 3x3 s1 56x56/28x28 -> 32/64, 5x5 s1, 3x3 s2)
// Build: g++ (or clang++-16) -std=c++20 -O3 -march=x86-64-v4 -mavx512vnni -DTESSERA_USE_XSIMD=1 \
//          -Iinclude -Iarch -Ikernels tools/x86-probe/strided_vs_indirect.cpp -o X
#include <tessera/tessera.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>
#include "probe_common.hpp"
using namespace tessera;
using conv = conv2d_f32<arch::avx512_vnni>;

static double chunk_ms = 100;
static void one(const shape& sh, int reps) {
  conv_shape s;
  s.in_h = sh.h, s.in_w = sh.w, s.in_c = sh.ic, s.out_c = sh.oc, s.kernel_h = s.kernel_w = sh.k, s.stride_h = s.stride_w = sh.s;
  conv_geometry g;
  if (!make_conv_geometry(s, padding::same, g).ok()) std::abort();
  std::vector<float> x(g.in_elems()), w(g.out_c * g.depth()), b(g.out_c);
  std::srand(1);
  for (auto& v : x) v = (std::rand() % 129 - 64) / 32.f;
  for (auto& v : w) v = (std::rand() % 129 - 64) / 64.f;
  for (auto& v : b) v = static_cast<float>(std::rand() % 17 - 8);
  std::vector<std::uint64_t> pk(conv::packed_weights_bytes(g) / 8 + 8);
  if (!conv::pack_weights(g, w.data(), b.data(), pk.data(), conv::packed_weights_bytes(g)).ok()) std::abort();
  const conv_algorithm al[2] = {conv_algorithm::indirect_gemm, conv_algorithm::strided_gemm};
  std::vector<float> o[2];
  std::vector<std::uint64_t> ws[2];
  for (int a = 0; a < 2; ++a) {
    o[a].assign(g.out_elems(), 0.f);
    ws[a].resize(conv::workspace_bytes(g, al[a]) / 8 + 1);
  }
  auto call = [&](int a) {
    if (!conv::run(g, x.data(), pk.data(), o[a].data(), {}, ws[a].data(), conv::workspace_bytes(g, al[a]), al[a]).ok())
      std::abort();
  };
  call(0), call(1);
  std::size_t diff = 0;
  for (std::size_t i = 0; i < g.out_elems(); ++i) diff += o[0][i] != o[1][i];
  // About chunk_ms per repetition and algorithm.
  const double macs = double(g.out_pixels()) * g.out_c * g.depth();
  const int iters = std::max(2, int(chunk_ms * 1e-3 * 100e9 / (2 * macs)));
  std::vector<double> t[2], ratio;
  for (int r = 0; r < reps; ++r) {
    double rep[2];
    for (int q = 0; q < 2; ++q) {
      const int a = (r + q) % 2;  // alternate which runs first
      const double t0 = now_us();
      for (int i = 0; i < iters; ++i) call(a);
      rep[a] = (now_us() - t0) / iters;
      t[a].push_back(rep[a]);
    }
    ratio.push_back(rep[0] / rep[1]);
  }
  std::sort(ratio.begin(), ratio.end());
  const double min0 = *std::min_element(t[0].begin(), t[0].end()), min1 = *std::min_element(t[1].begin(), t[1].end());
  std::printf("%dx%dx%-3d k%d s%d -> %-3d out %zux%-3zu  indirect %8.1f  strided %8.1f us  ind/str %.3f [%.3f..%.3f]  "
              "min %.3f  diff %zu\n",
              sh.h, sh.w, sh.ic, sh.k, sh.s, sh.oc, g.out_h, g.out_w, median(t[0]), median(t[1]), median(ratio), ratio.front(),
              ratio.back(), min0 / min1, diff);
  std::fflush(stdout);
}

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 7;
  if (const char* e = std::getenv("CHUNK_MS")) chunk_ms = std::atof(e);
  std::vector<shape> v = shapes_from_args(argc, argv);
  if (v.empty()) {
    for (int c : {32, 40, 48, 56, 64, 96}) {
      v.push_back({56, 56, c, 32, 3, 1});
      v.push_back({56, 56, c, 64, 3, 1});
      v.push_back({28, 28, c, 32, 3, 1});
      v.push_back({28, 28, c, 64, 3, 1});
      v.push_back({28, 28, c, 64, 5, 1});
      v.push_back({56, 56, c, 64, 3, 2});
    }
  }
  for (const shape& sh : v) one(sh, reps);
}
