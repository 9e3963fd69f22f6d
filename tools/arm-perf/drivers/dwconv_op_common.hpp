/// @file dwconv_op_common.hpp
/// Shared body of the dwconv_op_* drivers: one whole depthwise operator `run` (fp32 or int8) on a
/// 3x3 SAME layer of TESSERA_PERF_HW x TESSERA_PERF_HW x TESSERA_PERF_C input channels and stride
/// TESSERA_PERF_STRIDE (defaults 112, 32, 1: MobileNetV1's layer b; 112, 64, 2 is layer d), checked
/// bit for bit against the scalar operator (whose tap order every kernel keeps). A driver defines
/// DW_OP (the operator type, e.g. depthwise_conv2d_f32<helium, K, R>), DW_T (float or int8_t) and
/// the size macros, includes its kernel headers, then this file. `unipass_only<R>` is a row kernel
/// the operator never uses (its tile matches no unipass kernel): drivers measure the operator with
/// and without its row kernel. elements() counts MACs (out pixels x channels x 9).
#pragma once
#include <cstdint>
#include <cstdlib>
#include <type_traits>
#include <tessera/ops/depthwise_conv2d.hpp>
#include "perf_harness.hpp"

#ifndef TESSERA_PERF_HW
#define TESSERA_PERF_HW 112
#endif
#ifndef TESSERA_PERF_C
#define TESSERA_PERF_C 32
#endif
#ifndef TESSERA_PERF_STRIDE
#define TESSERA_PERF_STRIDE 1
#endif

namespace tessera_perf {
/// `R` with a channel tile no unipass kernel has: the operator then runs everything unipass.
template <class R> struct unipass_only : R {
  static std::size_t cr() noexcept { return 0; }
};

inline constexpr std::size_t kHW = TESSERA_PERF_HW, kC = TESSERA_PERF_C, kS = TESSERA_PERF_STRIDE;
inline constexpr std::size_t kOut = (kHW + kS - 1) / kS;
using T = DW_T;
inline constexpr bool kF32 = std::is_same_v<T, float>;
using ref_op = std::conditional_t<kF32, tessera::depthwise_conv2d_f32<tessera::arch::scalar>,
                                  tessera::depthwise_conv2d_s8<tessera::arch::scalar>>;

inline tessera::conv_geometry geo;
alignas(64) inline T in[kHW * kHW * kC];
alignas(64) inline T filt[9 * kC];
alignas(64) inline std::int32_t bias32[kC], mult[kC], shift[kC];
alignas(64) inline float biasf[kC];
alignas(64) inline T out[kOut * kOut * kC];
alignas(64) inline T ref[kOut * kOut * kC];
alignas(64) inline std::uint8_t packed[64 + 9 * 1024 + 4 * 1024 + 9 * kC * 4 + 4 * kC * 2];  // covers any cr <= 256
// Tap pointers of one row + zero row, or the int8 padded-row cache (4 rows of kHW + 2 pixels).
inline constexpr std::size_t kPointerBytes = kOut * 9 * sizeof(void*) + kC * sizeof(T) + 64;
inline constexpr std::size_t kCacheBytes = 4 * (kHW + 2) * kC * sizeof(T) + 64;
alignas(64) inline std::uint8_t workspace[kPointerBytes > kCacheBytes ? kPointerBytes : kCacheBytes];
inline tessera::output_stage<tessera::requant::per_channel> stage;
inline tessera::f32_clamp clamp{-6.0f, 6.0f};
inline constexpr std::int32_t kInputZp = -3;

inline const T* volatile v_in = in;
inline const void* volatile v_packed = packed;
inline T* volatile v_out = out;
inline void* volatile v_ws = workspace;

inline std::uint32_t lcg(std::uint32_t& s) { return s = s * 1664525u + 1013904223u; }

/// Packs for operator `Op` into `dst` (aborts on any error).
template <class Op> void pack(void* dst, std::size_t bytes) {
  if (Op::packed_weights_bytes(geo) > bytes || Op::workspace_bytes(geo) > sizeof(workspace)) std::abort();
  bool ok;
  if constexpr (kF32) ok = Op::pack_weights(geo, filt, biasf, dst, bytes).ok();
  else ok = Op::pack_weights(geo, filt, bias32, kInputZp, dst, bytes).ok();
  if (!ok) std::abort();
}

/// Runs operator `Op` (aborts on any error).
template <class Op> void run(const T* src, const void* pk, T* dst) {
  bool ok;
  if constexpr (kF32) ok = Op::run(geo, src, pk, dst, clamp, v_ws, sizeof(workspace)).ok();
  else ok = Op::run(geo, src, pk, dst, stage, kInputZp, v_ws, sizeof(workspace)).ok();
  if (!ok) std::abort();
}

void setup() {
  const tessera::conv_shape s{.in_h = kHW, .in_w = kHW, .in_c = kC, .out_c = kC, .kernel_h = 3, .kernel_w = 3,
                              .stride_h = kS, .stride_w = kS};
  if (!tessera::make_conv_geometry(s, tessera::padding::same, geo).ok()) std::abort();
  std::uint32_t r = 4242;
  for (auto& v : in) v = kF32 ? static_cast<T>(static_cast<float>(static_cast<std::int32_t>(lcg(r) >> 21) - 1024) / 512.0f)
                              : static_cast<T>(static_cast<std::int8_t>(lcg(r) >> 24));
  for (auto& v : filt) v = kF32 ? static_cast<T>(static_cast<float>(static_cast<std::int32_t>(lcg(r) >> 21) - 1024) / 512.0f)
                                : static_cast<T>(static_cast<std::int8_t>(lcg(r) >> 24));
  for (std::size_t c = 0; c < kC; ++c) {
    biasf[c] = static_cast<float>(static_cast<std::int32_t>(lcg(r) >> 21) - 1024) / 512.0f;
    bias32[c] = static_cast<std::int32_t>(lcg(r) >> 16) - 32768;
    mult[c] = 0x40000000 + static_cast<std::int32_t>(lcg(r) >> 3);
    shift[c] = -7 - static_cast<std::int32_t>(lcg(r) >> 30);
  }
  stage = {{mult, shift}, 5, -128, 127};
  pack<DW_OP>(packed, sizeof(packed));
}

int check() {
  static std::uint8_t packed_ref[sizeof(packed)];
  pack<ref_op>(packed_ref, sizeof(packed_ref));
  run<ref_op>(in, packed_ref, ref);
  for (std::size_t i = 0; i < kOut * kOut * kC; ++i)
    if (!(out[i] == ref[i])) return 1;
  return 0;
}

std::size_t elements() { return kOut * kOut * kC * 9; }
}  // namespace tessera_perf

TESSERA_PERF_KERNEL { tessera_perf::run<DW_OP>(tessera_perf::v_in, tessera_perf::v_packed, tessera_perf::v_out); }
