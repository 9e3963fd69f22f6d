// The fused output stage (requantization) of every kernel in tessera's requant registries,
// `K::run<Out>(rows, channels, acc, ...)`, against baselines written here:
//   tflite_reference  TFLite's reference code path (what TFLite Micro runs without CMSIS-NN),
//                     transcribed in tflite_reference.hpp, MultiplyByQuantizedMultiplier inline
//                     (the compiler may vectorize the loop): the speedup column's denominator.
//   tflite_ref_call   the same with MultiplyByQuantizedMultiplier out of line in its own
//                     translation unit (tflite_common.cpp), as current TFLite/TFLM build common.cc.
//   narrow_copy       `out[i] = (Out)acc[i]`: the same memory traffic with no arithmetic, i.e. the
//                     bandwidth roofline of the op on this machine.
// Benchmark names: <acc>/<output stage>/<rows>x<channels>/<contender>. Counters: items/s
// (elements), bytes/s (accumulators read + parameters read + outputs written, once per call) and
// `footprint` (those bytes: which cache level the data lives in). Every contender's output is
// checked against tflite_reference's (computed once) before it is timed.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <tessera/tessera.hpp>
#include <type_traits>
#include <utility>
#include <vector>

#include "bench_support.hpp"
#include "tflite_reference.hpp"

namespace {

namespace tb = tessera_bench;
using namespace tessera;

// ---- inputs ---------------------------------------------------------------------------------------
struct shape {
  std::size_t rows, channels;
  std::size_t elems() const noexcept { return rows * channels; }
  std::string str() const { return std::to_string(rows) + "x" + std::to_string(channels); }
};

// Accumulators: 400 KB (L2-resident, a MobileNet-ish 14x14x512 layer output) and 51 MB (more than
// this machine's 32 MB L3, so streamed from DRAM). int64 shapes keep the same accumulator bytes.
constexpr shape kShapesS32[] = {{196, 512}, {12544, 1024}};
constexpr shape kShapesS64[] = {{98, 512}, {6272, 1024}};

/// The accumulators and per-channel parameters of one shape, generated once per process (random
/// interleaving calls every benchmark function once per repetition).
template <class Acc> struct inputs {
  tb::buffer<Acc> acc;
  std::vector<std::int32_t> mult, shift_i8, shift_i16;
};

template <class Acc> const inputs<Acc>& get_inputs(const shape& s) {
  static std::map<std::size_t, std::unique_ptr<inputs<Acc>>> cache;
  auto& slot = cache[s.rows * 1000003 + s.channels];
  if (!slot) {
    slot = std::make_unique<inputs<Acc>>();
    tb::rng r(s.rows * 31 + s.channels + sizeof(Acc));
    slot->acc = tb::buffer<Acc>(s.elems());
    // int32: |acc| <= 2^20 (int8 x int8 dot products over a few hundred terms, plus bias);
    // int64 (16x8): |acc| <= 2^36. Shifts are chosen so most outputs land inside the output type and
    // a few clamp, as in a calibrated layer; multipliers are what QuantizeMultiplier produces.
    const std::int64_t span = std::is_same_v<Acc, std::int32_t> ? (std::int64_t{1} << 20) : (std::int64_t{1} << 36);
    for (std::size_t i = 0; i < s.elems(); ++i) slot->acc[i] = static_cast<Acc>(r.range(-span, span));
    slot->mult.resize(s.channels);
    slot->shift_i8.resize(s.channels);
    slot->shift_i16.resize(s.channels);
    for (std::size_t c = 0; c < s.channels; ++c) {
      slot->mult[c] =
          static_cast<std::int32_t>(r.range(std::int64_t{1} << 30, std::numeric_limits<std::int32_t>::max()));
      if constexpr (std::is_same_v<Acc, std::int32_t>) {
        slot->shift_i8[c] = static_cast<std::int32_t>(r.range(-15, -13));
        slot->shift_i16[c] = static_cast<std::int32_t>(r.range(-8, -6));
      } else {
        slot->shift_i8[c] = 0;  // unused: 16x8 produces int16 only
        slot->shift_i16[c] = static_cast<std::int32_t>(r.range(-23, -21));
      }
    }
  }
  return *slot;
}

/// An output buffer per (output type, shape), shared by the contenders of that shape.
template <class Out> tb::buffer<Out>& get_output(const shape& s) {
  static std::map<std::size_t, tb::buffer<Out>> cache;
  auto& b = cache[s.rows * 1000003 + s.channels];
  if (b.size() != s.elems()) b = tb::buffer<Out>(s.elems());
  return b;
}

// ---- output-stage variants -----------------------------------------------------------------------
/// One benchmarked configuration: accumulator and output types, per-channel or per-tensor, and how
/// to build tessera's output_stage and call the TFLite baseline on the same parameters.
template <class Acc, class Out, class Q> struct variant {
  using acc_t = Acc;
  using out_t = Out;
  using q_t = Q;
  static constexpr bool per_tensor = std::is_same_v<Q, requant::per_tensor>;
  static constexpr std::int32_t zero_point = std::is_same_v<Acc, std::int64_t> ? 0 : (sizeof(Out) == 1 ? -3 : 0);

  static const std::vector<std::int32_t>& shifts(const inputs<Acc>& in) {
    return sizeof(Out) == 1 ? in.shift_i8 : in.shift_i16;
  }
  static output_stage<Q> stage(const inputs<Acc>& in) {
    output_stage<Q> p;
    if constexpr (per_tensor) p.q = {in.mult[0], shifts(in)[0]};
    else p.q = {in.mult.data(), shifts(in).data()};
    p.zero_point = zero_point;
    p.act_min = std::numeric_limits<Out>::min();
    p.act_max = std::numeric_limits<Out>::max();
    return p;
  }
  /// TFLite's reference epilogue on the same parameters (Mbqm: tflite_ref::inline_mbqm or call_mbqm).
  template <class Mbqm> static void reference(const shape& s, const inputs<Acc>& in, Out* out) {
    const int rows = static_cast<int>(s.rows), ch = static_cast<int>(s.channels);
    constexpr std::int32_t lo = std::numeric_limits<Out>::min(), hi = std::numeric_limits<Out>::max();
    if constexpr (std::is_same_v<Acc, std::int64_t>) {
      static_assert(std::is_same_v<Out, std::int16_t> && !per_tensor);
      tflite_ref::OutputStagePerChannel16x8<Mbqm>(rows, ch, in.acc.data(), in.mult.data(), shifts(in).data(), lo, hi,
                                                  out);
    } else if constexpr (per_tensor) {
      tflite_ref::OutputStage<Mbqm, Out>(rows, ch, in.acc.data(), in.mult[0], shifts(in)[0], zero_point, lo, hi, out);
    } else {
      tflite_ref::OutputStagePerChannel<Mbqm, Out>(rows, ch, in.acc.data(), in.mult.data(), shifts(in).data(),
                                                   zero_point, lo, hi, out);
    }
  }
  /// Bytes moved by one call: accumulators and parameters read, outputs written.
  static double bytes(const shape& s, bool with_params) {
    const double params =
        with_params && !per_tensor ? 2.0 * sizeof(std::int32_t) * static_cast<double>(s.channels) : 0.0;
    return static_cast<double>(s.elems()) * (sizeof(Acc) + sizeof(Out)) + params;
  }
};

using s32_i8_per_channel = variant<std::int32_t, std::int8_t, requant::per_channel>;
using s32_i8_per_tensor = variant<std::int32_t, std::int8_t, requant::per_tensor>;
using s32_i16_per_channel = variant<std::int32_t, std::int16_t, requant::per_channel>;
using s64_i16_per_channel = variant<std::int64_t, std::int16_t, requant::per_channel>;

template <class V> std::string variant_name() {
  std::string n = std::is_same_v<typename V::acc_t, std::int32_t> ? "s32/" : "s64/";
  n += sizeof(typename V::out_t) == 1 ? "i8_" : "i16_";
  n += V::per_tensor ? "per_tensor" : "per_channel";
  return n;
}

/// The TFLite baseline's output for (V, shape), computed once: what every contender must produce.
template <class V> const tb::buffer<typename V::out_t>& expected(const shape& s) {
  static std::map<std::size_t, tb::buffer<typename V::out_t>> cache;
  auto& b = cache[s.rows * 1000003 + s.channels];
  if (b.size() != s.elems()) {
    b = tb::buffer<typename V::out_t>(s.elems());
    V::template reference<tflite_ref::inline_mbqm>(s, get_inputs<typename V::acc_t>(s), b.data());
  }
  return b;
}

/// Compares `out` with the baseline's output once per benchmark; false (and the benchmark fails)
/// on the first difference.
template <class V>
bool check_once(benchmark::State& state, bool& checked, const shape& s, const typename V::out_t* out,
                const std::string& who) {
  if (checked) return true;
  const auto& want = expected<V>(s);
  for (std::size_t i = 0; i < s.elems(); ++i) {
    if (out[i] != want[i]) {
      tb::fail(state, who + " differs from tflite_reference at element " + std::to_string(i) + ": " +
                          std::to_string(out[i]) + " != " + std::to_string(want[i]));
      return false;
    }
  }
  checked = true;
  return true;
}

template <class V> void set_counters(benchmark::State& state, const shape& s, bool with_params) {
  const auto it = static_cast<std::int64_t>(state.iterations());
  state.SetItemsProcessed(it * static_cast<std::int64_t>(s.elems()));
  state.SetBytesProcessed(it * static_cast<std::int64_t>(V::bytes(s, with_params)));
  state.counters["footprint"] = V::bytes(s, with_params);
}

// ---- the benchmark bodies ------------------------------------------------------------------------
/// `checked`: this benchmark's output was compared with the baseline already (one flag per
/// registered benchmark, shared by its repetitions).
template <class V, class K> void bm_kernel(benchmark::State& state, shape s, std::shared_ptr<bool> checked) {
  if (tb::skip_if_unavailable<K>(state)) return;
  using Out = typename V::out_t;
  const auto& in = get_inputs<typename V::acc_t>(s);
  auto& out = get_output<Out>(s);
  const auto p = V::stage(in);
  K::template run<Out>(s.rows, s.channels, in.acc.data(), s.channels, out.data(), s.channels, p);
  if (!check_once<V>(state, *checked, s, out.data(), K::name)) return;
  for (auto _ : state) {
    K::template run<Out>(s.rows, s.channels, in.acc.data(), s.channels, out.data(), s.channels, p);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_counters<V>(state, s, true);
}

template <class V, class Mbqm>
void bm_reference(benchmark::State& state, shape s, std::shared_ptr<bool> checked) {
  const auto& in = get_inputs<typename V::acc_t>(s);
  auto& out = get_output<typename V::out_t>(s);
  V::template reference<Mbqm>(s, in, out.data());
  if (!check_once<V>(state, *checked, s, out.data(), Mbqm::name)) return;
  for (auto _ : state) {
    V::template reference<Mbqm>(s, in, out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_counters<V>(state, s, true);
}

template <class V> void bm_narrow_copy(benchmark::State& state, shape s) {
  using Acc = typename V::acc_t;
  using Out = typename V::out_t;
  const auto& in = get_inputs<Acc>(s);
  auto& out = get_output<Out>(s);
  for (auto _ : state) {
    const Acc* a = in.acc.data();
    Out* o = out.data();
    for (std::size_t i = 0, n = s.elems(); i < n; ++i) o[i] = static_cast<Out>(a[i]);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_counters<V>(state, s, false);
}

// ---- registration: every kernel of a registry, every variant, every shape -------------------------
template <class V, class Registry, std::size_t N> void register_variant(const shape (&shapes)[N]) {
  for (const shape& s : shapes) {
    const std::string prefix = variant_name<V>() + "/" + s.str() + "/";
    tb::for_each_type(arch::type_list<tflite_ref::inline_mbqm, tflite_ref::call_mbqm>{}, [&](auto m) {
      using Mbqm = typename decltype(m)::type;
      benchmark::RegisterBenchmark((prefix + Mbqm::name).c_str(), bm_reference<V, Mbqm>, s,
                                   std::make_shared<bool>(false))
          ->Unit(benchmark::kMicrosecond);
    });
    tb::for_each_type(Registry{}, [&](auto k) {
      using K = typename decltype(k)::type;
      benchmark::RegisterBenchmark((prefix + K::name).c_str(), bm_kernel<V, K>, s, std::make_shared<bool>(false))
          ->Unit(benchmark::kMicrosecond);
    });
    benchmark::RegisterBenchmark((prefix + "narrow_copy").c_str(), bm_narrow_copy<V>, s)
        ->Unit(benchmark::kMicrosecond);
  }
}

[[maybe_unused]] const bool registered = [] {
  register_variant<s32_i8_per_channel, kernels::requant_s32_registry>(kShapesS32);
  register_variant<s32_i8_per_tensor, kernels::requant_s32_registry>(kShapesS32);
  register_variant<s32_i16_per_channel, kernels::requant_s32_registry>(kShapesS32);
  register_variant<s64_i16_per_channel, kernels::requant_s64_registry>(kShapesS64);
  return true;
}();

}  // namespace
