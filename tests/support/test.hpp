/// @file test.hpp
/// Shared test support: doctest, a deterministic RNG, sizes scaled for emulated targets, and the
/// list of arch tags a test actually exercised (printed at the end of every run).
#pragma once
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <tessera/arch/features.hpp>
#include <tessera/core/status.hpp>

namespace tt {

/// Directory of the conformance vectors (`--conformance-dir=` on the command line).
const char* conformance_dir() noexcept;

/// Records that kernels of `tag_name` ran in this process (printed at exit).
void note_tag_ran(const char* tag_name) noexcept;
/// Space-separated names of the tags that ran so far.
std::string tags_ran();

/// splitmix64: deterministic, seedable, identical on every target.
struct rng {
  std::uint64_t state;
  explicit rng(std::uint64_t seed) : state(seed) {}
  std::uint64_t next() noexcept {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::int32_t s32() noexcept { return static_cast<std::int32_t>(static_cast<std::uint32_t>(next())); }
  /// Uniform in [lo, hi] (inclusive).
  std::int64_t range(std::int64_t lo, std::int64_t hi) noexcept {
    return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
};

/// `n` scaled by the build's TESSERA_TEST_SCALE percent (emulated targets run smaller sweeps).
inline std::size_t scaled(std::size_t n) noexcept {
  const std::size_t s = n * static_cast<std::size_t>(TESSERA_TEST_SCALE) / 100;
  return s == 0 ? 1 : s;
}

/// True when kernel `K`'s tag is compiled in and supported by this CPU; records the tag as run.
template <class K> bool runnable() noexcept {
  if (!tessera::arch::available<typename K::arch>()) return false;
  note_tag_ran(K::arch::name);
  return true;
}

/// A packed size past 4 GiB (`bytes`, from the size query) and the pack call that was given a small
/// buffer for it (`st`): a 32-bit target's query says 0 instead of wrapping and the call returns
/// overflow; a 64-bit target's query is the true size and the call returns buffer_too_small.
inline void check_wide_size_query(std::size_t bytes, const tessera::status& st) {
  MESSAGE(std::string(st.message()));
  if constexpr (sizeof(std::size_t) < 8) {
    CHECK(bytes == 0);
    CHECK(st.code() == tessera::status_code::overflow);
  } else {
    CHECK(bytes > (std::size_t{1} << 32));
    CHECK(st.code() == tessera::status_code::buffer_too_small);
  }
}

}  // namespace tt

/// Skips the rest of a templated test case when kernel K cannot run on this CPU, saying so.
#define TT_REQUIRE_RUNNABLE(K)                                                         \
  if (!tt::runnable<K>()) {                                                            \
    MESSAGE("skipped: " << K::name << " (tag not supported by this CPU)");             \
    return;                                                                            \
  }
