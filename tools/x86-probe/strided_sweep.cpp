#include <tessera/tessera.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <algorithm>
using namespace tessera;
using conv = conv2d_f32<arch::avx512_vnni>;
// args: reps then groups of "h w ic oc k s"
int main(int argc, char** argv) {
  int reps = atoi(argv[1]);
  for (int q = 2; q + 5 < argc + 0; q += 6) {
    conv_shape s; s.in_h = atoi(argv[q]); s.in_w = atoi(argv[q+1]); s.in_c = atoi(argv[q+2]); s.out_c = atoi(argv[q+3]); s.kernel_h = s.kernel_w = atoi(argv[q+4]); s.stride_h = s.stride_w = atoi(argv[q+5]);
    conv_geometry g; if (!make_conv_geometry(s, padding::same, g).ok()) abort();
    std::vector<float> x(g.in_elems()), w(g.out_c * g.depth()), b(g.out_c);
    srand(1); for (auto& v : x) v = (rand() % 129 - 64) / 32.f; for (auto& v : w) v = (rand() % 129 - 64) / 64.f; for (auto& v : b) v = rand() % 17 - 8;
    std::vector<std::uint64_t> pk(conv::packed_weights_bytes(g) / 8 + 8);
    if (!conv::pack_weights(g, w.data(), b.data(), pk.data(), conv::packed_weights_bytes(g)).ok()) abort();
    conv_algorithm al[2] = {conv_algorithm::panel_gemm, conv_algorithm::strided_gemm};
    std::vector<float> o[2]; std::vector<std::uint64_t> ws[2];
    for (int a = 0; a < 2; ++a) { o[a].resize(g.out_elems()); ws[a].resize(conv::workspace_bytes(g, al[a]) / 8 + 1); }
    double best[2] = {1e9, 1e9};
    int iters = std::max(200, int(1e8 / (g.out_pixels() * g.out_c * g.depth())));
    for (int r = 0; r < reps; ++r) for (int a = getenv("ONLY_S") ? 1 : 0; a < 2; ++a) {
      auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < iters; ++i) (void)conv::run(g, x.data(), pk.data(), o[a].data(), {}, ws[a].data(), conv::workspace_bytes(g, al[a]), al[a]);
      best[a] = std::min(best[a], std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / iters);
    }
    printf("%3zux%-3zux%-2zu k%zu s%zu ->%3zu out_w %3zu: panel %8.2f strided %8.2f ratio %.3f\n", g.in_h, g.in_w, g.in_c, g.kernel_h, g.stride_h, g.out_c, g.out_w, best[0], best[1], best[0] / best[1]);
  }
}
