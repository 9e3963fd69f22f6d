// The memory bound of MobileNetV1's layer d (fp32 depthwise 3x3 stride 2, 112x112x64 -> 56x56x64): the
// time to read its 3.2 MB input once and write its 0.8 MB output, as the benchmark calls it (the input
// in L3 after the first call), against reading the input alone. Thread CPU time, median of 200 calls.
// Build: g++ -O3 -march=x86-64-v4 -Itools/x86-probe tools/x86-probe/dw_stream_bound.cpp -o X && X
#include <immintrin.h>
#include <algorithm>
#include <cstdio>
#include <vector>
#include "probe_common.hpp"
int main() {
  const std::size_t H = 112, W = 112, C = 64, OH = 56, OW = 56;
  aligned_floats in(H * W * C), out(OH * OW * C);  // 64-byte aligned, as bench_conv's buffers
  std::fill(in.begin(), in.end(), 1.0f);
  const char* names[] = {"read input + write output (max of each 2x2 pixel block)", "read input, one sum",
                         "read input, four sums"};
  for (int variant = 0; variant < 3; ++variant) {
    std::vector<double> t;
    for (int rep = 0; rep < 200; ++rep) {
      const double t0 = now_us();
      if (variant == 0) {
        for (std::size_t oy = 0; oy < OH; ++oy)
          for (std::size_t ox = 0; ox < OW; ++ox)
            for (std::size_t c = 0; c < C; c += 16) {
              const float* p = &in[((2 * oy) * W + 2 * ox) * C + c];
              const __m512 a = _mm512_max_ps(_mm512_loadu_ps(p), _mm512_loadu_ps(p + C));
              const __m512 b = _mm512_max_ps(_mm512_loadu_ps(p + W * C), _mm512_loadu_ps(p + W * C + C));
              _mm512_storeu_ps(&out[(oy * OW + ox) * C + c], _mm512_max_ps(a, b));
            }
      } else if (variant == 1) {
        __m512 s = _mm512_setzero_ps();
        for (std::size_t i = 0; i < in.size(); i += 16) s = _mm512_add_ps(s, _mm512_loadu_ps(&in[i]));
        out[0] = _mm512_reduce_add_ps(s);
      } else {
        __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
        for (std::size_t i = 0; i < in.size(); i += 64) {
          s0 = _mm512_add_ps(s0, _mm512_loadu_ps(&in[i]));
          s1 = _mm512_add_ps(s1, _mm512_loadu_ps(&in[i + 16]));
          s2 = _mm512_add_ps(s2, _mm512_loadu_ps(&in[i + 32]));
          s3 = _mm512_add_ps(s3, _mm512_loadu_ps(&in[i + 48]));
        }
        out[0] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
      }
      t.push_back(now_us() - t0);
    }
    const double m = median(t), bytes = variant == 0 ? (in.size() + out.size()) * 4.0 : in.size() * 4.0;
    std::printf("%-58s %6.1f us  %5.1f GB/s\n", names[variant], m, bytes / m / 1e3);
  }
}
