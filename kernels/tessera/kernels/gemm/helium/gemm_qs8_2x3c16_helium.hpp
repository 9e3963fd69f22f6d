/// @file gemm_qs8_2x3c16_helium.hpp
/// int8 GEMM with fused requantization on Cortex-M55/M85 Helium (MVE integer).
///
/// Tile: 2 rows x 3 channels, kr = 16 (an odd last row runs a 1-row instance of the same tile).
/// Why 3 channels: VMLADAVA accumulates into an EVEN general-purpose register only (r0, r2, ...,
/// r12, lr) and the low-overhead loop holds lr, which leaves 7 accumulators; 2 x 3 = 6 of them
/// keep the k-loop free of moves and spills (a 2 x 4 tile spills one accumulator per iteration).
/// Consumes op.hpp's packed format with nr() = 3, kr() = 16: per block of 3 channels
/// `int32 bias'[3]`, then `int8 w[ceil(K/16)][3][16]` (zero padded), so one k-group is three
/// consecutive 16-byte vectors, one per channel.
/// Inner loop (16 k, software-pipelined): 5 post-indexed VLDRB.8 (A row 1; B channel 2 of this
/// k-group, then A row 0 and B channels 0, 1 of the next) and 6 VMLADAVA.S8 (`vmladavaq_s8`: 16
/// int8 products summed into a 32-bit accumulator), one per row and channel, alternating
/// (M L M L M L M L M L M): M55 overlaps each load with a MAC. 11 instructions and LE (the
/// counter), no MOV or ADD; llvm-mca cortex-m55 12 cycles per 6 VMLADAVA with GCC 12 (the VMLADAVA limit; the
/// unpipelined loop, which starts with two loads, was 14); 5 of the 8 Q registers.
/// Epilogue: the 3 channel sums of a row are gathered into one int32x4 (VDUP + VMOV to lanes),
/// + bias' + row_offset, MBQM through tessera::arch::helium_ops (VQRDMULH + rounding shift,
/// bit-exact with TFLite), + zero point (wrapping), clamp, and a narrowing VSTRB.32 under a VCTP32
/// predicate of min(3, channels left) lanes.
/// Tails: M by a 1-row tile instance (no row is computed twice); the last whole k-group is peeled
/// (it loads nothing of the next group, so A is never read past k); K (k % 16) by one more k-group
/// whose A loads are VCTP8-predicated zeroing loads (`vldrbq_z_s8`: bytes past k read as zero and
/// are never accessed), the zero-padded B group is read whole; N by the VCTP32-predicated store,
/// bias' and per-channel parameter loads (nothing at or past channel n is read or written).
/// ISA: Armv8.1-M MVE (integer).
#pragma once
#include <tessera/arch/native.hpp>
#if !TESSERA_HAS_HELIUM
#error "gemm_qs8_2x3c16_helium.hpp needs Helium (MVE): compile for e.g. -mcpu=cortex-m55"
#endif

#include <arm_mve.h>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <tessera/arch/helium/fixedpoint.hpp>
#include <tessera/arch/tags.hpp>
#include <tessera/dispatch/select.hpp>
#include <tessera/kernels/gemm/op.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera::kernels {

struct gemm_qs8_2x3c16_helium {
  using arch = tessera::arch::helium;
  static constexpr const char* name = "gemm_qs8_2x3c16_helium";
  static std::size_t nr() noexcept { return 3; }
  static std::size_t kr() noexcept { return 16; }

  /// C[m][n] = clamp(MBQM(sum_k A[m][k] W[n][k] + bias'[n] + row_offset[m]) + zp), int32 wrapping.
  /// @param[in]  a           m rows of k int8 values, row stride a_stride (elements)
  /// @param[in]  packed_w    weights packed by pack_qs8_weights with nr() = 3, kr() = 16; 4-byte aligned
  /// @param[in]  row_offset  m int32 values added to every channel of a row, or nullptr
  /// @param[out] c           m rows of n int8 values, row stride c_stride (elements)
  /// @param[in]  p           output stage; shifts in [-31, 30], act_min/act_max within int8
  template <class Q>
  static void run(std::size_t m, std::size_t n, std::size_t k, const std::int8_t* a, std::size_t a_stride,
                  const void* packed_w, const std::int32_t* row_offset, std::int8_t* c, std::size_t c_stride,
                  const output_stage<Q>& p) noexcept {
    std::size_t i = 0;
    for (; m - i >= 2; i += 2) {
      const std::int32_t o0 = row_offset ? row_offset[i] : 0, o1 = row_offset ? row_offset[i + 1] : 0;
      tile<2>(n, k, a + i * a_stride, a + (i + 1) * a_stride, packed_w, o0, o1, c + i * c_stride,
              c + (i + 1) * c_stride, p);
    }
    if (i < m) {
      const std::int32_t o0 = row_offset ? row_offset[i] : 0;
      const std::int8_t* ar = a + i * a_stride;
      std::int8_t* cr = c + i * c_stride;
      tile<1>(n, k, ar, ar, packed_w, o0, o0, cr, cr, p);
    }
  }

 private:
  static constexpr std::size_t NR = 3, KR = 16;

  /// Compiler scheduling fence (emits nothing): a volatile asm, which GCC's schedulers do not move
  /// anything across. Without fences GCC 12 groups the loads ahead of the MACs (M55 cannot overlap
  /// two loads in a row with a MAC) and merges the B pointers into one with offsets and a MOV.
  static inline void schedule_fence() noexcept { __asm__ volatile("" ::: "memory"); }

  /// Loads 16 int8 at `p` and advances `p` past them (post-indexed VLDRB.8).
  [[gnu::always_inline]] static inline int8x16_t ldq(const std::int8_t*& p) noexcept {
    const int8x16_t v = vldrbq_s8(p);
    p += KR;
    __asm__("" : "+r"(p));  // opaque step: GCC keeps the post-index instead of offsets + MOV/ADD
    return v;
  }

  /// acc += sum(a * b) over 16 lanes (VMLADAVA.S8), fenced on both sides so that every load stays
  /// alone between two MACs, where the M55 overlaps it with the MAC's beats.
  [[gnu::always_inline]] static inline void mac(std::int32_t& acc, int8x16_t a, int8x16_t b) noexcept {
    schedule_fence();
    acc = vmladavaq_s8(acc, a, b);
    schedule_fence();
  }

  /// The 3 channel sums of one row as an int32x4 (lane j = channel j of the block; lane 3 unused).
  static inline int32x4_t gather(std::int32_t s0, std::int32_t s1, std::int32_t s2) noexcept {
    int32x4_t v = vdupq_n_s32(s0);
    v = vsetq_lane_s32(s1, v, 1);
    return vsetq_lane_s32(s2, v, 2);
  }

  /// Requantizes one row of the block (`x` = accumulators + bias' + row offset) and stores its
  /// active lanes (`pn`) to `cr`.
  template <class Q>
  static inline void store_row(int32x4_t x, std::int8_t* cr, mve_pred16_t pn, const Q& q, int32x4_t mul,
                               int32x4_t sh, std::int32_t zp, int32x4_t lo, int32x4_t hi) noexcept {
    namespace ops = tessera::arch::helium_ops;
    int32x4_t y;
    if constexpr (std::is_same_v<Q, requant::per_tensor>) y = ops::mbqm_n(x, q.multiplier, q.shift);
    else y = ops::mbqm(x, mul, sh);
    y = vminq_s32(vmaxq_s32(vaddq_n_s32(y, zp), lo), hi);
    vstrbq_p_s32(cr, y, pn);  // low byte of each lane
  }

  /// R (1 or 2) rows x all n channels; for R == 1, a1/o1/c1 are ignored.
  template <std::size_t R, class Q>
  static void tile(std::size_t n, std::size_t k, const std::int8_t* a0, const std::int8_t* a1, const void* packed_w,
                   std::int32_t o0, std::int32_t o1, std::int8_t* c0, std::int8_t* c1,
                   const output_stage<Q>& p) noexcept {
    const std::size_t kpad = (k + KR - 1) / KR * KR;
    const std::size_t block = NR * sizeof(std::int32_t) + NR * kpad;
    const std::size_t groups = k / KR, rem = k % KR;
    // Parameters in locals: int8 stores may alias anything, so members would be reloaded.
    const std::int32_t zp = p.zero_point;
    const int32x4_t lo = vdupq_n_s32(p.act_min), hi = vdupq_n_s32(p.act_max);
    const Q q = p.q;
    const auto* blk = static_cast<const std::uint8_t*>(packed_w);
    for (std::size_t n0 = 0; n0 < n; n0 += NR, blk += block) {
      const auto* w = reinterpret_cast<const std::int8_t*>(blk + NR * sizeof(std::int32_t));
      const std::int8_t* x0 = a0;
      const std::int8_t* x1 = a1;
      std::int32_t s00 = 0, s01 = 0, s02 = 0;
      [[maybe_unused]] std::int32_t s10 = 0, s11 = 0, s12 = 0;
      if (groups != 0) {
        // Software-pipelined over the k-groups: A row 0 and B channels 0, 1 of group g + 1 are
        // loaded during group g. Every load sits alone between two MACs (M L M L M L M L M L M: the
        // order in which M55 overlaps each load with a MAC), at least one MAC before its first use
        // and after the last use of the register it overwrites. B is read by one post-incremented
        // pointer: channel 2 of group g, then channels 0, 1 of group g + 1 are consecutive.
        int8x16_t v0 = ldq(x0), b0 = ldq(w), b1 = ldq(w), b2;
        [[maybe_unused]] int8x16_t v1;
        for (std::size_t g = groups - 1; g != 0; --g) {
          mac(s00, v0, b0);
          if constexpr (R > 1) v1 = ldq(x1);
          mac(s01, v0, b1);
          b2 = ldq(w);
          if constexpr (R > 1) mac(s10, v1, b0);
          b0 = ldq(w);
          mac(s02, v0, b2);
          v0 = ldq(x0);
          if constexpr (R > 1) mac(s11, v1, b1);
          b1 = ldq(w);
          if constexpr (R > 1) mac(s12, v1, b2);
        }
        // Last whole group: nothing of the next group is loaded (A may end here).
        mac(s00, v0, b0);
        if constexpr (R > 1) v1 = ldq(x1);
        mac(s01, v0, b1);
        b2 = ldq(w);
        if constexpr (R > 1) mac(s10, v1, b0);
        mac(s02, v0, b2);
        if constexpr (R > 1) {
          mac(s11, v1, b1);
          mac(s12, v1, b2);
        }
      }
      if (rem != 0) {
        // A bytes past k: zeroing predicated loads (never accessed); B is zero padded to 16.
        const mve_pred16_t pk = vctp8q(static_cast<std::uint32_t>(rem));
        const int8x16_t b0 = vldrbq_s8(w), b1 = vldrbq_s8(w + KR), b2 = vldrbq_s8(w + 2 * KR);
        const int8x16_t v0 = vldrbq_z_s8(x0, pk);
        s00 = vmladavaq_s8(s00, v0, b0);
        s01 = vmladavaq_s8(s01, v0, b1);
        s02 = vmladavaq_s8(s02, v0, b2);
        if constexpr (R > 1) {
          const int8x16_t v1 = vldrbq_z_s8(x1, pk);
          s10 = vmladavaq_s8(s10, v1, b0);
          s11 = vmladavaq_s8(s11, v1, b1);
          s12 = vmladavaq_s8(s12, v1, b2);
        }
      }
      // Output stage on the min(3, n - n0) channels of the block; inactive lanes are never stored.
      const std::size_t left = n - n0;
      const mve_pred16_t pn = vctp32q(static_cast<std::uint32_t>(left < NR ? left : NR));
      const int32x4_t bias = vldrwq_z_s32(reinterpret_cast<const std::int32_t*>(blk), pn);
      int32x4_t mul = vdupq_n_s32(0), sh = mul;  // per-channel only
      if constexpr (!std::is_same_v<Q, requant::per_tensor>) {
        mul = vldrwq_z_s32(q.multiplier + n0, pn);
        sh = vldrwq_z_s32(q.shift + n0, pn);
      }
      store_row(vaddq_s32(gather(s00, s01, s02), vaddq_n_s32(bias, o0)), c0 + n0, pn, q, mul, sh, zp, lo, hi);
      if constexpr (R > 1)
        store_row(vaddq_s32(gather(s10, s11, s12), vaddq_n_s32(bias, o1)), c1 + n0, pn, q, mul, sh, zp, lo, hi);
    }
  }
};

}  // namespace tessera::kernels

template <> struct tessera::ukernel<tessera::op::gemm_qs8, tessera::arch::helium> {
  using type = tessera::kernels::gemm_qs8_2x3c16_helium;
};
