/// @file dwconv5x5_qs8_scalar.hpp
/// Portable int8 5x5 depthwise row kernel (op.hpp's 5x5 row contract): the scalar unipass kernel
/// run over tap pointers computed on the stack, 16 pixels at a time, so it is that kernel's oracle
/// by construction and needs no workspace. Tile cr = 4 (dwconv_qs8_scalar's). ISA: none.
#pragma once
#include <cstddef>
#include <cstdint>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>
#include <tessera/kernels/dwconv/scalar/dwconv_qs8_scalar.hpp>

namespace tessera::kernels {

struct dwconv5x5_qs8_scalar {
  using arch = tessera::arch::scalar;
  static constexpr const char* name = "dwconv5x5_qs8_scalar";
  /// Channel tile of the packed weights (the scalar unipass kernel's).
  static std::size_t cr() noexcept { return dwconv_qs8_scalar::cr(); }

  /// `pixels` outputs of one row, 5x5 windows inside the input, stride 1 or 2 along x (op.hpp).
  template <class Q>
  static void run(std::size_t channels, std::size_t pixels, std::size_t stride, const std::int8_t* const* rows,
                  const void* packed, std::int8_t* out, const output_stage<Q>& p) noexcept {
    for_each_row_chunk<5>(channels, pixels, stride, rows,
                          [&](const std::int8_t* const* ptrs, std::size_t j0, std::size_t n) {
                            dwconv_qs8_scalar::run(channels, n, 25, ptrs, 25, packed, out + j0 * channels, channels, p);
                          });
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv5x5_qs8, tessera::arch::scalar> {
  using type = tessera::kernels::dwconv5x5_qs8_scalar;
};
