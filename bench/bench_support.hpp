/// @file bench_support.hpp
/// Shared support for tessera's Google Benchmark programs: iteration over a registry's type list,
/// a deterministic RNG, 64-byte aligned buffers, and a failure count that makes the program exit
/// non-zero (bench/main.cpp) when a benchmark's self-check found a wrong result.
#pragma once
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <type_traits>
#include <tessera/arch/features.hpp>
#include <tessera/arch/tags.hpp>

namespace tessera_bench {

/// Calls `f(std::type_identity<T>{})` for every `T` of a `tessera::arch::type_list` (the
/// registries list kernels this way; benchmarks never list kernels by hand).
template <class... T, class F> void for_each_type(tessera::arch::type_list<T...>, F&& f) {
  (f(std::type_identity<T>{}), ...);
}

/// splitmix64: deterministic, seedable (the same generator as the tests).
struct rng {
  std::uint64_t state;
  explicit rng(std::uint64_t seed) : state(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [lo, hi] (inclusive).
  std::int64_t range(std::int64_t lo, std::int64_t hi) noexcept {
    return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
};

/// `n` elements of `T`, 64-byte aligned, every page written once (no first-touch faults inside a
/// timed loop).
template <class T> class buffer {
 public:
  buffer() = default;
  explicit buffer(std::size_t n)
      : p_(static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{64}))), n_(n) {
    std::memset(static_cast<void*>(p_), 0, n * sizeof(T));
  }
  buffer(const buffer&) = delete;
  buffer& operator=(const buffer&) = delete;
  buffer(buffer&& o) noexcept : p_(o.p_), n_(o.n_) { o.p_ = nullptr; o.n_ = 0; }
  buffer& operator=(buffer&& o) noexcept {
    if (this != &o) { release(); p_ = o.p_; n_ = o.n_; o.p_ = nullptr; o.n_ = 0; }
    return *this;
  }
  ~buffer() { release(); }
  T* data() noexcept { return p_; }
  const T* data() const noexcept { return p_; }
  std::size_t size() const noexcept { return n_; }
  T& operator[](std::size_t i) noexcept { return p_[i]; }
  const T& operator[](std::size_t i) const noexcept { return p_[i]; }

 private:
  void release() noexcept {
    if (p_ != nullptr) ::operator delete(static_cast<void*>(p_), std::align_val_t{64});
  }
  T* p_ = nullptr;
  std::size_t n_ = 0;
};

/// Number of failed self-checks so far; bench/main.cpp exits non-zero when it is not zero.
inline int& failures() noexcept {
  static int n = 0;
  return n;
}
/// Marks the benchmark failed (reported as its error) and counts the failure.
inline void fail(benchmark::State& state, const std::string& what) {
  ++failures();
  std::fprintf(stderr, "[tessera] FAILED: %s\n", what.c_str());
  state.SkipWithError(what.c_str());
}

/// Skips (not a failure) a benchmark of a kernel whose tag this CPU cannot run; true if skipped.
template <class K> bool skip_if_unavailable(benchmark::State& state) {
  if (tessera::arch::available<typename K::arch>()) return false;
  const std::string why = std::string("skipped: tag ") + K::arch::name + " is not available on this CPU";
  state.SkipWithError(why.c_str());
  return true;
}

}  // namespace tessera_bench
