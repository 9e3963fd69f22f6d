/// @file dwconv5x5_f32_scalar.hpp
/// Portable fp32 5x5 depthwise row kernel (op.hpp's 5x5 row contract): the scalar unipass kernel
/// run over tap pointers computed on the stack, 16 pixels at a time, so it is that kernel's oracle
/// chain by construction and needs no workspace. Tile cr = 4 (dwconv_f32_scalar's). ISA: none.
#pragma once
#include <cstddef>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>
#include <tessera/kernels/dwconv/scalar/dwconv_f32_scalar.hpp>

namespace tessera::kernels {

struct dwconv5x5_f32_scalar {
  using arch = tessera::arch::scalar;
  static constexpr const char* name = "dwconv5x5_f32_scalar";
  /// Channel tile of the packed weights (the scalar unipass kernel's).
  static std::size_t cr() noexcept { return dwconv_f32_scalar::cr(); }

  /// `pixels` outputs of one row, 5x5 windows inside the input, stride 1 or 2 along x (op.hpp).
  static void run(std::size_t channels, std::size_t pixels, std::size_t stride, const float* const* rows,
                  const void* packed, float* out, const f32_clamp& clamp) noexcept {
    for_each_row_chunk<5>(channels, pixels, stride, rows, [&](const float* const* ptrs, std::size_t j0, std::size_t n) {
      dwconv_f32_scalar::run(channels, n, 25, ptrs, 25, packed, out + j0 * channels, channels, clamp);
    });
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv5x5_f32, tessera::arch::scalar> {
  using type = tessera::kernels::dwconv5x5_f32_scalar;
};
