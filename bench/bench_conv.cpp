// Convolution layers of MobileNetV1 (224, batch 1, NHWC) in fp32 and int8: tessera's operators with
// the native tag's default kernels against peers in the same binary, all on one thread:
//   tessera        conv2d_f32<> / conv2d_s8<> (regular layers) or depthwise_conv2d_f32<> /
//                  depthwise_conv2d_s8<> (depthwise layers); weights packed once outside the timed
//                  loop, workspace_bytes(g) of workspace; s8 with a per-channel output stage
//   tessera_avx2   in an AVX-512 VNNI build (-march=x86-64-v4 -mavx512vnni), regular and transposed
//                  layers: the same operator on the simd tag (AVX2 GEMMs), for before/after in one run
//   tessera_panel  fp32 regular layers where conv2d_f32<> picks another algorithm than the gathered
//                  panel (layer (a) in an AVX-512 build: strided_gemm): the same operator and kernel
//                  with conv_algorithm::panel_gemm and workspace_bytes(g, panel_gemm), the former path
//   tessera_gather layer (a) only: detail::gather_panel alone, over every panel as conv_drive runs
//                  it (same panel rows from the panel path's workspace, same fill): the panel copy's
//                  share of the panel path's time
//   tessera_min_ws depthwise layers whose workspace_bytes(g) buys a faster path (the padded-row
//                  cache: int8 at stride 1, fp32 on narrow rows and 512-channel pitches; multiplier
//                  > 1): the same operator with
//                  min_workspace_bytes(g) of workspace (multiplier 1: no padded-row cache, edge pixels
//                  and padded rows on tap pointers and the unipass kernel, interior pixels on the row
//                  kernel; multiplier > 1: the portable scalar loop, tessera's only path before the
//                  expanded rows)
//   onednn         oneDNN (2.6 in Debian 12) convolution_forward (forward_inference, direct), src and
//                  dst NHWC, weights in the layout oneDNN picks (format_tag::any, reordered once),
//                  depthwise as groups = channels; f32 with f32 bias; s8 with s32 bias, per-channel
//                  output scales (mask 1 << 1), src and dst zero points; one OpenMP thread (peers.hpp)
//   xnnpack        Debian's XNNPACK (2022-02-16 snapshot) xnn_create_convolution2d_nhwc_f32, or _qc8
//                  (per-channel int8) for s8; depthwise as groups = channels with
//                  XNN_FLAG_DEPTHWISE_CONVOLUTION (HWGo filter = TFLite's [1][KH][KW][C]); explicit
//                  padding equal to TFLite SAME; xnn_setup + xnn_run per call, null threadpool
// Layers (TFLite SAME padding):
//   a  3x3 stride 2, 224x224x3 -> 112x112x32     b  depthwise 3x3 stride 1, 112x112x32
//   c  1x1, 56x56x128 -> 128                     d  depthwise 3x3 stride 2, 112x112x64 -> 56x56x64
//   e  depthwise 3x3 stride 1, 14x14x512             p  depthwise 3x3 stride 1, 56x56x128
//   q  depthwise 3x3 stride 1, 28x28x256             r  depthwise 3x3 stride 1, 7x7x1024
//   m  depthwise 3x3 stride 1, 56x56x16 with depth multiplier 4 -> 56x56x64 (not in MobileNetV1)
//   n  depthwise 3x3 stride 1, 112x112x1 with depth multiplier 32 (in_c = 1: a first layer)
//   o  depthwise 5x5 stride 1, 56x56x8 with depth multiplier 2 (the expanded-row ring, unipass kernel)
//   v  depthwise 5x5 stride 1, 28x28x240          w  depthwise 5x5 stride 2, 56x56x144 -> 28x28x144
//   x  depthwise 5x5 stride 1, 14x14x672          (EfficientNet-B0's 5x5 depthwise layers)
// and two transposed convolutions (TFLite TRANSPOSE_CONV, SAME, 2x upsampling of a segmentation
// decoder): tessera's transpose_conv2d_f32<> / transpose_conv2d_s8<>, oneDNN's deconvolution_forward
// (deconvolution_direct) and XNNPACK's xnn_create_deconvolution2d_nhwc_f32 (fp32 only: its qs8 form
// has one kernel scale); a peer that cannot build the layer is reported as skipped:
//   t  4x4 stride 2, 28x28x64 -> 56x56x32        u  3x3 stride 2, 28x28x64 -> 56x56x32
// Their GFLOP/s / Gop/s and GMAC/s count useful MACs only (input pixel x tap pairs that land inside
// the output, x in_c x out_c), not the out_pixels * out_c * KH * KW * in_c of a gather over every tap.
// Names: conv_<f32|s8>/<layer>/<contender>. Counters: GFLOP/s or Gop/s (2 ops per MAC; only the
// MACs of the layer, padding taps included as TFLite counts them: out_pixels * out_c * KH * KW *
// in_c / groups), %peak (of PERF.md's one-core peaks: fp32 99.6 GFLOP/s, int8 2 x 97.6 Gop/s),
// GB/s (input + output + filter bytes once per call: the memory-bound view of depthwise), exact%
// (s8: share of outputs identical to the reference).
// Checks, once per contender before timing: fp32 against an fp64 direct convolution with a
// rounding bound; s8 against the exact int32 accumulators of a direct convolution (padding taps
// contribute 0, i.e. read the input zero point, as TFLite) requantized by tessera::requantize_one
// (TFLite's MBQM): tessera must match exactly, the peers (which requantize in float) within 1.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tessera/ops/conv2d.hpp>
#include <tessera/ops/depthwise_conv2d.hpp>
#include <tessera/tessera.hpp>
#include <unordered_map>
#include <vector>

#include "bench_support.hpp"
#include "conv_macs.hpp"
#include "peers.hpp"

namespace {

namespace tb = tessera_bench;
using namespace tessera;
using tb::macs;

constexpr double kPeakGflops = 99.6;       ///< PERF.md: fp32 FMA peak of one core
constexpr double kPeakGops = 2.0 * 97.6;   ///< PERF.md: exact int8 AVX2 MAC peak, 2 ops per MAC
constexpr std::int32_t kInputZp = -5, kOutputZp = -3;

struct layer {
  const char* name;
  bool depthwise;
  std::int64_t in_hw, in_c, out_c, k, stride;
  bool transposed = false;
  conv_geometry geometry() const {
    if (transposed) {
      transpose_conv_shape t;
      t.in_h = t.in_w = in_hw;
      t.out_h = t.out_w = in_hw * stride;
      t.in_c = in_c;
      t.out_c = out_c;
      t.kernel_h = t.kernel_w = k;
      t.stride_h = t.stride_w = stride;
      conv_geometry g;
      if (!make_transpose_conv_geometry(t, padding::same, g).ok()) std::abort();
      return g;
    }
    conv_shape s;
    s.in_h = s.in_w = in_hw;
    s.in_c = in_c;
    s.out_c = out_c;
    s.kernel_h = s.kernel_w = k;
    s.stride_h = s.stride_w = stride;
    s.groups = depthwise ? in_c : 1;
    conv_geometry g;
    if (!make_conv_geometry(s, padding::same, g).ok()) std::abort();
    return g;
  }
};

constexpr layer kLayers[] = {
    {"a_3x3s2_224x224x3_32", false, 224, 3, 32, 3, 2},
    {"b_dw3x3s1_112x112x32", true, 112, 32, 32, 3, 1},
    {"c_1x1_56x56x128_128", false, 56, 128, 128, 1, 1},
    {"d_dw3x3s2_112x112x64", true, 112, 64, 64, 3, 2},
    {"e_dw3x3s1_14x14x512", true, 14, 512, 512, 3, 1},
    {"p_dw3x3s1_56x56x128", true, 56, 128, 128, 3, 1},
    {"q_dw3x3s1_28x28x256", true, 28, 256, 256, 3, 1},
    {"r_dw3x3s1_7x7x1024", true, 7, 1024, 1024, 3, 1},
    {"m_dw3x3s1_56x56x16_m4", true, 56, 16, 64, 3, 1},
    {"n_dw3x3s1_112x112x1_m32", true, 112, 1, 32, 3, 1},
    {"o_dw5x5s1_56x56x8_m2", true, 56, 8, 16, 5, 1},
    {"v_dw5x5s1_28x28x240", true, 28, 240, 240, 5, 1},
    {"w_dw5x5s2_56x56x144", true, 56, 144, 144, 5, 2},
    {"x_dw5x5s1_14x14x672", true, 14, 672, 672, 5, 1},
    {"t_tconv4x4s2_28x28x64_32", false, 28, 64, 32, 4, 2, true},
    {"u_tconv3x3s2_28x28x64_32", false, 28, 64, 32, 3, 2, true},
};
constexpr std::size_t kNumLayers = sizeof(kLayers) / sizeof(kLayers[0]);

/// Filter elements: OHWI (out_c * depth) for conv, KH * KW * C for depthwise (depth() = taps there).
std::size_t filter_elems(const conv_geometry& g) { return g.out_c * g.depth(); }

/// Inputs of one layer, both types, and the references.
struct inputs {
  conv_geometry g;
  // fp32 (the input 64-byte aligned, as every other input and output here: from a std::vector it
  // sat 16 bytes past a line, and every 64-byte load of it straddled two lines)
  tb::buffer<float> xf;
  std::vector<float> wf, bf;
  std::vector<double> ref, mag;  ///< fp64 direct result (with bias) and sum |x w| + |bias|
  // int8
  tb::buffer<std::int8_t> xq;
  std::vector<std::int8_t> wq;
  std::vector<std::int32_t> bq, acc;   ///< bias, exact accumulators (bias + sum (x - zp) w)
  std::vector<std::int32_t> mult, shift;
  std::vector<float> real;             ///< the per-channel factors as the multipliers represent them
  output_stage<requant::per_channel> stage() const { return {{mult.data(), shift.data()}, kOutputZp, -128, 127}; }
};

/// Direct convolution (TFLite's loop): filter index of (o, ky, kx, c) and input channel of o, c.
/// Transposed geometries: TFLite's transpose_conv scatter (oy = iy*stride - pad + ky).
template <class F> void direct(const conv_geometry& g, F&& tap) {
  const std::size_t icg = g.group_in_c(), ocg = g.group_out_c();
  if (g.transposed) {
    for (std::size_t iy = 0; iy < g.in_h; ++iy)
      for (std::size_t ix = 0; ix < g.in_w; ++ix)
        for (std::size_t ky = 0; ky < g.kernel_h; ++ky)
          for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
            const std::int64_t oy = static_cast<std::int64_t>(iy * g.stride_h + ky) - static_cast<std::int64_t>(g.pad_top);
            const std::int64_t ox = static_cast<std::int64_t>(ix * g.stride_w + kx) - static_cast<std::int64_t>(g.pad_left);
            if (oy < 0 || ox < 0 || oy >= static_cast<std::int64_t>(g.out_h) || ox >= static_cast<std::int64_t>(g.out_w))
              continue;
            const std::size_t pix = (iy * g.in_w + ix) * g.in_c;
            for (std::size_t o = 0; o < g.out_c; ++o)
              for (std::size_t c = 0; c < g.in_c; ++c)
                tap((static_cast<std::size_t>(oy) * g.out_w + static_cast<std::size_t>(ox)) * g.out_c + o, pix + c,
                    ((o * g.kernel_h + ky) * g.kernel_w + kx) * g.in_c + c);
          }
    return;
  }
  for (std::size_t oy = 0; oy < g.out_h; ++oy)
    for (std::size_t ox = 0; ox < g.out_w; ++ox)
      for (std::size_t o = 0; o < g.out_c; ++o)
        for (std::size_t ky = 0; ky < g.kernel_h; ++ky)
          for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
            const std::int64_t iy = static_cast<std::int64_t>(oy * g.stride_h + ky) - static_cast<std::int64_t>(g.pad_top);
            const std::int64_t ix = static_cast<std::int64_t>(ox * g.stride_w + kx) - static_cast<std::int64_t>(g.pad_left);
            if (iy < 0 || ix < 0 || iy >= static_cast<std::int64_t>(g.in_h) || ix >= static_cast<std::int64_t>(g.in_w))
              continue;  // padding: contributes nothing
            const std::size_t out = (oy * g.out_w + ox) * g.out_c + o;
            const std::size_t pix = (static_cast<std::size_t>(iy) * g.in_w + static_cast<std::size_t>(ix)) * g.in_c;
            for (std::size_t c = 0; c < icg; ++c) {
              const std::size_t ic = (o / ocg) * icg + c;
              // OHWI for conv; [ky][kx][o] for depthwise (icg = 1, ocg = depth multiplier)
              const std::size_t wi = g.groups == g.in_c && icg == 1
                                         ? (ky * g.kernel_w + kx) * g.out_c + o
                                         : ((o * g.kernel_h + ky) * g.kernel_w + kx) * icg + c;
              tap(out, pix + ic, wi);
            }
          }
}

const inputs& get_inputs(std::size_t li) {
  static std::map<std::size_t, std::unique_ptr<inputs>> cache;
  auto& slot = cache[li];
  if (slot) return *slot;
  slot = std::make_unique<inputs>();
  auto& in = *slot;
  const conv_geometry g = kLayers[li].geometry();
  in.g = g;
  tb::rng r(0xC0417 + li);
  const std::size_t nx = g.in_elems(), nw = filter_elems(g), ny = g.out_elems();
  in.xf = tb::buffer<float>(nx);
  in.wf.resize(nw);
  in.bf.resize(g.out_c);
  for (std::size_t i = 0; i < nx; ++i) in.xf[i] = static_cast<float>(r.range(-1000, 1000)) / 1000.0f;
  for (auto& v : in.wf) v = static_cast<float>(r.range(-1000, 1000)) / 1000.0f;
  for (auto& v : in.bf) v = static_cast<float>(r.range(-1000, 1000)) / 1000.0f;
  in.ref.assign(ny, 0.0);
  in.mag.assign(ny, 0.0);
  for (std::size_t i = 0; i < ny; ++i) {
    in.ref[i] = in.bf[i % g.out_c];
    in.mag[i] = std::fabs(in.ref[i]);
  }
  direct(g, [&](std::size_t o, std::size_t x, std::size_t w) {
    const double p = static_cast<double>(in.xf[x]) * static_cast<double>(in.wf[w]);
    in.ref[o] += p;
    in.mag[o] += std::fabs(p);
  });
  in.xq = tb::buffer<std::int8_t>(nx);
  in.wq.resize(nw);
  in.bq.resize(g.out_c);
  for (std::size_t i = 0; i < nx; ++i) in.xq[i] = static_cast<std::int8_t>(r.range(-128, 127));
  for (auto& v : in.wq) v = static_cast<std::int8_t>(r.range(-127, 127));
  for (auto& v : in.bq) v = static_cast<std::int32_t>(r.range(-20000, 20000));
  in.acc.assign(ny, 0);
  for (std::size_t i = 0; i < ny; ++i) in.acc[i] = in.bq[i % g.out_c];
  direct(g, [&](std::size_t o, std::size_t x, std::size_t w) {
    in.acc[o] += (std::int32_t{in.xq[x]} - kInputZp) * std::int32_t{in.wq[w]};
  });
  // acc standard deviation ~ 74 * 73 * sqrt(depth): map about +-1.5 sigma onto +-127 (a few clamp).
  const double base = 85.0 / (74.0 * 73.0 * std::sqrt(static_cast<double>(g.depth())));
  in.mult.resize(g.out_c);
  in.shift.resize(g.out_c);
  in.real.resize(g.out_c);
  for (std::size_t j = 0; j < g.out_c; ++j) {
    quantized_multiplier q;
    (void)quantize_multiplier(base * (0.75 + 0.5 * static_cast<double>(r.range(0, 1000)) / 1000.0), q);
    in.mult[j] = q.multiplier;
    in.shift[j] = q.shift;
    in.real[j] = static_cast<float>(std::ldexp(static_cast<double>(q.multiplier), q.shift - 31));
  }
  return in;
}

template <class T> tb::buffer<T>& get_output(std::size_t li) {
  static std::map<std::size_t, tb::buffer<T>> cache;
  auto& b = cache[li];
  const std::size_t n = kLayers[li].geometry().out_elems();
  if (b.size() != n) b = tb::buffer<T>(n);
  return b;
}

std::string where(const conv_geometry& g, std::size_t i) {
  const std::size_t c = i % g.out_c, px = i / g.out_c;
  return "out[" + std::to_string(px / g.out_w) + "][" + std::to_string(px % g.out_w) + "][" + std::to_string(c) + "]";
}

/// fp32: |y - ref| <= 4 (depth + 2) 2^-24 (sum |x w| + |bias|).
bool check_f32(benchmark::State& state, std::size_t li, const float* y, const std::string& who) {
  const auto& in = get_inputs(li);
  const double u = std::ldexp(1.0, -24);
  for (std::size_t i = 0; i < in.ref.size(); ++i) {
    const double tol = 4.0 * static_cast<double>(in.g.depth() + 2) * u * in.mag[i] + 1e-30;
    if (!(std::fabs(static_cast<double>(y[i]) - in.ref[i]) <= tol)) {
      tb::fail(state, who + " " + kLayers[li].name + ": " + where(in.g, i) + " = " + std::to_string(y[i]) +
                          ", reference " + std::to_string(in.ref[i]));
      return false;
    }
  }
  return true;
}

/// s8: |y - requantize_one(acc)| <= tol; the share of identical outputs in percent, or -1 on failure.
double check_s8(benchmark::State& state, std::size_t li, const std::int8_t* y, int tol, const std::string& who) {
  const auto& in = get_inputs(li);
  const auto st = in.stage();
  std::size_t same = 0;
  for (std::size_t i = 0; i < in.acc.size(); ++i) {
    const int want = requantize_one<std::int8_t>(in.acc[i], st, i % in.g.out_c);
    if (std::abs(y[i] - want) > tol) {
      tb::fail(state, who + " " + kLayers[li].name + ": " + where(in.g, i) + " = " + std::to_string(y[i]) +
                          ", reference " + std::to_string(want));
      return -1.0;
    }
    same += y[i] == want;
  }
  return 100.0 * static_cast<double>(same) / static_cast<double>(in.acc.size());
}

template <class T> void set_counters(benchmark::State& state, std::size_t li, double exact) {
  const conv_geometry g = kLayers[li].geometry();
  const double gop = 2.0 * macs(g) * 1e-9;
  constexpr bool f32 = std::is_same_v<T, float>;
  const double bytes = static_cast<double>((g.in_elems() + g.out_elems() + filter_elems(g)) * sizeof(T));
  state.counters[f32 ? "GFLOP/s" : "Gop/s"] = benchmark::Counter(gop, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["%peak"] =
      benchmark::Counter(gop * 100.0 / (f32 ? kPeakGflops : kPeakGops), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  if (g.transposed)
    state.counters["GMAC/s"] = benchmark::Counter(macs(g) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  if (!f32) state.counters["exact%"] = exact;
}

template <class Call> void timed(benchmark::State& state, Call&& call) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(call());
    benchmark::ClobberMemory();
  }
}

// ---- tessera ---------------------------------------------------------------------------------------
/// The operator of a layer: conv2d or depthwise, f32 or s8, default (native) kernels.
/// `Tag`: arch::native, or arch::simd for the AVX2 rows of an AVX-512 VNNI build.
template <class T, bool Dw, class Tag> struct op_of;
template <class Tag> struct op_of<float, false, Tag> { using type = conv2d_f32<Tag>; };
template <class Tag> struct op_of<float, true, Tag> { using type = depthwise_conv2d_f32<Tag>; };
template <class Tag> struct op_of<std::int8_t, false, Tag> { using type = conv2d_s8<Tag>; };
template <class Tag> struct op_of<std::int8_t, true, Tag> { using type = depthwise_conv2d_s8<Tag>; };

template <class T, bool Dw, bool MinWs = false, class Tag = arch::native, bool Panel = false>
void bm_tessera(benchmark::State& state, std::size_t li, std::shared_ptr<double> checked) {
  using op = typename op_of<T, Dw, Tag>::type;
  constexpr bool f32 = std::is_same_v<T, float>;
  static_assert(!Panel || (f32 && !Dw), "the panel_gemm row is fp32 conv2d only");
  const std::string who = std::string("tessera ") + op::kernel::name;
  if (tb::skip_if_unavailable<typename op::kernel>(state)) return;
  const auto& in = get_inputs(li);
  const conv_geometry& g = in.g;
  auto& y = get_output<T>(li);
  const std::size_t pbytes = op::packed_weights_bytes(g);
  std::size_t wbytes = op::workspace_bytes(g);
  if constexpr (MinWs) wbytes = op::min_workspace_bytes(g);
  if constexpr (Panel) wbytes = op::workspace_bytes(g, conv_algorithm::panel_gemm);
  tb::buffer<std::int32_t> packed(pbytes / 4 + 16), ws(wbytes / 4 + 16);
  status st;
  if constexpr (f32) st = op::pack_weights(g, in.wf.data(), in.bf.data(), packed.data(), pbytes);
  else st = op::pack_weights(g, in.wq.data(), in.bq.data(), kInputZp, packed.data(), pbytes);
  if (!st.ok()) {
    tb::fail(state, who + ": pack_weights failed");
    return;
  }
  const auto stage = in.stage();
  auto call = [&] {
    if constexpr (Panel)
      return op::run(g, in.xf.data(), packed.data(), y.data(), f32_clamp{}, ws.data(), wbytes, conv_algorithm::panel_gemm).ok();
    else if constexpr (f32) return op::run(g, in.xf.data(), packed.data(), y.data(), f32_clamp{}, ws.data(), wbytes).ok();
    else if constexpr (Dw) return op::run(g, in.xq.data(), packed.data(), y.data(), stage, kInputZp, ws.data(), wbytes).ok();
    else return op::run(g, in.xq.data(), packed.data(), y.data(), stage, ws.data(), wbytes).ok();
  };
  if constexpr (Dw) {
    // The row kernel that serves the layer's interior pixels (3x3 or 5x5), if any.
    std::string pitched;  // fp32: channel groups on the pitched row kernel (given workspace_bytes), or its rows
    if constexpr (requires { op::uses_groups(g); }) {
      if (op::uses_groups(g) && wbytes >= op::workspace_bytes(g))
        pitched = std::string("channel groups on ") + op::group_kernel::name;
      else if (op::uses_pitched_rows(g))
        pitched = std::string(op::kernel::name) + " + " + op::group_kernel::name +
                  (op::uses_paired_rows(g) ? " (two rows per call)" : "");
    }
    if (!pitched.empty()) state.SetLabel(pitched);
    else if (op::uses_rows5(g)) state.SetLabel(std::string(op::kernel::name) + " + " + op::row5_kernel::name);
    else state.SetLabel(std::string(op::kernel::name) + " + " + op::row_kernel::name);
  } else if constexpr (Panel) state.SetLabel(std::string(op::kernel::name) + ", panel_gemm");
  else if constexpr (f32)
    state.SetLabel(std::string(op::kernel::name) + (op::algorithm(g) == conv_algorithm::strided_gemm ? ", strided_gemm" : ""));
  else state.SetLabel(op::kernel::name);
  if (*checked < 0) {
    if (!call()) {
      tb::fail(state, who + ": run failed");
      return;
    }
    if constexpr (f32) *checked = check_f32(state, li, y.data(), who) ? 100.0 : -1.0;
    else *checked = check_s8(state, li, y.data(), 0, who);
    if (*checked < 0) return;
  }
  timed(state, call);
  set_counters<T>(state, li, *checked);
}

/// Only the panel gather of a regular (panel_gemm) layer, as conv_drive runs it: every block of
/// panel_rows(workspace_bytes(g)) output pixels, each group, same fill (0.0f / input zero point).
template <class T> void bm_gather(benchmark::State& state, std::size_t li) {
  using op = typename op_of<T, false, arch::native>::type;
  const auto& in = get_inputs(li);
  const conv_geometry& g = in.g;
  std::size_t wbytes = op::workspace_bytes(g);
  if constexpr (std::is_same_v<T, float>) wbytes = op::workspace_bytes(g, conv_algorithm::panel_gemm);
  const std::size_t rows = detail::panel_rows(g, sizeof(T), wbytes);
  if (rows == 0) {
    state.SkipWithError("skipped: pointwise layer, no gather");
    return;
  }
  tb::buffer<T> panel(wbytes / sizeof(T) + 64);
  const T* x;
  T fill;
  if constexpr (std::is_same_v<T, float>) {
    x = in.xf.data();
    fill = 0.0f;
  } else {
    x = in.xq.data();
    fill = static_cast<T>(kInputZp);
  }
  const auto ay = detail::axis_y(g), ax = detail::axis_x(g);
  const std::size_t m = g.out_pixels(), icg = g.group_in_c();
  state.SetLabel("gather_panel only, " + std::to_string(rows) + " rows x " + std::to_string(g.depth()) + " per panel");
  for (auto _ : state) {
    detail::gather_plan plan;  // once per call, as conv_drive prepares it
    plan.prepare<T>(g.in_c, icg, g.kernel_h, g.kernel_w, ay, ax);
    for (std::size_t p0 = 0; p0 < m; p0 += rows) {
      const std::size_t r = std::min(rows, m - p0);
      for (std::size_t grp = 0; grp < g.groups; ++grp) {
        detail::gather_panel(panel.data(), p0, r, x, g.in_h, g.in_w, g.in_c, grp * icg, icg, g.out_h, g.out_w,
                             g.kernel_h, g.kernel_w, ay, ax, fill, &plan);
        benchmark::DoNotOptimize(panel.data());
        benchmark::ClobberMemory();
      }
    }
  }
  set_counters<T>(state, li, 100.0);
  // Panel bytes written per call (the copy's own traffic), next to the layer's GB/s.
  state.counters["panelGB/s"] = benchmark::Counter(static_cast<double>(m * g.groups * g.depth() * sizeof(T)) * 1e-9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
}

// ---- oneDNN ---------------------------------------------------------------------------------------
#if TESSERA_BENCH_HAS_ONEDNN
template <class T> void bm_onednn(benchmark::State& state, std::size_t li, std::shared_ptr<double> checked) {
  constexpr bool f32 = std::is_same_v<T, float>;
  const auto& in = get_inputs(li);
  const conv_geometry& g = in.g;
  auto& y = get_output<T>(li);
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  using dims = dnnl::memory::dims;
  auto d = [](std::size_t v) { return static_cast<dnnl::memory::dim>(v); };
  const dt xt = f32 ? dt::f32 : dt::s8, bt = f32 ? dt::f32 : dt::s32;
  const bool dw = kLayers[li].depthwise;
  try {
    dnnl::engine eng(dnnl::engine::kind::cpu, 0);
    dnnl::stream strm(eng);
    const dnnl::memory::desc x_md({1, d(g.in_c), d(g.in_h), d(g.in_w)}, xt, tag::nhwc),
        y_md({1, d(g.out_c), d(g.out_h), d(g.out_w)}, xt, tag::nhwc), b_md({d(g.out_c)}, bt, tag::x);
    // Logical weights: OIHW, or GOIHW with G = in_c, O = multiplier, I = 1; the user's buffers are OHWI
    // and [KH][KW][out_c] (o = g * multiplier + m).
    const std::size_t dm = g.out_c / g.in_c;
    const dims w_dims = dw ? dims{d(g.in_c), d(dm), 1, d(g.kernel_h), d(g.kernel_w)}
                           : dims{d(g.out_c), d(g.in_c), d(g.kernel_h), d(g.kernel_w)};
    const dnnl::memory::desc w_any(w_dims, xt, tag::any);
    const dnnl::memory::desc w_user_md =
        dw ? dnnl::memory::desc(w_dims, xt, dims{d(dm), 1, 1, d(g.kernel_w * g.out_c), d(g.out_c)})
           : dnnl::memory::desc(w_dims, xt, tag::ohwi);
    dnnl::primitive_attr attr;
    if constexpr (!f32) {
      attr.set_output_scales(1 << 1, std::vector<float>(in.real.begin(), in.real.end()));
      attr.set_zero_points(DNNL_ARG_SRC, 0, {kInputZp});
      attr.set_zero_points(DNNL_ARG_DST, 0, {kOutputZp});
    }
    dnnl::memory::desc w_md;
    dnnl::primitive prim;
    if (g.transposed) {
      // deconvolution_forward: dst(oy) += src(iy) * w(oc, ic, ky, kx) with oy = iy*stride - pad_l + ky,
      // TFLite's scatter; pad_r from out = (in - 1) * stride + k - pad_l - pad_r.
      const auto pad_r = [&](std::size_t in, std::size_t k, std::size_t s, std::size_t pl, std::size_t out) {
        return static_cast<dnnl::memory::dim>((in - 1) * s + k) - d(pl) - d(out);
      };
      const dnnl::deconvolution_forward::desc desc(
          dnnl::prop_kind::forward_inference, dnnl::algorithm::deconvolution_direct, x_md, w_any, b_md, y_md,
          {d(g.stride_h), d(g.stride_w)}, {d(g.pad_top), d(g.pad_left)},
          {pad_r(g.in_h, g.kernel_h, g.stride_h, g.pad_top, g.out_h), pad_r(g.in_w, g.kernel_w, g.stride_w, g.pad_left, g.out_w)});
      const dnnl::deconvolution_forward::primitive_desc pd(desc, attr, eng);
      w_md = pd.weights_desc();
      prim = dnnl::deconvolution_forward(pd);
      state.SetLabel(tb::onednn_impl(pd));
    } else {
      const dnnl::convolution_forward::desc desc(
          dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, x_md, w_any, b_md, y_md,
          {d(g.stride_h), d(g.stride_w)}, {d(g.pad_top), d(g.pad_left)}, {d(g.pad_bottom), d(g.pad_right)});
      const dnnl::convolution_forward::primitive_desc pd(desc, attr, eng);
      w_md = pd.weights_desc();
      prim = dnnl::convolution_forward(pd);
      state.SetLabel(tb::onednn_impl(pd));
    }
    const void* w_src = f32 ? static_cast<const void*>(in.wf.data()) : static_cast<const void*>(in.wq.data());
    const void* b_src = f32 ? static_cast<const void*>(in.bf.data()) : static_cast<const void*>(in.bq.data());
    const void* x_src = f32 ? static_cast<const void*>(in.xf.data()) : static_cast<const void*>(in.xq.data());
    dnnl::memory w_user(w_user_md, eng, const_cast<void*>(w_src));
    dnnl::memory w_mem(w_md, eng);
    dnnl::reorder(w_user, w_mem).execute(strm, w_user, w_mem);
    strm.wait();
    dnnl::memory x_mem(x_md, eng, const_cast<void*>(x_src)), y_mem(y_md, eng, y.data()),
        b_mem(b_md, eng, const_cast<void*>(b_src));
    const std::unordered_map<int, dnnl::memory> args = {
        {DNNL_ARG_SRC, x_mem}, {DNNL_ARG_WEIGHTS, w_mem}, {DNNL_ARG_BIAS, b_mem}, {DNNL_ARG_DST, y_mem}};
    auto call = [&] {
      prim.execute(strm, args);
      strm.wait();
      return true;
    };
    if (*checked < 0) {
      call();
      if constexpr (f32) *checked = check_f32(state, li, y.data(), "onednn") ? 100.0 : -1.0;
      else *checked = check_s8(state, li, y.data(), 1, "onednn");
      if (*checked < 0) return;
    }
    timed(state, call);
  } catch (const dnnl::error& e) {
    if (g.transposed) state.SkipWithError((std::string("skipped: onednn deconvolution: ") + e.what()).c_str());
    else tb::fail(state, std::string("onednn: ") + e.what());
    return;
  }
  set_counters<T>(state, li, *checked);
}
#endif

// ---- XNNPACK --------------------------------------------------------------------------------------
#if TESSERA_BENCH_HAS_XNNPACK
template <class T> void bm_xnnpack(benchmark::State& state, std::size_t li, std::shared_ptr<double> checked) {
  constexpr bool f32 = std::is_same_v<T, float>;
  const char* who = f32 ? "xnnpack" : "xnnpack_qc8";
  if (!tb::xnnpack_ready()) {
    state.SkipWithError("skipped: xnn_initialize failed (CPU not supported)");
    return;
  }
  const auto& in = get_inputs(li);
  const conv_geometry& g = in.g;
  auto& y = get_output<T>(li);
  const bool dw = kLayers[li].depthwise;
  const auto u = [](std::size_t v) { return static_cast<std::uint32_t>(v); };
  const std::uint32_t groups = dw ? u(g.in_c) : 1u;
  const std::size_t gic = dw ? 1 : g.in_c, goc = dw ? g.out_c / g.in_c : g.out_c;  // HWGo filter
  const std::uint32_t flags = dw ? XNN_FLAG_DEPTHWISE_CONVOLUTION : 0u;
  xnn_operator_t op = nullptr;
  xnn_status created;
  // Transposed layers: xnn_create_deconvolution2d_nhwc_f32 (OHWI kernel, TFLite's scatter; padding
  // bottom/right from out = (in - 1) * stride + k - top - bottom). Its qs8 form takes one kernel
  // scale, so the per-channel int8 layer has no XNNPACK peer.
  const auto pad_end = [](std::size_t in, std::size_t k, std::size_t s, std::size_t before, std::size_t out) {
    return static_cast<std::uint32_t>((in - 1) * s + k - before - out);
  };
  if (g.transposed && !f32) {
    state.SkipWithError("skipped: XNNPACK's qs8 deconvolution has one kernel scale (this layer is per-channel)");
    return;
  }
  if (g.transposed) {
    created = xnn_create_deconvolution2d_nhwc_f32(
        u(g.pad_top), pad_end(g.in_w, g.kernel_w, g.stride_w, g.pad_left, g.out_w),
        pad_end(g.in_h, g.kernel_h, g.stride_h, g.pad_top, g.out_h), u(g.pad_left), u(g.kernel_h), u(g.kernel_w),
        u(g.stride_h), u(g.stride_w), 1, 1, 1, g.in_c, g.out_c, g.in_c, g.out_c, in.wf.data(), in.bf.data(), -INFINITY,
        INFINITY, 0, &op);
  } else if constexpr (f32) {
    created = xnn_create_convolution2d_nhwc_f32(u(g.pad_top), u(g.pad_right), u(g.pad_bottom), u(g.pad_left),
                                                u(g.kernel_h), u(g.kernel_w), u(g.stride_h), u(g.stride_w), 1, 1,
                                                groups, gic, goc, g.in_c, g.out_c, in.wf.data(), in.bf.data(),
                                                -INFINITY, INFINITY, flags, &op);
  } else {
    // Input and output scale 1: the requantization factor is the kernel scale.
    created = xnn_create_convolution2d_nhwc_qc8(u(g.pad_top), u(g.pad_right), u(g.pad_bottom), u(g.pad_left),
                                                u(g.kernel_h), u(g.kernel_w), u(g.stride_h), u(g.stride_w), 1, 1,
                                                groups, gic, goc, g.in_c, g.out_c, static_cast<std::int8_t>(kInputZp),
                                                1.0f, in.real.data(), in.wq.data(), in.bq.data(),
                                                static_cast<std::int8_t>(kOutputZp), 1.0f, -128, 127, flags, &op);
  }
  if (created != xnn_status_success) {
    tb::fail(state, std::string(who) + ": create failed, status " + std::to_string(created));
    return;
  }
  std::unique_ptr<xnn_operator, decltype(&xnn_delete_operator)> owner(op, &xnn_delete_operator);
  auto call = [&] {
    xnn_status st;
    if constexpr (f32) {
      if (g.transposed) st = xnn_setup_deconvolution2d_nhwc_f32(op, 1, g.in_h, g.in_w, 0, 0, in.xf.data(), y.data(), nullptr);
      else st = xnn_setup_convolution2d_nhwc_f32(op, 1, g.in_h, g.in_w, in.xf.data(), y.data(), nullptr);
    } else {
      st = xnn_setup_convolution2d_nhwc_qc8(op, 1, g.in_h, g.in_w, in.xq.data(), y.data(), nullptr);
    }
    return st == xnn_status_success && xnn_run_operator(op, nullptr) == xnn_status_success;
  };
  if (*checked < 0) {
    if (!call()) {
      tb::fail(state, std::string(who) + ": setup or run failed");
      return;
    }
    if constexpr (f32) *checked = check_f32(state, li, y.data(), who) ? 100.0 : -1.0;
    else *checked = check_s8(state, li, y.data(), 1, who);
    if (*checked < 0) return;
  }
  timed(state, call);
  set_counters<T>(state, li, *checked);
}
#endif

// ---- 16x8 depthwise: every kernel of dwconv_qs16_registry -------------------------------------------
// conv_s16/<layer>/<kernel>: depthwise_conv2d_s16<K::arch, K> (int16 activations, int8 weights, int64
// bias: int64 accumulator and MBQM64, per-channel stage, clamp [-32768, 32767]), weights packed once,
// workspace_bytes(g). Checked once per kernel before timing against the exact int64 accumulators of a
// direct convolution requantized by tessera::requantize_one: every output must be identical.
// %peak is of 2 x 67.6 Gop/s (PERF.md: the int16 VPMADDWD MAC peak of one core).
struct s16_layer {
  const char* name;
  std::int64_t in_hw, c, k, stride;
  conv_geometry geometry() const {
    conv_shape s;
    s.in_h = s.in_w = in_hw;
    s.in_c = s.out_c = s.groups = c;
    s.kernel_h = s.kernel_w = k;
    s.stride_h = s.stride_w = stride;
    conv_geometry g;
    if (!make_conv_geometry(s, padding::same, g).ok()) std::abort();
    return g;
  }
};
constexpr s16_layer kS16Layers[] = {
    {"b_dw3x3s1_112x112x32", 112, 32, 3, 1},
    {"p_dw3x3s1_56x56x64", 56, 64, 3, 1},
};
constexpr double kPeakGopsS16 = 2.0 * 67.6;

struct s16_inputs {
  conv_geometry g;
  tb::buffer<std::int16_t> x;
  std::vector<std::int8_t> w;
  std::vector<std::int64_t> bias, acc;  ///< bias, exact accumulators (bias + sum x w)
  std::vector<std::int32_t> mult, shift;
  output_stage<requant::per_channel> stage() const { return {{mult.data(), shift.data()}, 0, -32768, 32767}; }
};

const s16_inputs& get_s16_inputs(std::size_t li) {
  static std::map<std::size_t, std::unique_ptr<s16_inputs>> cache;
  auto& slot = cache[li];
  if (slot) return *slot;
  slot = std::make_unique<s16_inputs>();
  auto& in = *slot;
  const conv_geometry g = kS16Layers[li].geometry();
  in.g = g;
  tb::rng r(0x516 + li);
  in.x = tb::buffer<std::int16_t>(g.in_elems());
  for (std::size_t i = 0; i < g.in_elems(); ++i) in.x[i] = static_cast<std::int16_t>(r.range(-32768, 32767));
  in.w.resize(filter_elems(g));
  for (auto& v : in.w) v = static_cast<std::int8_t>(r.range(-127, 127));
  in.bias.resize(g.out_c);
  for (auto& v : in.bias) v = r.range(-(std::int64_t{1} << 24), std::int64_t{1} << 24);
  in.acc.assign(g.out_elems(), 0);
  for (std::size_t i = 0; i < g.out_elems(); ++i) in.acc[i] = in.bias[i % g.out_c];
  direct(g, [&](std::size_t o, std::size_t x, std::size_t w) { in.acc[o] += std::int64_t{in.x[x]} * in.w[w]; });
  // acc standard deviation ~ 18918 * 73 * sqrt(depth): map about +-1.5 sigma onto +-32767.
  const double base = 21845.0 / (18918.0 * 73.0 * std::sqrt(static_cast<double>(g.depth())));
  in.mult.resize(g.out_c);
  in.shift.resize(g.out_c);
  for (std::size_t j = 0; j < g.out_c; ++j) {
    quantized_multiplier q;
    (void)quantize_multiplier(base * (0.75 + 0.5 * static_cast<double>(r.range(0, 1000)) / 1000.0), q);
    in.mult[j] = q.multiplier;
    in.shift[j] = q.shift;
  }
  return in;
}

template <class K> void bm_s16(benchmark::State& state, std::size_t li) {
  using op = depthwise_conv2d_s16<typename K::arch, K>;
  const std::string who = std::string("tessera ") + K::name;
  if (tb::skip_if_unavailable<K>(state)) return;
  const auto& in = get_s16_inputs(li);
  const conv_geometry& g = in.g;
  tb::buffer<std::int16_t> y(g.out_elems());
  const std::size_t pbytes = op::packed_weights_bytes(g), wbytes = op::workspace_bytes(g);
  tb::buffer<std::int64_t> packed(pbytes / 8 + 8), ws(wbytes / 8 + 8);
  if (!op::pack_weights(g, in.w.data(), in.bias.data(), packed.data(), pbytes).ok()) {
    tb::fail(state, who + ": pack_weights failed");
    return;
  }
  const auto st = in.stage();
  auto call = [&] { return op::run(g, in.x.data(), packed.data(), y.data(), st, ws.data(), wbytes).ok(); };
  state.SetLabel(K::name);
  if (!call()) {
    tb::fail(state, who + ": run failed");
    return;
  }
  for (std::size_t i = 0; i < in.acc.size(); ++i) {
    const std::int16_t want = requantize_one<std::int16_t>(in.acc[i], st, i % g.out_c);
    if (y[i] != want) {
      tb::fail(state, who + " " + kS16Layers[li].name + ": " + where(g, i) + " = " + std::to_string(y[i]) +
                          ", reference " + std::to_string(want));
      return;
    }
  }
  timed(state, call);
  const double gop = 2.0 * macs(g) * 1e-9;
  const double bytes = static_cast<double>((g.in_elems() + g.out_elems()) * 2 + filter_elems(g));
  state.counters["Gop/s"] = benchmark::Counter(gop, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["%peak"] = benchmark::Counter(gop * 100.0 / kPeakGopsS16, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GB/s"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["exact%"] = 100.0;
}

// ---- registration ---------------------------------------------------------------------------------
[[maybe_unused]] const bool registered = [] {
#if TESSERA_BENCH_HAS_ONEDNN
  benchmark::AddCustomContext("onednn_omp_threads", std::to_string(tb::onednn_one_thread()));
#endif
  auto add = [](const std::string& name, auto fn, auto... args) {
    benchmark::RegisterBenchmark(name.c_str(), fn, args..., std::make_shared<double>(-1.0))
        ->Unit(benchmark::kMicrosecond);
  };
  auto per_type = [&](auto type_tag, const char* prefix) {
    using T = typename decltype(type_tag)::type;
    for (std::size_t li = 0; li < kNumLayers; ++li) {
      const std::string p = std::string(prefix) + kLayers[li].name + "/";
      if (kLayers[li].depthwise) {
        add(p + "tessera", bm_tessera<T, true>, li);
        using dw_op = typename op_of<T, true, arch::native>::type;
        const conv_geometry g = kLayers[li].geometry();
        if (dw_op::workspace_bytes(g) > dw_op::min_workspace_bytes(g)) add(p + "tessera_min_ws", bm_tessera<T, true, true>, li);
      } else {
        add(p + "tessera", bm_tessera<T, false>, li);
        if constexpr (std::is_same_v<T, float>) {
          const conv_geometry g = kLayers[li].geometry();
          using f32_op = conv2d_f32<arch::native>;
          if (f32_op::algorithm(g) != conv_algorithm::panel_gemm && f32_op::applies(g, conv_algorithm::panel_gemm))
            add(p + "tessera_panel", bm_tessera<T, false, false, arch::native, true>, li);
        }
#if TESSERA_HAS_AVX512_VNNI
        // int8 GEMMs run VPDPBUSD here, fp32 GEMMs the AVX-512F kernel; the AVX2 kernel of the
        // same binary, for comparison.
        add(p + "tessera_avx2", bm_tessera<T, false, false, arch::simd>, li);
#endif
      }
      if (!kLayers[li].depthwise && !kLayers[li].transposed && !kLayers[li].geometry().is_pointwise())
        benchmark::RegisterBenchmark((p + "tessera_gather").c_str(), bm_gather<T>, li)->Unit(benchmark::kMicrosecond);
#if TESSERA_BENCH_HAS_ONEDNN
      add(p + "onednn", bm_onednn<T>, li);
#endif
#if TESSERA_BENCH_HAS_XNNPACK
      add(p + (std::is_same_v<T, float> ? "xnnpack" : "xnnpack_qc8"), bm_xnnpack<T>, li);
#endif
    }
  };
  per_type(std::type_identity<float>{}, "conv_f32/");
  per_type(std::type_identity<std::int8_t>{}, "conv_s8/");
  for (std::size_t li = 0; li < sizeof(kS16Layers) / sizeof(kS16Layers[0]); ++li)
    tb::for_each_type(kernels::dwconv_qs16_registry{}, [&](auto kt) {
      using K = typename decltype(kt)::type;
      benchmark::RegisterBenchmark((std::string("conv_s16/") + kS16Layers[li].name + "/" + K::name).c_str(), bm_s16<K>, li)
          ->Unit(benchmark::kMicrosecond);
    });
  return true;
}();

}  // namespace
