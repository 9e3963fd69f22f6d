// Depthwise convolution: every registered microkernel (through the operators) on the conformance
// vectors (bit-exact against TFLite), against direct references written here on random geometries
// (kernel sizes 1..7, strides, dilations, SAME/VALID/explicit padding, channel tails, depth
// multipliers, batches), the ks = 9 / 25 specialisations against the general loop, guard pages
// around every buffer, and the operators' parameter validation.
#include "test.hpp"
#include "nnconf.hpp"
#include "runner_support.hpp"
#include "guard.hpp"

#include <tessera/tessera.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <tuple>
#include <memory>
#include <vector>

using namespace tessera;

namespace {
template <class L> struct as_tuple;
template <class... T> struct as_tuple<arch::type_list<T...>> { using type = std::tuple<T...>; };

/// 8-byte aligned storage of at least `bytes` bytes.
std::vector<std::int64_t> storage(std::size_t bytes) { return std::vector<std::int64_t>(bytes / 8 + 1); }

// select_t finds the scalar kernels from the scalar tag (and, through the parent chain, from every tag).
static_assert(std::is_same_v<select_t<op::dwconv_f32, arch::scalar>, kernels::dwconv_f32_scalar>);
static_assert(std::is_same_v<select_t<op::dwconv_qs8, arch::scalar>, kernels::dwconv_qs8_scalar>);
static_assert(std::is_same_v<select_t<op::dwconv_qs16, arch::scalar>, kernels::dwconv_qs16_scalar>);

template <class K> using op_f32 = depthwise_conv2d_f32<typename K::arch, K>;
template <class K> using op_s8 = depthwise_conv2d_s8<typename K::arch, K>;
template <class K> using op_s16 = depthwise_conv2d_s16<typename K::arch, K>;

std::string describe(const conv_geometry& g) {
  return "n=" + std::to_string(g.batch) + " in=" + std::to_string(g.in_h) + "x" + std::to_string(g.in_w) + "x" +
         std::to_string(g.in_c) + " out=" + std::to_string(g.out_h) + "x" + std::to_string(g.out_w) + "x" +
         std::to_string(g.out_c) + " k=" + std::to_string(g.kernel_h) + "x" + std::to_string(g.kernel_w) +
         " s=" + std::to_string(g.stride_h) + "," + std::to_string(g.stride_w) + " d=" + std::to_string(g.dilation_h) +
         "," + std::to_string(g.dilation_w) + " pad(t,l,b,r)=" + std::to_string(g.pad_top) + "," +
         std::to_string(g.pad_left) + "," + std::to_string(g.pad_bottom) + "," + std::to_string(g.pad_right);
}

// ---- the direct reference: no indirection, no zero-point folding, padding taps skipped ----------

/// out[n][oy][ox][o] = fin(bias_at(o) + sum over in-bounds taps (in - zin) * w, o), Acc = int64 or double.
template <class Acc, class T, class W, class BiasAt, class Fin, class Out>
void reference(const conv_geometry& g, const T* in, const W* filter, Acc zin, BiasAt&& bias_at, Fin&& fin, Out* out) {
  const std::size_t mult = g.out_c / g.in_c;
  for (std::size_t n = 0; n < g.batch; ++n)
    for (std::size_t oy = 0; oy < g.out_h; ++oy)
      for (std::size_t ox = 0; ox < g.out_w; ++ox)
        for (std::size_t o = 0; o < g.out_c; ++o) {
          Acc acc = bias_at(o);
          for (std::size_t ky = 0; ky < g.kernel_h; ++ky)
            for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
              const auto iy = static_cast<std::int64_t>(oy * g.stride_h + ky * g.dilation_h) - static_cast<std::int64_t>(g.pad_top);
              const auto ix = static_cast<std::int64_t>(ox * g.stride_w + kx * g.dilation_w) - static_cast<std::int64_t>(g.pad_left);
              if (iy < 0 || ix < 0 || iy >= static_cast<std::int64_t>(g.in_h) || ix >= static_cast<std::int64_t>(g.in_w)) continue;
              const T x = in[((n * g.in_h + static_cast<std::size_t>(iy)) * g.in_w + static_cast<std::size_t>(ix)) * g.in_c + o / mult];
              acc += (static_cast<Acc>(x) - zin) * static_cast<Acc>(filter[(ky * g.kernel_w + kx) * g.out_c + o]);
            }
          out[((n * g.out_h + oy) * g.out_w + ox) * g.out_c + o] = fin(acc, o);
        }
}

// ---- random geometries --------------------------------------------------------------------------

/// Completes `s` into `g` with the padding mode of case `t` (SAME, explicit pads drawn from `r` in
/// [0, max_pad], VALID in turn): false when that is no valid geometry (e.g. VALID with a kernel
/// larger than the input) or it takes more than `max_macs` multiply-accumulates.
bool finish_geometry(conv_shape s, std::size_t t, tt::rng& r, std::int64_t max_pad, std::size_t max_macs,
                     conv_geometry& g) {
  const padding mode = t % 3 == 0 ? padding::same : t % 3 == 1 ? padding::explicit_pads : padding::valid;
  if (mode == padding::explicit_pads) {
    s.pad_top = r.range(0, max_pad);
    s.pad_left = r.range(0, max_pad);
    s.pad_bottom = r.range(0, max_pad);
    s.pad_right = r.range(0, max_pad);
  }
  return make_conv_geometry(s, mode, g) && g.out_elems() * g.taps() <= max_macs;
}

/// A random valid geometry; every 4th is 3x3 and every 4th 5x5 (the specialised tap counts).
conv_geometry random_geometry(tt::rng& r, std::size_t t, std::size_t max_macs) {
  static const std::int64_t channels[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 31, 33, 47, 63, 64, 65, 67, 127, 129, 257};
  for (;;) {
    conv_shape s;
    s.batch = t % 7 == 3 ? 2 + static_cast<std::int64_t>(r.next() % 2) : 1;
    const std::int64_t mult = t % 3 == 1 ? r.range(2, 8) : 1;
    s.in_c = mult > 1 ? channels[r.next() % 11] : channels[r.next() % (sizeof channels / sizeof channels[0])];
    s.out_c = s.in_c * mult;
    s.kernel_h = t % 4 == 0 ? 3 : t % 4 == 1 ? 5 : r.range(1, 7);
    s.kernel_w = t % 4 == 0 ? 3 : t % 4 == 1 ? 5 : r.range(1, 7);
    s.stride_h = r.range(1, 3);
    s.stride_w = r.range(1, 3);
    s.dilation_h = r.next() % 3 == 0 ? r.range(2, 3) : 1;
    s.dilation_w = r.next() % 3 == 0 ? r.range(2, 3) : 1;
    const bool big = t % 5 == 2;
    s.in_h = big ? r.range(8, 24) : r.range(1, 9);
    s.in_w = big ? r.range(8, 24) : r.range(1, 9);
    conv_geometry g;
    if (finish_geometry(s, t, r, 3, max_macs, g)) return g;
  }
}

template <class T> T rand_val(tt::rng& r) {
  return static_cast<T>(r.range(std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
}
float rand_f(tt::rng& r) { return static_cast<float>(r.range(-1000000, 1000000)) * 1e-6f; }

// ---- conformance --------------------------------------------------------------------------------

/// The case's geometry (explicit pads and output size, as the README defines them).
bool case_geometry(const nnconf::case_file& f, conv_geometry& g) { return tessera_conformance::read_conv_geometry(f, g).empty(); }

template <class T> std::vector<T> vals(const nnconf::case_file& f, const char* name) {
  std::vector<T> out;
  for (auto v : f.arr(name).values) out.push_back(static_cast<T>(v));
  return out;
}

template <class Out> bool equals_case(const nnconf::case_file& f, const std::vector<Out>& out) {
  const auto& want = f.arr("output").values;
  REQUIRE(want.size() == out.size());
  for (std::size_t i = 0; i < out.size(); ++i)
    if (out[i] != want[i]) {
      FAIL_CHECK(f.path << ": element " << i << " is " << int{out[i]} << ", TFLite says " << want[i]);
      return false;
    }
  return true;
}

template <class K> bool run_case_s8(const nnconf::case_file& f) {
  using dw = op_s8<K>;
  conv_geometry g;
  REQUIRE(case_geometry(f, g));
  REQUIRE(g.out_c / g.in_c == static_cast<std::size_t>(f.integer("depth_multiplier", 1)));
  REQUIRE(f.integer("weight_zero_point") == 0);
  const auto zin = static_cast<std::int32_t>(f.integer("input_zero_point"));
  const auto in = vals<std::int8_t>(f, "input"), w = vals<std::int8_t>(f, "filter");
  const auto bias = vals<std::int32_t>(f, "bias"), mult = vals<std::int32_t>(f, "output_multiplier"),
             shift = vals<std::int32_t>(f, "output_shift");
  REQUIRE(in.size() == g.in_elems());
  REQUIRE(w.size() == g.taps() * g.out_c);
  const std::size_t bytes = dw::packed_weights_bytes(g);
  REQUIRE(bytes > 0);
  auto packed = storage(bytes), ws = storage(dw::workspace_bytes(g));
  if (f.word("weight_dtype") == "s4") {
    std::vector<std::uint8_t> w4(storage_bytes<s4>(w.size()));
    pack_s4(w.size(), w.data(), w4.data());
    REQUIRE(dw::pack_weights_s4(g, w4.data(), bias.empty() ? nullptr : bias.data(), zin, packed.data(), bytes).ok());
  } else {
    REQUIRE(dw::pack_weights(g, w.data(), bias.empty() ? nullptr : bias.data(), zin, packed.data(), bytes).ok());
  }
  const auto zp = static_cast<std::int32_t>(f.integer("output_zero_point"));
  const auto lo = static_cast<std::int32_t>(f.integer("activation_min")), hi = static_cast<std::int32_t>(f.integer("activation_max"));
  bool ok = true;
  // The fastest path (workspace_bytes), then the smallest workspace (multiplier > 1: the portable loop).
  for (std::size_t wsb : {dw::workspace_bytes(g), dw::min_workspace_bytes(g)}) {
    std::vector<std::int8_t> out(g.out_elems());
    status st;
    if (mult.size() == 1) {
      st = dw::run(g, in.data(), packed.data(), out.data(), output_stage<requant::per_tensor>{{mult[0], shift[0]}, zp, lo, hi},
                   zin, ws.data(), wsb);
    } else {
      st = dw::run(g, in.data(), packed.data(), out.data(),
                   output_stage<requant::per_channel>{{mult.data(), shift.data()}, zp, lo, hi}, zin, ws.data(), wsb);
    }
    REQUIRE_MESSAGE(st.ok(), std::string(st.message()));
    ok = equals_case(f, out) && ok;
  }
  return ok;
}

template <class K> bool run_case_s16(const nnconf::case_file& f) {
  using dw = op_s16<K>;
  conv_geometry g;
  REQUIRE(case_geometry(f, g));
  REQUIRE(f.integer("input_zero_point") == 0);
  const auto in = vals<std::int16_t>(f, "input");
  const auto w = vals<std::int8_t>(f, "filter");
  const auto mult = vals<std::int32_t>(f, "output_multiplier"), shift = vals<std::int32_t>(f, "output_shift");
  const std::size_t bytes = dw::packed_weights_bytes(g);
  auto packed = storage(bytes), ws = storage(dw::workspace_bytes(g));
  if (f.word("bias_dtype") == "s32") {
    const auto bias = vals<std::int32_t>(f, "bias");
    REQUIRE(dw::pack_weights(g, w.data(), bias.empty() ? nullptr : bias.data(), packed.data(), bytes).ok());
    CHECK(dw::accumulator_bits(packed.data()) == 32);
  } else {
    const auto bias = vals<std::int64_t>(f, "bias");
    REQUIRE(dw::pack_weights(g, w.data(), bias.empty() ? nullptr : bias.data(), packed.data(), bytes).ok());
    CHECK(dw::accumulator_bits(packed.data()) == 64);
  }
  const auto zp = static_cast<std::int32_t>(f.integer("output_zero_point"));
  const auto lo = static_cast<std::int32_t>(f.integer("activation_min")), hi = static_cast<std::int32_t>(f.integer("activation_max"));
  bool ok = true;
  for (std::size_t wsb : {dw::workspace_bytes(g), dw::min_workspace_bytes(g)}) {
    std::vector<std::int16_t> out(g.out_elems());
    status st;
    if (mult.size() == 1)
      st = dw::run(g, in.data(), packed.data(), out.data(), output_stage<requant::per_tensor>{{mult[0], shift[0]}, zp, lo, hi},
                   ws.data(), wsb);
    else
      st = dw::run(g, in.data(), packed.data(), out.data(),
                   output_stage<requant::per_channel>{{mult.data(), shift.data()}, zp, lo, hi}, ws.data(), wsb);
    REQUIRE_MESSAGE(st.ok(), std::string(st.message()));
    ok = equals_case(f, out) && ok;
  }
  return ok;
}
}  // namespace

TEST_CASE_TEMPLATE_DEFINE("depthwise s8/s4 conformance vectors, bit-exact", K, dw_conf_s8) {
  TT_REQUIRE_RUNNABLE(K);
  int checked = 0;
  for (const char* dir : {"depthwise_s8/", "depthwise_s4/"})
    for (const auto& path : nnconf::list(tt::conformance_dir(), dir)) {
      nnconf::case_file f;
      std::string err;
      REQUIRE_MESSAGE(nnconf::load(path, f, err), err);
      CHECK_MESSAGE(run_case_s8<K>(f), path);
      ++checked;
    }
  CHECK(checked == 24);  // 14 s8 + 10 s4 cases
}
TEST_CASE_TEMPLATE_APPLY(dw_conf_s8, as_tuple<kernels::dwconv_qs8_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("depthwise 16x8 conformance vectors (s64 and s32 bias), bit-exact", K, dw_conf_s16) {
  TT_REQUIRE_RUNNABLE(K);
  int checked = 0;
  for (const auto& path : nnconf::list(tt::conformance_dir(), "depthwise_s16/")) {
    nnconf::case_file f;
    std::string err;
    REQUIRE_MESSAGE(nnconf::load(path, f, err), err);
    CHECK_MESSAGE(run_case_s16<K>(f), path);
    ++checked;
  }
  CHECK(checked == 12);
}
TEST_CASE_TEMPLATE_APPLY(dw_conf_s16, as_tuple<kernels::dwconv_qs16_registry>::type);

// ---- random geometries against the direct reference ----------------------------------------------

TEST_CASE_TEMPLATE_DEFINE("depthwise s8/s4 equals the direct reference on random geometries", K, dw_rand_s8) {
  TT_REQUIRE_RUNNABLE(K);
  using dw = op_s8<K>;
  tt::rng r(101);
  const std::size_t cases = tt::scaled(160);
  for (std::size_t t = 0; t < cases; ++t) {
    const conv_geometry g = random_geometry(r, t, 60000);
    INFO(describe(g) << " case " << t);
    const auto zin = static_cast<std::int32_t>(r.range(-128, 127));
    const bool s4w = t % 4 == 2;
    std::vector<std::int8_t> in(g.in_elems()), w(g.taps() * g.out_c);
    for (auto& v : in) v = rand_val<std::int8_t>(r);
    for (auto& v : w) v = s4w ? static_cast<std::int8_t>(r.range(-8, 7)) : rand_val<std::int8_t>(r);
    std::vector<std::int32_t> bias(g.out_c), mult(g.out_c), shift(g.out_c);
    for (std::size_t o = 0; o < g.out_c; ++o) {
      bias[o] = static_cast<std::int32_t>(r.range(-40000, 40000));
      mult[o] = static_cast<std::int32_t>(r.range(1 << 30, 0x7FFFFFFF));
      shift[o] = static_cast<std::int32_t>(r.range(-12, 0));
    }
    const bool null_bias = t % 6 == 5;
    const std::size_t bytes = dw::packed_weights_bytes(g);
    auto packed = storage(bytes), ws = storage(dw::workspace_bytes(g));
    if (s4w) {
      std::vector<std::uint8_t> w4(storage_bytes<s4>(w.size()));
      pack_s4(w.size(), w.data(), w4.data());
      REQUIRE(dw::pack_weights_s4(g, w4.data(), null_bias ? nullptr : bias.data(), zin, packed.data(), bytes).ok());
    } else {
      REQUIRE(dw::pack_weights(g, w.data(), null_bias ? nullptr : bias.data(), zin, packed.data(), bytes).ok());
    }
    const auto zp = static_cast<std::int32_t>(r.range(-128, 127));
    const auto lo = static_cast<std::int32_t>(r.range(-128, -20)), hi = static_cast<std::int32_t>(r.range(20, 127));
    output_stage<requant::per_channel> pc{{mult.data(), shift.data()}, zp, lo, hi};
    output_stage<requant::per_tensor> pt{{mult[0], shift[0]}, zp, lo, hi};
    auto bias_at = [&](std::size_t o) { return null_bias ? std::int64_t{0} : std::int64_t{bias[o]}; };
    std::vector<std::int8_t> want(g.out_elems()), got(g.out_elems(), 0x55);
    reference<std::int64_t>(g, in.data(), w.data(), std::int64_t{zin}, bias_at,
                            [&](std::int64_t acc, std::size_t o) {
                              return requantize_one<std::int8_t>(static_cast<std::int32_t>(acc), pc, o);
                            }, want.data());
    status st = dw::run(g, in.data(), packed.data(), got.data(), pc, zin, ws.data(), ws.size() * 8);
    REQUIRE_MESSAGE(st.ok(), std::string(st.message()));
    REQUIRE(got == want);
    reference<std::int64_t>(g, in.data(), w.data(), std::int64_t{zin}, bias_at,
                            [&](std::int64_t acc, std::size_t) {
                              return requantize_one<std::int8_t>(static_cast<std::int32_t>(acc), pt, 0);
                            }, want.data());
    st = dw::run(g, in.data(), packed.data(), got.data(), pt, zin, ws.data(), ws.size() * 8);
    REQUIRE_MESSAGE(st.ok(), std::string(st.message()));
    REQUIRE(got == want);
  }
}
TEST_CASE_TEMPLATE_APPLY(dw_rand_s8, as_tuple<kernels::dwconv_qs8_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("depthwise 16x8 equals the direct reference on random geometries", K, dw_rand_s16) {
  TT_REQUIRE_RUNNABLE(K);
  using dw = op_s16<K>;
  tt::rng r(202);
  const std::size_t cases = tt::scaled(120);
  for (std::size_t t = 0; t < cases; ++t) {
    const conv_geometry g = random_geometry(r, t, 60000);
    const bool acc32 = t % 2 == 1;
    INFO(describe(g) << " case " << t << (acc32 ? " int32 bias" : " int64 bias"));
    std::vector<std::int16_t> in(g.in_elems());
    std::vector<std::int8_t> w(g.taps() * g.out_c);
    for (auto& v : in) v = rand_val<std::int16_t>(r);
    for (auto& v : w) v = rand_val<std::int8_t>(r);
    std::vector<std::int64_t> bias64(g.out_c);
    std::vector<std::int32_t> bias32(g.out_c), mult(g.out_c), shift(g.out_c);
    for (std::size_t o = 0; o < g.out_c; ++o) {
      bias64[o] = r.range(-(std::int64_t{1} << 40), std::int64_t{1} << 40);
      bias32[o] = static_cast<std::int32_t>(r.range(-(1 << 24), 1 << 24));
      mult[o] = static_cast<std::int32_t>(r.range(1 << 30, 0x7FFFFFFF));
      shift[o] = static_cast<std::int32_t>(r.range(-24, -8));
    }
    const std::size_t bytes = dw::packed_weights_bytes(g);
    auto packed = storage(bytes), ws = storage(dw::workspace_bytes(g));
    if (acc32) REQUIRE(dw::pack_weights(g, w.data(), bias32.data(), packed.data(), bytes).ok());
    else REQUIRE(dw::pack_weights(g, w.data(), bias64.data(), packed.data(), bytes).ok());
    const auto zp = static_cast<std::int32_t>(r.range(-100, 100));
    const auto lo = static_cast<std::int32_t>(r.range(-32768, -1000)), hi = static_cast<std::int32_t>(r.range(1000, 32767));
    output_stage<requant::per_channel> pc{{mult.data(), shift.data()}, zp, lo, hi};
    output_stage<requant::per_tensor> pt{{mult[0], shift[0]}, zp, lo, hi};
    auto bias_at = [&](std::size_t o) { return acc32 ? std::int64_t{bias32[o]} : bias64[o]; };
    auto fin = [&](const auto& stage, bool per_tensor) {
      return [&acc32, per_tensor, stage](std::int64_t acc, std::size_t o) {
        const std::size_t c = per_tensor ? 0 : o;
        return acc32 ? requantize_one<std::int16_t>(static_cast<std::int32_t>(acc), stage, c)   // wraps like TFLite
                     : requantize_one<std::int16_t>(acc, stage, c);
      };
    };
    std::vector<std::int16_t> want(g.out_elems()), got(g.out_elems(), 0x5555);
    reference<std::int64_t>(g, in.data(), w.data(), std::int64_t{0}, bias_at, fin(pc, false), want.data());
    status st = dw::run(g, in.data(), packed.data(), got.data(), pc, ws.data(), ws.size() * 8);
    REQUIRE_MESSAGE(st.ok(), std::string(st.message()));
    REQUIRE(got == want);
    reference<std::int64_t>(g, in.data(), w.data(), std::int64_t{0}, bias_at, fin(pt, true), want.data());
    st = dw::run(g, in.data(), packed.data(), got.data(), pt, ws.data(), ws.size() * 8);
    REQUIRE_MESSAGE(st.ok(), std::string(st.message()));
    REQUIRE(got == want);
  }
}
TEST_CASE_TEMPLATE_APPLY(dw_rand_s16, as_tuple<kernels::dwconv_qs16_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("depthwise f32 matches a double reference and the scalar kernel", K, dw_rand_f32) {
  TT_REQUIRE_RUNNABLE(K);
  using dw = op_f32<K>;
  using ref = depthwise_conv2d_f32<arch::scalar, kernels::dwconv_f32_scalar>;
  tt::rng r(303);
  const std::size_t cases = tt::scaled(120);
  for (std::size_t t = 0; t < cases; ++t) {
    const conv_geometry g = random_geometry(r, t, 60000);
    INFO(describe(g) << " case " << t);
    std::vector<float> in(g.in_elems()), w(g.taps() * g.out_c), bias(g.out_c);
    for (auto& v : in) v = rand_f(r);
    for (auto& v : w) v = rand_f(r);
    for (auto& v : bias) v = rand_f(r);
    const bool null_bias = t % 6 == 5;
    f32_clamp clamp;
    if (t % 3 == 0) clamp = {-0.4f, 0.6f};
    const std::size_t bytes = dw::packed_weights_bytes(g), rbytes = ref::packed_weights_bytes(g);
    auto packed = storage(bytes), rpacked = storage(rbytes), ws = storage(dw::workspace_bytes(g));
    REQUIRE(dw::pack_weights(g, w.data(), null_bias ? nullptr : bias.data(), packed.data(), bytes).ok());
    REQUIRE(ref::pack_weights(g, w.data(), null_bias ? nullptr : bias.data(), rpacked.data(), rbytes).ok());
    std::vector<float> got(g.out_elems(), 1e30f), other(g.out_elems(), 1e30f);
    std::vector<double> want(g.out_elems()), mag(g.out_elems());
    reference<double>(g, in.data(), w.data(), 0.0, [&](std::size_t o) { return null_bias ? 0.0 : double{bias[o]}; },
                      [&](double acc, std::size_t) { return std::fmin(std::fmax(acc, double{clamp.min}), double{clamp.max}); },
                      want.data());
    std::vector<float> ain(in), aw(w);
    for (auto& v : ain) v = std::fabs(v);
    for (auto& v : aw) v = std::fabs(v);
    reference<double>(g, ain.data(), aw.data(), 0.0, [&](std::size_t o) { return null_bias ? 0.0 : std::fabs(double{bias[o]}); },
                      [](double acc, std::size_t) { return acc; }, mag.data());
    status st = dw::run(g, in.data(), packed.data(), got.data(), clamp, ws.data(), ws.size() * 8);
    REQUIRE_MESSAGE(st.ok(), std::string(st.message()));
    REQUIRE(ref::run(g, in.data(), rpacked.data(), other.data(), clamp, ws.data(), ws.size() * 8).ok());
    for (std::size_t i = 0; i < got.size(); ++i) {
      // fp32 rounding of at most taps+1 terms: |error| <= (taps + 1) * 2^-24 * sum |terms| (loose bound).
      const double tol = static_cast<double>(g.taps() + 2) * 6e-8 * mag[i] + 1e-30;
      if (!(std::fabs(double{got[i]} - want[i]) <= tol) || !(std::fabs(double{got[i]} - double{other[i]}) <= 2 * tol)) {
        FAIL("element " << i << ": kernel " << got[i] << ", double reference " << want[i] << ", scalar kernel "
                        << other[i] << ", tolerance " << tol);
      }
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(dw_rand_f32, as_tuple<kernels::dwconv_f32_registry>::type);

TEST_CASE("depthwise f32 on a hand-checked 3x3 SAME example") {
  // 3x3 input of ones, 3x3 weights of ones, SAME: each output counts the in-bounds taps (corner 4,
  // edge 6, centre 9), plus bias 0.5, clamped to [0, 8].
  conv_shape s{.batch = 1, .in_h = 3, .in_w = 3, .in_c = 1, .out_c = 1, .kernel_h = 3, .kernel_w = 3};
  conv_geometry g;
  REQUIRE(make_conv_geometry(s, padding::same, g).ok());
  using dw = depthwise_conv2d_f32<>;
  const float in[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, w[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, bias[1] = {0.5f};
  auto packed = storage(dw::packed_weights_bytes(g)), ws = storage(dw::workspace_bytes(g));
  REQUIRE(dw::pack_weights(g, w, bias, packed.data(), packed.size() * 8).ok());
  float out[9];
  REQUIRE(dw::run(g, in, packed.data(), out, f32_clamp{0.0f, 8.0f}, ws.data(), ws.size() * 8).ok());
  const float want[9] = {4.5f, 6.5f, 4.5f, 6.5f, 8.0f, 6.5f, 4.5f, 6.5f, 4.5f};
  for (int i = 0; i < 9; ++i) CHECK(out[i] == want[i]);
}

// ---- ks = 9 / 25 specialisations against the general loop ------------------------------------------

namespace {
/// Runs kernel K on `pixels` pixels with `ks` taps and again with ks + 1 taps, the extra tap having
/// weight 0: the first hits the ks = 9 / 25 specialisation, the second the general loop; they must
/// agree exactly (integer sums are equal; f32: fma(x, 0, acc) == acc).
template <class K, class T, class Bias, class Run>
void check_specialisation(std::size_t ks, std::size_t channels, tt::rng& r, Run&& run) {
  const std::size_t pixels = 3, ks1 = ks + 1;
  std::vector<T> data(pixels * ks1 * channels);
  for (auto& v : data) {
    if constexpr (std::is_same_v<T, float>) v = rand_f(r);
    else v = rand_val<T>(r);
  }
  std::vector<const T*> ptr_a(pixels * ks), ptr_b(pixels * ks1);
  for (std::size_t p = 0; p < pixels; ++p) {
    for (std::size_t t = 0; t < ks; ++t) ptr_a[p * ks + t] = ptr_b[p * ks1 + t] = data.data() + (p * ks1 + t) * channels;
    ptr_b[p * ks1 + ks] = data.data() + (p * ks1 + ks) * channels;
  }
  using W = std::conditional_t<std::is_same_v<T, float>, float, std::int8_t>;
  std::vector<W> w(ks * channels);
  std::vector<Bias> bias(channels);
  for (auto& v : w) {
    if constexpr (std::is_same_v<W, float>) v = rand_f(r);
    else v = rand_val<std::int8_t>(r);
  }
  for (auto& v : bias) {
    if constexpr (std::is_same_v<Bias, float>) v = rand_f(r);
    else v = static_cast<Bias>(r.range(-100000, 100000));
  }
  const std::size_t cr = K::cr();
  auto pa = storage(kernels::packed_dw_bytes(channels, ks, cr, sizeof(Bias), sizeof(W)));
  auto pb = storage(kernels::packed_dw_bytes(channels, ks1, cr, sizeof(Bias), sizeof(W)));
  kernels::pack_dw<Bias, W>(channels, ks, cr, [&](std::size_t t, std::size_t c) { return w[t * channels + c]; },
                            [&](std::size_t c) { return bias[c]; }, pa.data());
  kernels::pack_dw<Bias, W>(channels, ks1, cr,
                            [&](std::size_t t, std::size_t c) { return t < ks ? w[t * channels + c] : W{0}; },
                            [&](std::size_t c) { return bias[c]; }, pb.data());
  std::vector<T> oa(pixels * channels), ob(pixels * channels);
  run(channels, pixels, ks, ptr_a.data(), pa.data(), oa.data());
  run(channels, pixels, ks1, ptr_b.data(), pb.data(), ob.data());
  INFO("ks=" << ks << " channels=" << channels);
  CHECK(oa == ob);
}
}  // namespace

TEST_CASE_TEMPLATE_DEFINE("dwconv_qs8 kernels: ks 9 and 25 equal the general loop", K, dw_spec_s8) {
  TT_REQUIRE_RUNNABLE(K);
  tt::rng r(11);
  std::vector<std::int32_t> mult(600, 1 << 30), shift(600, -6);
  output_stage<requant::per_channel> p{{mult.data(), shift.data()}, 3, -128, 127};
  const std::size_t cr = K::cr();
  for (std::size_t ks : {9u, 25u})
    for (std::size_t ch : {std::size_t{1}, std::size_t{3}, cr - 1 == 0 ? 2 : cr - 1, cr, cr + 1, 2 * cr + 3, std::size_t{67}})
      check_specialisation<K, std::int8_t, std::int32_t>(ks, ch, r, [&](std::size_t c, std::size_t px, std::size_t k,
                                                                        const std::int8_t* const* in, const void* pk,
                                                                        std::int8_t* out) {
        K::run(c, px, k, in, k, pk, out, c, p);
      });
}
TEST_CASE_TEMPLATE_APPLY(dw_spec_s8, as_tuple<kernels::dwconv_qs8_registry>::type);

// MBQM's whole shift range on the int8 unipass kernels, against the scalar kernel: per-channel
// shifts by 8-channel block (the Helium kernels' epilogue form is chosen per block) all in
// [-31, -1], in [-31, 30], or negative but one 0, each pattern in the first block in turn; every
// 8-channel tail after a whole block; 1, 3 and 5 pixels; ks 9 and 25 and the general loop;
// per-tensor shifts of both signs. Shift arrays and outputs border guard pages.
TEST_CASE_TEMPLATE_DEFINE("dwconv_qs8 kernels: MBQM's whole shift range equals the scalar kernel (guard pages)", K,
                          dw_shift_s8) {
  TT_REQUIRE_RUNNABLE(K);
  using ref = kernels::dwconv_qs8_scalar;
  tt::rng r(17);
  const std::size_t cr = K::cr();
  const std::size_t channels[] = {1, 3, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 24, 31, 67};
  for (std::size_t ks : {9u, 25u, 4u})
    for (std::size_t ch : channels)
      for (std::size_t phase = 0; phase < 3; ++phase) {
        const std::size_t pixels = 1 + 2 * phase;
        INFO("ks=" << ks << " channels=" << ch << " pixels=" << pixels << " phase=" << phase);
        const auto side = phase == 1 ? tt::guard_side::before : tt::guard_side::after;
        std::vector<std::int8_t> x(pixels * ks * ch), w(ks * ch);
        for (auto& v : x) v = rand_val<std::int8_t>(r);
        for (auto& v : w) v = rand_val<std::int8_t>(r);
        std::vector<const std::int8_t*> ptr(pixels * ks);
        for (std::size_t i = 0; i < pixels * ks; ++i) ptr[i] = x.data() + i * ch;
        std::vector<std::int32_t> bias(ch);
        tt::guarded<std::int32_t> mult(ch, side), shift(ch, side);
        tt::guarded<std::int8_t> out(pixels * ch, side);
        REQUIRE(out.ok());
        for (std::size_t c = 0; c < ch; ++c) {
          const std::size_t kind = (c / 8 + phase) % 3;
          bias[c] = static_cast<std::int32_t>(r.range(-40000, 40000));
          mult[c] = static_cast<std::int32_t>(c % 5 == 4 ? 0x7FFFFFFF : r.range(1 << 30, 0x7FFFFFFF));
          shift[c] = static_cast<std::int32_t>(kind == 0 ? r.range(-31, -1)
                                               : kind == 1 ? r.range(-31, 30)
                                               : c % 8 == (c / 8) % 8 ? 0 : r.range(-12, -1));
        }
        shift[0] = phase == 0 ? -1 : shift[0];  // the smallest right shift
        auto w_at = [&](std::size_t t, std::size_t c) { return w[t * ch + c]; };
        auto b_at = [&](std::size_t c) { return bias[c]; };
        tt::guarded<std::int32_t> packed(kernels::packed_dw_bytes(ch, ks, cr, 4, 1) / 4, side);
        kernels::pack_dw<std::int32_t, std::int8_t>(ch, ks, cr, w_at, b_at, packed.data());
        auto pr = storage(kernels::packed_dw_bytes(ch, ks, ref::cr(), 4, 1));
        kernels::pack_dw<std::int32_t, std::int8_t>(ch, ks, ref::cr(), w_at, b_at, pr.data());
        const std::int32_t zp = phase == 2 ? 100 : -3;
        const std::int32_t lo = phase == 1 ? -100 : -128, hi = phase == 1 ? 90 : 127;
        std::vector<std::int8_t> want(pixels * ch);
        auto check = [&](const auto& st) {
          K::run(ch, pixels, ks, ptr.data(), ks, packed.data(), out.data(), ch, st);
          ref::run(ch, pixels, ks, ptr.data(), ks, pr.data(), want.data(), ch, st);
          CHECK(std::vector<std::int8_t>(out.data(), out.data() + pixels * ch) == want);
        };
        check(output_stage<requant::per_channel>{{mult.data(), shift.data()}, zp, lo, hi});
        const std::int32_t pt_shift[] = {-1, -31, -9, 0, 2};
        for (std::int32_t s : pt_shift) check(output_stage<requant::per_tensor>{{mult[ch - 1], s}, zp, lo, hi});
      }
}
TEST_CASE_TEMPLATE_APPLY(dw_shift_s8, as_tuple<kernels::dwconv_qs8_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("dwconv_qs16 kernels: ks 9 and 25 equal the general loop (both accumulators)", K, dw_spec_s16) {
  TT_REQUIRE_RUNNABLE(K);
  tt::rng r(12);
  std::vector<std::int32_t> mult(600, 1 << 30), shift(600, -10);
  output_stage<requant::per_channel> p{{mult.data(), shift.data()}, 0, -32768, 32767};
  const std::size_t cr = K::cr();
  for (std::size_t ks : {9u, 25u})
    for (std::size_t ch : {std::size_t{1}, std::size_t{3}, cr - 1 == 0 ? 2 : cr - 1, cr, cr + 1, 2 * cr + 3, std::size_t{67}}) {
      check_specialisation<K, std::int16_t, std::int64_t>(ks, ch, r, [&](std::size_t c, std::size_t px, std::size_t k,
                                                                         const std::int16_t* const* in, const void* pk,
                                                                         std::int16_t* out) {
        K::template run<std::int64_t>(c, px, k, in, k, pk, out, c, p);
      });
      check_specialisation<K, std::int16_t, std::int64_t>(ks, ch, r, [&](std::size_t c, std::size_t px, std::size_t k,
                                                                         const std::int16_t* const* in, const void* pk,
                                                                         std::int16_t* out) {
        K::template run<std::int32_t>(c, px, k, in, k, pk, out, c, p);
      });
    }
}
TEST_CASE_TEMPLATE_APPLY(dw_spec_s16, as_tuple<kernels::dwconv_qs16_registry>::type);

// 16x8 kernels sum products in int32 runs before widening to int64 (|x w| <= 2^22, so a run may
// hold at most 511 taps). Windows of 600 and 1100 taps whose products are all +2^22 (-32768 x -128)
// or all -4161536 (-32768 x 127) in some channels pass int32 within one pixel; kernel level,
// against the scalar kernel: int64 bias at the op's limits (+-2^46), per-channel multipliers up to
// INT32_MAX with every MBQM64 shift in [-31, 7] (MBQM32: [-31, 30]), channel tails, inputs, packed
// weights, per-channel arrays and outputs bordering guard pages, and a clamp wider than int16 (the
// narrowing keeps the low 16 bits on every tag but Helium). The Helium kernel narrows with
// saturation and clamps in int16, so its contract, like depthwise_conv2d_s16's validate, keeps
// act_min / act_max within int16: it takes the zero point 12345 with a clamp inside int16 instead.
TEST_CASE_TEMPLATE_DEFINE("dwconv_qs16 kernels: long windows of extreme values equal the scalar kernel (guard pages)", K,
                          dw_long_s16) {
  TT_REQUIRE_RUNNABLE(K);
  using ref = kernels::dwconv_qs16_scalar;
  tt::rng r(15);
  const std::size_t cr = K::cr(), pixels = 3;
  constexpr std::int64_t lim = std::int64_t{1} << 46;
  for (auto side : {tt::guard_side::after, tt::guard_side::before})
    for (std::size_t ks : {600u, 1100u})
      for (std::size_t ch : {std::size_t{1}, cr - 1 == 0 ? 2 : cr - 1, cr, cr + 1, 2 * cr + 3})
        for (bool acc32 : {false, true})
          for (bool wide : {false, true}) {
            INFO("ks=" << ks << " channels=" << ch << (acc32 ? " int32" : " int64") << (wide ? " wide clamp" : ""));
            // Channel c: c % 3 == 0 all +2^22 products, 1 all -4161536, 2 random extreme values.
            tt::guarded<std::int16_t> x(pixels * ks * ch, side), out(pixels * ch, side);
            std::vector<std::int8_t> w(ks * ch);
            for (std::size_t t = 0; t < ks; ++t)
              for (std::size_t c = 0; c < ch; ++c)
                w[t * ch + c] = c % 3 == 0 ? std::int8_t{-128} : c % 3 == 1 ? std::int8_t{127}
                                : static_cast<std::int8_t>(r.next() % 2 ? -128 : r.range(-128, 127));
            for (std::size_t i = 0; i < pixels * ks * ch; ++i)
              x[i] = i % ch % 3 != 2 ? std::int16_t{-32768}
                                     : static_cast<std::int16_t>(r.next() % 2 ? -32768 : r.range(-32768, 32767));
            std::vector<const std::int16_t*> ptr(pixels * ks);
            for (std::size_t i = 0; i < pixels * ks; ++i) ptr[i] = x.data() + i * ch;
            tt::guarded<std::int32_t> mult(ch, side), shift(ch, side);
            std::vector<std::int64_t> bias(ch);
            for (std::size_t c = 0; c < ch; ++c) {
              bias[c] = c % 2 ? lim : r.range(-lim, lim);
              mult[c] = static_cast<std::int32_t>(c % 4 == 3 ? 0x7FFFFFFF : r.range(1 << 30, 0x7FFFFFFF));
              shift[c] = static_cast<std::int32_t>(acc32 ? r.range(-31, 30) : r.range(-31, 7));
            }
            const std::int32_t zp = wide ? 12345 : 0;
            constexpr bool int16_clamp = std::is_same_v<typename K::arch, arch::helium>;
            const std::int32_t lo = !wide ? -32768 : int16_clamp ? -20000 : std::numeric_limits<std::int32_t>::min();
            const std::int32_t hi = !wide ? 32767 : int16_clamp ? 25000 : std::numeric_limits<std::int32_t>::max();
            output_stage<requant::per_channel> pc{{mult.data(), shift.data()}, zp, lo, hi};
            output_stage<requant::per_tensor> pt{{mult[0], shift[0]}, zp, lo, hi};
            auto w_at = [&](std::size_t t, std::size_t c) { return w[t * ch + c]; };
            auto b_at = [&](std::size_t c) { return bias[c]; };
            const std::size_t bytes = kernels::packed_dw_bytes(ch, ks, cr, sizeof(std::int64_t), 1);
            tt::guarded<std::int64_t> packed(bytes / 8, side);
            REQUIRE(packed.ok());
            kernels::pack_dw<std::int64_t, std::int8_t>(ch, ks, cr, w_at, b_at, packed.data());
            auto pr = storage(kernels::packed_dw_bytes(ch, ks, ref::cr(), sizeof(std::int64_t), 1));
            kernels::pack_dw<std::int64_t, std::int8_t>(ch, ks, ref::cr(), w_at, b_at, pr.data());
            std::vector<std::int16_t> want(pixels * ch);
            auto check = [&](const auto& st) {
              if (acc32) {
                K::template run<std::int32_t>(ch, pixels, ks, ptr.data(), ks, packed.data(), out.data(), ch, st);
                ref::run<std::int32_t>(ch, pixels, ks, ptr.data(), ks, pr.data(), want.data(), ch, st);
              } else {
                K::template run<std::int64_t>(ch, pixels, ks, ptr.data(), ks, packed.data(), out.data(), ch, st);
                ref::run<std::int64_t>(ch, pixels, ks, ptr.data(), ks, pr.data(), want.data(), ch, st);
              }
              CHECK(std::vector<std::int16_t>(out.data(), out.data() + pixels * ch) == want);
            };
            check(pc);
            check(pt);
          }
}
TEST_CASE_TEMPLATE_APPLY(dw_long_s16, as_tuple<kernels::dwconv_qs16_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("dwconv_f32 kernels: ks 9 and 25 equal the general loop", K, dw_spec_f32) {
  TT_REQUIRE_RUNNABLE(K);
  tt::rng r(13);
  const std::size_t cr = K::cr();
  for (std::size_t ks : {9u, 25u})
    for (std::size_t ch : {std::size_t{1}, std::size_t{3}, cr - 1 == 0 ? 2 : cr - 1, cr, cr + 1, 2 * cr + 3, std::size_t{67}})
      check_specialisation<K, float, float>(ks, ch, r, [&](std::size_t c, std::size_t px, std::size_t k,
                                                           const float* const* in, const void* pk, float* out) {
        K::run(c, px, k, in, k, pk, out, c, f32_clamp{-0.9f, 0.9f});
      });
}
TEST_CASE_TEMPLATE_APPLY(dw_spec_f32, as_tuple<kernels::dwconv_f32_registry>::type);

// ---- guard pages --------------------------------------------------------------------------------

namespace {
/// Geometries for the guard tests: channel tails of every tile, padding on every side, multiplier > 1
/// (in_c 1 broadcast, the padded rows of 3x3 and the expanded-row ring of 5x5 and dilated 7x7).
std::vector<conv_geometry> guard_geometries() {
  std::vector<conv_geometry> out;
  struct spec { std::int64_t h, w, c, mult, k, stride, dil; padding mode; };
  const spec specs[] = {{1, 1, 1, 1, 1, 1, 1, padding::valid},   {5, 4, 3, 1, 3, 1, 1, padding::same},
                        {6, 7, 17, 1, 3, 2, 1, padding::same},   {4, 5, 33, 1, 5, 1, 1, padding::same},
                        {3, 3, 65, 1, 3, 1, 2, padding::same},   {5, 5, 64, 1, 2, 2, 1, padding::valid},
                        {4, 4, 129, 1, 3, 1, 1, padding::same},  {3, 5, 7, 3, 3, 1, 1, padding::same},
                        {2, 3, 257, 1, 1, 1, 1, padding::valid}, {7, 6, 31, 1, 7, 3, 1, padding::same},
                        {5, 6, 1, 8, 5, 1, 1, padding::same},    {6, 5, 17, 2, 3, 2, 1, padding::same},
                        {7, 7, 3, 4, 7, 1, 2, padding::same},    {4, 9, 5, 4, 3, 1, 1, padding::valid},
                        // stride 2: every row inside (paired), then an inside row before one whose
                        // window crosses the bottom (not paired)
                        {9, 10, 64, 1, 3, 2, 1, padding::valid}, {4, 9, 64, 1, 3, 2, 1, padding::same}};
  for (const spec& s : specs) {
    conv_shape cs{.batch = 2, .in_h = s.h, .in_w = s.w, .in_c = s.c, .out_c = s.c * s.mult, .kernel_h = s.k,
                  .kernel_w = s.k, .stride_h = s.stride, .stride_w = s.stride, .dilation_h = s.dil, .dilation_w = s.dil};
    conv_geometry g;
    REQUIRE(make_conv_geometry(cs, s.mode, g).ok());
    out.push_back(g);
  }
  return out;
}
}  // namespace

TEST_CASE_TEMPLATE_DEFINE("dwconv_qs8 kernels stay inside input, packed, workspace and output (guard pages)", K, dw_guard_s8) {
  TT_REQUIRE_RUNNABLE(K);
  using dw = op_s8<K>;
  tt::rng r(31);
  for (auto side : {tt::guard_side::after, tt::guard_side::before})
    for (const conv_geometry& g : guard_geometries()) {
      INFO(describe(g));
      const std::size_t nw = g.taps() * g.out_c, bytes = dw::packed_weights_bytes(g), wsb = dw::workspace_bytes(g);
      REQUIRE(bytes % 4 == 0);
      tt::guarded<std::int8_t> in(g.in_elems(), side), w(nw, side), out(g.out_elems(), side);
      tt::guarded<std::int32_t> bias(g.out_c, side), mult(g.out_c, side), shift(g.out_c, side), packed(bytes / 4, side);
      tt::guarded<std::uint8_t> ws(wsb, side);
      REQUIRE(in.ok());
      for (std::size_t i = 0; i < g.in_elems(); ++i) in[i] = rand_val<std::int8_t>(r);
      for (std::size_t i = 0; i < nw; ++i) w[i] = rand_val<std::int8_t>(r);
      for (std::size_t o = 0; o < g.out_c; ++o) {
        bias[o] = static_cast<std::int32_t>(r.range(-5000, 5000));
        mult[o] = 1 << 30;
        shift[o] = -7;
      }
      REQUIRE(dw::pack_weights(g, w.data(), bias.data(), -7, packed.data(), bytes).ok());
      output_stage<requant::per_channel> p{{mult.data(), shift.data()}, 2, -128, 127};
      REQUIRE(dw::run(g, in.data(), packed.data(), out.data(), p, -7, ws.data(), wsb).ok());
      std::vector<std::int8_t> want(g.out_elems());
      reference<std::int64_t>(g, in.data(), w.data(), std::int64_t{-7}, [&](std::size_t o) { return std::int64_t{bias[o]}; },
                              [&](std::int64_t acc, std::size_t o) {
                                return requantize_one<std::int8_t>(static_cast<std::int32_t>(acc), p, o);
                              }, want.data());
      CHECK(std::vector<std::int8_t>(out.data(), out.data() + g.out_elems()) == want);
    }
  MESSAGE(std::string(K::name) << ": guard pages " << std::string(TT_HAS_GUARD_PAGES ? "on" : "unavailable (bare metal)"));
}
TEST_CASE_TEMPLATE_APPLY(dw_guard_s8, as_tuple<kernels::dwconv_qs8_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("dwconv_qs16 kernels stay inside input, packed, workspace and output (guard pages)", K, dw_guard_s16) {
  TT_REQUIRE_RUNNABLE(K);
  using dw = op_s16<K>;
  tt::rng r(32);
  for (auto side : {tt::guard_side::after, tt::guard_side::before})
    for (const conv_geometry& g : guard_geometries())
      for (bool acc32 : {false, true}) {
        INFO(describe(g) << (acc32 ? " int32 bias" : " int64 bias"));
        const std::size_t nw = g.taps() * g.out_c, bytes = dw::packed_weights_bytes(g), wsb = dw::workspace_bytes(g);
        REQUIRE(bytes % 8 == 0);
        tt::guarded<std::int16_t> in(g.in_elems(), side), out(g.out_elems(), side);
        tt::guarded<std::int8_t> w(nw, side);
        tt::guarded<std::int32_t> bias32(g.out_c, side);
        tt::guarded<std::int64_t> bias64(g.out_c, side), packed(bytes / 8, side);
        tt::guarded<std::uint8_t> ws(wsb, side);
        REQUIRE(in.ok());
        for (std::size_t i = 0; i < g.in_elems(); ++i) in[i] = rand_val<std::int16_t>(r);
        for (std::size_t i = 0; i < nw; ++i) w[i] = rand_val<std::int8_t>(r);
        for (std::size_t o = 0; o < g.out_c; ++o) bias64[o] = bias32[o] = static_cast<std::int32_t>(r.range(-500000, 500000));
        if (acc32) REQUIRE(dw::pack_weights(g, w.data(), bias32.data(), packed.data(), bytes).ok());
        else REQUIRE(dw::pack_weights(g, w.data(), bias64.data(), packed.data(), bytes).ok());
        output_stage<requant::per_tensor> p{{1 << 30, -14}, 0, -32768, 32767};
        REQUIRE(dw::run(g, in.data(), packed.data(), out.data(), p, ws.data(), wsb).ok());
        std::vector<std::int16_t> want(g.out_elems());
        reference<std::int64_t>(g, in.data(), w.data(), std::int64_t{0}, [&](std::size_t o) { return bias64[o]; },
                                [&](std::int64_t acc, std::size_t) {
                                  return acc32 ? requantize_one<std::int16_t>(static_cast<std::int32_t>(acc), p, 0)
                                               : requantize_one<std::int16_t>(acc, p, 0);
                                }, want.data());
        CHECK(std::vector<std::int16_t>(out.data(), out.data() + g.out_elems()) == want);
      }
}
TEST_CASE_TEMPLATE_APPLY(dw_guard_s16, as_tuple<kernels::dwconv_qs16_registry>::type);

namespace {
/// guard_geometries() on the operator `dw` with its workspace_bytes, every buffer guarded on one
/// side in turn: results within 1e-4 of the scalar kernel's.
template <class dw> void check_guard_f32() {
  using ref = depthwise_conv2d_f32<arch::scalar, kernels::dwconv_f32_scalar>;
  tt::rng r(33);
  for (auto side : {tt::guard_side::after, tt::guard_side::before})
    for (const conv_geometry& g : guard_geometries()) {
      INFO(describe(g));
      const std::size_t nw = g.taps() * g.out_c, bytes = dw::packed_weights_bytes(g), wsb = dw::workspace_bytes(g);
      REQUIRE(bytes % 4 == 0);
      tt::guarded<float> in(g.in_elems(), side), w(nw, side), out(g.out_elems(), side), bias(g.out_c, side);
      tt::guarded<std::int32_t> packed(bytes / 4, side);
      tt::guarded<std::uint8_t> ws(wsb, side);
      REQUIRE(in.ok());
      for (std::size_t i = 0; i < g.in_elems(); ++i) in[i] = rand_f(r);
      for (std::size_t i = 0; i < nw; ++i) w[i] = rand_f(r);
      for (std::size_t o = 0; o < g.out_c; ++o) bias[o] = rand_f(r);
      REQUIRE(dw::pack_weights(g, w.data(), bias.data(), packed.data(), bytes).ok());
      auto rp = storage(ref::packed_weights_bytes(g)), rws = storage(ref::workspace_bytes(g));
      REQUIRE(ref::pack_weights(g, w.data(), bias.data(), rp.data(), rp.size() * 8).ok());
      std::vector<float> want(g.out_elems());
      REQUIRE(ref::run(g, in.data(), rp.data(), want.data(), f32_clamp{}, rws.data(), rws.size() * 8).ok());
      // The full workspace, then the smallest (the row path where the full one takes a cache).
      for (std::size_t bytes_ws : {wsb, dw::min_workspace_bytes(g)}) {
        INFO("workspace " << bytes_ws);
        for (std::size_t i = 0; i < want.size(); ++i) out[i] = 1e30f;
        REQUIRE(dw::run(g, in.data(), packed.data(), out.data(), f32_clamp{}, ws.data(), bytes_ws).ok());
        for (std::size_t i = 0; i < want.size(); ++i)
          if (!(std::fabs(out[i] - want[i]) <= 1e-4f)) FAIL("element " << i << ": " << out[i] << " vs scalar " << want[i]);
      }
    }
}
}  // namespace

TEST_CASE_TEMPLATE_DEFINE("dwconv_f32 kernels stay inside input, packed, workspace and output (guard pages)", K, dw_guard_f32) {
  TT_REQUIRE_RUNNABLE(K);
  check_guard_f32<op_f32<K>>();
}
TEST_CASE_TEMPLATE_APPLY(dw_guard_f32, as_tuple<kernels::dwconv_f32_registry>::type);

// ---- 3x3 row kernels ----------------------------------------------------------------------------

namespace {
/// Pixel counts and channel counts the row-kernel tests sweep for a kernel of channel tile `cr`.
std::vector<std::size_t> row_pixels() { return {1, 2, 3, 4, 5, 7, 8, 9, 13, 17, 30}; }
std::vector<std::size_t> row_channels(std::size_t cr) {
  // Half a tile and a tile and a half: kernels with an 8-lane form of a 16-channel tile use it there.
  // cr + 2, + 5, + 6: with the others, every tail of an 8-channel tile after a whole block.
  return {1, 3, cr - 1 == 0 ? 2 : cr - 1, cr, cr + 1, 2 * cr + 3, 67, cr / 2 == 0 ? 2 : cr / 2, cr + cr / 2,
          cr + 2, cr + 5, cr + 6};
}

/// Runs `row(channels, pixels, stride, rows, packed, out)` (rows[0..K)) on guarded buffers (K rows
/// of exactly ((pixels - 1) * stride + K) * channels elements, packed blocks of the kernel's tile,
/// output of pixels * channels) and `unipass(channels, pixels, ptrs, packed4, out)` (the scalar
/// kernel on the equivalent K * K tap pointers); the outputs must be equal.
template <std::size_t K, class T, class Bias, class RowCall, class UniCall>
void check_row_kernel_k(std::size_t cr, tt::rng& r, T lo_val, T hi_val, RowCall&& row, UniCall&& unipass) {
  constexpr std::size_t ks = K * K;
  for (std::size_t stride : {1u, 2u})
    for (std::size_t ch : row_channels(cr))
      for (std::size_t px : row_pixels())
        for (auto side : {tt::guard_side::after, tt::guard_side::before}) {
          INFO("stride=" << stride << " channels=" << ch << " pixels=" << px);
          const std::size_t n_in = ((px - 1) * stride + K) * ch;
          std::unique_ptr<tt::guarded<T>> bufs[K];
          T* rows[K];
          for (std::size_t ky = 0; ky < K; ++ky) {
            bufs[ky] = std::make_unique<tt::guarded<T>>(n_in, side);
            REQUIRE(bufs[ky]->ok());
            rows[ky] = bufs[ky]->data();
          }
          tt::guarded<T> out(px * ch, side);
          for (T* rw : rows)
            for (std::size_t i = 0; i < n_in; ++i)
              if constexpr (std::is_floating_point_v<T>) rw[i] = rand_f(r);
              else rw[i] = static_cast<T>(r.range(lo_val, hi_val));
          std::vector<T> w(ks * ch);
          std::vector<Bias> bias(ch);
          // Integer weights span int8, or, when the inputs are limited to negative extremes (lo_val,
          // hi_val < 0), the same extremes: -128 x -128 pairs (the Neon kernels' int16 pair sums
          // need their offset form exactly there).
          for (auto& v : w)
            if constexpr (std::is_floating_point_v<T>) v = rand_f(r);
            else v = static_cast<T>(hi_val < 0 ? r.range(lo_val, hi_val) : r.range(-128, 127));
          for (auto& v : bias)
            if constexpr (std::is_floating_point_v<Bias>) v = rand_f(r);
            else v = static_cast<Bias>(r.range(-40000, 40000));
          const std::size_t bytes = kernels::packed_dw_bytes(ch, ks, cr, sizeof(Bias), sizeof(T));
          tt::guarded<std::int32_t> packed(bytes / 4, side);
          kernels::pack_dw<Bias, T>(ch, ks, cr, [&](std::size_t t, std::size_t c) { return w[t * ch + c]; },
                                    [&](std::size_t c) { return bias[c]; }, packed.data());
          auto packed4 = storage(kernels::packed_dw_bytes(ch, ks, 4, sizeof(Bias), sizeof(T)));
          kernels::pack_dw<Bias, T>(ch, ks, 4, [&](std::size_t t, std::size_t c) { return w[t * ch + c]; },
                                    [&](std::size_t c) { return bias[c]; }, packed4.data());
          std::vector<const T*> ptrs(px * ks);
          for (std::size_t j = 0; j < px; ++j)
            for (std::size_t t = 0; t < ks; ++t) ptrs[j * ks + t] = rows[t / K] + (j * stride + t % K) * ch;
          std::vector<T> want(px * ch);
          unipass(ch, px, ptrs.data(), static_cast<const void*>(packed4.data()), want.data());
          const T* crows[K];
          for (std::size_t ky = 0; ky < K; ++ky) crows[ky] = rows[ky];
          row(ch, px, stride, static_cast<const T* const*>(crows), static_cast<const void*>(packed.data()), out.data());
          for (std::size_t i = 0; i < want.size(); ++i)
            if (!(out[i] == want[i])) FAIL("element " << i << ": row kernel " << +out[i] << ", scalar " << +want[i]);
        }
}
/// check_row_kernel_k<3> with `row(channels, pixels, stride, r0, r1, r2, packed, out)`.
template <class T, class Bias, class RowCall, class UniCall>
void check_row_kernel(std::size_t cr, tt::rng& r, T lo_val, T hi_val, RowCall&& row, UniCall&& unipass) {
  check_row_kernel_k<3, T, Bias>(
      cr, r, lo_val, hi_val,
      [&](std::size_t c, std::size_t px, std::size_t s, const T* const* rw, const void* pk, T* out) {
        row(c, px, s, rw[0], rw[1], rw[2], pk, out);
      },
      unipass);
}
}  // namespace

TEST_CASE_TEMPLATE_DEFINE("dwconv3x3_f32 row kernels equal the scalar kernel bit for bit, inside guard pages", R, dw_row_f32) {
  TT_REQUIRE_RUNNABLE(R);
  tt::rng r(41);
  const f32_clamp clamp{-0.9f, 0.9f};
  check_row_kernel<float, float>(
      R::cr(), r, 0.0f, 0.0f,
      [&](std::size_t c, std::size_t px, std::size_t s, const float* r0, const float* r1, const float* r2,
          const void* pk, float* out) { R::run(c, px, s, r0, r1, r2, pk, out, clamp); },
      [&](std::size_t c, std::size_t px, const float* const* ptrs, const void* pk, float* out) {
        kernels::dwconv_f32_scalar::run(c, px, 9, ptrs, 9, pk, out, c, clamp);
      });
}
TEST_CASE_TEMPLATE_APPLY(dw_row_f32, as_tuple<kernels::dwconv3x3_f32_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("dwconv5x5_f32 row kernels equal the scalar kernel bit for bit, inside guard pages", R, dw_row5_f32) {
  TT_REQUIRE_RUNNABLE(R);
  tt::rng r(45);
  const f32_clamp clamp{-1.9f, 1.9f};
  check_row_kernel_k<5, float, float>(
      R::cr(), r, 0.0f, 0.0f,
      [&](std::size_t c, std::size_t px, std::size_t s, const float* const* rows, const void* pk, float* out) {
        R::run(c, px, s, rows, pk, out, clamp);
      },
      [&](std::size_t c, std::size_t px, const float* const* ptrs, const void* pk, float* out) {
        kernels::dwconv_f32_scalar::run(c, px, 25, ptrs, 25, pk, out, c, clamp);
      });
}
TEST_CASE_TEMPLATE_APPLY(dw_row5_f32, as_tuple<kernels::dwconv5x5_f32_registry>::type);

namespace {
/// The int8 KxK row kernel `run(c, px, s, rows, packed, out, stage)` (rows[0..K)) against the scalar
/// unipass kernel, inside guard pages, over output stages that reach every epilogue form: per-channel
/// right shifts, MBQM's whole shift domain (left shifts, outputs near the int32 limits where the zero
/// point wraps), a per-tensor left shift, full-range and extreme (-128/-127 only) inputs and weights.
template <std::size_t K, class Run> void check_row_s8(std::size_t cr, std::uint64_t seed, Run&& run) {
  constexpr std::size_t ks = K * K;
  tt::rng r(seed);
  std::vector<std::int32_t> mult(600), shift(600);
  for (auto& m : mult) m = static_cast<std::int32_t>(r.range(1 << 30, 0x7FFFFFFF));
  for (auto& v : shift) v = static_cast<std::int32_t>(r.range(-11, -4));
  const output_stage<requant::per_channel> pc{{mult.data(), shift.data()}, -3, -128, 127};
  const output_stage<requant::per_tensor> pt{{mult[0], shift[0]}, 5, -100, 90};
  std::vector<std::int32_t> wide(600);
  for (auto& v : wide) v = static_cast<std::int32_t>(r.range(-31, 30));
  const output_stage<requant::per_channel> pw{{mult.data(), wide.data()}, 100, -128, 127};
  const output_stage<requant::per_tensor> pl{{mult[1], 2}, -7, -128, 127};
  auto check = [&](std::int8_t lo, std::int8_t hi, const auto& stage) {
    check_row_kernel_k<K, std::int8_t, std::int32_t>(
        cr, r, lo, hi,
        [&](std::size_t c, std::size_t px, std::size_t s, const std::int8_t* const* rows, const void* pk,
            std::int8_t* out) { run(c, px, s, rows, pk, out, stage); },
        [&](std::size_t c, std::size_t px, const std::int8_t* const* ptrs, const void* pk, std::int8_t* out) {
          kernels::dwconv_qs8_scalar::run(c, px, ks, ptrs, ks, pk, out, c, stage);
        });
  };
  check(-128, 127, pw);
  check(-128, 127, pl);
  for (int extreme = 0; extreme < 2; ++extreme) {  // full-range inputs, then only -128 and -127 (largest products)
    const std::int8_t lo = -128, hi = extreme ? -127 : 127;
    check(lo, hi, pc);
    check(lo, hi, pt);
  }
}
}  // namespace

TEST_CASE_TEMPLATE_DEFINE("dwconv3x3_qs8 row kernels equal the scalar kernel bit for bit, inside guard pages", R, dw_row_s8) {
  TT_REQUIRE_RUNNABLE(R);
  check_row_s8<3>(R::cr(), 42, [](std::size_t c, std::size_t px, std::size_t s, const std::int8_t* const* rows,
                                  const void* pk, std::int8_t* out, const auto& stage) {
    R::run(c, px, s, rows[0], rows[1], rows[2], pk, out, stage);
  });
}
TEST_CASE_TEMPLATE_APPLY(dw_row_s8, as_tuple<kernels::dwconv3x3_qs8_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("dwconv5x5_qs8 row kernels equal the scalar kernel bit for bit, inside guard pages", R, dw_row5_s8) {
  TT_REQUIRE_RUNNABLE(R);
  check_row_s8<5>(R::cr(), 47, [](std::size_t c, std::size_t px, std::size_t s, const std::int8_t* const* rows,
                                  const void* pk, std::int8_t* out, const auto& stage) {
    R::run(c, px, s, rows, pk, out, stage);
  });
}
TEST_CASE_TEMPLATE_APPLY(dw_row5_s8, as_tuple<kernels::dwconv5x5_qs8_registry>::type);

namespace {
/// A random 3x3 geometry the row path serves (multiplier 1, dilation_w 1, stride_w 1 or 2), wide
/// enough for interiors; stride_h and dilation_h vary, every padding mode.
conv_geometry random_row_geometry(tt::rng& r, std::size_t t, std::int64_t k = 3) {
  // 512: pixels 2 KiB apart in fp32, where the padded-row cache staggers its rows (padded_slot_elems)
  // and the AVX2 fp32 row kernel picks its tile by the rows' distance.
  static const std::int64_t channels[] = {1, 3, 4, 7, 8, 9, 16, 17, 31, 32, 33, 64, 65, 67, 512};
  for (;;) {
    conv_shape s;
    s.batch = t % 5 == 4 ? 2 : 1;
    s.in_c = s.out_c = channels[r.next() % (sizeof channels / sizeof channels[0])];
    s.kernel_h = s.kernel_w = k;
    s.stride_w = r.range(1, 2);
    s.stride_h = r.range(1, 3);
    s.dilation_h = r.next() % 4 == 0 ? (r.next() % 3 == 0 ? 4 : 2) : 1;  // 4: past the padded-row cache
    s.in_h = r.range(1, 7);
    s.in_w = r.range(1, 40);
    if (k > 3) s.in_h += r.range(0, 4);  // 5x5: some rows with windows inside the input
    const padding mode = t % 3 == 0 ? padding::same : t % 3 == 1 ? padding::explicit_pads : padding::valid;
    if (mode == padding::explicit_pads) {
      s.pad_top = r.range(0, 2);
      s.pad_left = r.range(0, 3);
      s.pad_bottom = r.range(0, 2);
      s.pad_right = r.range(0, 3);
    }
    conv_geometry g;
    if (make_conv_geometry(s, mode, g)) return g;
  }
}
}  // namespace

namespace {
/// Random kxk layers the int8 row path serves, on op_s8<K> with its workspace_bytes and with its
/// min_workspace_bytes, against the TFLite-semantics reference (exact).
template <class K> void check_row_op_s8(std::int64_t k, std::uint64_t seed) {
  using dw = op_s8<K>;
  tt::rng r(seed);
  const std::size_t ks = static_cast<std::size_t>(k * k);
  const std::size_t cases = tt::scaled(60);
  for (std::size_t t = 0; t < cases; ++t) {
    const conv_geometry g = random_row_geometry(r, t, k);
    INFO(describe(g) << " case " << t << " row kernels " << dw::row_kernel::name << ", " << dw::row5_kernel::name);
    const auto zin = static_cast<std::int32_t>(r.range(-128, 127));
    std::vector<std::int8_t> in(g.in_elems()), w(ks * g.out_c);
    for (auto& v : in) v = rand_val<std::int8_t>(r);
    for (auto& v : w) v = rand_val<std::int8_t>(r);
    std::vector<std::int32_t> bias(g.out_c), mult(g.out_c), shift(g.out_c);
    for (std::size_t o = 0; o < g.out_c; ++o) {
      bias[o] = static_cast<std::int32_t>(r.range(-40000, 40000));
      mult[o] = static_cast<std::int32_t>(r.range(1 << 30, 0x7FFFFFFF));
      shift[o] = static_cast<std::int32_t>(r.range(-12, -4));
    }
    const std::size_t bytes = dw::packed_weights_bytes(g);
    auto packed = storage(bytes), ws = storage(dw::workspace_bytes(g));
    REQUIRE(dw::pack_weights(g, w.data(), bias.data(), zin, packed.data(), bytes).ok());
    output_stage<requant::per_channel> pc{{mult.data(), shift.data()}, -2, -128, 127};
    std::vector<std::int8_t> want(g.out_elems()), got(g.out_elems(), 0x55);
    reference<std::int64_t>(g, in.data(), w.data(), std::int64_t{zin}, [&](std::size_t o) { return std::int64_t{bias[o]}; },
                            [&](std::int64_t acc, std::size_t o) {
                              return requantize_one<std::int8_t>(static_cast<std::int32_t>(acc), pc, o);
                            }, want.data());
    REQUIRE(dw::run(g, in.data(), packed.data(), got.data(), pc, zin, ws.data(), dw::workspace_bytes(g)).ok());
    REQUIRE(got == want);
    // The smallest workspace: tap pointers for edge pixels and padded rows, the row kernel inside.
    std::fill(got.begin(), got.end(), std::int8_t{0x55});
    REQUIRE(dw::run(g, in.data(), packed.data(), got.data(), pc, zin, ws.data(), dw::min_workspace_bytes(g)).ok());
    REQUIRE(got == want);
  }
}
}  // namespace

TEST_CASE_TEMPLATE_DEFINE("depthwise 3x3 layers on the row path equal the references", K, dw_row_op_s8) {
  TT_REQUIRE_RUNNABLE(K);
  check_row_op_s8<K>(3, 43);
}
TEST_CASE_TEMPLATE_APPLY(dw_row_op_s8, as_tuple<kernels::dwconv_qs8_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("depthwise 5x5 int8 layers on the row path equal the references", K, dw_row5_op_s8) {
  TT_REQUIRE_RUNNABLE(K);
  check_row_op_s8<K>(5, 48);
}
TEST_CASE_TEMPLATE_APPLY(dw_row5_op_s8, as_tuple<kernels::dwconv_qs8_registry>::type);


namespace {
/// Random kxk layers the f32 row path serves, on the operator `dw` with its workspace_bytes and with
/// its min_workspace_bytes: bit for bit the scalar kernel's results, and near a double reference.
/// Returns how many of them took the channel-group path and how many paired rows (min workspace).
struct row_paths { std::size_t grouped = 0, paired = 0; };
template <class dw> row_paths check_row_op_f32_on(std::int64_t k, std::uint64_t seed) {
  using ref = depthwise_conv2d_f32<arch::scalar, kernels::dwconv_f32_scalar>;
  tt::rng r(seed);
  const std::size_t cases = tt::scaled(60);
  const std::size_t ks = static_cast<std::size_t>(k * k);
  row_paths paths;
  for (std::size_t t = 0; t < cases; ++t) {
    const conv_geometry g = random_row_geometry(r, t, k);
    paths.grouped += dw::uses_groups(g) ? 1 : 0;
    if constexpr (requires { dw::uses_paired_rows(g); }) paths.paired += dw::uses_paired_rows(g) ? 1 : 0;
    INFO(describe(g) << " case " << t << " row kernels " << dw::row_kernel::name << ", " << dw::row5_kernel::name);
    std::vector<float> in(g.in_elems()), w(ks * g.out_c), bias(g.out_c);
    for (auto& v : in) v = rand_f(r);
    for (auto& v : w) v = rand_f(r);
    for (auto& v : bias) v = rand_f(r);
    const f32_clamp clamp{-1.5f, 1.25f};
    auto packed = storage(dw::packed_weights_bytes(g)), rpacked = storage(ref::packed_weights_bytes(g));
    auto ws = storage(dw::workspace_bytes(g));
    REQUIRE(dw::pack_weights(g, w.data(), bias.data(), packed.data(), packed.size() * 8).ok());
    REQUIRE(ref::pack_weights(g, w.data(), bias.data(), rpacked.data(), rpacked.size() * 8).ok());
    std::vector<float> got(g.out_elems(), 1e30f), other(g.out_elems(), 1e30f);
    std::vector<double> want(g.out_elems());
    reference<double>(g, in.data(), w.data(), 0.0, [&](std::size_t o) { return double{bias[o]}; },
                      [&](double acc, std::size_t) { return std::fmin(std::fmax(acc, double{clamp.min}), double{clamp.max}); },
                      want.data());
    auto rws = storage(ref::workspace_bytes(g));
    REQUIRE(ref::run(g, in.data(), rpacked.data(), other.data(), clamp, rws.data(), ref::workspace_bytes(g)).ok());
    // |terms| <= 1: at most 26 terms, rounding error < 2e-5.
    const double tol = k > 3 ? 5e-5 : 2e-5;
    // The full workspace (padded rows, all on the row kernel), then the smallest (edge pixels on tap pointers).
    for (std::size_t bytes : {dw::workspace_bytes(g), dw::min_workspace_bytes(g)}) {
      std::fill(got.begin(), got.end(), 1e30f);
      REQUIRE(dw::run(g, in.data(), packed.data(), got.data(), clamp, ws.data(), bytes).ok());
      for (std::size_t i = 0; i < got.size(); ++i)
        if (!(got[i] == other[i]) || !(std::fabs(double{got[i]} - want[i]) <= tol))
          FAIL("workspace " << bytes << " element " << i << ": kernel " << got[i] << ", scalar kernel " << other[i]
                            << ", double " << want[i]);
    }
  }
  return paths;
}
template <class K> void check_row_op_f32(std::int64_t k, std::uint64_t seed) { check_row_op_f32_on<op_f32<K>>(k, seed); }
}  // namespace

TEST_CASE_TEMPLATE_DEFINE("depthwise 3x3 f32 layers on the row path equal the scalar kernel and a double reference", K, dw_row_op_f32) {
  TT_REQUIRE_RUNNABLE(K);
  check_row_op_f32<K>(3, 44);
}
TEST_CASE_TEMPLATE_APPLY(dw_row_op_f32, as_tuple<kernels::dwconv_f32_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("depthwise 5x5 f32 layers on the row path equal the scalar kernel and a double reference", K, dw_row5_op_f32) {
  TT_REQUIRE_RUNNABLE(K);
  check_row_op_f32<K>(5, 46);
}
TEST_CASE_TEMPLATE_APPLY(dw_row5_op_f32, as_tuple<kernels::dwconv_f32_registry>::type);

// ---- pitched 3x3 row kernels and the channel-group path ------------------------------------------

namespace {
/// Random 3x3 weights and bias of `ch` channels (drawn from `r` in that order), packed in blocks of
/// `cr` into a buffer bordering a guard page on `side`.
struct dw3x3_weights {
  std::vector<float> w, bias;
  tt::guarded<std::int32_t> packed;
  dw3x3_weights(tt::rng& r, std::size_t ch, std::size_t cr, tt::guard_side side)
      : w(9 * ch), bias(ch), packed(kernels::packed_dw_bytes(ch, 9, cr, 4, 4) / 4, side) {
    for (auto& v : w) v = rand_f(r);
    for (auto& v : bias) v = rand_f(r);
    kernels::pack_dw<float, float>(ch, 9, cr, [&](std::size_t t, std::size_t c) { return w[t * ch + c]; },
                                   [&](std::size_t c) { return bias[c]; }, packed.data());
  }
};
}  // namespace

TEST_CASE_TEMPLATE_DEFINE("dwconv3x3p_f32 pitched row kernels equal the scalar kernel bit for bit, inside guard pages", P,
                          dw_rowp_f32) {
  TT_REQUIRE_RUNNABLE(P);
  tt::rng r(47);
  const f32_clamp clamp{-0.9f, 0.9f};
  const std::size_t cr = P::cr(), group = P::group_channels();
  REQUIRE(group % cr == 0);
  std::vector<std::size_t> chans = row_channels(cr);
  chans.push_back(group);
  chans.push_back(group - 1);
  for (std::size_t stride : {1u, 2u})
    for (std::size_t ch : chans)
      for (std::size_t px : row_pixels())
        for (std::size_t variant = 0; variant < 2; ++variant) {
          // Input pitch past the channels (the operator's cache lines) and an output pitch of a wider
          // layer; then both pitches equal to the channels (the plain row contract).
          const std::size_t ip = variant == 0 ? (ch + 15) / 16 * 16 + 16 : ch, op = variant == 0 ? ch + 3 : ch;
          const auto side = variant == 0 ? tt::guard_side::after : tt::guard_side::before;
          INFO("stride=" << stride << " channels=" << ch << " pixels=" << px << " in_pitch=" << ip << " out_pitch=" << op);
          // Exactly the windows' extent: the last pixel ends at its channels.
          const std::size_t n_in = ((px - 1) * stride + 2) * ip + ch, n_out = (px - 1) * op + ch;
          std::unique_ptr<tt::guarded<float>> bufs[3];
          const float* rows[3];
          for (std::size_t ky = 0; ky < 3; ++ky) {
            bufs[ky] = std::make_unique<tt::guarded<float>>(n_in, side);
            REQUIRE(bufs[ky]->ok());
            for (std::size_t i = 0; i < n_in; ++i) (*bufs[ky])[i] = rand_f(r);
            rows[ky] = bufs[ky]->data();
          }
          dw3x3_weights wt(r, ch, cr, side);
          const auto& w = wt.w;
          const auto& bias = wt.bias;
          auto& packed = wt.packed;
          auto packed4 = storage(kernels::packed_dw_bytes(ch, 9, 4, 4, 4));
          kernels::pack_dw<float, float>(ch, 9, 4, [&](std::size_t t, std::size_t c) { return w[t * ch + c]; },
                                         [&](std::size_t c) { return bias[c]; }, packed4.data());
          std::vector<const float*> ptrs(px * 9);
          for (std::size_t j = 0; j < px; ++j)
            for (std::size_t t = 0; t < 9; ++t) ptrs[j * 9 + t] = rows[t / 3] + (j * stride + t % 3) * ip;
          // The gaps between output pixels must keep their sentinel.
          std::vector<float> want(n_out, 1e30f);
          kernels::dwconv_f32_scalar::run(ch, px, 9, ptrs.data(), 9, packed4.data(), want.data(), op, clamp);
          tt::guarded<float> out(n_out, side);
          for (std::size_t i = 0; i < n_out; ++i) out[i] = 1e30f;
          P::run(ch, px, stride, rows[0], rows[1], rows[2], ip, packed.data(), out.data(), op, clamp);
          for (std::size_t i = 0; i < n_out; ++i)
            if (!(out[i] == want[i])) FAIL("element " << i << ": pitched kernel " << out[i] << ", scalar " << want[i]);
        }
}
TEST_CASE_TEMPLATE_APPLY(dw_rowp_f32, as_tuple<kernels::dwconv3x3p_f32_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("dwconv3x3p_f32 two-row entries equal two one-row calls bit for bit, inside guard pages", P,
                          dw_rowp2_f32) {
  TT_REQUIRE_RUNNABLE(P);
  if constexpr (!detail::dw::has_run2<P>) {
    MESSAGE(P::name << " has no two-row entry");
  } else {
    tt::rng r(49);
    const f32_clamp clamp{-0.9f, 0.9f};
    const std::size_t cr = P::cr(), group = P::group_channels();
    std::vector<std::size_t> chans = row_channels(cr);
    chans.push_back(group);  // the AVX-512 kernel's compile-time pitch
    chans.push_back(group - 1);
    for (std::size_t ch : chans)
      for (std::size_t px : row_pixels())
        for (std::size_t variant = 0; variant < 2; ++variant) {
          // As above: wider pitches with the guard after, then pitches equal to the channels with
          // the guard before; the tap rows one pitch apart in one buffer, the last ending at it.
          const std::size_t ip = variant == 0 ? (ch + 15) / 16 * 16 + 16 : ch, op = variant == 0 ? ch + 3 : ch;
          const auto side = variant == 0 ? tt::guard_side::after : tt::guard_side::before;
          const std::size_t row_in = ((px - 1) * 2 + 2) * ip + ch, rp = row_in + 5 * variant;
          const std::size_t n_in = 4 * rp + row_in, row_out = (px - 1) * op + ch, orp = row_out + 2 * variant;
          const std::size_t n_out = orp + row_out;
          INFO("channels=" << ch << " pixels=" << px << " in_pitch=" << ip << " out_pitch=" << op << " row_pitch=" << rp);
          tt::guarded<float> in(n_in, side), out(n_out, side);
          REQUIRE(in.ok());
          for (std::size_t i = 0; i < n_in; ++i) in[i] = rand_f(r);
          dw3x3_weights wt(r, ch, cr, side);
          auto& packed = wt.packed;
          std::vector<float> want(n_out, 1e30f);
          for (std::size_t i = 0; i < 2; ++i) {
            const float* r0 = in.data() + 2 * i * rp;
            P::run(ch, px, 2, r0, r0 + rp, r0 + 2 * rp, ip, packed.data(), want.data() + i * orp, op, clamp);
          }
          for (std::size_t i = 0; i < n_out; ++i) out[i] = 1e30f;
          P::run2(ch, px, in.data(), rp, ip, packed.data(), out.data(), orp, op, clamp);
          for (std::size_t i = 0; i < n_out; ++i)
            if (!(out[i] == want[i])) FAIL("element " << i << ": two-row entry " << out[i] << ", one-row " << want[i]);
        }
  }
}
TEST_CASE_TEMPLATE_APPLY(dw_rowp2_f32, as_tuple<kernels::dwconv3x3p_f32_registry>::type);

namespace {
/// A pitched row kernel the operator takes wherever the channel-group path applies.
template <class P> struct groups_everywhere : P {
  static constexpr bool preferred = true;
  static constexpr bool every_geometry = true;
};
/// The fp32 operator of P's tag with P, forced, as its pitched row kernel.
template <class P>
using op_groups_f32 = depthwise_conv2d_f32<typename P::arch, select_t<op::dwconv_f32, typename P::arch>,
                                           select_t<op::dwconv3x3_f32, typename P::arch>,
                                           select_t<op::dwconv5x5_f32, typename P::arch>, groups_everywhere<P>>;
}  // namespace

TEST_CASE_TEMPLATE_DEFINE("depthwise 3x3 f32 layers on the channel-group path equal the scalar kernel and a double reference (guard pages)",
                          P, dw_group_op_f32) {
  TT_REQUIRE_RUNNABLE(P);
  using dw = op_groups_f32<P>;
  REQUIRE(dw::group_kernel::cr() == dw::kernel::cr());
  // Random row geometries: every multiplier-1 one takes the path with workspace_bytes.
  const row_paths paths = check_row_op_f32_on<dw>(3, 48);
  CHECK(paths.grouped > tt::scaled(60) / 3);
  CHECK(paths.paired > 0);  // stride 2 both ways: the two-row entry, with the smallest workspace
  // Guard pages around input, packed weights, workspace and output.
  check_guard_f32<dw>();
  // The operator of P's own tag takes the path, or the pitched kernel on its row path, on MobileNet
  // shapes exactly as group_rows_pay and pitched_rows_pay document, and only when P is preferred.
  using native = depthwise_conv2d_f32<typename P::arch>;
  struct expect { std::int64_t h, w, c, k, stride; bool groups, pitched, paired = false; std::size_t doubled = 1; };
  const expect shapes[] = {
      {14, 14, 512, 3, 1, true, false},    // stride 1, 8 groups (a ring of 128-channel rows: 24 KiB)
      {7, 7, 1024, 3, 1, true, false, false, 2},  // stride 1, 8 groups of twice the kernel's (ring: 14 KiB)
      {14, 14, 128, 3, 1, true, true},     // stride 1, 2 groups (its row path would be pitched)
      {56, 56, 128, 3, 1, false, true},    // 2 groups, but rows of 56 pixels go to the pitched rows
      {56, 56, 256, 3, 1, true, false},    // wide rows, 256 channels: groups
      {14, 14, 64, 3, 1, false, true},     // one group
      {112, 112, 32, 3, 1, false, true},   // one group
      {28, 28, 24, 3, 1, false, false},    // not whole blocks (of the AVX-512 kernel's 16 channels)
      {112, 112, 64, 3, 2, false, true, true},   // stride 2, 64 channels: two rows per call
      {14, 14, 64, 3, 2, false, true, true},     // likewise
      {112, 112, 32, 3, 2, false, true, false},  // 32 channels: one row per call
      {14, 14, 512, 3, 2, true, false},    // stride 2 at a 2 KiB pixel pitch
      {28, 28, 128, 3, 2, false, false},   // stride 2, 512-byte pixels
      {14, 14, 512, 5, 1, false, false},   // not a 3x3 window
      {14, 14, 64, 5, 1, false, false}};
  for (const expect& e : shapes) {
    conv_shape cs{.in_h = e.h, .in_w = e.w, .in_c = e.c, .out_c = e.c, .kernel_h = e.k, .kernel_w = e.k,
                  .stride_h = e.stride, .stride_w = e.stride};
    conv_geometry g;
    REQUIRE(make_conv_geometry(cs, padding::same, g).ok());
    INFO(describe(g));
    CHECK(native::uses_groups(g) == (P::preferred && e.groups));
    CHECK(native::uses_pitched_rows(g) == (P::preferred && e.pitched));
    CHECK(native::uses_paired_rows(g) == (P::preferred && e.paired));
    if (P::preferred) CHECK(native::group_channels(g) == e.doubled * P::group_channels());
  }
}
TEST_CASE_TEMPLATE_APPLY(dw_group_op_f32, as_tuple<kernels::dwconv3x3p_f32_registry>::type);

// ---- depth multiplier > 1 on the unipass kernels ------------------------------------------------

namespace {
/// The i-th geometry of the multiplier sweep: multipliers 1..8 (every 10th 12..64 with in_c 1 or
/// 2), in_c 1, odd and past the channel tiles, windows 1x1..7x7 (3x3 and 5x5 often, some not square), strides and dilations 1..3, all
/// paddings, batch 1 and 2; small enough for emulated targets.
conv_geometry multiplier_geometry(tt::rng& r, std::size_t t) {
  static const std::int64_t in_cs[] = {1, 3, 1, 7, 17, 2, 33, 5, 65, 1, 9};
  static const std::int64_t ks[][2] = {{3, 3}, {5, 5}, {1, 1}, {3, 3}, {7, 7}, {2, 2}, {3, 5}, {4, 4}, {6, 6}, {1, 3}, {5, 5}};
  for (;;) {
    conv_shape s;
    static const std::int64_t wide[] = {12, 16, 24, 32, 48, 64, 20, 13};
    const bool w = t % 10 == 9;  // wide multipliers, mostly in_c = 1 (first layers)
    const std::int64_t mult = w ? wide[(t / 10) % 8] : 1 + static_cast<std::int64_t>(t % 8);
    s.in_c = w ? 1 + static_cast<std::int64_t>(r.next() % 3 == 0) : in_cs[(t / 8 + r.next()) % (sizeof in_cs / sizeof in_cs[0])];
    s.out_c = s.in_c * mult;
    const auto* k = ks[(t + r.next()) % (sizeof ks / sizeof ks[0])];
    s.kernel_h = k[0];
    s.kernel_w = k[1];
    s.batch = t % 2 == 1 ? 2 : 1;
    s.stride_h = r.range(1, 3);
    s.stride_w = t % 3 == 0 ? 1 : r.range(1, 3);
    s.dilation_h = r.next() % 3 == 0 ? r.range(2, 3) : 1;
    s.dilation_w = r.next() % 4 == 0 ? r.range(2, 3) : 1;
    s.in_h = r.range(1, 10);
    s.in_w = r.range(1, 12);
    conv_geometry g;
    if (finish_geometry(s, t, r, 3, 30000, g)) return g;
  }
}

/// The workspace sizes every path of `dw` is reached with: workspace_bytes (padded rows or the
/// expanded ring), expanded_rows_bytes (the ring where padded rows are preferred), one byte less
/// than workspace_bytes (the next path down) and min_workspace_bytes (tap pointers into the input).
template <class Dw, class T> std::vector<std::size_t> multiplier_workspaces(const conv_geometry& g) {
  const std::size_t full = Dw::workspace_bytes(g), min = Dw::min_workspace_bytes(g);
  const std::size_t ring = detail::dw::expanded_rows_bytes<T>(g);
  std::vector<std::size_t> out{full};
  if (ring >= min && ring != full) out.push_back(ring);
  if (full > min) out.push_back(full - 1);
  if (min != full) out.push_back(min);
  return out;
}

/// `n` elements of `src` (NHWC, in_c channels) expanded to the multiplier-1 input of out_c channels.
template <class T> std::vector<T> expand_input(const conv_geometry& g, const T* src) {
  const std::size_t m = g.out_c / g.in_c, pixels = g.batch * g.in_h * g.in_w;
  std::vector<T> out(pixels * g.out_c);
  for (std::size_t p = 0; p < pixels; ++p)
    for (std::size_t o = 0; o < g.out_c; ++o) out[p * g.out_c + o] = src[p * g.in_c + o / m];
  return out;
}

/// Common checks of the workspace sizes: one byte below the minimum is refused with a sentence.
/// (M > 1 usually asks for more than the minimum, but not always: narrow 3x3 layers' padded rows
/// can take fewer bytes than a row of tap pointers.) Multiplier-1 layers other than 3x3 ask for
/// the minimum, or for `cache5` (5x5 on a row kernel: its padded-row cache) if larger.
template <class Run>
void check_workspace_sizes(const conv_geometry& g, std::size_t full, std::size_t min, Run&& run, std::size_t cache5 = 0) {
  REQUIRE(min > 0);
  REQUIRE(full >= min);
  if (g.out_c == g.in_c && g.kernel_h != 3) CHECK(full == std::max(min, cache5));
  tt::guarded<std::uint8_t> small(min - 1, tt::guard_side::after);
  const status st = run(small.data(), min - 1);
  CHECK(st.code() == status_code::buffer_too_small);
  CHECK(std::string(st.message()).size() > 10);
}

/// One random s8 layer of the operator `Dw` on `g` (the multiplier and in_c = 1 sweeps), every
/// buffer bordering a guard page on `side`: draws the input zero point, the input, the weights
/// (int4 values with `s4w`) and per channel bias, multiplier and shift from `r`, in that order.
template <class Dw> struct s8_layer {
  const conv_geometry g;
  const tt::guard_side side;
  const std::int32_t zin;
  const std::size_t nw, bytes;
  tt::guarded<std::int8_t> in, out;
  tt::guarded<std::int32_t> packed;
  std::vector<std::int8_t> w;
  std::vector<std::int32_t> bias, mult, shift;

  s8_layer(const conv_geometry& geometry, tt::guard_side s, tt::rng& r, bool s4w)
      : g(geometry), side(s), zin(static_cast<std::int32_t>(r.range(-128, 127))), nw(g.taps() * g.out_c),
        bytes(Dw::packed_weights_bytes(g)), in(g.in_elems(), side), out(g.out_elems(), side), packed(bytes / 4, side),
        w(nw), bias(g.out_c), mult(g.out_c), shift(g.out_c) {
    REQUIRE(in.ok());
    for (std::size_t i = 0; i < g.in_elems(); ++i) in[i] = rand_val<std::int8_t>(r);
    for (auto& v : w) v = s4w ? static_cast<std::int8_t>(r.range(-8, 7)) : rand_val<std::int8_t>(r);
    for (std::size_t o = 0; o < g.out_c; ++o) {
      bias[o] = static_cast<std::int32_t>(r.range(-40000, 40000));
      mult[o] = static_cast<std::int32_t>(r.range(1 << 30, 0x7FFFFFFF));
      shift[o] = static_cast<std::int32_t>(r.range(-12, -2));
    }
  }
  /// pack_weights into the first `n` bytes of `packed`.
  status pack(std::size_t n) const { return Dw::pack_weights(g, w.data(), bias.data(), zin, packed.data(), n); }
  /// Draws the output zero point and checks `Dw::run` on every workspace path against the
  /// reference, per channel (and with `per_tensor` per tensor, clamped to [-100, 110]), then the
  /// workspace sizes; gives the per-channel stage.
  output_stage<requant::per_channel> check(tt::rng& r, bool per_tensor) {
    const auto zp = static_cast<std::int32_t>(r.range(-128, 127));
    output_stage<requant::per_channel> pc{{mult.data(), shift.data()}, zp, -128, 127};
    output_stage<requant::per_tensor> pt{{mult[0], shift[0]}, zp, -100, 110};
    std::vector<std::int8_t> want_pc(g.out_elems()), want_pt(g.out_elems());
    auto bias_at = [&](std::size_t o) { return std::int64_t{bias[o]}; };
    reference<std::int64_t>(g, in.data(), w.data(), std::int64_t{zin}, bias_at, [&](std::int64_t acc, std::size_t o) {
      return requantize_one<std::int8_t>(static_cast<std::int32_t>(acc), pc, o);
    }, want_pc.data());
    if (per_tensor)
      reference<std::int64_t>(g, in.data(), w.data(), std::int64_t{zin}, bias_at, [&](std::int64_t acc, std::size_t) {
        return requantize_one<std::int8_t>(static_cast<std::int32_t>(acc), pt, 0);
      }, want_pt.data());
    for (std::size_t wsb : multiplier_workspaces<Dw, std::int8_t>(g)) {
      INFO("workspace " << wsb << " of " << Dw::workspace_bytes(g) << " (min " << Dw::min_workspace_bytes(g) << ")");
      tt::guarded<std::uint8_t> ws(wsb, side);
      for (std::size_t i = 0; i < g.out_elems(); ++i) out[i] = 0x55;
      REQUIRE(Dw::run(g, in.data(), packed.data(), out.data(), pc, zin, ws.data(), wsb).ok());
      REQUIRE(std::vector<std::int8_t>(out.data(), out.data() + g.out_elems()) == want_pc);
      if (!per_tensor) continue;
      REQUIRE(Dw::run(g, in.data(), packed.data(), out.data(), pt, zin, ws.data(), wsb).ok());
      REQUIRE(std::vector<std::int8_t>(out.data(), out.data() + g.out_elems()) == want_pt);
    }
    check_workspace_sizes(
        g, Dw::workspace_bytes(g), Dw::min_workspace_bytes(g),
        [&](void* ws, std::size_t n) { return Dw::run(g, in.data(), packed.data(), out.data(), pc, zin, ws, n); },
        Dw::uses_rows5(g) ? detail::dw::padded_rows_bytes<std::int8_t, 5>(g) : 0);
    return pc;
  }
};

/// One random 16x8 layer of the operator `Dw` on `g` (the multiplier and in_c = 1 sweeps), every
/// buffer bordering a guard page on `side`, packed with the int32 bias (`acc32`) or the int64 one:
/// draws the input, the weights and per channel int64 bias, int32 bias in [-bias32_max,
/// bias32_max], multiplier and shift in [shift_min, -8] from `r`, in that order.
template <class Dw> struct s16_layer {
  const conv_geometry g;
  const tt::guard_side side;
  const bool acc32;
  const std::size_t nw, bytes;
  tt::guarded<std::int16_t> in, out;
  tt::guarded<std::int64_t> packed;
  std::vector<std::int8_t> w;
  std::vector<std::int64_t> bias64;
  std::vector<std::int32_t> bias32, mult, shift;

  s16_layer(const conv_geometry& geometry, tt::guard_side s, bool acc32_bias, tt::rng& r, std::int64_t bias32_max,
            std::int64_t shift_min)
      : g(geometry), side(s), acc32(acc32_bias), nw(g.taps() * g.out_c), bytes(Dw::packed_weights_bytes(g)),
        in(g.in_elems(), side), out(g.out_elems(), side), packed(bytes / 8, side), w(nw), bias64(g.out_c),
        bias32(g.out_c), mult(g.out_c), shift(g.out_c) {
    REQUIRE(in.ok());
    for (std::size_t i = 0; i < g.in_elems(); ++i) in[i] = rand_val<std::int16_t>(r);
    for (auto& v : w) v = rand_val<std::int8_t>(r);
    for (std::size_t o = 0; o < g.out_c; ++o) {
      bias64[o] = r.range(-(std::int64_t{1} << 40), std::int64_t{1} << 40);
      bias32[o] = static_cast<std::int32_t>(r.range(-bias32_max, bias32_max));
      mult[o] = static_cast<std::int32_t>(r.range(1 << 30, 0x7FFFFFFF));
      shift[o] = static_cast<std::int32_t>(r.range(shift_min, -8));
    }
  }
  /// pack_weights with the bias `acc32` picks.
  status pack() const {
    return acc32 ? Dw::pack_weights(g, w.data(), bias32.data(), packed.data(), bytes)
                 : Dw::pack_weights(g, w.data(), bias64.data(), packed.data(), bytes);
  }
  /// Checks `Dw::run` with output zero point `zp` (per channel) on every workspace path against
  /// the reference, then the workspace sizes.
  void check(std::int32_t zp) {
    output_stage<requant::per_channel> pc{{mult.data(), shift.data()}, zp, -32768, 32767};
    std::vector<std::int16_t> want(g.out_elems());
    reference<std::int64_t>(g, in.data(), w.data(), std::int64_t{0},
                            [&](std::size_t o) { return acc32 ? std::int64_t{bias32[o]} : bias64[o]; },
                            [&](std::int64_t acc, std::size_t o) {
                              return acc32 ? requantize_one<std::int16_t>(static_cast<std::int32_t>(acc), pc, o)
                                           : requantize_one<std::int16_t>(acc, pc, o);
                            }, want.data());
    for (std::size_t wsb : multiplier_workspaces<Dw, std::int16_t>(g)) {
      INFO("workspace " << wsb << " of " << Dw::workspace_bytes(g) << " (min " << Dw::min_workspace_bytes(g) << ")");
      tt::guarded<std::uint8_t> ws(wsb, side);
      for (std::size_t i = 0; i < g.out_elems(); ++i) out[i] = 0x5555;
      REQUIRE(Dw::run(g, in.data(), packed.data(), out.data(), pc, ws.data(), wsb).ok());
      REQUIRE(std::vector<std::int16_t>(out.data(), out.data() + g.out_elems()) == want);
    }
    check_workspace_sizes(g, Dw::workspace_bytes(g), Dw::min_workspace_bytes(g), [&](void* ws, std::size_t n) {
      return Dw::run(g, in.data(), packed.data(), out.data(), pc, ws, n);
    });
  }
};
}  // namespace

TEST_CASE("depthwise multiplier: expand_values repeats every value m times (guard pages)") {
  tt::rng r(500);
  for (std::size_t m = 1; m <= 70; ++m)
    for (std::size_t elems : {std::size_t{1}, std::size_t{5}, std::size_t{37}}) {
      INFO("m=" << m << " elems=" << elems);
      tt::guarded<std::int8_t> src(elems, tt::guard_side::before), dst(elems * m, tt::guard_side::after);
      tt::guarded<float> fsrc(elems, tt::guard_side::after), fdst(elems * m, tt::guard_side::before);
      for (std::size_t i = 0; i < elems; ++i) {
        src[i] = rand_val<std::int8_t>(r);
        fsrc[i] = rand_f(r);
      }
      detail::dw::expand_values(src.data(), elems, m, dst.data());
      detail::dw::expand_values(fsrc.data(), elems, m, fdst.data());
      bool ok = true;
      for (std::size_t o = 0; o < elems * m; ++o) ok = ok && dst[o] == src[o / m] && fdst[o] == fsrc[o / m];
      CHECK(ok);
    }
}

TEST_CASE_TEMPLATE_DEFINE("depthwise multiplier s8/s4 on every path equals the reference (guard pages)", K, dw_mult_s8) {
  TT_REQUIRE_RUNNABLE(K);
  using dw = op_s8<K>;
  tt::rng r(501);
  const std::size_t cases = tt::scaled(240);
  for (std::size_t t = 0; t < cases; ++t) {
    const conv_geometry g = multiplier_geometry(r, t);
    const auto side = t % 2 == 0 ? tt::guard_side::after : tt::guard_side::before;
    const bool s4w = t % 3 == 2;
    INFO(describe(g) << " case " << t << (s4w ? " s4" : " s8"));
    s8_layer<dw> c(g, side, r, s4w);
    if (s4w) {
      std::vector<std::uint8_t> w4(storage_bytes<s4>(c.nw));
      pack_s4(c.nw, c.w.data(), w4.data());
      REQUIRE(dw::pack_weights_s4(g, w4.data(), c.bias.data(), c.zin, c.packed.data(), c.bytes).ok());
    } else {
      REQUIRE(c.pack(c.bytes).ok());
    }
    c.check(r, true);
  }
}
TEST_CASE_TEMPLATE_APPLY(dw_mult_s8, as_tuple<kernels::dwconv_qs8_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("depthwise multiplier 16x8 on every path equals the reference (guard pages)", K, dw_mult_s16) {
  TT_REQUIRE_RUNNABLE(K);
  using dw = op_s16<K>;
  tt::rng r(502);
  const std::size_t cases = tt::scaled(160);
  for (std::size_t t = 0; t < cases; ++t) {
    const conv_geometry g = multiplier_geometry(r, t);
    const auto side = t % 2 == 0 ? tt::guard_side::after : tt::guard_side::before;
    const bool acc32 = t % 4 >= 2;
    INFO(describe(g) << " case " << t << (acc32 ? " int32 bias" : " int64 bias"));
    s16_layer<dw> c(g, side, acc32, r, 1 << 24, -24);
    REQUIRE(c.pack().ok());
    c.check(3);
  }
}
TEST_CASE_TEMPLATE_APPLY(dw_mult_s16, as_tuple<kernels::dwconv_qs16_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("depthwise multiplier f32 equals the same kernel on the expanded multiplier-1 problem (guard pages)", K,
                          dw_mult_f32) {
  TT_REQUIRE_RUNNABLE(K);
  using dw = op_f32<K>;
  tt::rng r(503);
  const std::size_t cases = tt::scaled(200);
  for (std::size_t t = 0; t < cases; ++t) {
    const conv_geometry g = multiplier_geometry(r, t);
    const auto side = t % 2 == 0 ? tt::guard_side::after : tt::guard_side::before;
    INFO(describe(g) << " case " << t);
    const std::size_t nw = g.taps() * g.out_c, bytes = dw::packed_weights_bytes(g);
    tt::guarded<float> in(g.in_elems(), side), out(g.out_elems(), side);
    tt::guarded<std::int32_t> packed(bytes / 4, side);
    REQUIRE(in.ok());
    std::vector<float> w(nw), bias(g.out_c);
    for (std::size_t i = 0; i < g.in_elems(); ++i) in[i] = rand_f(r);
    for (auto& v : w) v = rand_f(r);
    for (auto& v : bias) v = rand_f(r);
    const f32_clamp clamp = t % 3 == 0 ? f32_clamp{-0.4f, 0.6f} : f32_clamp{};
    REQUIRE(dw::pack_weights(g, w.data(), bias.data(), packed.data(), bytes).ok());
    // The equivalent multiplier-1 layer: input channels expanded to out_c, same weights.
    conv_geometry g1 = g;
    g1.in_c = g.out_c;
    const std::vector<float> x1 = expand_input(g, in.data());
    auto p1 = storage(dw::packed_weights_bytes(g1)), ws1 = storage(dw::workspace_bytes(g1));
    REQUIRE(dw::pack_weights(g1, w.data(), bias.data(), p1.data(), p1.size() * 8).ok());
    std::vector<float> want(g.out_elems());
    REQUIRE(dw::run(g1, x1.data(), p1.data(), want.data(), clamp, ws1.data(), ws1.size() * 8).ok());
    std::vector<double> ref(g.out_elems());
    reference<double>(g, in.data(), w.data(), 0.0, [&](std::size_t o) { return double{bias[o]}; },
                      [&](double acc, std::size_t) { return std::fmin(std::fmax(acc, double{clamp.min}), double{clamp.max}); },
                      ref.data());
    for (std::size_t wsb : multiplier_workspaces<dw, float>(g)) {
      INFO("workspace " << wsb << " of " << dw::workspace_bytes(g) << " (min " << dw::min_workspace_bytes(g) << ")");
      tt::guarded<std::uint8_t> ws(wsb, side);
      for (std::size_t i = 0; i < g.out_elems(); ++i) out[i] = 1e30f;
      REQUIRE(dw::run(g, in.data(), packed.data(), out.data(), clamp, ws.data(), wsb).ok());
      for (std::size_t i = 0; i < g.out_elems(); ++i)
        if (!(out[i] == want[i]) || !(std::fabs(double{out[i]} - ref[i]) <= 1e-4))
          FAIL("element " << i << ": " << out[i] << ", multiplier-1 problem " << want[i] << ", double " << ref[i]);
    }
    check_workspace_sizes(
        g, dw::workspace_bytes(g), dw::min_workspace_bytes(g),
        [&](void* ws, std::size_t n) { return dw::run(g, in.data(), packed.data(), out.data(), clamp, ws, n); },
        dw::uses_rows5(g) ? detail::dw::padded_rows_bytes<float, 5>(g) : 0);
  }
}
TEST_CASE_TEMPLATE_APPLY(dw_mult_f32, as_tuple<kernels::dwconv_f32_registry>::type);

// ---- parameter validation -----------------------------------------------------------------------

TEST_CASE("depthwise operators reject bad parameters with a message") {
  using dw = depthwise_conv2d_s8<>;
  auto expect = [](status st, status_code code) {
    CHECK(st.code() == code);
    CHECK(std::string(st.message()).size() > 10);
    MESSAGE(std::string(to_string(st.code())) << ": " << std::string(st.message()));
  };
  // Geometry errors come from make_conv_geometry.
  conv_geometry g;
  conv_shape s{.batch = 1, .in_h = 4, .in_w = 4, .in_c = 2, .out_c = 4, .kernel_h = 3, .kernel_w = 3};
  for (auto field : {&conv_shape::batch, &conv_shape::in_h, &conv_shape::in_c, &conv_shape::out_c, &conv_shape::kernel_w,
                     &conv_shape::stride_h, &conv_shape::dilation_w}) {
    conv_shape b = s;
    b.*field = 0;
    expect(make_conv_geometry(b, padding::same, g), status_code::invalid_argument);
    b.*field = -3;
    expect(make_conv_geometry(b, padding::same, g), status_code::invalid_argument);
  }
  {
    conv_shape b = s;
    b.kernel_h = 5;
    expect(make_conv_geometry(b, padding::valid, g), status_code::invalid_argument);  // kernel > input
    b.in_h = b.in_w = 1 << 20;
    expect(make_conv_geometry(b, padding::same, g), status_code::overflow);
  }
  REQUIRE(make_conv_geometry(s, padding::same, g).ok());
  const std::size_t bytes = dw::packed_weights_bytes(g), wsb = dw::workspace_bytes(g);
  REQUIRE(bytes > 0);
  REQUIRE(wsb > 0);
  auto packed = storage(bytes + 8), ws = storage(wsb);
  std::int8_t w[36] = {}, in[32] = {}, out[64] = {};
  std::int32_t bias[4] = {};
  REQUIRE(dw::pack_weights(g, w, bias, 3, packed.data(), bytes).ok());
  output_stage<requant::per_tensor> p{{1 << 30, 0}, 0, -128, 127};
  REQUIRE(dw::run(g, in, packed.data(), out, p, 3, ws.data(), wsb).ok());

  // Operator-side geometry checks (hand-made geometries).
  {
    conv_geometry b = g;
    b.in_c = 3;  // out_c = 4 is not a multiple
    CHECK(dw::packed_weights_bytes(b) == 0);
    expect(dw::pack_weights(b, w, bias, 3, packed.data(), bytes), status_code::invalid_argument);
    expect(dw::run(b, in, packed.data(), out, p, 3, ws.data(), wsb), status_code::invalid_argument);
    conv_shape sm = s;
    sm.in_c = 3;
    sm.out_c = 4;
    REQUIRE(make_conv_geometry(sm, padding::same, b).ok());  // groups = 1: fine for the geometry...
    expect(dw::pack_weights(b, w, bias, 3, packed.data(), bytes), status_code::invalid_argument);  // ...not here
    b = g;
    b.kernel_w = 0;
    expect(dw::run(b, in, packed.data(), out, p, 3, ws.data(), wsb), status_code::invalid_argument);
    CHECK(dw::workspace_bytes(b) == 0);
    b = g;
    b.out_h = 9;  // windows past the padded input
    expect(dw::run(b, in, packed.data(), out, p, 3, ws.data(), wsb), status_code::invalid_argument);
    b = g;
    b.in_h = b.in_w = 1 << 14;
    b.in_c = 1 << 6;
    b.out_c = 1 << 6;  // 2^34 input elements
    expect(dw::run(b, in, packed.data(), out, p, 3, ws.data(), wsb), status_code::overflow);
    CHECK(dw::packed_weights_bytes(b) == 0);
    b = g;
    b.out_w = std::size_t{1} << 25;
    expect(dw::run(b, in, packed.data(), out, p, 3, ws.data(), wsb), status_code::overflow);
  }
  // Buffers.
  expect(dw::pack_weights(g, nullptr, bias, 3, packed.data(), bytes), status_code::invalid_argument);
  expect(dw::pack_weights(g, w, bias, 3, nullptr, bytes), status_code::invalid_argument);
  expect(dw::pack_weights(g, w, bias, 3, packed.data(), bytes - 1), status_code::buffer_too_small);
  expect(dw::pack_weights(g, w, bias, 3, reinterpret_cast<std::uint8_t*>(packed.data()) + 2, bytes), status_code::invalid_argument);
  expect(dw::pack_weights(g, w, bias, 200, packed.data(), bytes), status_code::invalid_argument);
  expect(dw::run(g, nullptr, packed.data(), out, p, 3, ws.data(), wsb), status_code::invalid_argument);
  expect(dw::run(g, in, nullptr, out, p, 3, ws.data(), wsb), status_code::invalid_argument);
  expect(dw::run(g, in, packed.data(), nullptr, p, 3, ws.data(), wsb), status_code::invalid_argument);
  expect(dw::run(g, in, reinterpret_cast<std::uint8_t*>(packed.data()) + 1, out, p, 3, ws.data(), wsb), status_code::invalid_argument);
  // One byte below min_workspace_bytes is refused. (This layer has multiplier 2: where its fastest
  // path needs more than the minimum, workspace_bytes - 1 is accepted and takes a smaller path.)
  REQUIRE(dw::min_workspace_bytes(g) <= wsb);
  expect(dw::run(g, in, packed.data(), out, p, 3, ws.data(), dw::min_workspace_bytes(g) - 1), status_code::buffer_too_small);
  CHECK(dw::run(g, in, packed.data(), out, p, 3, ws.data(), wsb - 1).ok() == (wsb > dw::min_workspace_bytes(g)));
  expect(dw::run(g, in, packed.data(), out, p, 3, nullptr, wsb), status_code::buffer_too_small);
  // Zero points and the output stage.
  expect(dw::run(g, in, packed.data(), out, p, 4, ws.data(), wsb), status_code::invalid_argument);   // packed with 3
  expect(dw::run(g, in, packed.data(), out, p, -129, ws.data(), wsb), status_code::invalid_argument);
  auto bad = p;
  bad.act_max = 300;
  expect(dw::run(g, in, packed.data(), out, bad, 3, ws.data(), wsb), status_code::invalid_argument);
  bad = p;
  bad.q.shift = 40;
  expect(dw::run(g, in, packed.data(), out, bad, 3, ws.data(), wsb), status_code::invalid_argument);
  output_stage<requant::per_channel> pc{{nullptr, nullptr}, 0, -128, 127};
  expect(dw::run(g, in, packed.data(), out, pc, 3, ws.data(), wsb), status_code::invalid_argument);
  {
    conv_shape o = s;
    o.kernel_w = 2;  // packed for 3x3, run as 3x2
    conv_geometry g2;
    REQUIRE(make_conv_geometry(o, padding::same, g2).ok());
    expect(dw::run(g2, in, packed.data(), out, p, 3, ws.data(), wsb), status_code::shape_mismatch);
  }

  // 16x8: wrong packed buffer, MBQM64 limits, bias range.
  using dw16 = depthwise_conv2d_s16<>;
  std::int16_t in16[32] = {}, out16[64] = {};
  const std::size_t b16 = dw16::packed_weights_bytes(g), ws16 = dw16::workspace_bytes(g);
  auto p16 = storage(b16), w16 = storage(ws16);
  output_stage<requant::per_tensor> q16{{1 << 30, -3}, 0, -32768, 32767};
  expect(dw16::run(g, in16, packed.data(), out16, q16, w16.data(), ws16), status_code::invalid_argument);  // s8 buffer
  const std::int64_t huge[4] = {0, std::int64_t{1} << 50, 0, 0};
  expect(dw16::pack_weights(g, w, huge, p16.data(), b16), status_code::invalid_argument);
  expect(dw16::pack_weights(g, w, nullptr, reinterpret_cast<std::uint8_t*>(p16.data()) + 4, b16), status_code::invalid_argument);
  REQUIRE(dw16::pack_weights(g, w, nullptr, p16.data(), b16).ok());
  CHECK(dw16::accumulator_bits(p16.data()) == 64);
  REQUIRE(dw16::run(g, in16, p16.data(), out16, q16, w16.data(), ws16).ok());
  auto neg = q16;
  neg.q.multiplier = -(1 << 30);
  expect(dw16::run(g, in16, p16.data(), out16, neg, w16.data(), ws16), status_code::invalid_argument);
  auto big_shift = q16;
  big_shift.q.shift = 10;  // fine for MBQM32, not for MBQM64
  expect(dw16::run(g, in16, p16.data(), out16, big_shift, w16.data(), ws16), status_code::invalid_argument);
  const std::int32_t b32[4] = {1, 2, 3, 4};
  REQUIRE(dw16::pack_weights(g, w, b32, p16.data(), b16).ok());
  CHECK(dw16::accumulator_bits(p16.data()) == 32);
  CHECK(dw16::run(g, in16, p16.data(), out16, big_shift, w16.data(), ws16).ok());

  // f32: clamp.
  using dwf = depthwise_conv2d_f32<>;
  float inf32[32] = {}, outf[64] = {}, wf[36] = {};
  auto pf = storage(dwf::packed_weights_bytes(g)), wsf = storage(dwf::workspace_bytes(g));
  REQUIRE(dwf::pack_weights(g, wf, nullptr, pf.data(), pf.size() * 8).ok());
  CHECK(dwf::run(g, inf32, pf.data(), outf, f32_clamp{}, wsf.data(), wsf.size() * 8).ok());
  expect(dwf::run(g, inf32, pf.data(), outf, f32_clamp{1.0f, 0.0f}, wsf.data(), wsf.size() * 8), status_code::invalid_argument);
  expect(dwf::run(g, inf32, pf.data(), outf, f32_clamp{std::nanf(""), 1.0f}, wsf.data(), wsf.size() * 8),
         status_code::invalid_argument);
  expect(dwf::run(g, inf32, pf.data(), outf, f32_clamp{}, wsf.data(), 3), status_code::buffer_too_small);
}

// ---- in_c = 1: the GEMM route (uses_gemm) ---------------------------------------------------------

namespace {
/// The i-th geometry of the in_c = 1 sweep: multipliers 1..16 and 20..64, 1x1..5x5 windows, strides
/// 1..3, dilations 1..2, all paddings, batch 1 and 2.
conv_geometry single_channel_geometry(tt::rng& r, std::size_t t) {
  static const std::int64_t ms[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16, 17, 20, 24, 32, 48, 64};
  static const std::int64_t ks[][2] = {{3, 3}, {5, 5}, {1, 1}, {3, 3}, {2, 3}, {4, 4}};
  for (;;) {
    conv_shape s;
    s.in_c = 1;
    s.out_c = ms[t % (sizeof ms / sizeof ms[0])];
    const auto* k = ks[(t / 3 + r.next()) % (sizeof ks / sizeof ks[0])];
    s.kernel_h = k[0];
    s.kernel_w = k[1];
    s.batch = t % 2 == 1 ? 2 : 1;
    s.stride_h = r.range(1, 3);
    s.stride_w = t % 4 == 0 ? s.stride_h : r.range(1, 3);
    s.dilation_h = r.next() % 4 == 0 ? 2 : 1;
    s.dilation_w = r.next() % 4 == 0 ? 2 : 1;
    s.in_h = r.range(1, 11);
    s.in_w = r.range(1, 13);
    conv_geometry g;
    if (finish_geometry(s, t, r, 2, 30000, g)) return g;
  }
}
/// The same layer with two input channels (half the multiplier): never on the GEMM route, same
/// out_c and window, so its packed header differs from the in_c = 1 layer's only in the route.
conv_geometry two_channel_twin(conv_geometry g) {
  g.in_c = 2;
  return g;
}
}  // namespace

TEST_CASE_TEMPLATE_DEFINE("depthwise in_c = 1 (GEMM route where it pays) equals the reference, s8 (guard pages)", K,
                          dw_single_s8) {
  TT_REQUIRE_RUNNABLE(K);
  using dw = op_s8<K>;
  tt::rng r(503);
  const std::size_t cases = tt::scaled(200);
  std::size_t routed = 0;
  for (std::size_t t = 0; t < cases; ++t) {
    const conv_geometry g = single_channel_geometry(r, t);
    const auto side = t % 2 == 0 ? tt::guard_side::after : tt::guard_side::before;
    INFO(describe(g) << " case " << t << (dw::uses_gemm(g) ? " gemm" : " depthwise"));
    routed += dw::uses_gemm(g) ? 1 : 0;
    REQUIRE(dw::packed_weights_bytes(g) > 0);
    s8_layer<dw> c(g, side, r, false);
    CHECK(c.pack(c.bytes - 1).code() == status_code::buffer_too_small);
    REQUIRE(c.pack(c.bytes).ok());
    const auto pc = c.check(r, false);
    // A buffer packed for the other path (the two-channel twin, or the reverse) is refused.
    const conv_geometry g2 = two_channel_twin(g);
    if (g.out_c % 2 == 0 && dw::uses_gemm(g)) {
      std::vector<std::uint8_t> ws(std::max(dw::workspace_bytes(g), dw::workspace_bytes(g2)));
      std::vector<std::int32_t> p2(dw::packed_weights_bytes(g2) / 4 + 1);
      tt::guarded<std::int8_t> in2(g2.in_elems(), side);
      REQUIRE(dw::pack_weights(g2, c.w.data(), c.bias.data(), c.zin, p2.data(), p2.size() * 4).ok());
      CHECK(dw::run(g, c.in.data(), p2.data(), c.out.data(), pc, c.zin, ws.data(), ws.size()).code() ==
            status_code::invalid_argument);
      CHECK(dw::run(g2, in2.data(), c.packed.data(), c.out.data(), pc, c.zin, ws.data(), ws.size()).code() ==
            status_code::invalid_argument);
    }
  }
  // The route is taken where detail::dw::gemm_route_int says (simd: multipliers below the tile).
  if (std::is_same_v<typename K::arch, arch::simd>) CHECK(routed > cases / 10);
  if (!std::is_same_v<typename K::arch, arch::simd> && !std::is_same_v<typename K::arch, arch::helium>) CHECK(routed == 0);
}
TEST_CASE_TEMPLATE_APPLY(dw_single_s8, as_tuple<kernels::dwconv_qs8_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("depthwise in_c = 1 (GEMM route where it pays) equals the reference, 16x8 (guard pages)", K,
                          dw_single_s16) {
  TT_REQUIRE_RUNNABLE(K);
  using dw = op_s16<K>;
  tt::rng r(504);
  const std::size_t cases = tt::scaled(160);
  std::size_t routed = 0;
  for (std::size_t t = 0; t < cases; ++t) {
    const conv_geometry g = single_channel_geometry(r, t);
    const auto side = t % 2 == 0 ? tt::guard_side::after : tt::guard_side::before;
    const bool acc32 = t % 4 >= 2;
    INFO(describe(g) << " case " << t << (acc32 ? " int32 bias" : " int64 bias") << (dw::uses_gemm(g) ? " gemm" : ""));
    routed += dw::uses_gemm(g) ? 1 : 0;
    REQUIRE(dw::packed_weights_bytes(g) > 0);
    // int32 bias in [-2e6, 2e6], shifts in [-20, -8], output zero point 0 (the multiplier sweep:
    // [-2^24, 2^24], [-24, -8], 3).
    s16_layer<dw> c(g, side, acc32, r, 2000000, -20);
    REQUIRE(c.pack().ok());
    CHECK(dw::pack_weights(g, c.w.data(), c.bias64.data(), c.packed.data(), c.bytes - 1).code() ==
          status_code::buffer_too_small);
    c.check(0);
  }
  if (std::is_same_v<typename K::arch, arch::simd>) CHECK(routed > cases / 10);
  if (!std::is_same_v<typename K::arch, arch::simd>) CHECK(routed == 0);
}
TEST_CASE_TEMPLATE_APPLY(dw_single_s16, as_tuple<kernels::dwconv_qs16_registry>::type);
