/// @file dwconv3x3_qs8_2x8_helium.hpp
/// int8 3x3 depthwise row kernel (op.hpp's row contract: windows inside the input, stride 1 or 2
/// along x, direct addressing) with fused TFLite requantization on Cortex-M55/M85 Helium (MVE
/// integer).
///
/// Tile: 2 neighbouring output pixels x 8 channels; cr() = 8, the packed blocks of
/// dwconv_qs8_2x8_helium (`int32 bias'[8]; int8 w[9][8]`). MVE has no vector x vector integer
/// multiply-accumulate, so the arithmetic is the unipass kernel's: VLDRB.S16 inputs, VMULLB.S16 /
/// VMULLT.S16 into even- and odd-channel int32 products, VADD into the accumulators (4 per tap and
/// pixel). The 8 Q registers hold the 4 accumulators, one weight, two input columns and a product:
/// taps go weight by weight, pixel 0 then pixel 1, and at stride 1 pixel 1's column kx + 1 is
/// pixel 0's next column, so each tap row loads 4 columns for 6 products (stride 2: 6 loads).
/// Per channel block the kernel copies to the stack, once per call, the weights widened to int16
/// (read back by VLDRH, which takes any base register: VLDRB.S16 takes r0-r7 only, and GCC 12 put
/// the packed weights' base in a high register, an ADD + MOV per weight), bias' de-interleaved and
/// the output stage as vectors. The first tap writes its products; bias' is added in the epilogue.
/// Epilogue (both pixels, one stage vector at a time): + bias', MBQM through helium_ops (when every
/// shift of the block is negative, as in TFLite's depthwise stages: no left shift and the unmasked
/// rounding fixup, rdpot_neg_nz), + zero point (wrapping), VQMOVNB/VQMOVNT to int16 (saturating,
/// so one clamp of 8 int16 lanes equals the int32 clamp for [act_min, act_max] within int8),
/// VSTRB.16. Integer sums wrap and are exact: results equal dwconv_qs8_scalar's bit for bit.
/// Hot loop (GCC 12 -O2, per 2 pixels = 144 MACs): 148 instructions at stride 1 with negative
/// shifts (36 VMULLB/T, 32 VADD, 12 input and 9 weight loads, the epilogue's 45 with its 9 stage
/// loads, 14 scalar: pointers and register moves; 156 with left shifts, 172 at stride 2), 215 cycles
/// on llvm-mca's Cortex-M55 model, against 208 instructions and 280 cycles for the unipass loop.
/// Whole calls (28x28x32 interior, tools/arm-perf/drivers/dwconv3x3_qs8_2x8_helium.cpp): 1.120
/// instructions/MAC per-channel, 1.091 per-tensor, 1.370 at stride 2; unipass kernel 1.474.
/// Measured and rejected (whole-call instructions/MAC, before the negative-shift form: 1.156): one
/// pixel per group 1.377; two pixels without the shared column 1.204; the unipass kernel over tap
/// pointers on the stack (as the scalar row kernel) 1.756; weights by VLDRB.S16 from the packed
/// block, 163 loop instructions against 155. Not built (counted): 3 pixels need 9 Q registers; 4 pixels x 4 channels on
/// int32 lanes (VMUL.I32 + VADD) have the same 0.5 arithmetic instructions per MAC and twice the
/// epilogues; two int16 products summed before widening (2 VMUL.I16 + VADD.I16 + VMOVLB/T + 2 VADD,
/// exact with an offset) save 1 in 8 but need two more Q registers; VFMA on converted floats would
/// be exact (sums < 2^24) but needs MVE-F and a VCVT per 4 inputs.
/// Tails: whole blocks run unpredicated; the last `channels % 8` channels run VCTP16-predicated
/// (zeroing input loads, predicated stores, per-channel parameters by predicated gathers): nothing
/// outside r_ky[0, ((pixels - 1) S + 3) channels) or out[0, pixels channels) is accessed; packed
/// blocks are read whole.
/// The stack of constants, MAC, fences and epilogue live in dwconv_qs8_helium_rows.hpp (shared with
/// the 5x5 row kernel dwconv5x5_qs8_2x8_helium).
/// Compiler fences (asm volatile, emit nothing) keep GCC 12 from hoisting loads and addresses out of
/// the pixel loop into spills; keep them when editing. ISA: Armv8.1-M MVE (integer).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_HELIUM
#error "dwconv3x3_qs8_2x8_helium.hpp needs Helium (MVE): compile for e.g. -mcpu=cortex-m55"
#endif

#include <arm_mve.h>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <tessera/arch/helium/fixedpoint.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/helium/dwconv_qs8_2x8_helium.hpp>
#include <tessera/kernels/dwconv/helium/dwconv_qs8_helium_rows.hpp>
#include <tessera/kernels/dwconv/op.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct dwconv3x3_qs8_2x8_helium : private dwconv_qs8_helium_rows<9> {
  using arch = tessera::arch::helium;
  static constexpr const char* name = "dwconv3x3_qs8_2x8_helium";
  /// Channel tile of the packed weights (dwconv_qs8_2x8_helium's, 8).
  static std::size_t cr() noexcept { return dwconv_qs8_2x8_helium::cr(); }

  /// `pixels` outputs of one row, windows inside the input, stride 1 or 2 along x (op.hpp).
  /// @param[in]  r0, r1, r2  first window's input pixel (channel 0) in tap rows 0, 1, 2
  /// @param[in]  packed      op.hpp s8 blocks packed with cr() = 8 (4-byte aligned)
  /// @param[out] out         pixels * channels outputs
  /// @param[in]  p           output stage; shifts in [-31, 30]; act_min, act_max within int8
  template <class Q>
  static void run(std::size_t channels, std::size_t pixels, std::size_t stride, const std::int8_t* r0,
                  const std::int8_t* r1, const std::int8_t* r2, const void* packed, std::int8_t* out,
                  const output_stage<Q>& p) noexcept {
    if (stride == 1) run_s<1>(channels, pixels, r0, r1, r2, packed, out, p);
    else run_s<2>(channels, pixels, r0, r1, r2, packed, out, p);
  }

 private:
  /// Tap row KY of N (1 or 2) pixels from input column 0 at x (pixel pitch `ch`), weights from the
  /// block's stack k; x moves on to the next group's column 0 (N = 2). Stride 1 loads each of the
  /// 4 columns once: pixel 1's column kx + 1 is pixel 0's next one.
  template <std::size_t S, std::size_t N, bool Tail, std::size_t KY>
  [[gnu::always_inline]] static inline void tap_row(int32x4_t& e0, int32x4_t& o0, int32x4_t& e1, int32x4_t& o1,
                                                    const std::int8_t*& x, std::size_t ch, const std::uint8_t* k,
                                                    mve_pred16_t pc) noexcept {
    const std::int8_t* p0 = x;                          // pixel 0's column kx
    const std::int8_t* p1 = S == 1 ? x : x + S * ch;    // pixel 1's column S + kx (stride 1: after p0)
    int16x8_t cur = load<Tail>(p0, pc);
#pragma GCC unroll 3
    for (std::size_t kx = 0; kx < 3; ++kx) {
      const auto* wk = reinterpret_cast<const std::int16_t*>(k + K_W);
      const int16x8_t wv = vldrhq_s16(wk + (3 * KY + kx) * CR);
      if (KY == 0 && kx == 0) {
        mac<true>(e0, o0, cur, wv);
        fence<1>(e0, o0, e1, o1);  // e1, o1 are not set yet
      } else {
        mac(e0, o0, cur, wv);
        fence<N>(e0, o0, e1, o1);
      }
      if constexpr (N > 1) {
        p1 += S == 1 ? ch : (kx == 0 ? 0 : ch);
        if (S == 1 && kx == 1) x = p1;                  // column 2 = the next group's column 0
        const int16x8_t nx = load<Tail>(p1, pc);
        if (KY == 0 && kx == 0) mac<true>(e1, o1, nx, wv);
        else mac(e1, o1, nx, wv);
        fence<N>(e0, o0, e1, o1);
        if (kx < 2) {
          if constexpr (S == 1) cur = nx;
          else cur = load<Tail>(p0 += ch, pc);
        }
      } else if (kx < 2) {
        cur = load<Tail>(p0 += ch, pc);
      }
    }
    if constexpr (N > 1 && S != 1) x = p1;              // column 4
  }

  /// N (1 or 2) pixels x 8 channels from input column 0 of rows x0..x2 (pixel pitch `ch`), the
  /// block's stack at k, output at o. k is laundered: GCC 12 would otherwise hoist addresses
  /// k + offset out of the pixel loop into registers (and spills) the taps need.
  template <std::size_t S, std::size_t N, bool Tail, class F>
  [[gnu::always_inline]] static inline void group(const std::int8_t*& x0, const std::int8_t*& x1,
                                                  const std::int8_t*& x2, std::size_t ch, const std::uint8_t* k,
                                                  std::int8_t* o, mve_pred16_t pc) noexcept {
    __asm__ volatile("" : "+r"(k));
    int32x4_t e0, o0, e1 = vdupq_n_s32(0), o1 = e1;  // pixel 1 (N = 2) overwrites e1, o1 first
    tap_row<S, N, Tail, 0>(e0, o0, e1, o1, x0, ch, k, pc);
    tap_row<S, N, Tail, 1>(e0, o0, e1, o1, x1, ch, k, pc);
    tap_row<S, N, Tail, 2>(e0, o0, e1, o1, x2, ch, k, pc);
    requant_store<N, Tail, F>(o, ch, e0, o0, e1, o1, pc, k);
  }

  /// Every pixel of the channel block at c0 (Tail: rem < 8 channels), packed block at blk.
  template <std::size_t S, bool Tail, class F, class Q>
  static void block(std::size_t ch, std::size_t pixels, const std::int8_t* r0, const std::int8_t* r1,
                    const std::int8_t* r2, const std::uint8_t* blk, std::int8_t* out, std::size_t c0,
                    std::size_t rem, const output_stage<Q>& p) noexcept {
    const mve_pred16_t pc = vctp16q(static_cast<std::uint32_t>(rem));
    alignas(16) std::uint8_t k[K_BYTES];
    block_constants(k, blk, c0, rem, p);
    r0 += c0, r1 += c0, r2 += c0;
    std::int8_t* o = out + c0;
    std::size_t px = pixels;
    for (; px >= 2; px -= 2, o += 2 * ch) group<S, 2, Tail, F>(r0, r1, r2, ch, k, o, pc);
    if (px != 0) group<S, 1, Tail, F>(r0, r1, r2, ch, k, o, pc);
  }

  /// Every channel block at stride S: whole blocks in the negative-shift form where all their
  /// shifts are negative, the tail block (fewer than 8 channels) in the general form.
  template <std::size_t S, class Q>
  static void run_s(std::size_t channels, std::size_t pixels, const std::int8_t* r0, const std::int8_t* r1,
                    const std::int8_t* r2, const void* packed, std::int8_t* out, const output_stage<Q>& p) noexcept {
    for_each_block(channels, packed, p, [&]<bool Tail, class F>(const std::uint8_t* blk, std::size_t c0, std::size_t nb) {
      block<S, Tail, F>(channels, pixels, r0, r1, r2, blk, out, c0, nb, p);
    });
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv3x3_qs8, tessera::arch::helium> {
  using type = tessera::kernels::dwconv3x3_qs8_2x8_helium;
};
