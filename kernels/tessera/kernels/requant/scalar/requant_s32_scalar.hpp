/// @file requant_s32_scalar.hpp
/// Portable requantization of int32 accumulators: the oracle for every vector variant.
/// Interface shared by all `requant_s32_<arch>` variants:
///   srdhm(n, a, b, out), rdpot(n, x, e, out), mbqm(n, x, m, s, out)   elementwise, per-lane params
///   run<Out>(rows, channels, acc, acc_stride, out, out_stride, stage)   the fused output stage
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/requant/op.hpp>
#include <tessera/quant/fixedpoint.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct requant_s32_scalar {
  using arch = tessera::arch::scalar;
  static constexpr const char* name = "requant_s32_scalar";

  static void srdhm(std::size_t n, const std::int32_t* a, const std::int32_t* b, std::int32_t* out) noexcept {
    for (std::size_t i = 0; i < n; ++i) out[i] = fixedpoint::srdhm(a[i], b[i]);
  }
  /// Exponents in [0, 31].
  static void rdpot(std::size_t n, const std::int32_t* x, const std::int32_t* e, std::int32_t* out) noexcept {
    for (std::size_t i = 0; i < n; ++i) out[i] = fixedpoint::rdpot(x[i], e[i]);
  }
  /// Shifts in [-31, 30].
  static void mbqm(std::size_t n, const std::int32_t* x, const std::int32_t* m, const std::int32_t* s,
                   std::int32_t* out) noexcept {
    for (std::size_t i = 0; i < n; ++i) out[i] = fixedpoint::mbqm32(x[i], m[i], s[i]);
  }
  template <class Out, class Q>
  static void run(std::size_t rows, std::size_t channels, const std::int32_t* acc, std::size_t acc_stride, Out* out,
                  std::size_t out_stride, const output_stage<Q>& p) noexcept {
    // A local copy: Out stores may alias anything, so members of `p` would be reloaded per element.
    const output_stage<Q> stage = p;
    for (std::size_t r = 0; r < rows; ++r) {
      const std::int32_t* a = acc + r * acc_stride;
      Out* o = out + r * out_stride;
      for (std::size_t c = 0; c < channels; ++c) o[c] = requantize_one<Out>(a[c], stage, c);
    }
  }
};

}  // namespace tessera::kernels

namespace tessera {
template <class Out, class Q> struct ukernel<op::requantize<std::int32_t, Out, Q>, arch::scalar> {
  using type = kernels::requant_s32_scalar;
};
}  // namespace tessera
