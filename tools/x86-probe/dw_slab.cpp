// fp32 3x3 stride-1 SAME depthwise on AVX-512 by 16-channel slabs (one zmm = one cache line per
// pixel), against depthwise_conv2d_f32<> in the same process. Per slab: 9 weight vectors and up to
// N output pixels of a row in registers; input either read in place (NHWC, pixel pitch C) or from
// a ring of 3 zero-padded rows of the slab (pixel pitch 16 floats), copied once per input row.
// Columns: G<g>N<n>[k]: groups of g 16-channel lines, tiles of n pixels, k: pixel tiles outer and
// the group's lines inner (the kernel's order). -DTILE_B: kx-major tiles (input as FMA memory
// operands); -DPIN: weights pinned in registers by empty asm (neither helped g++ 12).
//   usage: dw_slab REPS [h w c]...
// Build: clang++-16 -std=c++20 -O3 -march=x86-64-v4 -DTESSERA_USE_XSIMD=1 -Iinclude -Iarch -Ikernels \
//          tools/x86-probe/dw_slab.cpp -o X
#include <immintrin.h>
#include <tessera/tessera.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>
#include "probe_common.hpp"
using namespace tessera;


// N outputs of one row: x0..x2 = tap rows at the first input column, pitch ip floats; output pitch op.
template <int N>
[[gnu::always_inline]] inline void tile(const float* x0, const float* x1, const float* x2, std::size_t ip,
                                        const float* blk, float* o, std::size_t op, __m512 lo, __m512 hi) {
  __m512 w[9];
#pragma GCC unroll 9
  for (int t = 0; t < 9; ++t) w[t] = _mm512_loadu_ps(blk + 16 * (t + 1));
#ifdef PIN
#pragma GCC unroll 9
  for (int t = 0; t < 9; ++t) asm("" : "+v"(w[t]));
#endif
  __m512 acc[N];
  const __m512 b = _mm512_loadu_ps(blk);
#pragma GCC unroll 16
  for (int j = 0; j < N; ++j) acc[j] = b;
  const float* rows[3] = {x0, x1, x2};
#ifdef TILE_B
  // kx-major: one weight, every pixel (input as FMA memory operands).
#pragma GCC unroll 3
  for (int ky = 0; ky < 3; ++ky)
#pragma GCC unroll 3
    for (int kx = 0; kx < 3; ++kx)
#pragma GCC unroll 16
      for (int j = 0; j < N; ++j) acc[j] = _mm512_fmadd_ps(_mm512_loadu_ps(rows[ky] + (j + kx) * ip), w[ky * 3 + kx], acc[j]);
  if (0)
#endif
#pragma GCC unroll 3
  for (int ky = 0; ky < 3; ++ky) {
    const float* x = rows[ky];
#pragma GCC unroll 18
    for (int i = 0; i < N + 2; ++i) {
      const __m512 xi = _mm512_loadu_ps(x + i * ip);
#pragma GCC unroll 16
      for (int j = 0; j < N; ++j) {
        if (i < j || i > j + 2) continue;
        acc[j] = _mm512_fmadd_ps(xi, w[ky * 3 + i - j], acc[j]);
      }
    }
  }
#pragma GCC unroll 16
  for (int j = 0; j < N; ++j) _mm512_storeu_ps(o + j * op, _mm512_min_ps(_mm512_max_ps(acc[j], lo), hi));
}

template <int N>
static void row_tiles(std::size_t w, const float* x0, const float* x1, const float* x2, std::size_t ip,
                      const float* blk, float* o, std::size_t op, __m512 lo, __m512 hi) {
  std::size_t p = 0;
  for (; p + N <= w; p += N) tile<N>(x0 + p * ip, x1 + p * ip, x2 + p * ip, ip, blk, o + p * op, op, lo, hi);
  const std::size_t r = w - p;
  if (r == 0) return;
  x0 += p * ip, x1 += p * ip, x2 += p * ip, o += p * op;
  switch (r) {
#define T(n) case n: if constexpr (n < N) tile<n>(x0, x1, x2, ip, blk, o, op, lo, hi); break;
    T(1) T(2) T(3) T(4) T(5) T(6) T(7) T(8) T(9) T(10) T(11) T(12) T(13)
#undef T
  }
}

// Grouped ring: G lines (16 G channels) per pixel in the ring; per output row, copy the new input
// row for the group, then a row of tiles for each 16-channel sub-slab.
// Mode 0: whole pass; 1: copies only; 2: arithmetic only (stale ring), output in place; 3: arithmetic
// only, output into one row kept in L1 (`out` of at least w * 16 G floats).
template <int N, int G, bool KInner = false, int Mode = 0>
static void group_ring(std::size_t h, std::size_t wd, std::size_t c, const float* in, const float* blocks, float* out,
                       float* ws) {
  constexpr std::size_t P = 16 * G;  // ring pixel pitch (floats)
  const std::size_t rw = (wd + 2) * P;
  float* ring = ws;
  float* zero = ws + 3 * rw;
  std::memset(ws, 0, 4 * rw * sizeof(float));
  const __m512 lo = _mm512_set1_ps(-INFINITY), hi = _mm512_set1_ps(INFINITY);
  for (std::size_t cg = 0; cg < c / P; ++cg) {
    const float* src = in + cg * P;
    long have = -1;
    for (std::size_t oy = 0; oy < h; ++oy) {
      const float* r[3];
      for (int ky = 0; ky < 3; ++ky) {
        const long iy = long(oy) + ky - 1;
        if (iy < 0 || iy >= long(h)) { r[ky] = zero; continue; }
        float* dst = ring + (iy % 3) * rw;
        if (Mode < 2 && iy > have) {
          const float* s = src + iy * wd * c;
          for (std::size_t x = 0; x < wd; ++x)
            for (int k = 0; k < G; ++k) _mm512_store_ps(dst + (x + 1) * P + 16 * k, _mm512_loadu_ps(s + x * c + 16 * k));
          have = iy;
        }
        r[ky] = dst;
      }
      if constexpr (Mode == 1) {
        continue;
      } else if constexpr (Mode == 3) {
        for (int k = 0; k < G; ++k)
          row_tiles<N>(wd, r[0] + 16 * k, r[1] + 16 * k, r[2] + 16 * k, P, blocks + (cg * G + k) * 160, out + 16 * k, P,
                       lo, hi);
      } else if constexpr (KInner) {
        float* o = out + oy * wd * c + cg * P;
        std::size_t p = 0;
        for (; p + N <= wd; p += N)
          for (int k = 0; k < G; ++k)
            tile<N>(r[0] + p * P + 16 * k, r[1] + p * P + 16 * k, r[2] + p * P + 16 * k, P, blocks + (cg * G + k) * 160,
                    o + p * c + 16 * k, c, lo, hi);
        if (p < wd)
          for (int k = 0; k < G; ++k)
            row_tiles<N>(wd - p, r[0] + p * P + 16 * k, r[1] + p * P + 16 * k, r[2] + p * P + 16 * k, P,
                         blocks + (cg * G + k) * 160, o + p * c + 16 * k, c, lo, hi);
      } else {
        for (int k = 0; k < G; ++k)
          row_tiles<N>(wd, r[0] + 16 * k, r[1] + 16 * k, r[2] + 16 * k, P, blocks + (cg * G + k) * 160,
                       out + oy * wd * c + cg * P + 16 * k, c, lo, hi);
      }
    }
  }
}

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 5;
  std::vector<int> dims;
  for (int i = 2; i < argc; ++i) dims.push_back(std::atoi(argv[i]));
  if (dims.empty()) dims = {14, 14, 512, 7, 7, 1024, 28, 28, 256, 56, 56, 128, 112, 112, 32};
  for (std::size_t q = 0; q + 2 < dims.size(); q += 3) {
    const std::size_t h = dims[q], wd = dims[q + 1], c = dims[q + 2];
    conv_shape s;
    s.in_h = h, s.in_w = wd, s.in_c = c, s.out_c = c, s.kernel_h = s.kernel_w = 3, s.stride_h = s.stride_w = 1;
    s.groups = c;
    conv_geometry g;
    if (!make_conv_geometry(s, padding::same, g).ok()) std::abort();
    using D = depthwise_conv2d_f32<>;
    std::vector<float> x(h * wd * c), f(9 * c), bias(c), o1(h * wd * c), o2(h * wd * c);
    std::srand(1);
    for (auto& v : x) v = (std::rand() % 129 - 64) / 32.f;
    for (auto& v : f) v = (std::rand() % 129 - 64) / 64.f;
    for (auto& v : bias) v = (std::rand() % 129 - 64) / 64.f;
    std::vector<std::uint64_t> pk(D::packed_weights_bytes(g) / 8 + 8), ws(D::workspace_bytes(g) / 8 + 1);
    if (!D::pack_weights(g, f.data(), bias.data(), pk.data(), D::packed_weights_bytes(g)).ok()) std::abort();
    const double macs = double(h * wd * c * 9);
    const f32_clamp cl{-INFINITY, INFINITY};
    const double t0 = time_it([&] {
      if (!D::run(g, x.data(), pk.data(), o1.data(), cl, ws.data(), D::workspace_bytes(g)).ok()) std::abort();
    }, macs, reps, 50e9);
    const float* blocks = static_cast<const float*>(detail::dw::blocks(pk.data()));
    std::vector<float> gmem(4 * (wd + 2) * 16 * 8 + 16);
    float* gw = reinterpret_cast<float*>((reinterpret_cast<std::uintptr_t>(gmem.data()) + 63) / 64 * 64);
    std::printf("%3zux%-3zux%-4zu op %5.1f", h, wd, c, 2 * macs / 1e3 / t0);
    auto G = [&](auto f, const char* name) {
      const double t = time_it([&] { f(); }, macs, reps, 50e9);
      const bool ok = std::memcmp(o1.data(), o2.data(), o1.size() * 4) == 0;
      std::printf(" %s %5.1f%s", name, 2 * macs / 1e3 / t, ok ? "" : "(DIFF)");
      std::memset(o2.data(), 0, o2.size() * 4);
    };
    const float* X = x.data(); float* O = o2.data();
    G([&] { group_ring<14, 1>(h, wd, c, X, blocks, O, gw); }, "G1N14");
    if (c % 64 == 0) {
    G([&] { group_ring<7, 4>(h, wd, c, X, blocks, O, gw); }, "G4N7");
    G([&] { group_ring<8, 4>(h, wd, c, X, blocks, O, gw); }, "G4N8");
    G([&] { group_ring<10, 4>(h, wd, c, X, blocks, O, gw); }, "G4N10");
    G([&] { group_ring<14, 4>(h, wd, c, X, blocks, O, gw); }, "G4N14");
    G([&] { group_ring<7, 4, true>(h, wd, c, X, blocks, O, gw); }, "G4N7k");
    G([&] { group_ring<14, 4, true>(h, wd, c, X, blocks, O, gw); }, "G4N14k");
    }
    if (c % 128 == 0) {
    G([&] { group_ring<7, 8>(h, wd, c, X, blocks, O, gw); }, "G8N7");
    G([&] { group_ring<14, 8>(h, wd, c, X, blocks, O, gw); }, "G8N14");
    G([&] { group_ring<7, 8, true>(h, wd, c, X, blocks, O, gw); }, "G8N7k");
    }
    G([&] { group_ring<14, 2, true>(h, wd, c, X, blocks, O, gw); }, "G2N14k");
    G([&] { group_ring<7, 2, true>(h, wd, c, X, blocks, O, gw); }, "G2N7k");
    std::printf("\n");
    // Where a whole pass on slabs of one line goes: copies, arithmetic with the output in place, in L1.
    std::vector<float> l1(wd * 16);
    const double tw = time_it([&] { group_ring<14, 1>(h, wd, c, X, blocks, O, gw); }, macs, reps, 50e9);
    const double tc = time_it([&] { group_ring<14, 1, false, 1>(h, wd, c, X, blocks, O, gw); }, macs, reps, 50e9);
    const double ta = time_it([&] { group_ring<14, 1, false, 2>(h, wd, c, X, blocks, O, gw); }, macs, reps, 50e9);
    const double tl = time_it([&] { group_ring<14, 1, false, 3>(h, wd, c, X, blocks, l1.data(), gw); }, macs, reps, 50e9);
    std::printf("   G1N14 whole %.1f us: copies only %.1f us, arithmetic with output in place %.1f us, output in L1 %.1f us\n",
                tw, tc, ta, tl);
    std::fflush(stdout);
  }
}
