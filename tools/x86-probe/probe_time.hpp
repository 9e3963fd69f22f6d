// Timing helpers shared by the x86 probe programs: thread CPU time and medians.
#pragma once
#include <algorithm>
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
