/// @file dwconv5x5_qs8_2x8_helium.hpp
/// int8 5x5 depthwise row kernel (op.hpp's 5x5 row contract: windows inside the input, stride 1
/// or 2 along x, direct addressing) with fused TFLite requantization on Cortex-M55/M85 Helium (MVE
/// integer).
///
/// Tile: 2 neighbouring output pixels x 8 channels; cr() = 8, the packed blocks of
/// dwconv_qs8_2x8_helium with ks = 25 (`int32 bias'[8]; int8 w[25][8]`). The arithmetic, the stack
/// of block constants, the fences and the epilogue are dwconv3x3_qs8_2x8_helium's, shared through
/// dwconv_qs8_helium_rows<25>: VLDRB.S16 inputs, VMULLB.S16 / VMULLT.S16 even / odd-channel int32
/// products, VADD into 4 accumulators (2 pixels x even / odd). The 8 Q registers hold the 4
/// accumulators, one weight, two input columns and a product, so unlike the fp32 5x5 row kernel
/// (two passes per tap row) one pass per tap row fits: taps go weight by weight, pixel 0 then
/// pixel 1; at stride 1 pixel 1's column kx + 1 is pixel 0's next column, so a tap row loads 6
/// columns for 10 products (stride 2: 10 loads; sharing p1's column kx = p0's kx + 2 would need a
/// 9th Q register, or reloading weights: 17 loads against 15). Per block the kernel copies to the
/// stack, once per call, the 25 weights widened to int16 (400 bytes), bias' de-interleaved and the
/// output stage as vectors; a group addresses them from one laundered base k + 208, so every
/// weight (VLDRH, +-254) and stage vector (VLDRW, +-508) is an immediate offset. Each tap row's
/// pointer is laundered too (GCC 12 otherwise keeps a pointer per column across groups and
/// spills them: whole operator 0.912 instructions/MAC against 0.854). Loads per MAC: 0.1375
/// (stride 1: 55 per 400 MACs), 0.1875 at stride 2.
/// Epilogue (both pixels, one stage vector at a time): + bias', MBQM through helium_ops (no left
/// shift and rdpot_neg_nz when every shift of the block is negative), + zero point (wrapping),
/// VQMOVNB/VQMOVNT to int16, one int16 clamp, VSTRB.16. Integer sums wrap and are exact: results
/// equal dwconv5x5_qs8_scalar's bit for bit.
/// Hot loop (GCC 12 -O2, per 2 pixels = 400 MACs, per-channel stage): 327 instructions at stride 1
/// with negative shifts (100 VMULLB/T, 104 VADD, 30 input and 25 weight loads, the epilogue with
/// its 9 stage loads, 31 scalar: 5 ADDs per tap row for the run-time pixel pitch), 337 with left
/// shifts; 362 / 372 at stride 2.
/// Tails: whole blocks run unpredicated; the last `channels % 8` channels run VCTP16-predicated
/// (zeroing input loads, predicated stores, per-channel parameters by predicated gathers): nothing
/// outside rows[ky][0, ((pixels - 1) S + 5) channels) or out[0, pixels channels) is accessed;
/// packed blocks are read whole. A last odd pixel takes the same code with a 1-pixel tile.
/// Compiler fences (asm volatile, emit nothing) keep GCC 12 from hoisting loads and addresses out of
/// the pixel loop into spills; keep them when editing. ISA: Armv8.1-M MVE (integer).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_HELIUM
#error "dwconv5x5_qs8_2x8_helium.hpp needs Helium (MVE): compile for e.g. -mcpu=cortex-m55"
#endif

#include <arm_mve.h>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/dwconv/helium/dwconv_qs8_2x8_helium.hpp>
#include <tessera/kernels/dwconv/helium/dwconv_qs8_helium_rows.hpp>
#include <tessera/kernels/dwconv/op.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct dwconv5x5_qs8_2x8_helium : private dwconv_qs8_helium_rows<25> {
  using arch = tessera::arch::helium;
  static constexpr const char* name = "dwconv5x5_qs8_2x8_helium";
  /// Channel tile of the packed weights (dwconv_qs8_2x8_helium's, 8).
  static std::size_t cr() noexcept { return dwconv_qs8_2x8_helium::cr(); }

  /// `pixels` outputs of one row, 5x5 windows inside the input, stride 1 or 2 along x (op.hpp).
  /// @param[in]  rows    rows[ky]: first window's input pixel (channel 0) in tap row ky < 5
  /// @param[in]  packed  op.hpp s8 blocks packed with cr() = 8, ks = 25 (4-byte aligned)
  /// @param[out] out     pixels * channels outputs
  /// @param[in]  p       output stage; shifts in [-31, 30]; act_min, act_max within int8
  template <class Q>
  static void run(std::size_t channels, std::size_t pixels, std::size_t stride, const std::int8_t* const* rows,
                  const void* packed, std::int8_t* out, const output_stage<Q>& p) noexcept {
    if (stride == 1) run_s<1>(channels, pixels, rows, packed, out, p);
    else run_s<2>(channels, pixels, rows, packed, out, p);
  }

 private:
  /// The group's base register points KB bytes into the block's stack, so that every weight
  /// (VLDRH: immediate offsets within +-254) and every epilogue vector (VLDRW: +-508) is one
  /// immediate offset from it.
  static constexpr std::size_t KB = 208;
  static_assert(K_W + 25 * 2 * CR - 2 * CR <= KB + 254 && KB <= 254 && K_HI <= KB + 508);

  /// Tap row KY of N (1 or 2) pixels from input column 0 at x (pixel pitch `ch`), weights from the
  /// block's stack (base kb = k + KB); x moves on to the next group's column 0 (N = 2: column 2 S).
  /// Stride 1 loads each of the 6 columns once: pixel 1's column kx + 1 is pixel 0's next one.
  template <std::size_t S, std::size_t N, bool Tail, std::size_t KY>
  [[gnu::always_inline]] static inline void tap_row(int32x4_t& e0, int32x4_t& o0, int32x4_t& e1, int32x4_t& o1,
                                                    const std::int8_t*& x, std::size_t ch, const std::uint8_t* kb,
                                                    mve_pred16_t pc) noexcept {
    __asm__ volatile("" : "+r"(x));                     // no per-column pointers across groups
    const std::int8_t* p0 = x;                          // pixel 0's column kx
    const std::int8_t* p1 = S == 1 ? x : x + S * ch;    // pixel 1's column S + kx (stride 1: after p0)
    int16x8_t cur = load<Tail>(p0, pc);
#pragma GCC unroll 5
    for (std::size_t kx = 0; kx < 5; ++kx) {
      const auto* wk = reinterpret_cast<const std::int16_t*>(kb - KB + K_W);
      const int16x8_t wv = vldrhq_s16(wk + (5 * KY + kx) * CR);
      if (KY == 0 && kx == 0) {
        mac<true>(e0, o0, cur, wv);
        fence<1>(e0, o0, e1, o1);  // e1, o1 are not set yet
      } else {
        mac(e0, o0, cur, wv);
        fence<N>(e0, o0, e1, o1);
      }
      if constexpr (N > 1) {
        p1 += S == 1 ? ch : (kx == 0 ? 0 : ch);
        if (kx == S) x = p1;                            // column 2 S = the next group's column 0
        const int16x8_t nx = load<Tail>(p1, pc);
        if (KY == 0 && kx == 0) mac<true>(e1, o1, nx, wv);
        else mac(e1, o1, nx, wv);
        fence<N>(e0, o0, e1, o1);
        if (kx < 4) {
          if constexpr (S == 1) cur = nx;
          else cur = load<Tail>(p0 += ch, pc);
        }
      } else if (kx < 4) {
        cur = load<Tail>(p0 += ch, pc);
      }
    }
  }

  /// N (1 or 2) pixels x 8 channels from input column 0 of rows x[0..4] (pixel pitch `ch`), the
  /// block's stack at k, output at o. The base is laundered: GCC 12 would otherwise hoist addresses
  /// k + offset out of the pixel loop into registers (and spills) the taps need.
  template <std::size_t S, std::size_t N, bool Tail, class F>
  [[gnu::always_inline]] static inline void group(const std::int8_t* (&x)[5], std::size_t ch, const std::uint8_t* k,
                                                  std::int8_t* o, mve_pred16_t pc) noexcept {
    const std::uint8_t* kb = k + KB;
    __asm__ volatile("" : "+r"(kb));
    int32x4_t e0, o0, e1 = vdupq_n_s32(0), o1 = e1;  // pixel 1 (N = 2) overwrites e1, o1 first
    tap_row<S, N, Tail, 0>(e0, o0, e1, o1, x[0], ch, kb, pc);
    tap_row<S, N, Tail, 1>(e0, o0, e1, o1, x[1], ch, kb, pc);
    tap_row<S, N, Tail, 2>(e0, o0, e1, o1, x[2], ch, kb, pc);
    tap_row<S, N, Tail, 3>(e0, o0, e1, o1, x[3], ch, kb, pc);
    tap_row<S, N, Tail, 4>(e0, o0, e1, o1, x[4], ch, kb, pc);
    requant_store<N, Tail, F>(o, ch, e0, o0, e1, o1, pc, kb - KB);
  }

  /// Every pixel of the channel block at c0 (Tail: rem < 8 channels), packed block at blk.
  template <std::size_t S, bool Tail, class F, class Q>
  static void block(std::size_t ch, std::size_t pixels, const std::int8_t* const* rows, const std::uint8_t* blk,
                    std::int8_t* out, std::size_t c0, std::size_t rem, const output_stage<Q>& p) noexcept {
    const mve_pred16_t pc = vctp16q(static_cast<std::uint32_t>(rem));
    alignas(16) std::uint8_t k[K_BYTES];
    block_constants(k, blk, c0, rem, p);
    const std::int8_t* x[5] = {rows[0] + c0, rows[1] + c0, rows[2] + c0, rows[3] + c0, rows[4] + c0};
    std::int8_t* o = out + c0;
    std::size_t px = pixels;
    for (; px >= 2; px -= 2, o += 2 * ch) group<S, 2, Tail, F>(x, ch, k, o, pc);
    if (px != 0) group<S, 1, Tail, F>(x, ch, k, o, pc);
  }

  /// Every channel block at stride S: whole blocks in the negative-shift form where all their
  /// shifts are negative, the tail block (fewer than 8 channels) in the general form.
  template <std::size_t S, class Q>
  static void run_s(std::size_t channels, std::size_t pixels, const std::int8_t* const* rows, const void* packed,
                    std::int8_t* out, const output_stage<Q>& p) noexcept {
    for_each_block(channels, packed, p, [&]<bool Tail, class F>(const std::uint8_t* blk, std::size_t c0, std::size_t nb) {
      block<S, Tail, F>(channels, pixels, rows, blk, out, c0, nb, p);
    });
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::dwconv5x5_qs8, tessera::arch::helium> {
  using type = tessera::kernels::dwconv5x5_qs8_2x8_helium;
};
