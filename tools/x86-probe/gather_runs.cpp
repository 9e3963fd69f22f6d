// conv2d_s8 and conv2d_f32 on the panel path (detail::gather_panel + the tag's GEMM) for layers whose
// window runs (kernel_w * in_c elements) are short: first layers of 1-16 channels. Thread CPU time
// per call, median over repetitions; build it twice (two include trees) to compare gather code.
//   usage: gather_runs REPS [h w ic oc k s]...   (SAME padding, batch 1)
// Build: g++ (or clang++-16) -std=c++20 -O3 -march=x86-64-v4 -mavx512vnni -DTESSERA_USE_XSIMD=1 \
//          -Iinclude -Iarch -Ikernels tools/x86-probe/gather_runs.cpp -o X
#include <tessera/tessera.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>
#include "probe_common.hpp"
using namespace tessera;


static void one(const shape& sh, int reps) {
  conv_shape s;
  s.in_h = sh.h, s.in_w = sh.w, s.in_c = sh.ic, s.out_c = sh.oc, s.kernel_h = s.kernel_w = sh.k, s.stride_h = s.stride_w = sh.s;
  conv_geometry g;
  if (!make_conv_geometry(s, padding::same, g).ok()) std::abort();
  const double macs = double(g.out_pixels()) * g.out_c * g.depth();
  std::srand(1);
  // int8, the native tag's kernel
  using c8 = conv2d_s8<>;
  std::vector<std::int8_t> x8(g.in_elems()), w8(g.out_c * g.depth()), o8(g.out_elems());
  for (auto& v : x8) v = static_cast<std::int8_t>(std::rand() % 256 - 128);
  for (auto& v : w8) v = static_cast<std::int8_t>(std::rand() % 255 - 127);
  std::vector<std::int32_t> mult(g.out_c, 1 << 30), shift(g.out_c, -8);
  const output_stage<requant::per_channel> st{{mult.data(), shift.data()}, -3, -128, 127};
  std::vector<std::uint64_t> p8(c8::packed_weights_bytes(g) / 8 + 8), ws8(c8::workspace_bytes(g) / 8 + 1);
  if (!c8::pack_weights(g, w8.data(), nullptr, -5, p8.data(), c8::packed_weights_bytes(g)).ok()) std::abort();
  const double t8 = time_it([&] {
    if (!c8::run(g, x8.data(), p8.data(), o8.data(), st, ws8.data(), c8::workspace_bytes(g)).ok()) std::abort();
  }, macs, reps);
  // fp32 on the simd tag, panel path by name
  using cf = conv2d_f32<arch::simd>;
  std::vector<float> xf(g.in_elems()), wf(g.out_c * g.depth()), of(g.out_elems());
  for (auto& v : xf) v = (std::rand() % 129 - 64) / 32.f;
  for (auto& v : wf) v = (std::rand() % 129 - 64) / 64.f;
  const conv_algorithm pa = conv_algorithm::panel_gemm;
  std::vector<std::uint64_t> pf(cf::packed_weights_bytes(g) / 8 + 8), wsf(cf::workspace_bytes(g, pa) / 8 + 1);
  if (!cf::pack_weights(g, wf.data(), nullptr, pf.data(), cf::packed_weights_bytes(g)).ok()) std::abort();
  const double tf = time_it([&] {
    if (!cf::run(g, xf.data(), pf.data(), of.data(), {}, wsf.data(), cf::workspace_bytes(g, pa), pa).ok()) std::abort();
  }, macs, reps);
  long sum = 0;
  for (auto v : o8) sum += v;
  std::printf("%3dx%-3dx%-2d k%d s%d -> %-3d run %3d B  s8 %8.1f us  f32(simd panel) %8.1f us  (%ld)\n", sh.h, sh.w, sh.ic,
              sh.k, sh.s, sh.oc, sh.k * sh.ic, t8, tf, sum % 7);
  std::fflush(stdout);
}

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 5;
  std::vector<shape> v = shapes_from_args(argc, argv);
  if (v.empty()) {
    v = {{96, 96, 1, 8, 3, 2},   {96, 96, 1, 32, 3, 1},  {56, 56, 1, 32, 5, 1},  {56, 56, 2, 32, 3, 1},
         {56, 56, 3, 32, 3, 1},  {56, 56, 4, 32, 3, 1},  {56, 56, 5, 32, 3, 1},  {56, 56, 8, 32, 3, 1},
         {28, 28, 8, 32, 3, 1},  {56, 56, 16, 32, 3, 1}, {56, 56, 24, 32, 3, 1}, {224, 224, 3, 32, 3, 2}};
  }
  for (const shape& sh : v) one(sh, reps);
}
