/// @file dwconv3x3_f32_scalar.hpp
/// Portable fp32 3x3 depthwise row kernel (op.hpp's row contract): the scalar unipass kernel run
/// over tap pointers computed on the stack, 16 pixels at a time, so it is that kernel's oracle
/// chain by construction and needs no workspace. Tile cr = 4 (dwconv_f32_scalar's). ISA: none.
#pragma once
#include <cstddef>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>
#include <tessera/kernels/dwconv/scalar/dwconv_f32_scalar.hpp>

namespace tessera::kernels {

struct dwconv3x3_f32_scalar {
  using arch = tessera::arch::scalar;
  static constexpr const char* name = "dwconv3x3_f32_scalar";
  /// Channel tile of the packed weights (the scalar unipass kernel's).
  static std::size_t cr() noexcept { return dwconv_f32_scalar::cr(); }

  /// `pixels` outputs of one row, windows inside the input, stride 1 or 2 along x (op.hpp).
  static void run(std::size_t channels, std::size_t pixels, std::size_t stride, const float* r0, const float* r1,
                  const float* r2, const void* packed, float* out, const f32_clamp& clamp) noexcept {
    for_each_row_chunk(channels, pixels, stride, r0, r1, r2, [&](const float* const* ptrs, std::size_t j0, std::size_t n) {
      dwconv_f32_scalar::run(channels, n, 9, ptrs, 9, packed, out + j0 * channels, channels, clamp);
    });
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv3x3_f32, tessera::arch::scalar> {
  using type = tessera::kernels::dwconv3x3_f32_scalar;
};
