/// @file dwconv_op_common.hpp
/// Shared body of the dwconv3x3_op_* drivers: one whole depthwise operator `run` (fp32 or int8,
/// per-channel stage, input zero point -3) on a MobileNetV1 depthwise layer chosen by the
/// environment (qemu-aarch64 passes it through; the M55 has none: TESSERA_PERF_DEFAULT_LAYER /
/// TESSERA_PERF_DEFAULT_PATH, "b" / "row" unless a driver defines them):
///   TESSERA_PERF_LAYER  b  3x3 stride 1 SAME, HW x HW x C (default; C = TESSERA_PERF_C, default 32)
///                       d  3x3 stride 2 SAME, HW x HW x 64 -> HW/2 x HW/2 x 64
///                       m  3x3 stride 1 SAME, HW x HW x 16, depth multiplier 4 -> HW x HW x 64
///                       n  K x K stride S SAME, HW x HW x 1, depth multiplier M -> HW/S x HW/S x M
///                          (bench_conv's layer n: K = 3, S = 1, M = 32, the defaults; the
///                          environment's TESSERA_PERF_K (3 or 5), TESSERA_PERF_S, TESSERA_PERF_M
///                          (<= 64) change them; the M55 takes the TESSERA_PERF_DEFAULT_* macros)
///                       v  5x5 stride 1 SAME, HW x HW x C (C = TESSERA_PERF_C, default 32: the 5x5
///                          row kernel DW_ROW5, or the tag's default, on the interior pixels)
///                       w  5x5 stride 2 SAME, HW x HW x C -> HW/2 x HW/2 x C
///                       (HW = TESSERA_PERF_HW, default 112: the real layers)
///   TESSERA_PERF_PATH   row      the operator as shipped (default): 3x3 row kernel DW_ROW, edges
///                                (or nothing, with int8's padded-row cache) on DW_UNIPASS
///                       unipass  the row kernel switched off (a channel tile that never matches):
///                                every pixel on DW_UNIPASS, the operator before the row path
///                                (layer m: the ring of expanded rows on DW_UNIPASS)
///                       portable the operator as shipped with min_workspace_bytes(g) (layer m: the
///                                portable scalar multiplier loop, the operator before the expanded rows)
///                       gemm     (drivers defining DW_GEMM, in_c = 1 layers) the same layer as a
///                                regular convolution: conv2d_<f32|s8><DW_TAG, DW_GEMM> with the
///                                filter transposed to OHWI [M][K][K][1] (panel gather + GEMM)
/// with workspace_bytes(g) of workspace (portable: min_workspace_bytes(g)). check() compares every output with the scalar operator's
/// (the tap order every kernel keeps), so fp32 is compared bit for bit too. The operator is called
/// through a noinline function, as an ordinary translation unit would call it (the harness's
/// `flatten` would otherwise pull the kernels' loops into one function and spill).
/// A driver includes its kernels and defines DW_TAG, DW_UNIPASS, DW_ROW and DW_T (float or int8_t),
/// and optionally DW_ROW5 (the 5x5 row kernel; default: the one selected for DW_TAG).
/// elements() counts MACs (out pixels x channels x taps).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <tessera/ops/depthwise_conv2d.hpp>
#ifdef DW_GEMM
#include <tessera/ops/conv2d.hpp>
#endif
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
#ifndef TESSERA_PERF_DEFAULT_M  // layer n's multiplier, kernel size and stride without an environment
#define TESSERA_PERF_DEFAULT_M 32
#endif
#ifndef TESSERA_PERF_DEFAULT_K
#define TESSERA_PERF_DEFAULT_K 3
#endif
#ifndef TESSERA_PERF_DEFAULT_S
#define TESSERA_PERF_DEFAULT_S 1
#endif

namespace tessera_perf {
/// `R` with a channel tile no unipass kernel has: the operator then runs everything unipass.
template <class R> struct unipass_only : R {
  static std::size_t cr() noexcept { return 0; }
};

using T = DW_T;
inline constexpr bool kF32 = std::is_same_v<T, float>;
#ifdef DW_ROW5
using row5 = DW_ROW5;
#else
using row5 = tessera::select_t<std::conditional_t<kF32, tessera::op::dwconv5x5_f32, tessera::op::dwconv5x5_qs8>, DW_TAG>;
#endif
template <class R, class R5 = row5>
using op_with = std::conditional_t<kF32, tessera::depthwise_conv2d_f32<DW_TAG, DW_UNIPASS, R, R5>,
                                   tessera::depthwise_conv2d_s8<DW_TAG, DW_UNIPASS, R, R5>>;
using row_op = op_with<DW_ROW>;
using unipass_op = op_with<unipass_only<DW_ROW>, unipass_only<row5>>;
using ref_op = std::conditional_t<kF32, tessera::depthwise_conv2d_f32<tessera::arch::scalar>,
                                  tessera::depthwise_conv2d_s8<tessera::arch::scalar>>;
#ifdef DW_GEMM
using gemm_op = std::conditional_t<kF32, tessera::conv2d_f32<DW_TAG, DW_GEMM>, tessera::conv2d_s8<DW_TAG, DW_GEMM>>;
#endif

#ifndef TESSERA_PERF_MAXC  // channels the buffers hold (layer b's TESSERA_PERF_C at most this)
#define TESSERA_PERF_MAXC 64
#endif
inline constexpr std::size_t kHW = TESSERA_PERF_HW, kMaxC = TESSERA_PERF_MAXC;
inline tessera::conv_geometry geo;
alignas(64) inline T in[kHW * kHW * kMaxC];
alignas(64) inline T filt[25 * kMaxC];
alignas(64) inline T filt_ohwi[25 * kMaxC];  // layer n, path gemm: filt transposed to [M][K][K][1]
alignas(64) inline std::int32_t bias32[kMaxC], mult[kMaxC], shift[kMaxC];
alignas(64) inline float biasf[kMaxC];
alignas(64) inline T out[kHW * kHW * kMaxC];  // the largest output (layer m)
alignas(64) inline T ref[kHW * kHW * kMaxC];
alignas(64) inline std::uint8_t packed[64 + 9 * 1024 + 4 * 1024 + 13 * kMaxC * 4];  // any cr <= 256
alignas(64) inline std::uint8_t packed_ref[sizeof(packed)];
// Tap pointers of one row + zero row, or the padded-row cache (4 rows of HW + 2 pixels, each
// staggered by up to 31 cache lines), or conv2d's default panel (about 64 KiB) for path gemm.
inline constexpr std::size_t kWorkspace = kHW * 25 * sizeof(void*) + 4 * ((kHW + 2) * kMaxC * sizeof(T) + 2048) + 128;
alignas(64) inline std::uint8_t workspace[kWorkspace > 65536 + 1024 ? kWorkspace : 65536 + 1024];
inline bool use_unipass = false, use_min_workspace = false, use_gemm = false;
inline tessera::output_stage<tessera::requant::per_channel> stage;
inline tessera::f32_clamp clamp{-6.0f, 6.0f};
inline constexpr std::int32_t kInputZp = -3;

inline std::uint32_t lcg(std::uint32_t& s) { return s = s * 1664525u + 1013904223u; }
inline T rand_t(std::uint32_t& s) {
  if constexpr (kF32) return static_cast<float>(static_cast<std::int32_t>(lcg(s) >> 21) - 1024) / 512.0f;
  else return static_cast<T>(static_cast<std::int8_t>(lcg(s) >> 24));
}

/// Packs for operator `Op` into `dst` (aborts on any error).
template <class Op> void pack(void* dst, std::size_t bytes, const T* f = filt) {
  if (Op::packed_weights_bytes(geo) > bytes || Op::workspace_bytes(geo) > sizeof(workspace)) std::abort();
  bool ok;
  if constexpr (kF32) ok = Op::pack_weights(geo, f, biasf, dst, bytes).ok();
  else ok = Op::pack_weights(geo, f, bias32, kInputZp, dst, bytes).ok();
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
#ifdef DW_GEMM
/// Runs gemm_op (conv2d: the input zero point is in its packed buffer).
template <class Op = gemm_op> [[gnu::noinline]] void run_gemm(const void* pk, T* dst) {
  bool ok;
  if constexpr (kF32) ok = Op::run(geo, in, pk, dst, clamp, workspace, Op::workspace_bytes(geo)).ok();
  else ok = Op::run(geo, in, pk, dst, stage, workspace, Op::workspace_bytes(geo)).ok();
  if (!ok) std::abort();
}
#endif

inline std::int64_t env_int(const char* name, std::int64_t dflt) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::atoi(v) : dflt;
}

void setup() {
  const char* layer = std::getenv("TESSERA_PERF_LAYER");
  const char* path = std::getenv("TESSERA_PERF_PATH");
  const char* l = layer != nullptr ? layer : TESSERA_PERF_DEFAULT_LAYER;
  const char* p = path != nullptr ? path : TESSERA_PERF_DEFAULT_PATH;
  const bool d = std::strcmp(l, "d") == 0, m = std::strcmp(l, "m") == 0, n = std::strcmp(l, "n") == 0;
  const bool v = std::strcmp(l, "v") == 0, w = std::strcmp(l, "w") == 0;
  use_unipass = std::strcmp(p, "unipass") == 0;
  use_min_workspace = std::strcmp(p, "portable") == 0;
  use_gemm = std::strcmp(p, "gemm") == 0;
  const std::int64_t mn = env_int("TESSERA_PERF_M", TESSERA_PERF_DEFAULT_M);
  const std::int64_t k = n ? env_int("TESSERA_PERF_K", TESSERA_PERF_DEFAULT_K) : v || w ? 5 : 3;
  const std::int64_t c = d ? 64 : m ? 16 : n ? 1 : env_int("TESSERA_PERF_C", 32);
  if (c < 1 || c > static_cast<std::int64_t>(kMaxC)) std::abort();  // more: build with -DTESSERA_PERF_MAXC
  const std::int64_t s = d || w ? 2 : n ? env_int("TESSERA_PERF_S", TESSERA_PERF_DEFAULT_S) : 1;
  if (k * k > 25 || mn < 1 || mn > static_cast<std::int64_t>(kMaxC)) std::abort();
  const tessera::conv_shape sh{.in_h = kHW, .in_w = kHW, .in_c = c, .out_c = m ? 4 * c : n ? mn : c, .kernel_h = k,
                               .kernel_w = k, .stride_h = s, .stride_w = s};
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
#ifdef DW_GEMM
  if (use_gemm) {
    if (geo.in_c != 1) std::abort();
    const std::size_t taps = geo.taps(), oc = geo.out_c;
    for (std::size_t t = 0; t < taps; ++t)
      for (std::size_t o = 0; o < oc; ++o) filt_ohwi[o * taps + t] = filt[t * oc + o];
    pack<gemm_op>(packed, sizeof(packed), filt_ohwi);
    return;
  }
#endif
  if (use_gemm) std::abort();  // the driver has no DW_GEMM
  if (use_unipass) pack<unipass_op>(packed, sizeof(packed));
  else pack<row_op>(packed, sizeof(packed));
}

int check() {
  pack<ref_op>(packed_ref, sizeof(packed_ref));
  use_min_workspace = false;
  run<ref_op>(packed_ref, ref);
  // fp32 through the GEMM sums the taps in another order than the depthwise kernels: a bound then.
  for (std::size_t i = 0; i < geo.out_elems(); ++i)
    if (use_gemm && kF32 ? !(std::fabs(double(out[i]) - double(ref[i])) <= 1e-4) : !(out[i] == ref[i])) return 1;
  return 0;
}

std::size_t elements() { return geo.out_elems() * geo.taps(); }
}  // namespace tessera_perf

TESSERA_PERF_KERNEL {
#ifdef DW_GEMM
  if (tessera_perf::use_gemm) {
    tessera_perf::run_gemm(tessera_perf::packed, tessera_perf::out);
    return;
  }
#endif
  if (tessera_perf::use_unipass) tessera_perf::run<tessera_perf::unipass_op>(tessera_perf::packed, tessera_perf::out);
  else tessera_perf::run<tessera_perf::row_op>(tessera_perf::packed, tessera_perf::out);
}
