// int8 GEMM / fully connected: tessera's fully_connected_s8 with the native kernel (and, in an
// AVX-512 VNNI build, the simd tag's AVX2 kernel too)
// (select_t<op::gemm_qs8, arch::native>, weights packed once outside the timed loop) against peers
// in the same binary, all on one thread, C[M][N] = requant(sum_k (A[m][k] - input_zp) W[n][k] + bias[n]):
//   <kernel>:per_channel   tessera, per-channel output stage (TFLite's MBQM, bit-exact)
//   <kernel>:per_tensor    tessera, one multiplier and shift
//   onednn:per_channel     oneDNN (2.6 in Debian 12) matmul, s8 src / s8 weights (layout oneDNN picks,
//                          reordered once) / s32 bias / s8 dst, per-channel output scales (mask 1 << 1),
//                          src and dst zero points as attributes; one OpenMP thread (peers.hpp);
//                          the implementation oneDNN chose is the label
//   xnnpack_qs8:per_tensor XNNPACK (Debian's 2022-02-16 snapshot) xnn_create_fully_connected_nc_qs8
//                          (that version's qs8 fully connected has one kernel scale: per tensor)
//   xnnpack_qc8:per_channel the same snapshot's per-channel int8 operator, a 1x1
//                          xnn_create_convolution2d_nhwc_qc8 over 1 x M pixels (its qs8 fully connected
//                          has no per-channel variant); xnn_setup + xnn_run per call, null threadpool
// Shapes: square 64..1024 (powers of two), MobileNetV1's 1x1 layers (M, N, K) = (pixels, out
// channels, in channels), fully connected at batch 1 (1, 1000, 1024).
// Names: gemm_qs8/<M>x<N>x<K>/<contender>. Counters: Gop/s (2 M N K per call) and %peak, of 2 x the
// 97.6 GMAC/s exact int8 AVX2 peak of one core in shared/guides/PERF.md (a figure for that machine:
// quote ratios between contenders of one run). Every contender's output is checked once against a
// scalar reference before it is timed: tessera must match TFLite's requantization exactly; the
// peers round in float, so they may differ by 1 (the `exact%` counter is their share of identical
// outputs).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <tessera/tessera.hpp>
#include <unordered_map>
#include <vector>

#include "bench_support.hpp"
#include "peers.hpp"

namespace {

namespace tb = tessera_bench;
using namespace tessera;

/// Exact int8 MAC peak of one core (PERF.md), in ops (2 per MAC) per ns.
constexpr double kPeakGops = 2.0 * 97.6;
constexpr std::int32_t kInputZp = -5, kOutputZp = -3;

struct shape {
  std::size_t m, n, k;
  std::string str() const { return std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k); }
  std::size_t key() const noexcept { return (m * 100003 + n) * 100003 + k; }
  double ops() const noexcept { return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k); }
};

constexpr shape kShapes[] = {
    {64, 64, 64},    {128, 128, 128},  {256, 256, 256}, {512, 512, 512}, {1024, 1024, 1024},  // square
    {12544, 64, 32}, {3136, 128, 128}, {784, 256, 256}, {196, 512, 512}, {49, 1024, 1024},    // MobileNetV1 1x1
    {1, 1000, 1024},                                                                          // FC, batch 1
};

/// A (M x K) in [-128, 127], W (N x K) in [-127, 127], bias[N]; per-channel factors around one that
/// spreads the outputs over most of int8 (a few clamp); the exact int32 accumulators (with bias and
/// input zero point) for the reference.
struct inputs {
  tb::buffer<std::int8_t> a, w;
  std::vector<std::int32_t> bias, acc;
  std::vector<double> real;                 ///< per-channel factor, as the multipliers represent it
  std::vector<std::int32_t> mult, shift;    ///< per-channel MBQM parameters
  quantized_multiplier pt{};                ///< per-tensor parameters
  double real_pt = 0.0;
  output_stage<requant::per_channel> pc_stage() const {
    return {{mult.data(), shift.data()}, kOutputZp, -128, 127};
  }
  output_stage<requant::per_tensor> pt_stage() const { return {{pt.multiplier, pt.shift}, kOutputZp, -128, 127}; }
};

double real_of(const quantized_multiplier& q) { return std::ldexp(static_cast<double>(q.multiplier), q.shift - 31); }

const inputs& get_inputs(const shape& s) {
  static std::map<std::size_t, std::unique_ptr<inputs>> cache;
  auto& slot = cache[s.key()];
  if (!slot) {
    slot = std::make_unique<inputs>();
    auto& in = *slot;
    tb::rng r(s.key() ^ 0x5138);
    in.a = tb::buffer<std::int8_t>(s.m * s.k);
    in.w = tb::buffer<std::int8_t>(s.n * s.k);
    for (std::size_t i = 0; i < s.m * s.k; ++i) in.a[i] = static_cast<std::int8_t>(r.range(-128, 127));
    for (std::size_t i = 0; i < s.n * s.k; ++i) in.w[i] = static_cast<std::int8_t>(r.range(-127, 127));
    in.bias.resize(s.n);
    for (auto& b : in.bias) b = static_cast<std::int32_t>(r.range(-20000, 20000));
    // acc standard deviation ~ 74 * 73 * sqrt(K): map about +-1.5 sigma onto +-127.
    const double base = 85.0 / (74.0 * 73.0 * std::sqrt(static_cast<double>(s.k)));
    in.mult.resize(s.n);
    in.shift.resize(s.n);
    in.real.resize(s.n);
    for (std::size_t j = 0; j < s.n; ++j) {
      quantized_multiplier q;
      (void)quantize_multiplier(base * (0.75 + 0.5 * static_cast<double>(r.range(0, 1000)) / 1000.0), q);
      in.mult[j] = q.multiplier;
      in.shift[j] = q.shift;
      in.real[j] = real_of(q);
    }
    (void)quantize_multiplier(base, in.pt);
    in.real_pt = real_of(in.pt);
    in.acc.assign(s.m * s.n, 0);
    for (std::size_t i = 0; i < s.m; ++i)
      for (std::size_t j = 0; j < s.n; ++j) {
        std::int32_t sum = in.bias[j];
        const std::int8_t* ar = in.a.data() + i * s.k;
        const std::int8_t* wr = in.w.data() + j * s.k;
        for (std::size_t kk = 0; kk < s.k; ++kk) sum += (std::int32_t{ar[kk]} - kInputZp) * std::int32_t{wr[kk]};
        in.acc[i * s.n + j] = sum;
      }
  }
  return *slot;
}

tb::buffer<std::int8_t>& get_output(const shape& s) {
  static std::map<std::size_t, tb::buffer<std::int8_t>> cache;
  auto& b = cache[s.key()];
  if (b.size() != s.m * s.n) b = tb::buffer<std::int8_t>(s.m * s.n);
  return b;
}

/// Compares C with the TFLite requantization of the exact accumulators; |c - want| <= tol.
/// Returns the share of identical outputs in percent, or -1 after reporting a failure.
template <class Q>
double check(benchmark::State& state, const shape& s, const std::int8_t* c, const output_stage<Q>& stage, int tol,
             const std::string& who) {
  const auto& in = get_inputs(s);
  std::size_t same = 0;
  for (std::size_t i = 0; i < s.m; ++i)
    for (std::size_t j = 0; j < s.n; ++j) {
      const int want = requantize_one<std::int8_t>(in.acc[i * s.n + j], stage, j);
      const int got = c[i * s.n + j];
      if (std::abs(got - want) > tol) {
        tb::fail(state, who + " " + s.str() + ": C[" + std::to_string(i) + "][" + std::to_string(j) +
                            "] = " + std::to_string(got) + ", reference " + std::to_string(want));
        return -1.0;
      }
      same += got == want;
    }
  return 100.0 * static_cast<double>(same) / static_cast<double>(s.m * s.n);
}

void set_counters(benchmark::State& state, const shape& s, double exact) {
  const double gop = s.ops() * 1e-9;
  state.counters["Gop/s"] = benchmark::Counter(gop, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["%peak"] = benchmark::Counter(gop * 100.0 / kPeakGops, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["exact%"] = exact;
}

/// The timed loop shared by every contender: `call()` returns false on an error.
template <class Call> void timed(benchmark::State& state, Call&& call) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(call());
    benchmark::ClobberMemory();
  }
}

// ---- contenders ----------------------------------------------------------------------------------
/// tessera's fully_connected_s8 with kernel K; `checked` is shared by the repetitions.
template <class K, class Q> void bm_tessera(benchmark::State& state, shape s, std::shared_ptr<double> checked) {
  using fc = fully_connected_s8<typename K::arch, K>;
  if (tb::skip_if_unavailable<K>(state)) return;
  const auto& in = get_inputs(s);
  auto& c = get_output(s);
  const std::size_t bytes = fc::packed_weights_bytes(s.n, s.k);
  tb::buffer<std::int32_t> packed((bytes + 3) / 4);
  if (!fc::pack_weights(s.n, s.k, in.w.data(), in.bias.data(), kInputZp, 0, packed.data(), bytes).ok()) {
    tb::fail(state, std::string(fc::kernel::name) + ": pack_weights failed");
    return;
  }
  output_stage<Q> stage;
  if constexpr (std::is_same_v<Q, requant::per_channel>) stage = in.pc_stage();
  else stage = in.pt_stage();
  auto call = [&] { return fc::run(s.m, s.k, s.n, in.a.data(), s.k, packed.data(), c.data(), s.n, stage).ok(); };
  if (*checked < 0) {
    if (!call()) {
      tb::fail(state, std::string(fc::kernel::name) + ": run failed");
      return;
    }
    *checked = check(state, s, c.data(), stage, 0, fc::kernel::name);
    if (*checked < 0) return;
  }
  timed(state, call);
  set_counters(state, s, *checked);
}

#if TESSERA_BENCH_HAS_ONEDNN
void bm_onednn(benchmark::State& state, shape s, std::shared_ptr<double> checked) {
  const auto& in = get_inputs(s);
  auto& c = get_output(s);
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  const auto m = static_cast<dnnl::memory::dim>(s.m), n = static_cast<dnnl::memory::dim>(s.n),
             k = static_cast<dnnl::memory::dim>(s.k);
  try {
    dnnl::engine eng(dnnl::engine::kind::cpu, 0);
    dnnl::stream strm(eng);
    const dnnl::memory::desc a_md({m, k}, dt::s8, tag::ab), w_any({k, n}, dt::s8, tag::any),
        bias_md({1, n}, dt::s32, tag::ab), c_md({m, n}, dt::s8, tag::ab);
    dnnl::primitive_attr attr;
    attr.set_output_scales(1 << 1, std::vector<float>(in.real.begin(), in.real.end()));
    attr.set_zero_points(DNNL_ARG_SRC, 0, {kInputZp});
    attr.set_zero_points(DNNL_ARG_DST, 0, {kOutputZp});
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, w_any, bias_md, c_md), attr, eng);
    // W is N x K row-major: the K x N logical matrix in `ba` order.
    dnnl::memory w_user({{k, n}, dt::s8, tag::ba}, eng, const_cast<std::int8_t*>(in.w.data()));
    dnnl::memory w_mem(pd.weights_desc(), eng);
    dnnl::reorder(w_user, w_mem).execute(strm, w_user, w_mem);
    strm.wait();
    dnnl::memory a_mem(a_md, eng, const_cast<std::int8_t*>(in.a.data())), c_mem(c_md, eng, c.data()),
        b_mem(bias_md, eng, const_cast<std::int32_t*>(in.bias.data()));
    const dnnl::matmul prim(pd);
    const std::unordered_map<int, dnnl::memory> args = {
        {DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, w_mem}, {DNNL_ARG_BIAS, b_mem}, {DNNL_ARG_DST, c_mem}};
    auto call = [&] {
      prim.execute(strm, args);
      strm.wait();
      return true;
    };
    state.SetLabel(tb::onednn_impl(pd));
    if (*checked < 0) {
      call();
      *checked = check(state, s, c.data(), in.pc_stage(), 1, "onednn");
      if (*checked < 0) return;
    }
    timed(state, call);
  } catch (const dnnl::error& e) {
    tb::fail(state, std::string("onednn: ") + e.what());
    return;
  }
  set_counters(state, s, *checked);
}
#endif

#if TESSERA_BENCH_HAS_XNNPACK
/// `per_channel`: the qc8 1x1 convolution; otherwise the qs8 fully connected operator.
void bm_xnnpack(benchmark::State& state, shape s, bool per_channel, std::shared_ptr<double> checked) {
  if (!tb::xnnpack_ready()) {
    state.SkipWithError("skipped: xnn_initialize failed (CPU not supported)");
    return;
  }
  const auto& in = get_inputs(s);
  auto& c = get_output(s);
  const char* who = per_channel ? "xnnpack_qc8" : "xnnpack_qs8";
  xnn_operator_t op = nullptr;
  // Scales: input 1 and output 1, so the requantization factor is the kernel scale.
  const std::vector<float> kscale(in.real.begin(), in.real.end());
  const xnn_status created =
      per_channel ? xnn_create_convolution2d_nhwc_qc8(0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, s.k, s.n, s.k, s.n,
                                                      static_cast<std::int8_t>(kInputZp), 1.0f, kscale.data(),
                                                      in.w.data(), in.bias.data(), static_cast<std::int8_t>(kOutputZp),
                                                      1.0f, -128, 127, 0, &op)
                  : xnn_create_fully_connected_nc_qs8(s.k, s.n, s.k, s.n, static_cast<std::int8_t>(kInputZp), 1.0f,
                                                      static_cast<float>(in.real_pt), in.w.data(), in.bias.data(),
                                                      static_cast<std::int8_t>(kOutputZp), 1.0f, -128, 127, 0, &op);
  if (created != xnn_status_success) {
    tb::fail(state, std::string(who) + ": create failed, status " + std::to_string(created));
    return;
  }
  std::unique_ptr<xnn_operator, decltype(&xnn_delete_operator)> owner(op, &xnn_delete_operator);
  auto call = [&] {
    const xnn_status st = per_channel
                              ? xnn_setup_convolution2d_nhwc_qc8(op, 1, 1, s.m, in.a.data(), c.data(), nullptr)
                              : xnn_setup_fully_connected_nc_qs8(op, s.m, in.a.data(), c.data(), nullptr);
    return st == xnn_status_success && xnn_run_operator(op, nullptr) == xnn_status_success;
  };
  if (*checked < 0) {
    if (!call()) {
      tb::fail(state, std::string(who) + ": setup or run failed");
      return;
    }
    *checked = per_channel ? check(state, s, c.data(), in.pc_stage(), 1, who)
                           : check(state, s, c.data(), in.pt_stage(), 1, who);
    if (*checked < 0) return;
  }
  timed(state, call);
  set_counters(state, s, *checked);
}
#endif

// ---- registration --------------------------------------------------------------------------------
[[maybe_unused]] const bool registered = [] {
#if TESSERA_BENCH_HAS_ONEDNN
  benchmark::AddCustomContext("onednn_omp_threads", std::to_string(tb::onednn_one_thread()));
#endif
  using native_kernel = fully_connected_s8<>::kernel;
  const std::string kernel = native_kernel::name;
  auto add = [](const std::string& name, auto fn, auto... args) {
    benchmark::RegisterBenchmark(name.c_str(), fn, args..., std::make_shared<double>(-1.0))
        ->Unit(benchmark::kMicrosecond);
  };
  for (const shape& s : kShapes) {
    const std::string prefix = "gemm_qs8/" + s.str() + "/";
    add(prefix + kernel + ":per_channel", bm_tessera<native_kernel, requant::per_channel>, s);
    add(prefix + kernel + ":per_tensor", bm_tessera<native_kernel, requant::per_tensor>, s);
#if TESSERA_HAS_AVX512_VNNI
    // The AVX2 kernel the same binary would run without VNNI, for the before/after in one run.
    using avx2_kernel = select_t<op::gemm_qs8, arch::simd>;
    add(prefix + avx2_kernel::name + ":per_channel", bm_tessera<avx2_kernel, requant::per_channel>, s);
#endif
#if TESSERA_BENCH_HAS_ONEDNN
    add(prefix + "onednn:per_channel", bm_onednn, s);
#endif
#if TESSERA_BENCH_HAS_XNNPACK
    add(prefix + "xnnpack_qc8:per_channel", bm_xnnpack, s, true);
    add(prefix + "xnnpack_qs8:per_tensor", bm_xnnpack, s, false);
#endif
  }
  return true;
}();

}  // namespace
