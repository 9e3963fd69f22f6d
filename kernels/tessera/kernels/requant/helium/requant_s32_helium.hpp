/// @file requant_s32_helium.hpp
/// Requantization of int32 accumulators on Cortex-M55/M85 Helium (MVE). Same interface and
/// results, bit for bit, as requant_s32_scalar. Every loop is tail-predicated (VCTP32 with
/// zeroing loads and predicated, for int8/int16 narrowing, stores): there is no scalar tail and
/// no lane past the end is read or written.
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_HELIUM
#error "requant_s32_helium.hpp needs Helium (MVE): compile for e.g. -mcpu=cortex-m55"
#endif

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <tessera/arch/helium/fixedpoint.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/requant/op.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct requant_s32_helium {
  using arch = tessera::arch::helium;
  static constexpr const char* name = "requant_s32_helium";

  // Loops count a signed remainder down by 4 and bump pointers: the form clang turns into a
  // DLSTP/LETP tail-predicated hardware loop (GCC 12 emits VCTP + DLS/LE from it).
  static void srdhm(std::size_t n, const std::int32_t* a, const std::int32_t* b, std::int32_t* out) noexcept {
    for (auto k = static_cast<std::ptrdiff_t>(n); k > 0; k -= 4, a += 4, b += 4, out += 4) {
      const mve_pred16_t p = vctp32q(static_cast<std::uint32_t>(k));
      vstrwq_p_s32(out, tessera::arch::helium_ops::srdhm(vldrwq_z_s32(a, p), vldrwq_z_s32(b, p)), p);
    }
  }
  /// Exponents in [0, 31].
  static void rdpot(std::size_t n, const std::int32_t* x, const std::int32_t* e, std::int32_t* out) noexcept {
    for (auto k = static_cast<std::ptrdiff_t>(n); k > 0; k -= 4, x += 4, e += 4, out += 4) {
      const mve_pred16_t p = vctp32q(static_cast<std::uint32_t>(k));
      vstrwq_p_s32(out, tessera::arch::helium_ops::rdpot(vldrwq_z_s32(x, p), vldrwq_z_s32(e, p)), p);
    }
  }
  /// Shifts in [-31, 30].
  static void mbqm(std::size_t n, const std::int32_t* x, const std::int32_t* m, const std::int32_t* s,
                   std::int32_t* out) noexcept {
    for (auto k = static_cast<std::ptrdiff_t>(n); k > 0; k -= 4, x += 4, m += 4, s += 4, out += 4) {
      const mve_pred16_t p = vctp32q(static_cast<std::uint32_t>(k));
      vstrwq_p_s32(out, tessera::arch::helium_ops::mbqm(vldrwq_z_s32(x, p), vldrwq_z_s32(m, p), vldrwq_z_s32(s, p)), p);
    }
  }

  template <class Out, class Q>
  static void run(std::size_t rows, std::size_t channels, const std::int32_t* acc, std::size_t acc_stride, Out* out,
                  std::size_t out_stride, const output_stage<Q>& p) noexcept {
    static_assert(std::is_same_v<Out, std::int8_t> || std::is_same_v<Out, std::int16_t>,
                  "requant_s32_helium: Out is int8_t or int16_t");
    namespace ops = tessera::arch::helium_ops;
    constexpr bool per_tensor = std::is_same_v<Q, requant::per_tensor>;
    // Parameters in locals: int8 stores may alias anything, so members would be reloaded per vector.
    const std::int32_t zp = p.zero_point;
    const int32x4_t lo = vdupq_n_s32(p.act_min), hi = vdupq_n_s32(p.act_max);
    const auto q = p.q;  // per_tensor: {multiplier, shift}; per_channel: the two array pointers
    for (std::size_t r = 0; r < rows; ++r) {
      const std::int32_t* a = acc + r * acc_stride;
      Out* o = out + r * out_stride;
      [[maybe_unused]] const std::int32_t* mp = nullptr;
      [[maybe_unused]] const std::int32_t* sp = nullptr;
      if constexpr (!per_tensor) { mp = q.multiplier; sp = q.shift; }
      for (auto k = static_cast<std::ptrdiff_t>(channels); k > 0; k -= 4, a += 4, o += 4) {
        const mve_pred16_t pr = vctp32q(static_cast<std::uint32_t>(k));
        const int32x4_t x = vldrwq_z_s32(a, pr);
        int32x4_t y;
        if constexpr (per_tensor) {
          y = ops::mbqm_n(x, q.multiplier, q.shift);
        } else {
          y = ops::mbqm(x, vldrwq_z_s32(mp, pr), vldrwq_z_s32(sp, pr));
          mp += 4;
          sp += 4;
        }
        y = vminq_s32(vmaxq_s32(vaddq_n_s32(y, zp), lo), hi);
        if constexpr (std::is_same_v<Out, std::int8_t>) vstrbq_p_s32(o, y, pr);  // low byte of each lane
        else vstrhq_p_s32(o, y, pr);                                             // low half of each lane
      }
    }
  }
};

}  // namespace tessera::kernels

namespace tessera {
template <class Out, class Q> struct ukernel<op::requantize<std::int32_t, Out, Q>, arch::helium> {
  using type = kernels::requant_s32_helium;
};
}  // namespace tessera
