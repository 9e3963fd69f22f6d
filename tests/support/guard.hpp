/// @file guard.hpp
/// Buffers placed flush against an inaccessible page, so any read or write past the end (or before
/// the start) faults instead of passing silently. Linux (host and qemu-aarch64) uses mmap+mprotect;
/// bare metal has no MMU here and falls back to plain heap memory (canaries cover it instead).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#define TT_HAS_GUARD_PAGES 1
#else
#define TT_HAS_GUARD_PAGES 0
#endif

namespace tt {

/// Which end of the buffer touches the guard page.
enum class guard_side { after, before };

/// `n` elements of T whose last byte (after) or first byte (before) borders a PROT_NONE page.
template <class T> class guarded {
 public:
  guarded(std::size_t n, guard_side side) : n_(n) {
#if TT_HAS_GUARD_PAGES
    const std::size_t bytes = n * sizeof(T);
    page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t body = (bytes + page_ - 1) / page_ * page_;
    total_ = body + 2 * page_;
    void* p = mmap(nullptr, total_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    base_ = p == MAP_FAILED ? nullptr : static_cast<std::uint8_t*>(p);
    if (base_ != nullptr) {
      mprotect(base_, page_, PROT_NONE);
      mprotect(base_ + page_ + body, page_, PROT_NONE);
      std::uint8_t* start = side == guard_side::after ? base_ + page_ + body - bytes : base_ + page_;
      data_ = reinterpret_cast<T*>(start);
    }
#else
    (void)side;
    fallback_.resize(n == 0 ? 1 : n);
    data_ = fallback_.data();
#endif
  }
  ~guarded() {
#if TT_HAS_GUARD_PAGES
    if (base_ != nullptr) munmap(base_, total_);
#endif
  }
  guarded(const guarded&) = delete;
  guarded& operator=(const guarded&) = delete;
  T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return n_; }
  T& operator[](std::size_t i) const noexcept { return data_[i]; }
  bool ok() const noexcept { return data_ != nullptr; }

 private:
  std::size_t n_ = 0;
  T* data_ = nullptr;
#if TT_HAS_GUARD_PAGES
  std::uint8_t* base_ = nullptr;
  std::size_t page_ = 0, total_ = 0;
#else
  std::vector<T> fallback_;
#endif
};

}  // namespace tt
