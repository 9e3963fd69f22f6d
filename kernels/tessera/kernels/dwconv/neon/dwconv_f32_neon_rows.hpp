/// @file dwconv_f32_neon_rows.hpp
/// Shared pieces of the AArch64 Neon fp32 depthwise row kernels (dwconv3x3_f32_4x8_neon_fma,
/// dwconv5x5_f32_8x8_neon_fma), not a kernel: a register tile's channel vectors, the running
/// pointer step and the clang scheduling pin.
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_NEON
#error "dwconv_f32_neon_rows.hpp needs AArch64 Neon (TESSERA_HAS_NEON)"
#endif

#include <arm_neon.h>
#include <cstddef>

namespace tessera::kernels::dw_neon {

/// V (1 or 2) vectors of 4 channels.
template <std::size_t V> struct vec {
  float32x4_t v[V];
};

/// p += n floats, opaque to the optimiser, so that one running pointer is kept (post-index).
[[gnu::always_inline]] inline void advance(const float*& p, std::size_t n) noexcept {
  p += n;
  __asm__("" : "+r"(p));
}

/// clang only: the column's FMLAs complete here and no later load moves above it (no
/// instruction), so loads are not all hoisted and spilled (see dwconv_f32_2x16_neon_fma::pin).
template <std::size_t N, std::size_t V> [[gnu::always_inline]] inline void pin([[maybe_unused]] vec<V> (&acc)[N]) noexcept {
#if defined(__clang__)
#pragma GCC unroll 16
  for (std::size_t j = 0; j < N; ++j)
#pragma GCC unroll 2
    for (std::size_t k = 0; k < V; ++k) __asm__ volatile("" : "+w"(acc[j].v[k])::"memory");
#endif
}

}  // namespace tessera::kernels::dw_neon
