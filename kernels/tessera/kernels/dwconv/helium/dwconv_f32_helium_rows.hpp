/// @file dwconv_f32_helium_rows.hpp
/// Shared pieces of the Helium fp32 depthwise row kernels (dwconv3x3_f32_4x4_helium_fma,
/// dwconv5x5_f32_4x4_helium_fma), not a kernel: the input load and the scheduling fence.
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_HELIUM_FP
#error "dwconv_f32_helium_rows.hpp needs Helium with floating point (TESSERA_HAS_HELIUM_FP)"
#endif

#include <arm_mve.h>
#include <cstddef>

namespace tessera::kernels::dw_helium {

/// Loads one input vector (Tail: predicated, zeroing).
template <bool Tail> [[gnu::always_inline]] inline float32x4_t load(const float* p, mve_pred16_t pr) noexcept {
  if constexpr (Tail) return vldrwq_z_f32(p, pr);
  else return vldrwq_f32(p);
}

/// Compiler scheduling fence (emits nothing): loads are not moved across it and the N <= 5
/// accumulators are materialised at it. Without it GCC 12 hoists the loads of all taps to the top
/// and spills most of them (the 8 Q registers hold the accumulators, a pass's weights and one
/// input only).
template <std::size_t N> [[gnu::always_inline]] inline void schedule_fence(float32x4_t (&acc)[N]) noexcept {
  static_assert(N >= 1 && N <= 5, "a fence for 1..5 accumulators");
  if constexpr (N == 5) __asm__ volatile("" : "+w"(acc[0]), "+w"(acc[1]), "+w"(acc[2]), "+w"(acc[3]), "+w"(acc[4]) : : "memory");
  else if constexpr (N == 4) __asm__ volatile("" : "+w"(acc[0]), "+w"(acc[1]), "+w"(acc[2]), "+w"(acc[3]) : : "memory");
  else if constexpr (N == 3) __asm__ volatile("" : "+w"(acc[0]), "+w"(acc[1]), "+w"(acc[2]) : : "memory");
  else if constexpr (N == 2) __asm__ volatile("" : "+w"(acc[0]), "+w"(acc[1]) : : "memory");
  else __asm__ volatile("" : "+w"(acc[0]) : : "memory");
}

}  // namespace tessera::kernels::dw_helium
