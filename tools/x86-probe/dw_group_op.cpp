// fp32 depthwise through the operator: depthwise_conv2d_f32<> (the native tag: on AVX-512 builds the
// channel-group path where group_rows_pay) against depthwise_conv2d_f32<arch::simd> (AVX2 paths), each
// with workspace_bytes, SAME, 3x3; prints GFLOP/s (median of 5) and whether the outputs are identical.
// Build: clang++-16 (or g++) -std=c++20 -O3 -march=x86-64-v4 -mavx512vnni -DTESSERA_USE_XSIMD=1 -Iinclude -Iarch \
//          -Ikernels -Itools/x86-probe tools/x86-probe/dw_group_op.cpp -o X && X
#include <tessera/tessera.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>
#include "probe_common.hpp"
using namespace tessera;
int main() {
  const int reps = 5;
  int dims[][4] = {{14,14,512,1},{7,7,1024,1},{28,28,256,1},{56,56,128,1},{112,112,32,1},{112,112,64,2},{56,56,128,2},{28,28,256,2},{14,14,512,2}};
  for (auto& d : dims) {
    conv_shape s; s.in_h = d[0], s.in_w = d[1], s.in_c = s.out_c = d[2], s.kernel_h = s.kernel_w = 3, s.stride_h = s.stride_w = d[3];
    conv_geometry g; if (!make_conv_geometry(s, padding::same, g).ok()) std::abort();
    using A = depthwise_conv2d_f32<>;  // native
    using B = depthwise_conv2d_f32<arch::simd>;
    std::vector<float> x(g.in_elems()), f(9 * g.out_c), bias(g.out_c), o1(g.out_elems()), o2(g.out_elems());
    std::srand(1);
    for (auto& v : x) v = (std::rand() % 129 - 64) / 32.f;
    for (auto& v : f) v = (std::rand() % 129 - 64) / 64.f;
    for (auto& v : bias) v = (std::rand() % 129 - 64) / 64.f;
    std::vector<std::uint64_t> pa(A::packed_weights_bytes(g) / 8 + 8), wa(A::workspace_bytes(g) / 8 + 1), pb(B::packed_weights_bytes(g) / 8 + 8), wb(B::workspace_bytes(g) / 8 + 1);
    if (!A::pack_weights(g, f.data(), bias.data(), pa.data(), A::packed_weights_bytes(g)).ok()) std::abort();
    if (!B::pack_weights(g, f.data(), bias.data(), pb.data(), B::packed_weights_bytes(g)).ok()) std::abort();
    const double macs = double(g.out_elems()) * 9;
    const f32_clamp cl{-INFINITY, INFINITY};
    const double ta = time_it([&] { if (!A::run(g, x.data(), pa.data(), o1.data(), cl, wa.data(), A::workspace_bytes(g)).ok()) std::abort(); }, macs, reps, 50e9);
    const double tb = time_it([&] { if (!B::run(g, x.data(), pb.data(), o2.data(), cl, wb.data(), B::workspace_bytes(g)).ok()) std::abort(); }, macs, reps, 50e9);
    std::printf("%3dx%-3dx%-4d s%d native(groups=%d) %5.1f  simd %5.1f GFLOP/s  %s\n", d[0], d[1], d[2], d[3], int(A::uses_groups(g)), 2 * macs / 1e3 / ta, 2 * macs / 1e3 / tb,
                std::memcmp(o1.data(), o2.data(), o1.size() * 4) ? "DIFF" : "same");
  }
}
