/// @file dwconv3x3p_f32_scalar.hpp
/// Portable fp32 3x3 depthwise pitched row kernel (op.hpp's pitched row contract): the scalar
/// unipass kernel over tap pointers computed on the stack, 16 pixels at a time, so it is that
/// kernel's oracle chain by construction. Tile cr = 4 (dwconv_f32_scalar's). Not preferred: the
/// operator keeps its other paths on tags whose chain ends here; tests force the channel-group
/// path onto it to check the operator's side of that path on every target. ISA: none.
#pragma once
#include <cstddef>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/op.hpp>
#include <tessera/kernels/dwconv/scalar/dwconv_f32_scalar.hpp>

namespace tessera::kernels {

struct dwconv3x3p_f32_scalar {
  using arch = tessera::arch::scalar;
  static constexpr const char* name = "dwconv3x3p_f32_scalar";
  static constexpr bool preferred = false;
  /// Channel tile of the packed weights (the scalar unipass kernel's).
  static std::size_t cr() noexcept { return dwconv_f32_scalar::cr(); }
  /// Channels per operator call: two tiles, so that layers of a few channels already make groups.
  static std::size_t group_channels() noexcept { return 2 * cr(); }

  /// `pixels` outputs of one row at pitches in_pitch / out_pitch (op.hpp's pitched row contract).
  static void run(std::size_t channels, std::size_t pixels, std::size_t stride, const float* r0, const float* r1,
                  const float* r2, std::size_t in_pitch, const void* packed, float* out, std::size_t out_pitch,
                  const f32_clamp& clamp) noexcept {
    for_each_row_chunk(in_pitch, pixels, stride, r0, r1, r2, [&](const float* const* ptrs, std::size_t j0, std::size_t n) {
      dwconv_f32_scalar::run(channels, n, 9, ptrs, 9, packed, out + j0 * out_pitch, out_pitch, clamp);
    });
  }
  /// Two output rows at stride 2 (op.hpp's two-row entry): `run` once per row, so the operator's
  /// pairing of rows is checked on every target against the same oracle.
  static void run2(std::size_t channels, std::size_t pixels, const float* r0, std::size_t row_pitch,
                   std::size_t in_pitch, const void* packed, float* out, std::size_t out_row_pitch,
                   std::size_t out_pitch, const f32_clamp& clamp) noexcept {
    for (std::size_t i = 0; i < 2; ++i) {
      const float* r = r0 + 2 * i * row_pitch;
      run(channels, pixels, 2, r, r + row_pitch, r + 2 * row_pitch, in_pitch, packed, out + i * out_row_pitch,
          out_pitch, clamp);
    }
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv3x3p_f32, tessera::arch::scalar> {
  using type = tessera::kernels::dwconv3x3p_f32_scalar;
};
