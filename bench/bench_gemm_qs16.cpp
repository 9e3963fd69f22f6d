// 16x8 GEMM (int16 activations x int8 weights -> int16, TFLite's "16x8"): every gemm_qs16_registry
// kernel the CPU can run, through the operators, one thread, weights packed once outside the timed loop:
//   gemm_qs16/<M>x<N>x<K>/<kernel>:acc64   fully_connected_s16<Tag, Kernel>, int64 bias (int64 sums, MBQM64)
//   gemm_qs16/<M>x<N>x<K>/<kernel>:acc32   the same with an int32 bias (wrapping int32 sums, MBQM32)
//   conv2d_s16/<layer>/<kernel>:acc64|acc32 conv2d_s16<Tag, Kernel> on a MobileNet-like layer (NHWC,
//                                          batch 1, SAME padding, default workspace)
// Per-channel output stage throughout. Shapes: fully connected at batch 1 (1, 1000, 1024) and
// (M, N, K) = (196, 128, 128), (196, 512, 512); conv 1x1 56x56x128 -> 128 and 3x3 s1 28x28x64 -> 64.
// Counter: GMAC/s (M N K, or out pixels x out_c x kh kw in_c, per call). Every contender's output is
// checked once against the scalar kernel's (itself bit-exact with TFLite in the tests) before it is timed.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <tessera/ops/conv2d.hpp>
#include <tessera/ops/fully_connected_s16.hpp>
#include <tessera/tessera.hpp>
#include <vector>

#include "bench_support.hpp"

namespace {

namespace tb = tessera_bench;
using namespace tessera;

/// Operands of one problem: A (int16), W (int8, N x depth), biases, per-channel MBQM parameters
/// (shifts within both MBQM64's [-31, 7] and MBQM32's range).
struct operands {
  tb::buffer<std::int16_t> a;
  tb::buffer<std::int8_t> w;
  std::vector<std::int64_t> bias64;
  std::vector<std::int32_t> bias32, mult, shift;
  output_stage<requant::per_channel> stage() const { return {{mult.data(), shift.data()}, 0, -32768, 32767}; }
};

/// A in [-32768, 32767], W in [-127, 127]; factors that map about +-1.5 sigma of the sums onto int16.
operands make_operands(std::size_t a_elems, std::size_t n, std::size_t depth, std::uint64_t seed) {
  operands o;
  tb::rng r(seed);
  o.a = tb::buffer<std::int16_t>(a_elems);
  o.w = tb::buffer<std::int8_t>(n * depth);
  for (std::size_t i = 0; i < a_elems; ++i) o.a[i] = static_cast<std::int16_t>(r.range(-32768, 32767));
  for (std::size_t i = 0; i < n * depth; ++i) o.w[i] = static_cast<std::int8_t>(r.range(-127, 127));
  const double base = 32767.0 / (1.5 * 18918.0 * 73.3 * std::sqrt(static_cast<double>(depth)));
  for (std::size_t j = 0; j < n; ++j) {
    o.bias32.push_back(static_cast<std::int32_t>(r.range(-1000000, 1000000)));
    o.bias64.push_back(o.bias32.back());
    quantized_multiplier q;
    (void)quantize_multiplier(base * (0.75 + 0.5 * static_cast<double>(r.range(0, 1000)) / 1000.0), q);
    o.mult.push_back(q.multiplier);
    o.shift.push_back(q.shift);
  }
  return o;
}

void set_counters(benchmark::State& state, double macs) {
  state.counters["GMAC/s"] = benchmark::Counter(macs * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

/// The timed loop shared by every contender: `call()` returns false on an error.
template <class Call> void timed(benchmark::State& state, Call&& call) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(call());
    benchmark::ClobberMemory();
  }
}

/// Runs `call` once and compares `out` (n values) with `want`; false after reporting a failure.
template <class Call>
bool check_once(benchmark::State& state, Call&& call, const std::int16_t* out, const std::vector<std::int16_t>& want,
                const std::string& who) {
  if (!call()) {
    tb::fail(state, who + ": run failed");
    return false;
  }
  for (std::size_t i = 0; i < want.size(); ++i)
    if (out[i] != want[i]) {
      tb::fail(state, who + ": output " + std::to_string(i) + " = " + std::to_string(out[i]) + ", scalar kernel " +
                          std::to_string(want[i]));
      return false;
    }
  return true;
}

// ---- fully connected / GEMM ------------------------------------------------------------------------
struct shape {
  std::size_t m, n, k;
  std::string str() const { return std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k); }
};
constexpr shape kShapes[] = {{1, 1000, 1024}, {196, 128, 128}, {196, 512, 512}};

const operands& fc_operands(const shape& s) {
  static std::map<std::string, std::unique_ptr<operands>> cache;
  auto& slot = cache[s.str()];
  if (!slot) slot = std::make_unique<operands>(make_operands(s.m * s.k, s.n, s.k, s.m * 7919 + s.n * 31 + s.k));
  return *slot;
}

/// Packs W with the int64 (Acc64) or int32 bias for kernel K; false after reporting a failure.
template <class FC>
bool fc_pack(benchmark::State& state, const shape& s, const operands& o, bool acc64, std::vector<std::int64_t>& packed) {
  const std::size_t bytes = FC::packed_weights_bytes(s.n, s.k);
  packed.assign(bytes / 8 + 1, 0);
  const status st = acc64 ? FC::pack_weights(s.n, s.k, o.w.data(), o.bias64.data(), packed.data(), bytes)
                          : FC::pack_weights(s.n, s.k, o.w.data(), o.bias32.data(), packed.data(), bytes);
  if (!st.ok()) tb::fail(state, std::string(FC::kernel::name) + ": pack_weights failed");
  return st.ok();
}

/// The scalar kernel's output for shape s (the oracle).
const std::vector<std::int16_t>& fc_want(const shape& s, bool acc64) {
  static std::map<std::string, std::vector<std::int16_t>> cache;
  auto& w = cache[s.str() + (acc64 ? "64" : "32")];
  if (w.empty()) {
    using fc = fully_connected_s16<arch::scalar>;
    const auto& o = fc_operands(s);
    const std::size_t bytes = fc::packed_weights_bytes(s.n, s.k);
    std::vector<std::int64_t> packed(bytes / 8 + 1);
    if (acc64) (void)fc::pack_weights(s.n, s.k, o.w.data(), o.bias64.data(), packed.data(), bytes);
    else (void)fc::pack_weights(s.n, s.k, o.w.data(), o.bias32.data(), packed.data(), bytes);
    w.assign(s.m * s.n, 0);
    (void)fc::run(s.m, s.k, s.n, o.a.data(), s.k, packed.data(), w.data(), s.n, o.stage());
  }
  return w;
}

template <class K> void bm_fc(benchmark::State& state, shape s, bool acc64) {
  using fc = fully_connected_s16<typename K::arch, K>;
  if (tb::skip_if_unavailable<K>(state)) return;
  const auto& o = fc_operands(s);
  std::vector<std::int64_t> packed;
  if (!fc_pack<fc>(state, s, o, acc64, packed)) return;
  tb::buffer<std::int16_t> c(s.m * s.n);
  const auto stage = o.stage();
  auto call = [&] { return fc::run(s.m, s.k, s.n, o.a.data(), s.k, packed.data(), c.data(), s.n, stage).ok(); };
  if (!check_once(state, call, c.data(), fc_want(s, acc64), K::name)) return;
  timed(state, call);
  set_counters(state, static_cast<double>(s.m) * static_cast<double>(s.n) * static_cast<double>(s.k));
}

// ---- conv2d_s16 ------------------------------------------------------------------------------------
struct layer {
  const char* name;
  std::int64_t in_hw, in_c, out_c, k;
  conv_geometry geometry() const {
    conv_shape s;
    s.in_h = s.in_w = in_hw;
    s.in_c = in_c;
    s.out_c = out_c;
    s.kernel_h = s.kernel_w = k;
    conv_geometry g;
    if (!make_conv_geometry(s, padding::same, g).ok()) std::abort();
    return g;
  }
  double macs() const {
    return static_cast<double>(in_hw * in_hw) * static_cast<double>(out_c) * static_cast<double>(k * k * in_c);
  }
};
constexpr layer kLayers[] = {{"c_1x1_56x56x128_128", 56, 128, 128, 1}, {"f_3x3s1_28x28x64_64", 28, 64, 64, 3}};

const operands& conv_operands(const layer& l) {
  static std::map<std::string, std::unique_ptr<operands>> cache;
  auto& slot = cache[l.name];
  if (!slot) {
    const conv_geometry g = l.geometry();
    slot = std::make_unique<operands>(
        make_operands(g.in_h * g.in_w * g.in_c, g.out_c, g.kernel_h * g.kernel_w * g.in_c, g.in_c * 131 + g.kernel_h));
  }
  return *slot;
}

/// conv2d_s16<Tag, K> on layer l into out; false on any error status.
template <class Conv> struct conv_runner {
  conv_geometry g;
  tb::buffer<std::int64_t> packed;  // 64-byte aligned (conv2d_s16 needs 16)
  tb::buffer<std::uint8_t> ws;
  bool prepare(const layer& l, const operands& o, bool acc64) {
    g = l.geometry();
    const std::size_t bytes = Conv::packed_weights_bytes(g);
    packed = tb::buffer<std::int64_t>(bytes / 8 + 2);
    const status st = acc64 ? Conv::pack_weights(g, o.w.data(), o.bias64.data(), packed.data(), bytes)
                            : Conv::pack_weights(g, o.w.data(), o.bias32.data(), packed.data(), bytes);
    ws = tb::buffer<std::uint8_t>(Conv::workspace_bytes(g) + 1);
    return st.ok();
  }
  bool run(const operands& o, std::int16_t* out) {
    return Conv::run(g, o.a.data(), packed.data(), out, o.stage(), ws.data(), ws.size()).ok();
  }
};

const std::vector<std::int16_t>& conv_want(const layer& l, bool acc64) {
  static std::map<std::string, std::vector<std::int16_t>> cache;
  auto& w = cache[std::string(l.name) + (acc64 ? "64" : "32")];
  if (w.empty()) {
    conv_runner<conv2d_s16<arch::scalar>> r;
    const auto& o = conv_operands(l);
    (void)r.prepare(l, o, acc64);
    w.assign(r.g.out_h * r.g.out_w * r.g.out_c, 0);
    (void)r.run(o, w.data());
  }
  return w;
}

template <class K> void bm_conv(benchmark::State& state, layer l, bool acc64) {
  if (tb::skip_if_unavailable<K>(state)) return;
  const auto& o = conv_operands(l);
  conv_runner<conv2d_s16<typename K::arch, K>> r;
  if (!r.prepare(l, o, acc64)) {
    tb::fail(state, std::string(K::name) + ": conv2d_s16 pack_weights failed");
    return;
  }
  tb::buffer<std::int16_t> out(r.g.out_h * r.g.out_w * r.g.out_c);
  auto call = [&] { return r.run(o, out.data()); };
  if (!check_once(state, call, out.data(), conv_want(l, acc64), K::name)) return;
  timed(state, call);
  set_counters(state, l.macs());
}

// ---- registration --------------------------------------------------------------------------------
[[maybe_unused]] const bool registered = [] {
  tb::for_each_type(kernels::gemm_qs16_registry{}, [](auto t) {
    using K = typename decltype(t)::type;
    for (bool acc64 : {true, false}) {
      const std::string acc = acc64 ? ":acc64" : ":acc32";
      for (const shape& s : kShapes)
        benchmark::RegisterBenchmark(("gemm_qs16/" + s.str() + "/" + K::name + acc).c_str(), bm_fc<K>, s, acc64)
            ->Unit(benchmark::kMicrosecond);
      for (const layer& l : kLayers)
        benchmark::RegisterBenchmark((std::string("conv2d_s16/") + l.name + "/" + K::name + acc).c_str(), bm_conv<K>,
                                     l, acc64)
            ->Unit(benchmark::kMicrosecond);
    }
  });
  return true;
}();

}  // namespace
