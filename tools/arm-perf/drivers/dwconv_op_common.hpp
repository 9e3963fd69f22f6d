/// @file dwconv_op_common.hpp
/// Shared body of the dwconv3x3_op_* drivers: one whole depthwise operator `run` (fp32 or int8,
/// per-channel stage, input zero point -3) on a MobileNetV1 depthwise layer chosen by the
/// environment (qemu-aarch64 passes it through; the M55 has none: TESSERA_PERF_DEFAULT_LAYER /
/// TESSERA_PERF_DEFAULT_PATH, "b" / "row" unless a driver defines them):
///   TESSERA_PERF_LAYER  b  3x3 stride 1 SAME, HW x HW x 32 (default)
///                       d  3x3 stride 2 SAME, HW x HW x 64 -> HW/2 x HW/2 x 64
///                       m  3x3 stride 1 SAME, HW x HW x 16, depth multiplier 4 -> HW x HW x 64
///                       (HW = TESSERA_PERF_HW, default 112: the real layers)
///   TESSERA_PERF_PATH   row      the operator as shipped (default): 3x3 row kernel DW_ROW, edges
///                                (or nothing, with int8's padded-row cache) on DW_UNIPASS
///                       unipass  the row kernel switched off (a channel tile that never matches):
///                                every pixel on DW_UNIPASS, the operator before the row path
///                                (layer m: the ring of expanded rows on DW_UNIPASS)
///                       portable the operator as shipped with min_workspace_bytes(g) (layer m: the
///                                portable scalar multiplier loop, the operator before the expanded rows)
/// with workspace_bytes(g) of workspace (portable: min_workspace_bytes(g)). check() compares every output with the scalar operator's
/// (the tap order every kernel keeps), so fp32 is compared bit for bit too. The operator is called
/// through a noinline function, as an ordinary translation unit would call it (the harness's
/// `flatten` would otherwise pull the kernels' loops into one function and spill).
/// A driver includes its kernels and defines DW_TAG, DW_UNIPASS, DW_ROW and DW_T (float or int8_t).
/// elements() counts MACs (out pixels x channels x 9).
#pragma once
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <tessera/ops/depthwise_conv2d.hpp>
#include "perf_harness.hpp"

#ifndef TESSERA_PERF_HW
#define TESSERA_PERF_HW 112
#endif
#ifndef TESSERA_PERF_DEFAULT_LAYER  // when the environment has none (the M55: a driver copy may set them)
#define TESSERA_PERF_DEFAULT_LAYER "b"
#endif
#ifndef TESSERA_PERF_DEFAULT_PATH
#define TESSERA_PERF_DEFAULT_PATH "row"
#endif

namespace tessera_perf {
/// `R` with a channel tile no unipass kernel has: the operator then runs everything unipass.
template <class R> struct unipass_only : R {
  static std::size_t cr() noexcept { return 0; }
};

using T = DW_T;
inline constexpr bool kF32 = std::is_same_v<T, float>;
template <class R>
using op_with = std::conditional_t<kF32, tessera::depthwise_conv2d_f32<DW_TAG, DW_UNIPASS, R>,
                                   tessera::depthwise_conv2d_s8<DW_TAG, DW_UNIPASS, R>>;
using row_op = op_with<DW_ROW>;
using unipass_op = op_with<unipass_only<DW_ROW>>;
using ref_op = std::conditional_t<kF32, tessera::depthwise_conv2d_f32<tessera::arch::scalar>,
                                  tessera::depthwise_conv2d_s8<tessera::arch::scalar>>;

inline constexpr std::size_t kHW = TESSERA_PERF_HW, kMaxC = 64;
inline tessera::conv_geometry geo;
alignas(64) inline T in[kHW * kHW * kMaxC];
alignas(64) inline T filt[9 * kMaxC];
alignas(64) inline std::int32_t bias32[kMaxC], mult[kMaxC], shift[kMaxC];
alignas(64) inline float biasf[kMaxC];
alignas(64) inline T out[kHW * kHW * kMaxC];  // the largest output (layer m)
alignas(64) inline T ref[kHW * kHW * kMaxC];
alignas(64) inline std::uint8_t packed[64 + 9 * 1024 + 4 * 1024 + 13 * kMaxC * 4];  // any cr <= 256
alignas(64) inline std::uint8_t packed_ref[sizeof(packed)];
// Tap pointers of one row + zero row, or the int8 padded-row cache (4 rows of HW + 2 pixels).
alignas(64) inline std::uint8_t workspace[kHW * 9 * sizeof(void*) + 4 * (kHW + 2) * kMaxC * sizeof(T) + 128];
inline bool use_unipass = false, use_min_workspace = false;
inline tessera::output_stage<tessera::requant::per_channel> stage;
inline tessera::f32_clamp clamp{-6.0f, 6.0f};
inline constexpr std::int32_t kInputZp = -3;

inline std::uint32_t lcg(std::uint32_t& s) { return s = s * 1664525u + 1013904223u; }
inline T rand_t(std::uint32_t& s) {
  if constexpr (kF32) return static_cast<float>(static_cast<std::int32_t>(lcg(s) >> 21) - 1024) / 512.0f;
  else return static_cast<T>(static_cast<std::int8_t>(lcg(s) >> 24));
}

/// Packs for operator `Op` into `dst` (aborts on any error).
template <class Op> void pack(void* dst, std::size_t bytes) {
  if (Op::packed_weights_bytes(geo) > bytes || Op::workspace_bytes(geo) > sizeof(workspace)) std::abort();
  bool ok;
  if constexpr (kF32) ok = Op::pack_weights(geo, filt, biasf, dst, bytes).ok();
  else ok = Op::pack_weights(geo, filt, bias32, kInputZp, dst, bytes).ok();
  if (!ok) std::abort();
}

/// Runs operator `Op` with its workspace_bytes, or min_workspace_bytes for path "portable" (aborts on any error).
template <class Op> [[gnu::noinline]] void run(const void* pk, T* dst) {
  bool ok;
  const std::size_t wb = use_min_workspace ? Op::min_workspace_bytes(geo) : Op::workspace_bytes(geo);
  if constexpr (kF32) ok = Op::run(geo, in, pk, dst, clamp, workspace, wb).ok();
  else ok = Op::run(geo, in, pk, dst, stage, kInputZp, workspace, wb).ok();
  if (!ok) std::abort();
}

void setup() {
  const char* layer = std::getenv("TESSERA_PERF_LAYER");
  const char* path = std::getenv("TESSERA_PERF_PATH");
  const char* l = layer != nullptr ? layer : TESSERA_PERF_DEFAULT_LAYER;
  const char* p = path != nullptr ? path : TESSERA_PERF_DEFAULT_PATH;
  const bool d = std::strcmp(l, "d") == 0, m = std::strcmp(l, "m") == 0;
  use_unipass = std::strcmp(p, "unipass") == 0;
  use_min_workspace = std::strcmp(p, "portable") == 0;
  const std::int64_t c = d ? 64 : m ? 16 : 32, s = d ? 2 : 1;
  const tessera::conv_shape sh{.in_h = kHW, .in_w = kHW, .in_c = c, .out_c = m ? 4 * c : c, .kernel_h = 3,
                               .kernel_w = 3, .stride_h = s, .stride_w = s};
  if (!tessera::make_conv_geometry(sh, tessera::padding::same, geo).ok() || geo.out_elems() > kHW * kHW * kMaxC) std::abort();
  std::uint32_t r = 4242;
  for (std::size_t i = 0; i < geo.in_elems(); ++i) in[i] = rand_t(r);
  for (auto& v : filt) v = rand_t(r);
  for (std::size_t i = 0; i < kMaxC; ++i) {
    biasf[i] = static_cast<float>(static_cast<std::int32_t>(lcg(r) >> 21) - 1024) / 512.0f;
    bias32[i] = static_cast<std::int32_t>(lcg(r) >> 16) - 32768;
    mult[i] = 0x40000000 + static_cast<std::int32_t>(lcg(r) >> 3);
    shift[i] = -7 - static_cast<std::int32_t>(lcg(r) >> 30);
  }
  stage = {{mult, shift}, 5, -128, 127};
  if (use_unipass) pack<unipass_op>(packed, sizeof(packed));
  else pack<row_op>(packed, sizeof(packed));
}

int check() {
  pack<ref_op>(packed_ref, sizeof(packed_ref));
  use_min_workspace = false;
  run<ref_op>(packed_ref, ref);
  for (std::size_t i = 0; i < geo.out_elems(); ++i)
    if (!(out[i] == ref[i])) return 1;
  return 0;
}

std::size_t elements() { return geo.out_elems() * 9; }
}  // namespace tessera_perf

TESSERA_PERF_KERNEL {
  if (tessera_perf::use_unipass) tessera_perf::run<tessera_perf::unipass_op>(tessera_perf::packed, tessera_perf::out);
  else tessera_perf::run<tessera_perf::row_op>(tessera_perf::packed, tessera_perf::out);
}
