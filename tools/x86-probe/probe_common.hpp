// Helpers shared by the x86 probe programs: thread CPU time, medians, shapes from the command line.
#pragma once
#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <vector>

/// Thread CPU time in microseconds.
inline double now_us() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e6 + t.tv_nsec * 1e-3;
}
/// Median of v (the mean of the middle two for an even count).
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/// A SAME-padded, batch-1 layer: h x w x ic -> oc, k x k kernel, stride s.
struct shape { int h, w, ic, oc, k, s; };
/// Shapes given as groups of six numbers (h w ic oc k s) in argv[2..argc).
inline std::vector<shape> shapes_from_args(int argc, char** argv) {
  std::vector<shape> v;
  for (int q = 2; q + 5 < argc; q += 6)
    v.push_back({std::atoi(argv[q]), std::atoi(argv[q + 1]), std::atoi(argv[q + 2]), std::atoi(argv[q + 3]),
                 std::atoi(argv[q + 4]), std::atoi(argv[q + 5])});
  return v;
}

/// Median over `reps` repetitions of the thread CPU time per call of `call`, each repetition about
/// 40 ms at `rate` ops per second (2 per MAC); one untimed call first.
template <class F> double time_it(F&& call, double macs, int reps, double rate = 100e9) {
  const int iters = std::max(2, int(0.04 * rate / (2 * macs)));
  std::vector<double> t;
  call();
  for (int r = 0; r < reps; ++r) {
    const double t0 = now_us();
    for (int i = 0; i < iters; ++i) call();
    t.push_back((now_us() - t0) / iters);
  }
  return median(t);
}

/// `n` floats, zeroed, 64-byte aligned as bench_conv's buffers and a tensor arena's are (a
/// std::vector's large blocks sit 16 bytes past a line: every 64-byte load then straddles two).
struct aligned_floats {
  float* p;
  std::size_t n;
  explicit aligned_floats(std::size_t count) : p(static_cast<float*>(std::aligned_alloc(64, (count * 4 + 63) / 64 * 64))), n(count) {
    std::fill(p, p + n, 0.0f);
  }
  aligned_floats(const aligned_floats&) = delete;
  aligned_floats& operator=(const aligned_floats&) = delete;
  ~aligned_floats() { std::free(p); }
  float* data() { return p; }
  const float* data() const { return p; }
  std::size_t size() const { return n; }
  float* begin() { return p; }
  float* end() { return p + n; }
  float& operator[](std::size_t i) { return p[i]; }
};
