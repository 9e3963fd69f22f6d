/// @file guard.hpp
/// Buffers placed flush against an inaccessible guard, so any read or write past the end (or before
/// the start) faults instead of passing silently.
/// - Linux (host and qemu-aarch64): mmap+mprotect, a PROT_NONE page on each side; the buffer's last
///   byte (guard_side::after) or first byte (before) touches one of them; a hit is a SIGSEGV.
/// - Armv8-M Mainline bare metal (the Cortex-M55 target, PMSAv8 MPU): the buffer sits in a heap
///   block with one no-access guard on its flush side. PMSAv8 has no "no access" permission for
///   privileged code (the tests run privileged), but an address matching two enabled regions always
///   faults: region 0 is a background region over the 512 MiB default-map segment holding the heap
///   (normal write-back memory, read/write, executable: as the default map), and every live guard
///   gets one more region from a pool (regions 1..DREGION-1: 15 on the M55, tests hold at most ~8
///   buffers at once) overlapping it. MPU_CTRL.PRIVDEFENA keeps the default map for everything else.
///   Regions have 32-byte granular base and limit, so the guard starts on a 32-byte boundary (in
///   fact 1 KiB: size and alignment are guard_mpu::guard_bytes, one QEMU TLB page, else QEMU slows
///   every access to a page shared by buffer and guard, 5x on the depthwise suite) and the buffer
///   is placed byte-exact against it: its END at the guard's base for `after`, its START at the
///   guard's end for `before` (any n * sizeof(T), odd sizes included; only the flush side is
///   guarded). A hit raises MemManage: cross/m55/startup.c prints "MPU fault at <address> (guard
///   page hit ...)" and exits with 99. With no free region (or no usable MPU: fewer than 2 regions,
///   or already enabled by someone else) the buffer is placed the same way but unguarded, and the
///   count is printed on stderr at exit.
/// - Other bare-metal targets: plain heap memory (canaries cover it instead).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#define TT_HAS_GUARD_PAGES 1
#elif defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M' && \
    (defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__))
#include <cstdio>
#include <cstdlib>
#define TT_HAS_GUARD_PAGES 1
#define TT_GUARD_MPU 1
#else
#define TT_HAS_GUARD_PAGES 0
#endif

namespace tt {

#if defined(TT_GUARD_MPU)
namespace guard_mpu {

inline constexpr std::uintptr_t granule = 32;                 // PMSAv8 base/limit granularity
// Guard size and alignment: a multiple of `granule`, and a whole QEMU M-profile TLB page (1 KiB), so
// no page holds both guard and buffer bytes (QEMU takes a slow path on every access to such a page).
inline constexpr std::uintptr_t guard_bytes = 1024;
inline constexpr std::uintptr_t background_span = 0x20000000;  // one default-map segment (512 MiB)

struct state {
  bool initialized = false, usable = false;
  std::uint32_t free_regions = 0;  // bit r set: region r is free for a guard
  std::uintptr_t background_lo = 0, background_hi = 0;
  unsigned guarded = 0, unguarded = 0;
};
inline state mpu;

inline volatile std::uint32_t& reg(std::uintptr_t a) { return *reinterpret_cast<volatile std::uint32_t*>(a); }
inline volatile std::uint32_t& r_type() { return reg(0xE000ED90u); }
inline volatile std::uint32_t& r_ctrl() { return reg(0xE000ED94u); }
inline volatile std::uint32_t& r_rnr() { return reg(0xE000ED98u); }
inline volatile std::uint32_t& r_rbar() { return reg(0xE000ED9Cu); }
inline volatile std::uint32_t& r_rlar() { return reg(0xE000EDA0u); }
inline volatile std::uint32_t& r_mair0() { return reg(0xE000EDC0u); }
inline void barrier() { __asm__ volatile("dsb\n\tisb" ::: "memory"); }

inline void report_at_exit() {
  if (mpu.unguarded != 0)
    std::fprintf(stderr, "tt::guarded: %u of %u buffers went UNGUARDED (%s)\n", mpu.unguarded,
                 mpu.guarded + mpu.unguarded, mpu.usable ? "MPU region pool exhausted" : "no usable MPU");
}

// Sets up the background region once, at the first guard (located at `addr`). Leaves the MPU alone
// if someone else enabled it or it has fewer than 2 regions.
inline void init(std::uintptr_t addr) {
  mpu.initialized = true;
  std::atexit(report_at_exit);
  const std::uint32_t regions = (r_type() >> 8) & 0xFFu;
  if (regions < 2 || (r_ctrl() & 1u) != 0) return;
  mpu.usable = true;
  mpu.free_regions = (regions >= 32 ? 0xFFFFFFFFu : (1u << regions) - 1u) & ~1u;
  mpu.background_lo = addr & ~(background_span - 1);
  mpu.background_hi = mpu.background_lo + background_span;
  r_mair0() = (r_mair0() & ~0xFFu) | 0xFFu;  // attr 0: normal, inner/outer write-back, r/w-allocate
  r_rnr() = 0;
  r_rbar() = static_cast<std::uint32_t>(mpu.background_lo) | (1u << 1);  // non-shareable, RW any, XN=0
  r_rlar() = static_cast<std::uint32_t>(mpu.background_hi - granule) | 1u;  // attr 0, enabled
  r_ctrl() = 1u | 4u;  // ENABLE, PRIVDEFENA (HFNMIENA=0)
  barrier();
}

// Makes [guard, guard + guard_bytes) fault on any access; returns the region number, or -1 (unguarded).
inline int arm(std::uintptr_t guard) {
  if (!mpu.initialized) init(guard);
  if (!mpu.usable || mpu.free_regions == 0 || guard < mpu.background_lo || guard + guard_bytes > mpu.background_hi) {
    ++mpu.unguarded;
    return -1;
  }
  const int r = __builtin_ctz(mpu.free_regions);
  mpu.free_regions &= ~(1u << r);
  r_rnr() = static_cast<std::uint32_t>(r);
  r_rbar() = static_cast<std::uint32_t>(guard) | (1u << 1) | 1u;  // RW any, XN: the overlap makes it no-access
  r_rlar() = static_cast<std::uint32_t>(guard + guard_bytes - granule) | 1u;  // last 32-byte block
  barrier();
  ++mpu.guarded;
  return r;
}

inline void disarm(int r) {
  if (r < 0) return;
  r_rnr() = static_cast<std::uint32_t>(r);
  r_rlar() = 0;
  barrier();
  mpu.free_regions |= 1u << r;
}

}  // namespace guard_mpu
#endif

/// Which end of the buffer touches the guard page.
enum class guard_side { after, before };

/// `n` elements of T whose last byte (after) or first byte (before) borders a no-access guard
/// (see the top of this file for how, per target).
template <class T> class guarded {
 public:
  guarded(std::size_t n, guard_side side) : n_(n) {
#if defined(__linux__)
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
#elif defined(TT_GUARD_MPU)
    static_assert(alignof(T) <= guard_mpu::granule);
    // Block: [slack < g][guard g][body] (before) or [body][guard g][slack < g] (after).
    const std::size_t bytes = n * sizeof(T);
    constexpr std::uintptr_t g = guard_mpu::guard_bytes;
    base_ = std::malloc(bytes + 2 * g - 1);
    if (base_ != nullptr) {
      const auto b = reinterpret_cast<std::uintptr_t>(base_);
      const std::uintptr_t guard = side == guard_side::after ? (b + bytes + g - 1) & ~(g - 1) : (b + g - 1) & ~(g - 1);
      data_ = reinterpret_cast<T*>(side == guard_side::after ? guard - bytes : guard + g);
      region_ = guard_mpu::arm(guard);
    }
#else
    (void)side;
    fallback_.resize(n == 0 ? 1 : n);
    data_ = fallback_.data();
#endif
  }
  ~guarded() {
#if defined(__linux__)
    if (base_ != nullptr) munmap(base_, total_);
#elif defined(TT_GUARD_MPU)
    guard_mpu::disarm(region_);
    std::free(base_);
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
#if defined(__linux__)
  std::uint8_t* base_ = nullptr;
  std::size_t page_ = 0, total_ = 0;
#elif defined(TT_GUARD_MPU)
  void* base_ = nullptr;
  int region_ = -1;
#else
  std::vector<T> fallback_;
#endif
};

}  // namespace tt
