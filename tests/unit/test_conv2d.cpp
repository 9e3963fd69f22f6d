// conv2d / transpose_conv2d: every GEMM microkernel on the conformance vectors (bit-exact against
// TFLite, with the default and with tiny workspaces so panels split anywhere), against a direct
// reference on random geometries (kernels to 7x7, stride and dilation to 3, SAME/VALID/explicit
// padding, groups, batch), guard pages around every buffer, and parameter validation; transposed
// convolution's sub-pixel split on strides 1-4 with kernels below, at and above the stride (empty
// phases) against TFLite's scatter for s8/s4, f32 and s16, its size queries and guard pages.
#include "test.hpp"
#include "nnconf.hpp"
#include "guard.hpp"
#include "handle_conv2d.hpp"

#include <cmath>
#include <tessera/tessera.hpp>
#include <tuple>
#include <vector>

using namespace tessera;

namespace {
template <class L> struct as_tuple;
template <class... T> struct as_tuple<arch::type_list<T...>> { using type = std::tuple<T...>; };

/// 64-byte aligned storage of at least `bytes`.
struct aligned_buf {
  std::vector<std::uint64_t> v;
  void* p;
  explicit aligned_buf(std::size_t bytes) : v(bytes / 8 + 16) {
    p = reinterpret_cast<void*>((reinterpret_cast<std::uintptr_t>(v.data()) + 63) / 64 * 64);
  }
};

/// Direct convolution, written independently of the library's gather: forward geometries as
/// TFLite's conv loop (iy = oy*stride - pad + ky*dilation), transposed ones as TFLite's
/// transpose_conv scatter (out_y = in_y*stride - pad + ky). acc = bias + sum (in - zin) * w.
template <class Acc, class T, class W, class B>
std::vector<Acc> direct(const conv_geometry& g, const std::vector<T>& in, const std::vector<W>& w, const std::vector<B>& bias,
                        Acc zin) {
  const std::size_t icg = g.group_in_c(), ocg = g.group_out_c();
  std::vector<Acc> acc(g.out_elems());
  for (std::size_t i = 0; i < acc.size(); ++i) acc[i] = bias.empty() ? Acc{0} : static_cast<Acc>(bias[i % g.out_c]);
  auto filter = [&](std::size_t o, std::size_t ky, std::size_t kx, std::size_t c) {
    return static_cast<Acc>(w[((o * g.kernel_h + ky) * g.kernel_w + kx) * icg + c]);
  };
  auto input = [&](std::size_t n, std::size_t y, std::size_t x, std::size_t c) {
    return static_cast<Acc>(in[((n * g.in_h + y) * g.in_w + x) * g.in_c + c]) - zin;
  };
  const auto sh = static_cast<std::int64_t>(g.stride_h), sw = static_cast<std::int64_t>(g.stride_w);
  const auto pt = static_cast<std::int64_t>(g.pad_top), pl = static_cast<std::int64_t>(g.pad_left);
  for (std::size_t n = 0; n < g.batch; ++n) {
    if (!g.transposed) {
      for (std::size_t oy = 0; oy < g.out_h; ++oy)
        for (std::size_t ox = 0; ox < g.out_w; ++ox)
          for (std::size_t o = 0; o < g.out_c; ++o)
            for (std::size_t ky = 0; ky < g.kernel_h; ++ky)
              for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
                const std::int64_t iy = static_cast<std::int64_t>(oy) * sh - pt + static_cast<std::int64_t>(ky * g.dilation_h);
                const std::int64_t ix = static_cast<std::int64_t>(ox) * sw - pl + static_cast<std::int64_t>(kx * g.dilation_w);
                if (iy < 0 || ix < 0 || iy >= static_cast<std::int64_t>(g.in_h) || ix >= static_cast<std::int64_t>(g.in_w)) continue;
                for (std::size_t c = 0; c < icg; ++c)
                  acc[((n * g.out_h + oy) * g.out_w + ox) * g.out_c + o] +=
                      input(n, static_cast<std::size_t>(iy), static_cast<std::size_t>(ix), (o / ocg) * icg + c) * filter(o, ky, kx, c);
              }
    } else {
      for (std::size_t iy = 0; iy < g.in_h; ++iy)
        for (std::size_t ix = 0; ix < g.in_w; ++ix)
          for (std::size_t ky = 0; ky < g.kernel_h; ++ky)
            for (std::size_t kx = 0; kx < g.kernel_w; ++kx) {
              const std::int64_t oy = static_cast<std::int64_t>(iy) * sh - pt + static_cast<std::int64_t>(ky);
              const std::int64_t ox = static_cast<std::int64_t>(ix) * sw - pl + static_cast<std::int64_t>(kx);
              if (oy < 0 || ox < 0 || oy >= static_cast<std::int64_t>(g.out_h) || ox >= static_cast<std::int64_t>(g.out_w)) continue;
              for (std::size_t o = 0; o < g.out_c; ++o)
                for (std::size_t c = 0; c < g.in_c; ++c)
                  acc[((n * g.out_h + static_cast<std::size_t>(oy)) * g.out_w + static_cast<std::size_t>(ox)) * g.out_c + o] +=
                      input(n, iy, ix, c) * filter(o, ky, kx, c);
            }
    }
  }
  return acc;
}

/// Random fp32 input, filter and bias in [-1, 1) for `g` (drawn in that order) and their fp64
/// direct result.
struct f32_case {
  std::vector<float> in, w, bias;
  std::vector<double> acc;
  f32_case(const conv_geometry& g, tt::rng& r) : in(g.in_elems()), w(g.out_c * g.depth()), bias(g.out_c) {
    auto uni = [&] { return static_cast<float>(static_cast<double>(r.next() >> 11) / 9007199254740992.0 * 2.0 - 1.0); };
    for (auto& v : in) v = uni();
    for (auto& v : w) v = uni();
    for (auto& v : bias) v = uni();
    acc = direct<double>(g, in, w, bias, 0.0);
  }
};
/// |error| <= depth * 2^-23 * sum |terms| is the fp32 dot-product bound; sum |terms| <= depth + 1.
double f32_tol(const conv_geometry& g) {
  return 1e-6 + static_cast<double>(g.depth() + 1) * static_cast<double>(g.depth() + 1) * 1.2e-7;
}

/// A random valid geometry: forward (with groups, dilation, all padding modes) or transposed.
conv_geometry random_geometry(tt::rng& r, bool transposed, std::size_t max_c) {
  for (;;) {
    conv_geometry g;
    if (!transposed) {
      conv_shape s;
      s.batch = r.range(1, 2);
      s.kernel_h = r.range(1, 7);
      s.kernel_w = r.next() % 4 == 0 ? 1 : r.range(1, 7);
      s.stride_h = r.range(1, 3);
      s.stride_w = r.range(1, 3);
      s.dilation_h = r.next() % 3 == 0 ? r.range(1, 3) : 1;
      s.dilation_w = r.next() % 3 == 0 ? r.range(1, 3) : 1;
      s.in_h = r.range(1, 12);
      s.in_w = r.range(1, 12);
      s.groups = r.next() % 4 == 0 ? r.range(2, 3) : 1;
      s.in_c = s.groups * r.range(1, static_cast<std::int64_t>(max_c));
      s.out_c = s.groups * r.range(1, static_cast<std::int64_t>(max_c));
      const auto mode = static_cast<padding>(r.next() % 3);
      if (mode == padding::explicit_pads) {
        s.pad_top = r.range(0, 3);
        s.pad_left = r.range(0, 3);
        s.pad_bottom = r.range(0, 3);
        s.pad_right = r.range(0, 3);
      }
      if (make_conv_geometry(s, mode, g).ok()) return g;
    } else {
      transpose_conv_shape s;
      s.batch = r.range(1, 2);
      s.kernel_h = r.range(1, 5);
      s.kernel_w = r.range(1, 5);
      s.stride_h = r.range(1, 3);
      s.stride_w = r.range(1, 3);
      s.in_h = r.range(1, 7);
      s.in_w = r.range(1, 7);
      s.in_c = r.range(1, static_cast<std::int64_t>(max_c));
      s.out_c = r.range(1, static_cast<std::int64_t>(max_c));
      s.out_h = s.in_h * s.stride_h + r.range(-1, 2);
      s.out_w = s.in_w * s.stride_w + r.range(-1, 2);
      if (make_transpose_conv_geometry(s, static_cast<padding>(r.next() % 2), g).ok()) return g;
    }
  }
}

template <class T> std::vector<T> random_values(tt::rng& r, std::size_t n, std::int64_t lo, std::int64_t hi) {
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(r.range(lo, hi));
  return v;
}
}  // namespace

// ---- conformance ---------------------------------------------------------------------------------

template <class Check>
int each_case(std::initializer_list<const char*> dirs, Check&& check) {
  int n = 0;
  for (const char* dir : dirs)
    for (const auto& path : nnconf::list(tt::conformance_dir(), dir)) {
      nnconf::case_file f;
      std::string err;
      REQUIRE_MESSAGE(nnconf::load(path, f, err), err);
      check(f);
      ++n;
    }
  return n;
}

TEST_CASE_TEMPLATE_DEFINE("conv2d s8/s4 conformance vectors, bit-exact, any panel size", K, conv_conformance) {
  TT_REQUIRE_RUNNABLE(K);
  const int n = each_case({"conv_s8/", "conv_s4/"}, [](const nnconf::case_file& f) {
    for (std::size_t rows : {std::size_t{0}, std::size_t{1}, std::size_t{3}}) {
      const std::string why = tessera_conformance::check_conv2d_s8<K>(f, rows);
      CHECK_MESSAGE(why.empty(), f.path << " (panel rows " << rows << "): " << why);
    }
  });
  CHECK(n == 56);  // 30 s8 + 26 s4 cases
}
TEST_CASE_TEMPLATE_APPLY(conv_conformance, as_tuple<kernels::gemm_qs8_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("conv2d 16x8 conformance vectors (s32 and s64 bias), bit-exact", K, conv_s16_conformance) {
  TT_REQUIRE_RUNNABLE(K);
  const int n = each_case({"conv_s16/"}, [](const nnconf::case_file& f) {
    for (std::size_t rows : {std::size_t{0}, std::size_t{2}}) {
      const std::string why = tessera_conformance::check_conv2d_s16<K>(f, rows);
      CHECK_MESSAGE(why.empty(), f.path << " (panel rows " << rows << "): " << why);
    }
  });
  CHECK(n == 13);
}
TEST_CASE_TEMPLATE_APPLY(conv_s16_conformance, as_tuple<kernels::gemm_qs16_registry>::type);

// ---- random geometries against the direct reference ----------------------------------------------

TEST_CASE_TEMPLATE_DEFINE("conv2d_s8 and transpose_conv2d_s8 equal the direct reference", K, conv_s8_random) {
  TT_REQUIRE_RUNNABLE(K);
  using conv = conv2d_s8<typename K::arch, K>;
  tt::rng r(11);
  const std::size_t cases = tt::scaled(120);
  for (std::size_t t = 0; t < cases; ++t) {
    const conv_geometry g = random_geometry(r, t % 4 == 3, 19);
    const auto zin = static_cast<std::int32_t>(r.range(-128, 127));
    const auto in = random_values<std::int8_t>(r, g.in_elems(), -128, 127);
    const auto w = random_values<std::int8_t>(r, g.out_c * g.depth(), -128, 127);
    const auto bias = random_values<std::int32_t>(r, g.out_c, -50000, 50000);
    std::vector<std::int32_t> mult(g.out_c), shift(g.out_c);
    for (std::size_t o = 0; o < g.out_c; ++o) {
      mult[o] = static_cast<std::int32_t>(r.range(1 << 30, 0x7FFFFFFF));
      shift[o] = static_cast<std::int32_t>(r.range(-12, 0));
    }
    output_stage<requant::per_channel> st{{mult.data(), shift.data()}, static_cast<std::int32_t>(r.range(-128, 127)),
                                         static_cast<std::int32_t>(r.range(-128, -1)), static_cast<std::int32_t>(r.range(0, 127))};
    const auto acc = direct<std::int32_t>(g, in, w, bias, zin);
    std::vector<std::int8_t> want(g.out_elems());
    for (std::size_t i = 0; i < want.size(); ++i) want[i] = requantize_one<std::int8_t>(acc[i], st, i % g.out_c);
    aligned_buf packed(conv::packed_weights_bytes(g));
    REQUIRE(conv::pack_weights(g, w.data(), bias.data(), zin, packed.p, conv::packed_weights_bytes(g)).ok());
    // Default workspace, and a random small one (panels of 1..5 rows).
    const std::size_t rows = 1 + r.next() % 5;
    for (std::size_t wsb : {conv::workspace_bytes(g), rows * conv::min_workspace_bytes(g)}) {
      std::vector<std::int8_t> got(g.out_elems(), 0x5A), ws(wsb + 1);
      INFO("case " << t << (g.transposed ? " transposed" : "") << " in " << g.batch << "x" << g.in_h << "x" << g.in_w << "x"
                   << g.in_c << " k " << g.kernel_h << "x" << g.kernel_w << " s " << g.stride_h << "," << g.stride_w << " d "
                   << g.dilation_h << "," << g.dilation_w << " groups " << g.groups << " out_c " << g.out_c << " ws " << wsb);
      const status s = conv::run(g, in.data(), packed.p, got.data(), st, ws.data(), wsb);
      REQUIRE_MESSAGE(s.ok(), s.message());
      REQUIRE(got == want);
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(conv_s8_random, as_tuple<kernels::gemm_qs8_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("conv2d_s16 equals the direct reference (int64 and int32 accumulators)", K, conv_s16_random) {
  TT_REQUIRE_RUNNABLE(K);
  using conv = conv2d_s16<typename K::arch, K>;
  tt::rng r(13);
  const std::size_t cases = tt::scaled(60);
  for (std::size_t t = 0; t < cases; ++t) {
    const conv_geometry g = random_geometry(r, false, 9);
    const auto in = random_values<std::int16_t>(r, g.in_elems(), -32768, 32767);
    const auto w = random_values<std::int8_t>(r, g.out_c * g.depth(), -127, 127);
    std::vector<std::int32_t> mult(g.out_c), shift(g.out_c);
    for (std::size_t o = 0; o < g.out_c; ++o) {
      mult[o] = static_cast<std::int32_t>(r.range(1 << 30, 0x7FFF0000));
      shift[o] = static_cast<std::int32_t>(r.range(-20, -8));
    }
    output_stage<requant::per_channel> st{{mult.data(), shift.data()}, 0, -32768, 32767};
    aligned_buf packed(conv::packed_weights_bytes(g));
    std::vector<std::int16_t> want(g.out_elems()), got(g.out_elems());
    std::vector<std::int16_t> ws(conv::workspace_bytes(g) / 2 + 1);
    if (t % 2 == 0) {
      const auto bias = random_values<std::int64_t>(r, g.out_c, -(std::int64_t{1} << 40), std::int64_t{1} << 40);
      const auto acc = direct<std::int64_t>(g, in, w, bias, std::int64_t{0});
      for (std::size_t i = 0; i < want.size(); ++i) want[i] = requantize_one<std::int16_t>(acc[i], st, i % g.out_c);
      REQUIRE(conv::pack_weights(g, w.data(), bias.data(), packed.p, conv::packed_weights_bytes(g)).ok());
    } else {
      const auto bias = random_values<std::int32_t>(r, g.out_c, -100000, 100000);
      const auto acc = direct<std::int64_t>(g, in, w, bias, std::int64_t{0});  // |acc| < 2^31 at these sizes
      for (std::size_t i = 0; i < want.size(); ++i)
        want[i] = requantize_one<std::int16_t>(static_cast<std::int32_t>(acc[i]), st, i % g.out_c);
      REQUIRE(conv::pack_weights(g, w.data(), bias.data(), packed.p, conv::packed_weights_bytes(g)).ok());
    }
    const status s = conv::run(g, in.data(), packed.p, got.data(), st, ws.data(), conv::workspace_bytes(g));
    REQUIRE_MESSAGE(s.ok(), s.message());
    INFO("case " << t);
    REQUIRE(got == want);
  }
}
TEST_CASE_TEMPLATE_APPLY(conv_s16_random, as_tuple<kernels::gemm_qs16_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("conv2d_f32 and transpose_conv2d_f32 match an fp64 direct reference", K, conv_f32_random) {
  TT_REQUIRE_RUNNABLE(K);
  using conv = conv2d_f32<typename K::arch, K>;
  tt::rng r(17);
  const std::size_t cases = tt::scaled(120);
  for (std::size_t t = 0; t < cases; ++t) {
    const conv_geometry g = random_geometry(r, t % 4 == 3, 21);
    const f32_case fc(g, r);
    const auto& [in, w, bias, acc] = fc;
    const f32_clamp clamp = t % 3 == 0 ? f32_clamp{0.0f, 6.0f} : f32_clamp{};
    aligned_buf packed(conv::packed_weights_bytes(g));
    REQUIRE(conv::pack_weights(g, w.data(), bias.data(), packed.p, conv::packed_weights_bytes(g)).ok());
    const std::size_t wsb = t % 2 ? conv::workspace_bytes(g) : (1 + t % 4) * conv::min_workspace_bytes(g);
    std::vector<float> got(g.out_elems()), ws(wsb / 4 + 1);
    const status s = conv::run(g, in.data(), packed.p, got.data(), clamp, ws.data(), wsb);
    REQUIRE_MESSAGE(s.ok(), s.message());
    const double tol = f32_tol(g);
    for (std::size_t i = 0; i < got.size(); ++i) {
      const double want = std::fmin(std::fmax(acc[i], static_cast<double>(clamp.min)), static_cast<double>(clamp.max));
      if (std::fabs(got[i] - want) > tol) {
        FAIL_CHECK("case " << t << " element " << i << ": " << got[i] << " vs " << want);
        break;
      }
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(conv_f32_random, as_tuple<kernels::gemm_f32_registry>::type);

// ---- indirect GEMM (conv2d_f32) -------------------------------------------------------------------

namespace {
/// The GEMM kernel K without its indirect entry: conv2d_f32 on it always gathers panels.
template <class K> struct panel_only {
  using arch = typename K::arch;
  static constexpr const char* name = K::name;
  static std::size_t nr() noexcept { return K::nr(); }
  template <class... A> static void run(A... a) noexcept { K::run(a...); }
};

/// A random forward geometry whose groups have at least `min_c` input channels (never pointwise).
conv_geometry wide_geometry(tt::rng& r, std::int64_t min_c) {
  for (;;) {
    conv_shape s;
    s.batch = r.range(1, 2);
    s.kernel_h = r.range(1, 5);
    s.kernel_w = r.range(1, 5);
    s.stride_h = r.range(1, 3);
    s.stride_w = r.range(1, 3);
    s.dilation_h = r.next() % 3 == 0 ? r.range(1, 3) : 1;
    s.dilation_w = r.next() % 3 == 0 ? r.range(1, 3) : 1;
    s.in_h = r.range(1, 11);
    s.in_w = r.range(1, 11);
    s.groups = r.next() % 4 == 0 ? 2 : 1;
    s.in_c = s.groups * r.range(min_c, min_c + 7);
    s.out_c = s.groups * r.range(1, 37);
    const auto mode = static_cast<padding>(r.next() % 3);
    if (mode == padding::explicit_pads) {
      s.pad_top = r.range(0, 3);
      s.pad_left = r.range(0, 3);
      s.pad_bottom = r.range(0, 3);
      s.pad_right = r.range(0, 3);
    }
    conv_geometry g;
    if (make_conv_geometry(s, mode, g).ok() && !g.is_pointwise()) return g;
  }
}

/// conv2d_f32::algorithm for a forward, non-pointwise geometry, restated from conv2d.hpp: on a
/// kernel with a strided entry, strided_gemm where it applies, out_w >= strided_min_width and
/// either fewer than indirect_min_channels input channels or strided_over_indirect (pinned on
/// shapes in "conv2d_f32 routing from 32 input channels"); else indirect_gemm on a kernel with an
/// indirect entry from indirect_min_channels; else the panel.
template <class conv> conv_algorithm forward_choice(const conv_geometry& g) {
  using K = typename conv::kernel;
  const bool few = g.group_in_c() < conv::indirect_min_channels;
  if constexpr (kernels::has_strided_f32<K>)
    if (conv::applies(g, conv_algorithm::strided_gemm) && g.out_w >= conv::strided_min_width &&
        (few || conv::strided_over_indirect(g)))
      return conv_algorithm::strided_gemm;
  return kernels::has_indirect_f32<K> && !few ? conv_algorithm::indirect_gemm : conv_algorithm::panel_gemm;
}
}  // namespace

TEST_CASE_TEMPLATE_DEFINE("conv2d_f32 indirect GEMM matches an fp64 direct reference and the panel path", K,
                          conv_f32_indirect) {
  TT_REQUIRE_RUNNABLE(K);
  using conv = conv2d_f32<typename K::arch, K>;
  using panel = conv2d_f32<typename K::arch, panel_only<K>>;
  constexpr bool indirect = kernels::has_indirect_f32<K>;
  // The indirect path by name: on a kernel with a strided entry, conv2d_f32 takes strided_gemm
  // for some of these shapes (forward_choice; the strided test compares the two).
  constexpr conv_algorithm a = indirect ? conv_algorithm::indirect_gemm : conv_algorithm::panel_gemm;
  tt::rng r(31);
  const std::size_t cases = tt::scaled(60);
  for (std::size_t t = 0; t < cases; ++t) {
    const conv_geometry g = wide_geometry(r, static_cast<std::int64_t>(conv::indirect_min_channels));
    INFO("case " << t << ": " << g.batch << "x" << g.in_h << "x" << g.in_w << "x" << g.in_c << " -> " << g.out_c << " k "
                 << g.kernel_h << "x" << g.kernel_w << " s " << g.stride_h << "," << g.stride_w << " d " << g.dilation_h
                 << "," << g.dilation_w << " groups " << g.groups);
    CHECK(conv::algorithm(g) == forward_choice<conv>(g));
    if (!kernels::has_strided_f32<K>) CHECK(conv::algorithm(g) == a);
    CHECK(panel::algorithm(g) == conv_algorithm::panel_gemm);
    const f32_case fc(g, r);
    const auto& [in, w, bias, acc] = fc;
    const f32_clamp clamp = t % 3 == 0 ? f32_clamp{-0.5f, 6.0f} : f32_clamp{};
    aligned_buf packed(conv::packed_weights_bytes(g));
    REQUIRE(conv::pack_weights(g, w.data(), bias.data(), packed.p, conv::packed_weights_bytes(g)).ok());
    // Workspaces: the default, one tile, a few tiles (pointer blocks ending mid-row and mid-image).
    const std::size_t wsb = t % 3 == 0 ? conv::workspace_bytes(g, a) : (1 + t % 5) * conv::min_workspace_bytes(g, a);
    std::vector<float> got(g.out_elems()), ref(g.out_elems());
    std::vector<std::uint64_t> ws(wsb / 8 + 1), pws(panel::workspace_bytes(g) / 8 + 1);
    const status s = conv::run(g, in.data(), packed.p, got.data(), clamp, ws.data(), wsb, a);
    REQUIRE_MESSAGE(s.ok(), s.message());
    REQUIRE(panel::run(g, in.data(), packed.p, ref.data(), clamp, pws.data(), panel::workspace_bytes(g)).ok());
    const double tol = f32_tol(g);
    for (std::size_t i = 0; i < got.size(); ++i) {
      const double want = std::fmin(std::fmax(acc[i], static_cast<double>(clamp.min)), static_cast<double>(clamp.max));
      if (std::fabs(got[i] - want) > tol || std::fabs(got[i] - ref[i]) > tol) {
        FAIL_CHECK("element " << i << ": " << got[i] << " vs " << want << " (panel " << ref[i] << ")");
        break;
      }
    }
    // The panel path asked for by name on this kernel equals the panel-only kernel's bit for bit;
    // an algorithm that does not apply is refused.
    CHECK(conv::workspace_bytes(g, conv_algorithm::panel_gemm) == panel::workspace_bytes(g));
    std::vector<float> forced(g.out_elems());
    REQUIRE(conv::run(g, in.data(), packed.p, forced.data(), clamp, pws.data(), panel::workspace_bytes(g),
                      conv_algorithm::panel_gemm).ok());
    CHECK(forced == ref);
    CHECK(conv::run(g, in.data(), packed.p, forced.data(), clamp, pws.data(), panel::workspace_bytes(g),
                    conv_algorithm::pointwise_gemm).code() == status_code::invalid_argument);
    CHECK(conv::workspace_bytes(g, conv_algorithm::sub_pixel_gemm) == 0);
    if constexpr (indirect) {
      // One byte short of a tile, or a workspace not aligned for pointers: a status, nothing run.
      const std::size_t min = conv::min_workspace_bytes(g, a);
      CHECK(conv::run(g, in.data(), packed.p, got.data(), clamp, ws.data(), min - 1, a).code() == status_code::buffer_too_small);
      CHECK(conv::run(g, in.data(), packed.p, got.data(), clamp, reinterpret_cast<std::uint8_t*>(ws.data()) + 4, min, a)
                .code() == status_code::invalid_argument);
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(conv_f32_indirect, as_tuple<kernels::gemm_f32_registry>::type);

// ---- strided segments (conv2d_f32 strided_gemm) -----------------------------------------------------

namespace {
/// A random forward geometry the strided driver takes (groups 1, dilation_w 1): strides 1-3, in_c
/// 1-8, kernels 1x1 to 7x7, dilation_h to 3, SAME/VALID/explicit padding (0-3 on every edge), output
/// rows from 1 pixel to a few row tiles, never pointwise.
conv_geometry strided_geometry(tt::rng& r, std::size_t t) {
  for (;;) {
    conv_shape s;
    s.batch = r.range(1, 2);
    s.kernel_h = r.range(1, 7);
    s.kernel_w = r.range(1, 7);
    s.stride_h = r.range(1, 3);
    s.stride_w = r.range(1, 3);
    s.dilation_h = r.next() % 3 == 0 ? r.range(1, 3) : 1;
    s.in_h = r.range(1, 12);
    s.in_w = t % 3 == 0 ? r.range(1, 12) : r.range(8, 48);
    s.in_c = r.range(1, 8);
    s.out_c = r.range(1, 70);
    const auto mode = static_cast<padding>(r.next() % 3);
    if (mode == padding::explicit_pads) {
      s.pad_top = r.range(0, 3);
      s.pad_left = r.range(0, 3);
      s.pad_bottom = r.range(0, 3);
      s.pad_right = r.range(0, 3);
    }
    conv_geometry g;
    if (make_conv_geometry(s, mode, g).ok() && !g.is_pointwise()) return g;
  }
}
std::string strided_case(const conv_geometry& g) {
  return std::to_string(g.batch) + "x" + std::to_string(g.in_h) + "x" + std::to_string(g.in_w) + "x" + std::to_string(g.in_c) +
         " -> " + std::to_string(g.out_h) + "x" + std::to_string(g.out_w) + "x" + std::to_string(g.out_c) + " k " +
         std::to_string(g.kernel_h) + "x" + std::to_string(g.kernel_w) + " s " + std::to_string(g.stride_h) + "," +
         std::to_string(g.stride_w) + " dh " + std::to_string(g.dilation_h) + " pads " + std::to_string(g.pad_top) + "," +
         std::to_string(g.pad_left) + "," + std::to_string(g.pad_bottom) + "," + std::to_string(g.pad_right);
}
}  // namespace

TEST_CASE_TEMPLATE_DEFINE("conv2d_f32 strided GEMM equals the indirect path bit for bit and an fp64 direct reference", K,
                          conv_f32_strided) {
  TT_REQUIRE_RUNNABLE(K);
  using conv = conv2d_f32<typename K::arch, K>;
  constexpr bool strided = kernels::has_strided_f32<K>;
  constexpr conv_algorithm a = conv_algorithm::strided_gemm;
  tt::rng r(41);
  const std::size_t cases = tt::scaled(150);
  for (std::size_t t = 0; t < cases; ++t) {
    const conv_geometry g = strided_geometry(r, t);
    INFO("case " << t << ": " << strided_case(g));
    CHECK(conv::applies(g, a) == strided);
    CHECK(conv::algorithm(g) == (strided && g.out_w >= conv::strided_min_width ? a : conv_algorithm::panel_gemm));
    CHECK(conv::algorithm(g) == forward_choice<conv>(g));
    const f32_case fc(g, r);
    const auto& [in, w, bias, acc] = fc;
    const f32_clamp clamp = t % 3 == 0 ? f32_clamp{-0.5f, 6.0f} : f32_clamp{};
    aligned_buf packed(conv::packed_weights_bytes(g));
    REQUIRE(conv::pack_weights(g, w.data(), bias.data(), packed.p, conv::packed_weights_bytes(g)).ok());
    if constexpr (!strided) {
      std::vector<float> out(g.out_elems());
      std::vector<std::uint64_t> ws(conv::workspace_bytes(g) / 8 + 1);
      CHECK(conv::workspace_bytes(g, a) == 0);
      CHECK(conv::run(g, in.data(), packed.p, out.data(), clamp, ws.data(), conv::workspace_bytes(g), a).code() ==
            status_code::invalid_argument);
    } else {
      // The indirect path runs the same tiles in the same FMA order per pixel (padding taps read
      // zeros either way): equal bit for bit.
      static_assert(kernels::has_indirect_f32<K>);
      const std::size_t iwb = conv::workspace_bytes(g, conv_algorithm::indirect_gemm);
      std::vector<float> ref(g.out_elems());
      std::vector<std::uint64_t> iws(iwb / 8 + 1);
      REQUIRE(conv::run(g, in.data(), packed.p, ref.data(), clamp, iws.data(), iwb, conv_algorithm::indirect_gemm).ok());
      const std::size_t min = conv::min_workspace_bytes(g, a), def = conv::workspace_bytes(g, a);
      CHECK(min <= def);
      const double tol = f32_tol(g);
      // The default (bands of mr output rows), the minimum (one row per band), two or three rows
      // per band (edge columns of 2-3 rows, a last band shorter).
      for (const std::size_t wsb : {def, min, detail::strided_workspace_bytes<float>(g, 2 + t % 2) + 4 * (t % 2)}) {
        INFO("workspace " << wsb);
        std::vector<float> got(g.out_elems(), 1e30f);
        std::vector<std::uint64_t> ws(wsb / 8 + 1);
        const status st = conv::run(g, in.data(), packed.p, got.data(), clamp, wsb == 0 ? nullptr : ws.data(), wsb, a);
        REQUIRE_MESSAGE(st.ok(), st.message());
        for (std::size_t i = 0; i < got.size(); ++i) {
          const double want = std::fmin(std::fmax(acc[i], static_cast<double>(clamp.min)), static_cast<double>(clamp.max));
          if (got[i] != ref[i] || std::fabs(got[i] - want) > tol) {
            FAIL_CHECK("element " << i << ": " << got[i] << " vs " << want << " (indirect " << ref[i] << ")");
            break;
          }
        }
      }
      if (min != 0) {
        // One element short of a band's strips, or a workspace not aligned for floats: a status.
        std::vector<std::uint64_t> ws(min / 8 + 2);
        std::vector<float> out(g.out_elems());
        CHECK(conv::run(g, in.data(), packed.p, out.data(), clamp, ws.data(), min - 1, a).code() ==
              status_code::buffer_too_small);
        CHECK(conv::run(g, in.data(), packed.p, out.data(), clamp, nullptr, 0, a).code() == status_code::buffer_too_small);
        CHECK(conv::run(g, in.data(), packed.p, out.data(), clamp, reinterpret_cast<std::uint8_t*>(ws.data()) + 2, min, a)
                  .code() == status_code::invalid_argument);
      }
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(conv_f32_strided, as_tuple<kernels::gemm_f32_registry>::type);

TEST_CASE("conv2d_f32 strided GEMM: layer a's algorithm and workspace") {
  // MobileNetV1's first layer: 3x3 stride 2, 224x224x3 -> 112x112x32, SAME (pad bottom/right 1).
  conv_geometry g;
  REQUIRE(make_conv_geometry({.in_h = 224, .in_w = 224, .in_c = 3, .out_c = 32, .kernel_h = 3, .kernel_w = 3,
                              .stride_h = 2, .stride_w = 2}, padding::same, g).ok());
  const detail::strided_plan p = detail::make_strided_plan(g);
  CHECK(p.lo == 0);
  CHECK(p.hi == 111);                   // the last column's window reaches x = 224
  CHECK(p.left == 0);
  CHECK(p.right == 3 * 3);              // input columns 222..224 (224 zero) of 3 channels
  CHECK(p.zero == (110 * 2 + 3) * 3);   // the last output row's third kernel row is padding
  // Sizes only (nothing runs): every build that has the AVX-512 kernel checks its choice.
#if TESSERA_HAS_AVX512_VNNI
  using conv = conv2d_f32<arch::avx512_vnni, kernels::gemm_f32_8x32_avx512_fma>;
  CHECK(conv::algorithm(g) == conv_algorithm::strided_gemm);
  CHECK(conv::workspace_bytes(g) == (669 + 8 * 3 * 9) * sizeof(float));     // bands of 8 output rows
  CHECK(conv::min_workspace_bytes(g) == (669 + 3 * 9) * sizeof(float));     // one output row per band
  CHECK(conv::workspace_bytes(g, conv_algorithm::panel_gemm) == 606 * 27 * sizeof(float));
#endif
  // Kernels without a strided entry keep the panel.
  CHECK(conv2d_f32<arch::scalar, kernels::gemm_f32_4x4_scalar>::algorithm(g) == conv_algorithm::panel_gemm);
}

TEST_CASE("conv2d_f32 routing from 32 input channels: strided_gemm where strided_over_indirect holds") {
  // SAME padding, batch 1; what the AVX-512 kernel (the one with a strided entry) runs.
  struct shape {
    std::int64_t h, w, in_c, out_c, k, stride, groups, dilation;
    bool strided;  // strided_gemm, else indirect_gemm
  };
  const shape shapes[] = {
      {56, 56, 32, 32, 3, 1, 1, 1, true},    // layer m: interior 54 (r = 2), 8 * 3 * 2 <= 56
      {28, 28, 32, 64, 5, 1, 1, 1, true},    // layer h: interior 24 (whole tiles), 32 * 2 blocks
      {56, 56, 64, 32, 3, 1, 1, 1, true},    // 64 * 1 block
      {56, 56, 32, 16, 3, 1, 1, 1, true},    // out_c below 32: one block
      {26, 26, 48, 24, 3, 1, 1, 1, true},    // interior 24
      {18, 18, 32, 32, 3, 1, 1, 1, true},    // interior 16, out_w 16 <= 18
      {112, 112, 32, 32, 3, 2, 1, 1, true},  // out 56, interior 55 (r = 1)
      {112, 112, 32, 32, 7, 1, 1, 1, true},  // interior 106 (r = 2), 8 * 7 * 2 <= 112
      {56, 56, 65, 32, 3, 1, 1, 1, false},   // 65 * 1 > 64
      {56, 56, 40, 64, 3, 1, 1, 1, false},   // 40 * 2 > 64
      {56, 56, 32, 65, 3, 1, 1, 1, false},   // 32 * 3 > 64
      {56, 56, 64, 64, 3, 1, 1, 1, false},   // layer f
      {14, 14, 256, 256, 3, 1, 1, 1, false}, // layer g
      {28, 28, 32, 32, 3, 1, 1, 1, false},   // interior 26 (r = 2): 48 > 28
      {16, 16, 32, 32, 3, 1, 1, 1, false},   // interior 14 (r = 2)
      {14, 14, 32, 32, 3, 1, 1, 1, false},   // whole tiles (12) but out_w 14 < 16
      {28, 28, 32, 64, 3, 2, 1, 1, false},   // out 14
      {52, 52, 32, 64, 7, 1, 1, 1, false},   // interior 46 (r = 2): 112 > 52
      {56, 56, 64, 32, 3, 1, 2, 1, false},   // groups 2 (32 per group): strided does not apply
      {56, 56, 32, 32, 3, 1, 1, 2, false},   // dilation_w 2: strided does not apply
  };
  for (const shape& q : shapes) {
    conv_geometry g;
    REQUIRE(make_conv_geometry({.in_h = q.h, .in_w = q.w, .in_c = q.in_c, .out_c = q.out_c, .kernel_h = q.k, .kernel_w = q.k,
                                .stride_h = q.stride, .stride_w = q.stride, .dilation_h = q.dilation,
                                .dilation_w = q.dilation, .groups = q.groups},
                               padding::same, g).ok());
    INFO(strided_case(g) << " groups " << g.groups << " dw " << g.dilation_w);
#if TESSERA_HAS_AVX512_VNNI
    using conv = conv2d_f32<arch::avx512_vnni, kernels::gemm_f32_8x32_avx512_fma>;
    CHECK(conv::algorithm(g) == (q.strided ? conv_algorithm::strided_gemm : conv_algorithm::indirect_gemm));
    CHECK(forward_choice<conv>(g) == conv::algorithm(g));
#endif
    // A kernel without a strided entry: the panel (the scalar kernel has no indirect entry either).
    CHECK(conv2d_f32<arch::scalar, kernels::gemm_f32_4x4_scalar>::algorithm(g) == conv_algorithm::panel_gemm);
  }
}

TEST_CASE_TEMPLATE_DEFINE("conv2d_f32 around the strided/indirect boundary: both paths, fp64 reference", K, conv_f32_boundary) {
  TT_REQUIRE_RUNNABLE(K);
  using conv = conv2d_f32<typename K::arch, K>;
  if constexpr (kernels::has_strided_f32<K>) {
    // Input channels around indirect_min_channels and around strided_max_channel_blocks (one block
    // of out_c, or two), rows 12-60 wide (both sides of strided_deep_min_width, every interior tail),
    // kernels 1x1-7x5, strides 1-2, SAME/VALID/explicit padding; a few with groups 2 or dilation_w 2.
    tt::rng r(47);
    const std::size_t cases = tt::scaled(80);
    std::size_t took[2] = {0, 0};  // strided, indirect (at 32+ channels)
    for (std::size_t t = 0; t < cases; ++t) {
      conv_geometry g;
      for (;;) {
        conv_shape s;
        s.batch = r.range(1, 2);
        s.kernel_h = r.range(1, 7);
        s.kernel_w = r.range(1, 5);
        s.stride_h = r.range(1, 2);
        s.stride_w = r.range(1, 2);
        s.dilation_h = r.next() % 4 == 0 ? 2 : 1;
        s.dilation_w = r.next() % 8 == 0 ? 2 : 1;
        s.groups = r.next() % 8 == 0 ? 2 : 1;
        s.in_h = r.range(1, 4);
        s.in_w = r.range(12, 60);
        const std::int64_t c = t % 2 ? r.range(28, 36) : r.range(58, 68);
        s.in_c = s.groups * (s.groups == 2 ? std::max<std::int64_t>(c / 2, 32) : c);
        s.out_c = s.groups * (t % 4 < 2 ? r.range(1, 36) : r.range(28, 70));
        const auto mode = static_cast<padding>(r.next() % 3);
        if (mode == padding::explicit_pads) {
          s.pad_top = r.range(0, 3);
          s.pad_left = r.range(0, 3);
          s.pad_bottom = r.range(0, 3);
          s.pad_right = r.range(0, 3);
        }
        if (make_conv_geometry(s, mode, g).ok() && !g.is_pointwise()) break;
      }
      INFO("case " << t << ": " << strided_case(g) << " groups " << g.groups << " dw " << g.dilation_w);
      const conv_algorithm picked = conv::algorithm(g);
      CHECK(picked == forward_choice<conv>(g));
      if (g.group_in_c() >= conv::indirect_min_channels) ++took[picked == conv_algorithm::strided_gemm ? 0 : 1];
      const f32_case fc(g, r);
      const auto& [in, w, bias, acc] = fc;
      const f32_clamp clamp = t % 3 == 0 ? f32_clamp{-0.5f, 6.0f} : f32_clamp{};
      aligned_buf packed(conv::packed_weights_bytes(g));
      REQUIRE(conv::pack_weights(g, w.data(), bias.data(), packed.p, conv::packed_weights_bytes(g)).ok());
      auto run = [&](conv_algorithm a, std::vector<float>& out) {
        const std::size_t wsb = conv::workspace_bytes(g, a);
        std::vector<std::uint64_t> ws(wsb / 8 + 1);
        const status st = a == picked ? conv::run(g, in.data(), packed.p, out.data(), clamp, ws.data(), wsb)
                                      : conv::run(g, in.data(), packed.p, out.data(), clamp, ws.data(), wsb, a);
        REQUIRE_MESSAGE(st.ok(), st.message());
      };
      // What conv2d_f32 picks (run without naming it) against the fp64 reference; where strided
      // applies, the other of strided and indirect equal to it bit for bit.
      std::vector<float> got(g.out_elems(), 1e30f), other(g.out_elems(), 1e30f);
      run(picked, got);
      const double tol = f32_tol(g);
      for (std::size_t i = 0; i < got.size(); ++i) {
        const double want = std::fmin(std::fmax(acc[i], static_cast<double>(clamp.min)), static_cast<double>(clamp.max));
        if (std::fabs(got[i] - want) > tol) {
          FAIL_CHECK("element " << i << ": " << got[i] << " vs " << want);
          break;
        }
      }
      if (conv::applies(g, conv_algorithm::strided_gemm) && picked != conv_algorithm::panel_gemm) {
        run(picked == conv_algorithm::strided_gemm ? conv_algorithm::indirect_gemm : conv_algorithm::strided_gemm, other);
        CHECK(other == got);
      }
    }
    // Both paths taken at 32+ channels (at full scale 15 and 50 of the 80 cases).
    INFO("strided " << took[0] << ", indirect " << took[1]);
    CHECK(took[0] > 0);
    CHECK(took[1] > 0);
  }
}
TEST_CASE_TEMPLATE_APPLY(conv_f32_boundary, as_tuple<kernels::gemm_f32_registry>::type);

// ---- guard pages ----------------------------------------------------------------------------------

#if TT_HAS_GUARD_PAGES
TEST_CASE_TEMPLATE_DEFINE("conv2d_s8 touches nothing outside input, filter, workspace and output", K, conv_guard) {
  TT_REQUIRE_RUNNABLE(K);
  using conv = conv2d_s8<typename K::arch, K>;
  tt::rng r(23);
  for (int t = 0; t < 24; ++t) {
    const conv_geometry g = random_geometry(r, t % 4 == 3, 13);
    for (auto side : {tt::guard_side::after, tt::guard_side::before}) {
      const std::size_t pbytes = conv::packed_weights_bytes(g), wsb = (1 + t % 3) * conv::min_workspace_bytes(g);
      tt::guarded<std::int8_t> in(g.in_elems(), side), out(g.out_elems(), side), ws(wsb + (wsb == 0), side);
      // The packed buffer must be 16-byte aligned: guard after only when its size allows.
      tt::guarded<std::uint8_t> packed(pbytes, pbytes % 64 == 0 ? side : tt::guard_side::before);
      REQUIRE((in.ok() && out.ok() && ws.ok() && packed.ok()));
      const auto w = random_values<std::int8_t>(r, g.out_c * g.depth(), -128, 127);
      for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<std::int8_t>(r.range(-128, 127));
      REQUIRE(conv::pack_weights(g, w.data(), nullptr, 3, packed.data(), pbytes).ok());
      output_stage<requant::per_tensor> st{{1 << 30, -6}, 1, -128, 127};
      REQUIRE(conv::run(g, in.data(), packed.data(), out.data(), st, ws.data(), wsb).ok());
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(conv_guard, as_tuple<kernels::gemm_qs8_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("conv2d_f32 touches nothing outside its buffers", K, conv_f32_guard) {
  TT_REQUIRE_RUNNABLE(K);
  using conv = conv2d_f32<typename K::arch, K>;
  tt::rng r(29);
  for (int t = 0; t < 16; ++t) {
    const conv_geometry g = random_geometry(r, t % 4 == 3, 13);
    for (auto side : {tt::guard_side::after, tt::guard_side::before}) {
      const std::size_t pbytes = conv::packed_weights_bytes(g), wsb = (1 + t % 3) * conv::min_workspace_bytes(g);
      tt::guarded<float> in(g.in_elems(), side), out(g.out_elems(), side), ws(wsb / 4 + (wsb == 0), side);
      tt::guarded<std::uint8_t> packed(pbytes, pbytes % 64 == 0 ? side : tt::guard_side::before);
      REQUIRE((in.ok() && out.ok() && ws.ok() && packed.ok()));
      std::vector<float> w(g.out_c * g.depth(), 0.25f);
      for (std::size_t i = 0; i < in.size(); ++i) in[i] = 1.0f;
      REQUIRE(conv::pack_weights(g, w.data(), nullptr, packed.data(), pbytes).ok());
      REQUIRE(conv::run(g, in.data(), packed.data(), out.data(), f32_clamp{}, ws.data(), wsb).ok());
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(conv_f32_guard, as_tuple<kernels::gemm_f32_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("conv2d_f32 on the indirect GEMM touches nothing outside its buffers", K, conv_f32_indirect_guard) {
  TT_REQUIRE_RUNNABLE(K);
  using conv = conv2d_f32<typename K::arch, K>;
  // The indirect path by name (conv2d_f32 takes strided_gemm for some of these shapes).
  constexpr conv_algorithm a = kernels::has_indirect_f32<K> ? conv_algorithm::indirect_gemm : conv_algorithm::panel_gemm;
  tt::rng r(37);
  for (int t = 0; t < 16; ++t) {
    const conv_geometry g = wide_geometry(r, static_cast<std::int64_t>(conv::indirect_min_channels));
    for (auto side : {tt::guard_side::after, tt::guard_side::before}) {
      const std::size_t pbytes = conv::packed_weights_bytes(g);
      const std::size_t wsb = t % 2 ? conv::workspace_bytes(g, a) : (1 + t % 3) * conv::min_workspace_bytes(g, a);
      tt::guarded<float> in(g.in_elems(), side), out(g.out_elems(), side);
      tt::guarded<std::uint64_t> ws((wsb + 7) / 8, wsb % 8 == 0 ? side : tt::guard_side::before);
      tt::guarded<std::uint8_t> packed(pbytes, pbytes % 64 == 0 ? side : tt::guard_side::before);
      REQUIRE((in.ok() && out.ok() && ws.ok() && packed.ok()));
      std::vector<float> w(g.out_c * g.depth(), 0.25f);
      for (std::size_t i = 0; i < in.size(); ++i) in[i] = 1.0f;
      REQUIRE(conv::pack_weights(g, w.data(), nullptr, packed.data(), pbytes).ok());
      REQUIRE(conv::run(g, in.data(), packed.data(), out.data(), f32_clamp{}, ws.data(), wsb, a).ok());
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(conv_f32_indirect_guard, as_tuple<kernels::gemm_f32_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("conv2d_f32 on the strided GEMM touches nothing outside its buffers", K, conv_f32_strided_guard) {
  TT_REQUIRE_RUNNABLE(K);
  if constexpr (kernels::has_strided_f32<K>) {
    using conv = conv2d_f32<typename K::arch, K>;
    constexpr conv_algorithm a = conv_algorithm::strided_gemm;
    tt::rng r(43);
    for (std::size_t t = 0; t < 24; ++t) {
      const conv_geometry g = strided_geometry(r, t);
      INFO("case " << t << ": " << strided_case(g));
      for (auto side : {tt::guard_side::after, tt::guard_side::before}) {
        const std::size_t pbytes = conv::packed_weights_bytes(g);
        const std::size_t wsb = t % 2 ? conv::workspace_bytes(g, a) : conv::min_workspace_bytes(g, a);
        // The input's first pixel (before) or last pixel (after) against the guard: the interior
        // reads in place up to the last window's last element.
        tt::guarded<float> in(g.in_elems(), side), out(g.out_elems(), side), ws(wsb / 4 + (wsb == 0), side);
        tt::guarded<std::uint8_t> packed(pbytes, pbytes % 64 == 0 ? side : tt::guard_side::before);
        REQUIRE((in.ok() && out.ok() && ws.ok() && packed.ok()));
        std::vector<float> w(g.out_c * g.depth(), 0.25f);
        for (std::size_t i = 0; i < in.size(); ++i) in[i] = 1.0f;
        REQUIRE(conv::pack_weights(g, w.data(), nullptr, packed.data(), pbytes).ok());
        const status st = conv::run(g, in.data(), packed.data(), out.data(), f32_clamp{}, ws.data(), wsb, a);
        REQUIRE_MESSAGE(st.ok(), st.message());
        // Every output is 0.25 x (the taps inside the input): at least 0, at most the window's size.
        for (std::size_t i = 0; i < out.size(); ++i) REQUIRE((out[i] >= 0.0f && out[i] <= 0.25f * static_cast<float>(g.depth())));
      }
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(conv_f32_strided_guard, as_tuple<kernels::gemm_f32_registry>::type);
#endif

// ---- transposed convolution: the sub-pixel split ---------------------------------------------------
// Geometries chosen to exercise the phases: strides 1..4 per axis, kernels smaller than, equal to
// and larger than the stride (empty phases; kernels not a multiple of the stride), SAME (asymmetric
// where the total padding is odd), VALID and explicit padding, output sizes other than in * stride,
// batch 2, 1 and odd channel counts.

namespace {
/// A transposed geometry for stride (sh, sw) with kernel class `kc` per axis (0: smaller than the
/// stride, 1: equal, 2: larger and not a multiple, 3: a multiple), random sizes around it;
/// `min_in_c` > 0: in_c in [min_in_c, min_in_c + 9] instead.
conv_geometry phase_geometry(tt::rng& r, std::int64_t sh, std::int64_t sw, int kc_h, int kc_w, std::size_t max_c,
                             std::size_t min_in_c = 0) {
  auto kernel = [&](std::int64_t s, int kc) -> std::int64_t {
    switch (kc) {
      case 0: return s > 1 ? r.range(1, s - 1) : 1;
      case 1: return s;
      case 2: return s * r.range(1, 2) + (s > 1 ? r.range(1, s - 1) : 1);
      default: return s * r.range(2, 3);
    }
  };
  for (;;) {
    transpose_conv_shape s;
    s.batch = r.next() % 3 == 0 ? 2 : 1;
    s.stride_h = sh;
    s.stride_w = sw;
    s.kernel_h = kernel(sh, kc_h);
    s.kernel_w = kernel(sw, kc_w);
    s.in_h = r.range(1, 6);
    s.in_w = r.range(1, 6);
    const std::int64_t channels[] = {1, 3, 5, 8, 17};
    s.in_c = std::min<std::int64_t>(channels[r.next() % 5], static_cast<std::int64_t>(max_c));
    if (min_in_c != 0) s.in_c = r.range(static_cast<std::int64_t>(min_in_c), static_cast<std::int64_t>(min_in_c) + 9);
    s.out_c = std::min<std::int64_t>(channels[r.next() % 5], static_cast<std::int64_t>(max_c));
    // in * stride, or off by a little (TFLite's output_shape is the caller's choice).
    s.out_h = std::max<std::int64_t>(1, s.in_h * sh + (r.next() % 2 ? 0 : r.range(-sh, sh + 1)));
    s.out_w = std::max<std::int64_t>(1, s.in_w * sw + (r.next() % 2 ? 0 : r.range(-sw, sw + 1)));
    const auto mode = static_cast<padding>(r.next() % 3);
    if (mode == padding::explicit_pads) {
      s.pad_top = r.range(0, s.kernel_h);
      s.pad_left = r.range(0, s.kernel_w);
    }
    conv_geometry g;
    if (make_transpose_conv_geometry(s, mode, g).ok()) return g;
  }
}

/// Every (stride_h, stride_w, kernel class h, kernel class w) combination once per `rounds`.
template <class F>
void each_phase_geometry(std::uint64_t seed, std::size_t rounds, std::size_t max_c, F&& f, std::size_t min_in_c = 0) {
  tt::rng r(seed);
  std::size_t t = 0;
  for (std::size_t round = 0; round < rounds; ++round)
    for (std::int64_t sh = 1; sh <= 4; ++sh)
      for (std::int64_t sw = 1; sw <= 4; ++sw)
        for (int kc = 0; kc < 4; ++kc) {
          const int kc_h = kc, kc_w = static_cast<int>((kc + round + static_cast<std::size_t>(sh)) % 4);
          if ((sh == 1 && kc_h == 0) || (sw == 1 && kc_w == 0)) continue;  // no kernel is smaller than 1
          f(phase_geometry(r, sh, sw, kc_h, kc_w, max_c, min_in_c), r, t++);
        }
}

std::string describe(const conv_geometry& g) {
  return std::to_string(g.batch) + "x" + std::to_string(g.in_h) + "x" + std::to_string(g.in_w) + "x" + std::to_string(g.in_c) +
         " -> " + std::to_string(g.out_h) + "x" + std::to_string(g.out_w) + "x" + std::to_string(g.out_c) + " k " +
         std::to_string(g.kernel_h) + "x" + std::to_string(g.kernel_w) + " s " + std::to_string(g.stride_h) + "," +
         std::to_string(g.stride_w) + " pad " + std::to_string(g.pad_top) + "," + std::to_string(g.pad_left);
}

/// Workspaces every transposed test runs with: the default, the minimum, a few panel rows, and
/// a little more than a phase row of panel and staging rows (GEMM calls spanning phase rows that
/// end mid-row; direct output where rows chain).
template <class Conv> std::vector<std::size_t> phase_workspaces(const conv_geometry& g, std::size_t t) {
  const std::size_t min = Conv::min_workspace_bytes(g), elem = min / detail::phase_depth_max(g);
  const std::size_t nw = (g.out_w + g.stride_w - 1) / g.stride_w;
  return {Conv::workspace_bytes(g), min, (2 + t % 3) * min + t % 2, (nw + 1 + t % 3) * (min + g.out_c * elem)};
}
/// Layer t (28x28x64 -> 56x56x32, 4x4 stride 2): the sub-pixel indirect sizes of Conv's kernel.
template <class Conv> void check_tconv_indirect_sizes(const conv_geometry& g) {
  using K = typename Conv::kernel;
  CHECK(Conv::applies(g, conv_algorithm::sub_pixel_indirect) == kernels::has_indirect_f32<K>);
  if constexpr (kernels::has_indirect_f32<K>) {
    // 64 channels: tap pointers of a phase row (28 pixels, whole tiles) and a zero row instead.
    CHECK(Conv::algorithm(g) == conv_algorithm::sub_pixel_indirect);
    const std::size_t tiles = (28 + K::mr() - 1) / K::mr();
    CHECK(Conv::workspace_bytes(g) == tiles * K::mr() * 4 * sizeof(const float*) + 64 * sizeof(float));
    CHECK(Conv::min_workspace_bytes(g) == K::mr() * 4 * sizeof(const float*) + 64 * sizeof(float));
  }
}
}  // namespace

TEST_CASE("transposed geometries take the sub-pixel algorithm; 1x1 stride 1 stays pointwise") {
  conv_geometry g;
  REQUIRE(make_transpose_conv_geometry({.in_h = 28, .in_w = 28, .in_c = 64, .out_h = 56, .out_w = 56, .out_c = 32,
                                        .kernel_h = 4, .kernel_w = 4, .stride_h = 2, .stride_w = 2}, padding::same, g).ok());
  CHECK(choose_conv_algorithm(g) == conv_algorithm::sub_pixel_gemm);
  CHECK(g.pad_top == 1);
  // Four phases of 2x2 taps: the largest phase depth is 4 * 64, a quarter of the full gather's.
  CHECK(conv2d_f32<>::min_workspace_bytes(g, conv_algorithm::sub_pixel_gemm) == 4 * 64 * sizeof(float));
  CHECK(conv2d_s8<>::min_workspace_bytes(g) == 4 * 64);
  CHECK(conv2d_s16<>::min_workspace_bytes(g) == 4 * 64 * 2);
  // The default: ~64 KiB of panel rows (256), for the staging int8 kernel each with a staging row of
  // outputs (32), else one phase row (28 pixels).
  if (conv2d_s8<>::stage_phase_rows) CHECK(conv2d_s8<>::workspace_bytes(g) == 65536 / (4 * 64 + 32) * (4 * 64 + 32));
  else CHECK(conv2d_s8<>::workspace_bytes(g) == 28 * 4 * 64);
  CHECK(conv2d_f32<>::workspace_bytes(g, conv_algorithm::sub_pixel_gemm) == 28 * 4 * 64 * sizeof(float));  // one phase row
  check_tconv_indirect_sizes<conv2d_f32<>>(g);
  // 3x3 stride 2: phases of 2x2, 2x1, 1x2 and 1x1 taps.
  REQUIRE(make_transpose_conv_geometry({.in_h = 5, .in_w = 5, .in_c = 3, .out_h = 10, .out_w = 10, .out_c = 2,
                                        .kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2}, padding::same, g).ok());
  CHECK(conv2d_f32<>::min_workspace_bytes(g) == 4 * 3 * sizeof(float));
  REQUIRE(make_transpose_conv_geometry({.in_h = 5, .in_w = 5, .in_c = 3, .out_h = 5, .out_w = 5, .out_c = 2},
                                       padding::valid, g).ok());
  CHECK(choose_conv_algorithm(g) == conv_algorithm::pointwise_gemm);
  CHECK(conv2d_f32<>::workspace_bytes(g) == 0);
}

TEST_CASE_TEMPLATE_DEFINE("transpose_conv2d_s8 sub-pixel split equals TFLite's scatter (strides 1-4, empty phases)", K,
                          tconv_s8_phases) {
  TT_REQUIRE_RUNNABLE(K);
  using conv = transpose_conv2d_s8<typename K::arch, K>;
  each_phase_geometry(41, std::max<std::size_t>(1, tt::scaled(4)), 17, [](const conv_geometry& g, tt::rng& r, std::size_t t) {
    INFO("case " << t << ": " << describe(g));
    REQUIRE(choose_conv_algorithm(g) == (g.is_pointwise() ? conv_algorithm::pointwise_gemm : conv_algorithm::sub_pixel_gemm));
    const auto zin = static_cast<std::int32_t>(r.range(-128, 127));
    const auto in = random_values<std::int8_t>(r, g.in_elems(), -128, 127);
    const auto w = random_values<std::int8_t>(r, g.out_c * g.depth(), -128, 127);
    const auto bias = random_values<std::int32_t>(r, g.out_c, -50000, 50000);
    const auto acc = direct<std::int32_t>(g, in, w, bias, zin);
    std::vector<std::int32_t> mult(g.out_c), shift(g.out_c);
    for (std::size_t o = 0; o < g.out_c; ++o) {
      mult[o] = static_cast<std::int32_t>(r.range(1 << 30, 0x7FFFFFFF));
      shift[o] = static_cast<std::int32_t>(r.range(-12, 0));
    }
    const std::int32_t zout = static_cast<std::int32_t>(r.range(-128, 127));
    const output_stage<requant::per_channel> pc{{mult.data(), shift.data()}, zout, -128, 127};
    const output_stage<requant::per_tensor> pt{{mult[0], shift[0]}, zout, static_cast<std::int32_t>(r.range(-128, -1)),
                                               static_cast<std::int32_t>(r.range(0, 127))};
    std::vector<std::int8_t> want_pc(g.out_elems()), want_pt(g.out_elems());
    for (std::size_t i = 0; i < acc.size(); ++i) {
      want_pc[i] = requantize_one<std::int8_t>(acc[i], pc, i % g.out_c);
      want_pt[i] = requantize_one<std::int8_t>(acc[i], pt, 0);
    }
    const std::size_t pb = conv::packed_weights_bytes(g);
    REQUIRE(pb != 0);
    aligned_buf packed(pb);
    REQUIRE(conv::pack_weights(g, w.data(), bias.data(), zin, packed.p, pb).ok());
    for (std::size_t wsb : phase_workspaces<conv>(g, t)) {
      INFO("workspace " << wsb);
      std::vector<std::int8_t> got(g.out_elems(), 0x5A), ws(wsb + 1);
      status s = conv::run(g, in.data(), packed.p, got.data(), pc, ws.data(), wsb);
      REQUIRE_MESSAGE(s.ok(), s.message());
      REQUIRE(got == want_pc);
      std::fill(got.begin(), got.end(), std::int8_t{0x5A});
      s = conv::run(g, in.data(), packed.p, got.data(), pt, ws.data(), wsb);
      REQUIRE_MESSAGE(s.ok(), s.message());
      REQUIRE(got == want_pt);
    }
  });
}
TEST_CASE_TEMPLATE_APPLY(tconv_s8_phases, as_tuple<kernels::gemm_qs8_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("transpose_conv2d_s8 with s4 weights: the sub-pixel packing reads nibbles in OHWI order", K,
                          tconv_s4_phases) {
  TT_REQUIRE_RUNNABLE(K);
  using conv = transpose_conv2d_s8<typename K::arch, K>;
  each_phase_geometry(43, 1, 8, [](const conv_geometry& g, tt::rng& r, std::size_t t) {
    if (t % 3 != 0) return;
    INFO("case " << t << ": " << describe(g));
    const auto zin = static_cast<std::int32_t>(r.range(-128, 127));
    const auto in = random_values<std::int8_t>(r, g.in_elems(), -128, 127);
    const auto w = random_values<std::int8_t>(r, g.out_c * g.depth(), -8, 7);
    std::vector<std::uint8_t> w4((w.size() + 1) / 2);
    pack_s4(w.size(), w.data(), w4.data());
    const auto bias = random_values<std::int32_t>(r, g.out_c, -5000, 5000);
    const auto acc = direct<std::int32_t>(g, in, w, bias, zin);
    const output_stage<requant::per_tensor> st{{1 << 30, -5}, 3, -128, 127};
    const std::size_t pb = conv::packed_weights_bytes(g);
    aligned_buf packed(pb);
    REQUIRE(conv::pack_weights_s4(g, w4.data(), bias.data(), zin, packed.p, pb).ok());
    std::vector<std::int8_t> got(g.out_elems()), ws(conv::workspace_bytes(g) + 1);
    REQUIRE(conv::run(g, in.data(), packed.p, got.data(), st, ws.data(), conv::workspace_bytes(g)).ok());
    for (std::size_t i = 0; i < acc.size(); ++i) REQUIRE(got[i] == requantize_one<std::int8_t>(acc[i], st, 0));
  });
}
TEST_CASE_TEMPLATE_APPLY(tconv_s4_phases, as_tuple<kernels::gemm_qs8_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("transpose_conv2d_f32 sub-pixel split matches an fp64 scatter (strides 1-4, empty phases)", K,
                          tconv_f32_phases) {
  TT_REQUIRE_RUNNABLE(K);
  using conv = transpose_conv2d_f32<typename K::arch, K>;
  each_phase_geometry(47, std::max<std::size_t>(1, tt::scaled(4)), 17, [](const conv_geometry& g, tt::rng& r, std::size_t t) {
    INFO("case " << t << ": " << describe(g));
    const f32_case fc(g, r);
    const auto& [in, w, bias, acc] = fc;
    const f32_clamp clamp = t % 3 == 0 ? f32_clamp{-0.5f, 0.75f} : f32_clamp{};
    const std::size_t pb = conv::packed_weights_bytes(g);
    aligned_buf packed(pb);
    REQUIRE(conv::pack_weights(g, w.data(), bias.data(), packed.p, pb).ok());
    const double tol = f32_tol(g);
    for (std::size_t wsb : phase_workspaces<conv>(g, t)) {
      INFO("workspace " << wsb);
      std::vector<float> got(g.out_elems(), 1e30f), ws(wsb / 4 + 1);
      const status s = conv::run(g, in.data(), packed.p, got.data(), clamp, ws.data(), wsb);
      REQUIRE_MESSAGE(s.ok(), s.message());
      for (std::size_t i = 0; i < got.size(); ++i) {
        const double want = std::fmin(std::fmax(acc[i], static_cast<double>(clamp.min)), static_cast<double>(clamp.max));
        INFO("element " << i);
        REQUIRE(std::fabs(got[i] - want) <= tol);
      }
    }
  });
}
TEST_CASE_TEMPLATE_APPLY(tconv_f32_phases, as_tuple<kernels::gemm_f32_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("transpose_conv2d_f32 sub-pixel indirect matches an fp64 scatter and the panel path", K,
                          tconv_f32_indirect) {
  TT_REQUIRE_RUNNABLE(K);
  using conv = transpose_conv2d_f32<typename K::arch, K>;
  constexpr bool indirect = kernels::has_indirect_f32<K>;
  // Narrow geometries (every stride, empty phases) with the algorithm asked for by name, and wide
  // ones (in_c >= 32), where conv2d_f32 picks it.
  for (const std::size_t min_in_c : {std::size_t{0}, conv::indirect_min_channels}) {
    each_phase_geometry(67 + min_in_c, 1, 17, [&](const conv_geometry& g, tt::rng& r, std::size_t t) {
      if (g.is_pointwise()) return;
      INFO("case " << t << ": " << describe(g));
      const conv_algorithm a = conv_algorithm::sub_pixel_indirect;
      CHECK(conv::applies(g, a) == indirect);
      CHECK(conv::algorithm(g) == (indirect && min_in_c != 0 ? a : conv_algorithm::sub_pixel_gemm));
      const f32_case fc(g, r);
      const auto& [in, w, bias, acc] = fc;
      const f32_clamp clamp = t % 3 == 0 ? f32_clamp{-0.5f, 0.75f} : f32_clamp{};
      const std::size_t pb = conv::packed_weights_bytes(g);
      aligned_buf packed(pb);
      REQUIRE(conv::pack_weights(g, w.data(), bias.data(), packed.p, pb).ok());
      const std::size_t pws = conv::workspace_bytes(g, conv_algorithm::sub_pixel_gemm);
      std::vector<float> panel(g.out_elems()), pw(pws / 4 + 1);
      REQUIRE(conv::run(g, in.data(), packed.p, panel.data(), clamp, pw.data(), pws, conv_algorithm::sub_pixel_gemm).ok());
      if constexpr (!indirect) {
        CHECK(conv::workspace_bytes(g, a) == 0);
        CHECK(conv::run(g, in.data(), packed.p, panel.data(), clamp, pw.data(), pws, a).code() ==
              status_code::invalid_argument);
        return;
      }
      const std::size_t min = conv::min_workspace_bytes(g, a);
      REQUIRE(min != 0);
      const double tol = f32_tol(g);
      // The default (a phase row of pointers), one tile, a few tiles (calls ending mid-row).
      for (const std::size_t wsb : {conv::workspace_bytes(g, a), min, (2 + t % 3) * min + 8 * (t % 2)}) {
        INFO("workspace " << wsb);
        std::vector<float> got(g.out_elems(), 1e30f);
        std::vector<std::uint64_t> ws(wsb / 8 + 1);
        const status s = conv::run(g, in.data(), packed.p, got.data(), clamp, ws.data(), wsb, a);
        REQUIRE_MESSAGE(s.ok(), s.message());
        for (std::size_t i = 0; i < got.size(); ++i) {
          const double want = std::fmin(std::fmax(acc[i], static_cast<double>(clamp.min)), static_cast<double>(clamp.max));
          if (std::fabs(got[i] - want) > tol || std::fabs(got[i] - panel[i]) > tol) {
            FAIL_CHECK("element " << i << ": " << got[i] << " vs " << want << " (panel " << panel[i] << ")");
            break;
          }
        }
      }
      // One byte short of a tile, or a workspace not aligned for pointers: a status, nothing run.
      std::vector<std::uint64_t> ws(min / 8 + 2);
      CHECK(conv::run(g, in.data(), packed.p, panel.data(), clamp, ws.data(), min - 1, a).code() ==
            status_code::buffer_too_small);
      CHECK(conv::run(g, in.data(), packed.p, panel.data(), clamp, reinterpret_cast<std::uint8_t*>(ws.data()) + 4, min, a)
                .code() == status_code::invalid_argument);
    }, min_in_c);
  }
}
TEST_CASE_TEMPLATE_APPLY(tconv_f32_indirect, as_tuple<kernels::gemm_f32_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("conv2d_s16 on transposed geometries equals TFLite's scatter (int64 and int32 accumulators)", K,
                          tconv_s16_phases) {
  TT_REQUIRE_RUNNABLE(K);
  using conv = conv2d_s16<typename K::arch, K>;
  each_phase_geometry(53, 1, 9, [](const conv_geometry& g, tt::rng& r, std::size_t t) {
    INFO("case " << t << ": " << describe(g));
    const auto in = random_values<std::int16_t>(r, g.in_elems(), -32768, 32767);
    const auto w = random_values<std::int8_t>(r, g.out_c * g.depth(), -127, 127);
    std::vector<std::int32_t> mult(g.out_c), shift(g.out_c);
    for (std::size_t o = 0; o < g.out_c; ++o) {
      mult[o] = static_cast<std::int32_t>(r.range(1 << 30, 0x7FFF0000));
      shift[o] = static_cast<std::int32_t>(r.range(-20, -8));
    }
    const output_stage<requant::per_channel> st{{mult.data(), shift.data()}, 0, -32768, 32767};
    const std::size_t pb = conv::packed_weights_bytes(g);
    aligned_buf packed(pb);
    std::vector<std::int16_t> want(g.out_elems());
    if (t % 2 == 0) {
      const auto bias = random_values<std::int64_t>(r, g.out_c, -(std::int64_t{1} << 40), std::int64_t{1} << 40);
      const auto acc = direct<std::int64_t>(g, in, w, bias, std::int64_t{0});
      for (std::size_t i = 0; i < want.size(); ++i) want[i] = requantize_one<std::int16_t>(acc[i], st, i % g.out_c);
      REQUIRE(conv::pack_weights(g, w.data(), bias.data(), packed.p, pb).ok());
    } else {
      const auto bias = random_values<std::int32_t>(r, g.out_c, -100000, 100000);
      const auto acc = direct<std::int64_t>(g, in, w, bias, std::int64_t{0});  // |acc| < 2^31 at these sizes
      for (std::size_t i = 0; i < want.size(); ++i)
        want[i] = requantize_one<std::int16_t>(static_cast<std::int32_t>(acc[i]), st, i % g.out_c);
      REQUIRE(conv::pack_weights(g, w.data(), bias.data(), packed.p, pb).ok());
    }
    for (std::size_t wsb : phase_workspaces<conv>(g, t)) {
      INFO("workspace " << wsb);
      std::vector<std::int16_t> got(g.out_elems(), 0x5A5A), ws(wsb / 2 + 1);
      const status s = conv::run(g, in.data(), packed.p, got.data(), st, ws.data(), wsb);
      REQUIRE_MESSAGE(s.ok(), s.message());
      REQUIRE(got == want);
    }
  });
}
TEST_CASE_TEMPLATE_APPLY(tconv_s16_phases, as_tuple<kernels::gemm_qs16_registry>::type);

TEST_CASE("transposed conv: the size queries are exactly what pack_weights and run accept") {
  tt::rng r(59);
  using s8 = transpose_conv2d_s8<>;
  using f32 = transpose_conv2d_f32<>;
  using s16 = conv2d_s16<>;
  each_phase_geometry(61, 1, 17, [&](const conv_geometry& g, tt::rng&, std::size_t t) {
    if (g.is_pointwise() || t % 2 != 0) return;
    INFO("case " << t << ": " << describe(g));
    std::vector<std::int8_t> w(g.out_c * g.depth(), 1), in8(g.in_elems(), 1), out8(g.out_elems());
    std::vector<float> wf(w.size(), 0.5f), inf(g.in_elems(), 1.0f), outf(g.out_elems());
    std::vector<std::int16_t> in16(g.in_elems(), 1), out16(g.out_elems());
    const std::size_t pb8 = s8::packed_weights_bytes(g), pbf = f32::packed_weights_bytes(g), pb16 = s16::packed_weights_bytes(g);
    REQUIRE((pb8 != 0 && pbf != 0 && pb16 != 0));
    aligned_buf p8(pb8), pf(pbf), p16(pb16);
    CHECK(s8::pack_weights(g, w.data(), nullptr, -3, p8.p, pb8 - 1).code() == status_code::buffer_too_small);
    CHECK(f32::pack_weights(g, wf.data(), nullptr, pf.p, pbf - 1).code() == status_code::buffer_too_small);
    CHECK(s16::pack_weights(g, w.data(), static_cast<const std::int64_t*>(nullptr), p16.p, pb16 - 1).code() ==
          status_code::buffer_too_small);
    REQUIRE(s8::pack_weights(g, w.data(), nullptr, -3, p8.p, pb8).ok());
    REQUIRE(f32::pack_weights(g, wf.data(), nullptr, pf.p, pbf).ok());
    REQUIRE(s16::pack_weights(g, w.data(), static_cast<const std::int64_t*>(nullptr), p16.p, pb16).ok());
    const output_stage<requant::per_tensor> st8{{1 << 30, -3}, 0, -128, 127};
    const output_stage<requant::per_tensor> st16{{1 << 30, -3}, 0, -32768, 32767};
    aligned_buf ws(std::max({s8::workspace_bytes(g), f32::workspace_bytes(g), s16::workspace_bytes(g)}) + 64);
    const std::size_t m8 = s8::min_workspace_bytes(g), mf = f32::min_workspace_bytes(g), m16 = s16::min_workspace_bytes(g);
    CHECK(m8 == detail::phase_depth_max(g));
    CHECK(mf == 4 * m8);
    CHECK(m16 == 2 * m8);
    CHECK(m8 <= s8::workspace_bytes(g));
    CHECK(s8::run(g, in8.data(), p8.p, out8.data(), st8, ws.p, m8 - 1).code() == status_code::buffer_too_small);
    CHECK(f32::run(g, inf.data(), pf.p, outf.data(), f32_clamp{}, ws.p, mf - 1).code() == status_code::buffer_too_small);
    CHECK(s16::run(g, in16.data(), p16.p, out16.data(), st16, ws.p, m16 - 1).code() == status_code::buffer_too_small);
    CHECK(s8::run(g, in8.data(), p8.p, out8.data(), st8, ws.p, m8).ok());
    CHECK(f32::run(g, inf.data(), pf.p, outf.data(), f32_clamp{}, ws.p, mf).ok());
    CHECK(s16::run(g, in16.data(), p16.p, out16.data(), st16, ws.p, m16).ok());
    CHECK(s8::run(g, in8.data(), p8.p, out8.data(), st8, ws.p, s8::workspace_bytes(g)).ok());
    CHECK(f32::run(g, inf.data(), pf.p, outf.data(), f32_clamp{}, ws.p, f32::workspace_bytes(g)).ok());
    CHECK(s16::run(g, in16.data(), p16.p, out16.data(), st16, ws.p, s16::workspace_bytes(g)).ok());
    // A buffer packed for another stride or kernel split (same depth), or for the forward conv of
    // the same depth, is refused.
    conv_geometry other = g;
    other.stride_h = g.stride_h == 1 ? 2 : 1;
    CHECK(s8::run(other, in8.data(), p8.p, out8.data(), st8, ws.p, s8::workspace_bytes(g)).code() == status_code::shape_mismatch);
    other = g;
    std::swap(other.kernel_h, other.kernel_w);
    if (other.kernel_h != g.kernel_h)
      CHECK(f32::run(other, inf.data(), pf.p, outf.data(), f32_clamp{}, ws.p, f32::workspace_bytes(g)).code() ==
            status_code::shape_mismatch);
    (void)r;
  });
  // The forward conv of a transposed conv's depth refuses its packing and vice versa.
  conv_geometry t, fwd;
  REQUIRE(make_transpose_conv_geometry({.in_h = 4, .in_w = 4, .in_c = 3, .out_h = 8, .out_w = 8, .out_c = 5,
                                        .kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2}, padding::same, t).ok());
  REQUIRE(make_conv_geometry({.in_h = 8, .in_w = 8, .in_c = 3, .out_c = 5, .kernel_h = 3, .kernel_w = 3}, padding::same, fwd).ok());
  std::vector<std::int8_t> w(5 * 27, 1), in(8 * 8 * 3, 1), out(8 * 8 * 5);
  aligned_buf pt(s8::packed_weights_bytes(t)), pfwd(s8::packed_weights_bytes(fwd)), ws(1 << 16);
  REQUIRE(s8::pack_weights(t, w.data(), nullptr, 0, pt.p, s8::packed_weights_bytes(t)).ok());
  REQUIRE(s8::pack_weights(fwd, w.data(), nullptr, 0, pfwd.p, s8::packed_weights_bytes(fwd)).ok());
  const output_stage<requant::per_tensor> st{{1 << 30, -3}, 0, -128, 127};
  CHECK(s8::run(fwd, in.data(), pt.p, out.data(), st, ws.p, 1 << 16).code() == status_code::shape_mismatch);
  CHECK(s8::run(t, in.data(), pfwd.p, out.data(), st, ws.p, 1 << 16).code() == status_code::shape_mismatch);
  // A hand-made transposed geometry with groups is refused with a message.
  conv_geometry grouped = t;
  grouped.groups = 3;
  grouped.in_c = 3;
  grouped.out_c = 6;
  CHECK(s8::packed_weights_bytes(grouped) == 0);
  CHECK(s8::workspace_bytes(grouped) == 0);
  const status s = s8::pack_weights(grouped, w.data(), nullptr, 0, pt.p, 1 << 10);
  CHECK(s.code() == status_code::invalid_argument);
  CHECK(std::string(s.message()).find("one group") != std::string::npos);
  // So is a hand-made dilated one (transposed geometries have dilation 1), in every query and call.
  conv_geometry dilated = t;
  dilated.dilation_w = 2;
  CHECK(s8::packed_weights_bytes(dilated) == 0);
  CHECK(f32::workspace_bytes(dilated) == 0);
  CHECK(s16::min_workspace_bytes(dilated) == 0);
  const status d = f32::pack_weights(dilated, std::vector<float>(5 * 27).data(), nullptr, pt.p, 1 << 10);
  CHECK(d.code() == status_code::invalid_argument);
  CHECK(std::string(d.message()).find("dilation") != std::string::npos);
  CHECK(s8::run(dilated, in.data(), pt.p, out.data(), st, ws.p, 1 << 16).code() == status_code::invalid_argument);
}

#if TT_HAS_GUARD_PAGES
TEST_CASE_TEMPLATE_DEFINE("transposed conv touches nothing outside input, packed weights, workspace and output", K,
                          tconv_guard) {
  TT_REQUIRE_RUNNABLE(K);
  using conv = transpose_conv2d_s8<typename K::arch, K>;
  each_phase_geometry(67, 1, 13, [](const conv_geometry& g, tt::rng& r, std::size_t t) {
    if (t % 2 != 0) return;
    INFO("case " << t << ": " << describe(g));
    for (auto side : {tt::guard_side::after, tt::guard_side::before}) {
      for (const bool min_ws : {true, false}) {
        const std::size_t pbytes = conv::packed_weights_bytes(g);
        const std::size_t wsb = min_ws ? conv::min_workspace_bytes(g) : conv::workspace_bytes(g);
        tt::guarded<std::int8_t> in(g.in_elems(), side), out(g.out_elems(), side), ws(wsb + (wsb == 0), side);
        tt::guarded<std::uint8_t> packed(pbytes, pbytes % 64 == 0 ? side : tt::guard_side::before);
        REQUIRE((in.ok() && out.ok() && ws.ok() && packed.ok()));
        const auto w = random_values<std::int8_t>(r, g.out_c * g.depth(), -128, 127);
        for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<std::int8_t>(r.range(-128, 127));
        REQUIRE(conv::pack_weights(g, w.data(), nullptr, -7, packed.data(), pbytes).ok());
        const output_stage<requant::per_tensor> st{{1 << 30, -6}, 1, -128, 127};
        REQUIRE(conv::run(g, in.data(), packed.data(), out.data(), st, ws.data(), wsb).ok());
      }
    }
  });
}
TEST_CASE_TEMPLATE_APPLY(tconv_guard, as_tuple<kernels::gemm_qs8_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("transposed conv f32 touches nothing outside its buffers", K, tconv_f32_guard) {
  TT_REQUIRE_RUNNABLE(K);
  using conv = transpose_conv2d_f32<typename K::arch, K>;
  each_phase_geometry(71, 1, 9, [](const conv_geometry& g, tt::rng& r, std::size_t t) {
    if (t % 3 != 0) return;
    INFO("case " << t << ": " << describe(g));
    for (auto side : {tt::guard_side::after, tt::guard_side::before}) {
      const std::size_t pbytes = conv::packed_weights_bytes(g);
      const std::size_t wsb = t % 2 ? conv::min_workspace_bytes(g) : conv::workspace_bytes(g);
      tt::guarded<float> in(g.in_elems(), side), out(g.out_elems(), side), ws(wsb / 4 + (wsb == 0), side);
      tt::guarded<std::uint8_t> packed(pbytes, pbytes % 64 == 0 ? side : tt::guard_side::before);
      REQUIRE((in.ok() && out.ok() && ws.ok() && packed.ok()));
      std::vector<float> w(g.out_c * g.depth());
      for (auto& v : w) v = static_cast<float>(r.range(-4, 4)) * 0.25f;
      for (std::size_t i = 0; i < in.size(); ++i) in[i] = 1.0f;
      REQUIRE(conv::pack_weights(g, w.data(), nullptr, packed.data(), pbytes).ok());
      REQUIRE(conv::run(g, in.data(), packed.data(), out.data(), f32_clamp{}, ws.data(), wsb).ok());
      if (!conv::applies(g, conv_algorithm::sub_pixel_indirect)) continue;
      // The indirect algorithm: pointers and zero row in a guarded workspace of its own size.
      const conv_algorithm a = conv_algorithm::sub_pixel_indirect;
      // (Rounded up to whole pointers: an odd in_c leaves 4 bytes of slack after the zero row.)
      const std::size_t iwb = ((t % 2 ? conv::min_workspace_bytes(g, a) : conv::workspace_bytes(g, a)) + 7) / 8 * 8;
      tt::guarded<std::uint64_t> iws(iwb / 8, side);
      REQUIRE(iws.ok());
      REQUIRE(conv::run(g, in.data(), packed.data(), out.data(), f32_clamp{}, iws.data(), iwb, a).ok());
    }
  });
}
TEST_CASE_TEMPLATE_APPLY(tconv_f32_guard, as_tuple<kernels::gemm_f32_registry>::type);

TEST_CASE_TEMPLATE_DEFINE("transposed conv s16 touches nothing outside its buffers", K, tconv_s16_guard) {
  TT_REQUIRE_RUNNABLE(K);
  using conv = conv2d_s16<typename K::arch, K>;
  each_phase_geometry(73, 1, 9, [](const conv_geometry& g, tt::rng& r, std::size_t t) {
    if (t % 3 != 1) return;
    INFO("case " << t << ": " << describe(g));
    for (auto side : {tt::guard_side::after, tt::guard_side::before}) {
      const std::size_t pbytes = conv::packed_weights_bytes(g);
      const std::size_t wsb = t % 2 ? conv::min_workspace_bytes(g) : conv::workspace_bytes(g);
      tt::guarded<std::int16_t> in(g.in_elems(), side), out(g.out_elems(), side), ws(wsb / 2 + (wsb == 0), side);
      tt::guarded<std::uint8_t> packed(pbytes, pbytes % 64 == 0 ? side : tt::guard_side::before);
      REQUIRE((in.ok() && out.ok() && ws.ok() && packed.ok()));
      const auto w = random_values<std::int8_t>(r, g.out_c * g.depth(), -127, 127);
      for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<std::int16_t>(r.range(-32768, 32767));
      REQUIRE(conv::pack_weights(g, w.data(), static_cast<const std::int64_t*>(nullptr), packed.data(), pbytes).ok());
      const output_stage<requant::per_tensor> st{{1 << 30, -12}, 0, -32768, 32767};
      REQUIRE(conv::run(g, in.data(), packed.data(), out.data(), st, ws.data(), wsb).ok());
    }
  });
}
TEST_CASE_TEMPLATE_APPLY(tconv_s16_guard, as_tuple<kernels::gemm_qs16_registry>::type);
#endif

// ---- validation -----------------------------------------------------------------------------------

TEST_CASE("conv geometry: TFLite SAME/VALID sizes and padding") {
  conv_geometry g;
  conv_shape s{.batch = 1, .in_h = 224, .in_w = 224, .in_c = 3, .out_c = 32, .kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2};
  REQUIRE(make_conv_geometry(s, padding::same, g).ok());
  CHECK(g.out_h == 112);
  CHECK(g.pad_top == 0);     // total = 111*2 + 3 - 224 = 1: 0 before, 1 after
  CHECK(g.pad_bottom == 1);
  REQUIRE(make_conv_geometry(s, padding::valid, g).ok());
  CHECK(g.out_h == 111);
  s.stride_h = s.stride_w = 1;
  s.dilation_h = 2;
  REQUIRE(make_conv_geometry(s, padding::same, g).ok());
  CHECK(g.out_h == 224);
  CHECK(g.pad_top == 2);
  CHECK(g.pad_bottom == 2);
  CHECK(choose_conv_algorithm(g) == conv_algorithm::panel_gemm);
  conv_shape p{.in_h = 7, .in_w = 7, .in_c = 8, .out_c = 4};
  REQUIRE(make_conv_geometry(p, padding::same, g).ok());
  CHECK(choose_conv_algorithm(g) == conv_algorithm::pointwise_gemm);
  CHECK(conv2d_s8<>::workspace_bytes(g) == 0);
}

TEST_CASE("conv geometry rejects bad shapes with a message") {
  conv_geometry g;
  const conv_shape ok{.in_h = 5, .in_w = 5, .in_c = 4, .out_c = 6, .kernel_h = 3, .kernel_w = 3};
  auto with = [&](auto edit, padding mode = padding::valid) {
    conv_shape s = ok;
    edit(s);
    return make_conv_geometry(s, mode, g);
  };
  REQUIRE(with([](conv_shape&) {}).ok());
  CHECK(with([](conv_shape& s) { s.in_h = 0; }).code() == status_code::invalid_argument);
  CHECK(with([](conv_shape& s) { s.in_c = -3; }).code() == status_code::invalid_argument);
  CHECK(with([](conv_shape& s) { s.batch = 0; }).code() == status_code::invalid_argument);
  CHECK(with([](conv_shape& s) { s.stride_w = 0; }).code() == status_code::invalid_argument);
  CHECK(with([](conv_shape& s) { s.dilation_h = -1; }).code() == status_code::invalid_argument);
  CHECK(with([](conv_shape& s) { s.kernel_h = 6; }).code() == status_code::invalid_argument);  // larger than the input
  CHECK(with([](conv_shape& s) { s.kernel_h = 3; s.dilation_h = 3; }).code() == status_code::invalid_argument);
  CHECK(with([](conv_shape& s) { s.kernel_w = 9; s.pad_left = 1; s.pad_right = 2; }, padding::explicit_pads).code() ==
        status_code::invalid_argument);  // 9 > 5 + 1 + 2
  CHECK(with([](conv_shape& s) { s.pad_top = -1; }, padding::explicit_pads).code() == status_code::invalid_argument);
  CHECK(with([](conv_shape& s) { s.groups = 3; }).code() == status_code::invalid_argument);  // 3 does not divide 4
  CHECK(with([](conv_shape& s) { s.groups = 4; }).code() == status_code::invalid_argument);  // 4 does not divide 6
  CHECK(with([](conv_shape& s) { s.groups = 2; }).ok());
  CHECK(with([](conv_shape& s) { s.in_c = std::int64_t{1} << 40; }).code() == status_code::overflow);
  CHECK(with([](conv_shape& s) { s.in_h = s.in_w = 1 << 16; s.in_c = 1 << 12; }).code() == status_code::overflow);
  CHECK(with([](conv_shape& s) { s.out_h = 9; }, padding::explicit_pads).code() == status_code::invalid_argument);
  const status st = with([](conv_shape& s) { s.kernel_h = 6; });
  CHECK(std::string(st.message()).find("larger than") != std::string::npos);
  transpose_conv_shape ts{.in_h = 3, .in_w = 3, .in_c = 2, .out_h = 6, .out_w = 6, .out_c = 2, .kernel_h = 3, .kernel_w = 3,
                          .stride_h = 2, .stride_w = 2};
  CHECK(make_transpose_conv_geometry(ts, padding::same, g).ok());
  CHECK(g.pad_top == 0);  // TFLite: n = 3, total = 2*2 + 3 - 6 = 1 -> 0
  ts.out_c = 0;
  CHECK(make_transpose_conv_geometry(ts, padding::same, g).code() == status_code::invalid_argument);
}

TEST_CASE("conv geometry keeps derived byte sizes inside size_t (32-bit targets: 2^26-element limits)") {
  // A 1x1 layer with a 2^28-element filter: ~1 GiB packed fp32, more than a 32-bit size_t holds
  // once padded; a 32-bit target refuses the geometry instead of wrapping the size queries.
  conv_geometry g;
  const status st = make_conv_geometry({.in_h = 8, .in_w = 8, .in_c = 4096, .out_c = 65536}, padding::valid, g);
  if constexpr (sizeof(std::size_t) < 8) {
    CHECK(st.code() == status_code::overflow);
    CHECK(conv2d_f32<>::packed_weights_bytes(g) == 0);
  } else {
    REQUIRE(st.ok());
    CHECK(conv2d_f32<>::packed_weights_bytes(g) > std::size_t{1} << 30);
  }
  // Depthwise: a row of 2^27 tap pointers (out_w 2^20 x 11x11 taps) on 32-bit.
  const status dw = make_conv_geometry({.in_h = 11, .in_w = 1 << 20, .in_c = 1, .out_c = 1, .kernel_h = 11, .kernel_w = 11,
                                        .groups = 1},
                                       padding::same, g);
  if constexpr (sizeof(std::size_t) < 8) CHECK(dw.code() == status_code::overflow);
  else CHECK(dw.ok());
}

TEST_CASE("conv2d operators reject bad buffers and mismatched packing with a message") {
  using conv = conv2d_s8<>;
  conv_geometry g, g2;
  REQUIRE(make_conv_geometry({.in_h = 4, .in_w = 4, .in_c = 3, .out_c = 5, .kernel_h = 3, .kernel_w = 3}, padding::same, g).ok());
  REQUIRE(make_conv_geometry({.in_h = 4, .in_w = 4, .in_c = 3, .out_c = 6, .kernel_h = 3, .kernel_w = 3}, padding::same, g2).ok());
  std::vector<std::int8_t> w(5 * 27, 1), in(48, 2), out(80);
  aligned_buf packed(conv::packed_weights_bytes(g));
  const std::size_t pb = conv::packed_weights_bytes(g);
  CHECK(conv::pack_weights(g, nullptr, nullptr, 0, packed.p, pb).code() == status_code::invalid_argument);
  CHECK(conv::pack_weights(g, w.data(), nullptr, 0, packed.p, pb - 1).code() == status_code::buffer_too_small);
  CHECK(conv::pack_weights(g, w.data(), nullptr, 300, packed.p, pb).code() == status_code::invalid_argument);
  CHECK(conv::pack_weights(g, w.data(), nullptr, 0, static_cast<char*>(packed.p) + 4, pb).code() == status_code::invalid_argument);
  REQUIRE(conv::pack_weights(g, w.data(), nullptr, 0, packed.p, pb).ok());
  output_stage<requant::per_tensor> st{{1 << 30, 0}, 0, -128, 127};
  std::vector<std::int8_t> ws(conv::workspace_bytes(g));
  CHECK(conv::run(g, in.data(), packed.p, out.data(), st, ws.data(), ws.size()).ok());
  CHECK(conv::run(g, nullptr, packed.p, out.data(), st, ws.data(), ws.size()).code() == status_code::invalid_argument);
  CHECK(conv::run(g, in.data(), packed.p, out.data(), st, ws.data(), conv::min_workspace_bytes(g) - 1).code() ==
        status_code::buffer_too_small);
  CHECK(conv::run(g, in.data(), packed.p, out.data(), st, nullptr, 0).code() == status_code::buffer_too_small);
  CHECK(conv::run(g2, in.data(), packed.p, out.data(), st, ws.data(), ws.size()).code() == status_code::shape_mismatch);
  output_stage<requant::per_tensor> bad{{1 << 30, 40}, 0, -128, 127};
  CHECK(conv::run(g, in.data(), packed.p, out.data(), bad, ws.data(), ws.size()).code() == status_code::invalid_argument);
  std::vector<std::uint64_t> junk(pb / 8 + 8, 0);
  CHECK(conv::run(g, in.data(), junk.data(), out.data(), st, ws.data(), ws.size()).code() == status_code::invalid_argument);
  CHECK(conv2d_f32<>::run(g, nullptr, packed.p, nullptr, {}, nullptr, 0).code() == status_code::invalid_argument);
  CHECK(conv2d_f32<>::run(g, reinterpret_cast<const float*>(in.data()), packed.p, reinterpret_cast<float*>(out.data()), {},
                          ws.data(), ws.size()).code() == status_code::invalid_argument);  // packed for s8
}

TEST_CASE("depthwise_conv2d_s8 takes conv2d_s8's signature and refuses a transposed geometry") {
  using dw = depthwise_conv2d_s8<>;
  conv_geometry g, t;
  REQUIRE(make_conv_geometry({.in_h = 5, .in_w = 6, .in_c = 7, .out_c = 7, .kernel_h = 3, .kernel_w = 3}, padding::same, g).ok());
  REQUIRE(make_transpose_conv_geometry({.in_h = 3, .in_w = 3, .in_c = 7, .out_h = 6, .out_w = 6, .out_c = 7, .kernel_h = 3,
                                        .kernel_w = 3, .stride_h = 2, .stride_w = 2}, padding::same, t).ok());
  tt::rng r(31);
  const auto in = random_values<std::int8_t>(r, g.in_elems(), -128, 127);
  const auto w = random_values<std::int8_t>(r, 9 * 7, -128, 127);
  aligned_buf packed(dw::packed_weights_bytes(g));
  REQUIRE(dw::pack_weights(g, w.data(), nullptr, -9, packed.p, dw::packed_weights_bytes(g)).ok());
  std::vector<std::int8_t> a(g.out_elems()), b(g.out_elems(), 1);
  aligned_buf ws(dw::workspace_bytes(g));
  output_stage<requant::per_tensor> st{{1 << 30, -7}, 2, -128, 127};
  REQUIRE(dw::run(g, in.data(), packed.p, a.data(), st, -9, ws.p, dw::workspace_bytes(g)).ok());
  REQUIRE(dw::run(g, in.data(), packed.p, b.data(), st, ws.p, dw::workspace_bytes(g)).ok());
  CHECK(a == b);
  CHECK(dw::packed_weights_bytes(t) == 0);
  CHECK(dw::run(t, in.data(), packed.p, b.data(), st, ws.p, dw::workspace_bytes(g)).code() == status_code::invalid_argument);
}

// 16x8 depthwise kernels split long tap loops into exact int32 runs of at most 256 taps before
// widening; a 17x17 window (289 taps) crosses that boundary with extreme values.
TEST_CASE_TEMPLATE_DEFINE("depthwise_conv2d_s16 is exact past 256 taps", K, dw_s16_long) {
  TT_REQUIRE_RUNNABLE(K);
  using dw = depthwise_conv2d_s16<typename K::arch, K>;
  tt::rng r(37);
  for (std::int64_t c : {1, 5, 19}) {
    conv_geometry g;
    REQUIRE(make_conv_geometry({.in_h = 18, .in_w = 17, .in_c = c, .out_c = c, .kernel_h = 17, .kernel_w = 17},
                               padding::valid, g).ok());
    std::vector<std::int16_t> in(g.in_elems());
    for (auto& v : in) v = static_cast<std::int16_t>(r.next() % 3 == 0 ? -32768 : r.range(-32768, 32767));
    std::vector<std::int8_t> w(289 * g.out_c);
    for (auto& v : w) v = static_cast<std::int8_t>(r.next() % 3 == 0 ? -128 : r.range(-128, 127));
    const auto bias = random_values<std::int64_t>(r, g.out_c, -(std::int64_t{1} << 40), std::int64_t{1} << 40);
    std::vector<std::int32_t> mult(g.out_c), shift(g.out_c);
    for (std::size_t o = 0; o < g.out_c; ++o) {
      mult[o] = static_cast<std::int32_t>(r.range(1 << 30, 0x7FFF0000));
      shift[o] = static_cast<std::int32_t>(r.range(-31, -20));
    }
    output_stage<requant::per_channel> st{{mult.data(), shift.data()}, 0, -32768, 32767};
    aligned_buf packed(dw::packed_weights_bytes(g)), ws(dw::workspace_bytes(g));
    REQUIRE(dw::pack_weights(g, w.data(), bias.data(), packed.p, dw::packed_weights_bytes(g)).ok());
    std::vector<std::int16_t> got(g.out_elems());
    REQUIRE(dw::run(g, in.data(), packed.p, got.data(), st, ws.p, dw::workspace_bytes(g)).ok());
    for (std::size_t p = 0; p < g.out_h * g.out_w; ++p)
      for (std::size_t o = 0; o < g.out_c; ++o) {
        const std::size_t oy = p / g.out_w, ox = p % g.out_w;
        std::int64_t acc = bias[o];
        for (std::size_t t = 0; t < 289; ++t)
          acc += std::int64_t{in[((oy + t / 17) * g.in_w + ox + t % 17) * g.in_c + o]} * w[t * g.out_c + o];
        INFO("channels " << c << " pixel " << p << " channel " << o);
        REQUIRE(got[p * g.out_c + o] == requantize_one<std::int16_t>(acc, st, o));
      }
  }
}
TEST_CASE_TEMPLATE_APPLY(dw_s16_long, as_tuple<kernels::dwconv_qs16_registry>::type);

TEST_CASE("conv2d and depthwise check hand-made geometries before any size arithmetic") {
  conv_geometry ok;
  REQUIRE(make_conv_geometry({.in_h = 6, .in_w = 6, .in_c = 4, .out_c = 4, .kernel_h = 3, .kernel_w = 3}, padding::same, ok).ok());
  CHECK(check_conv_geometry(ok).ok());
  std::vector<std::int8_t> w(4 * 36, 1), in(144, 1), out(144);
  aligned_buf packed(conv2d_s8<>::packed_weights_bytes(ok)), ws(conv2d_s8<>::workspace_bytes(ok));
  REQUIRE(conv2d_s8<>::pack_weights(ok, w.data(), nullptr, 0, packed.p, conv2d_s8<>::packed_weights_bytes(ok)).ok());
  const output_stage<requant::per_tensor> st{{1 << 30, -4}, 0, -128, 127};
  auto broken = [&](auto edit, status_code want) {
    conv_geometry g = ok;
    edit(g);
    CHECK(check_conv_geometry(g).code() == want);
    CHECK(conv2d_s8<>::packed_weights_bytes(g) == 0);
    CHECK(conv2d_s8<>::workspace_bytes(g) == 0);
    CHECK(conv2d_f32<>::min_workspace_bytes(g) == 0);
    CHECK(conv2d_s16<>::packed_weights_bytes(g) == 0);
    CHECK(conv2d_s8<>::pack_weights(g, w.data(), nullptr, 0, packed.p, 1 << 20).code() == want);
    CHECK(conv2d_s8<>::run(g, in.data(), packed.p, out.data(), st, ws.p, 1 << 16).code() == want);
    if (g.groups != 0) CHECK(depthwise_conv2d_s8<>::packed_weights_bytes(g) == 0);  // depthwise ignores groups
  };
  broken([](conv_geometry& g) { g.groups = 0; }, status_code::invalid_argument);  // was a division by zero
  broken([](conv_geometry& g) { g.in_h = 0; }, status_code::invalid_argument);
  broken([](conv_geometry& g) { g.stride_w = 0; }, status_code::invalid_argument);
  broken([](conv_geometry& g) { g.out_h = 40; }, status_code::invalid_argument);  // windows past the padded input
  broken([](conv_geometry& g) { g.in_c = std::size_t{1} << 30; }, status_code::overflow);
  conv_geometry g = ok;
  g.groups = 3;  // does not divide 4 channels
  CHECK(check_conv_geometry(g).code() == status_code::invalid_argument);
  CHECK(conv2d_s8<>::run(g, in.data(), packed.p, out.data(), st, ws.p, 1 << 16).code() == status_code::invalid_argument);
}

#if TT_HAS_GUARD_PAGES
TEST_CASE("conv gather: every panel equals a direct gather, with and without the gather plan, inside its buffers") {
  // 1-byte panels of random forward geometries (1-8 channels or more, kernels to 5x7, strides and
  // row dilation to 3, padding on every side, batch 2, channel groups, panels of any size), the
  // input guarded on either side and each panel guarded after. With a gather_plan, AVX-512 VBMI
  // builds copy interior, right-edge and padded-row pixels by byte permutes
  // (gather_s8_kh4_avx512_vbmi), AArch64 builds by TBL lookups (gather_s8_kh4_neon_tbl); without
  // one, and on other builds, by the run copies. Then first-layer shapes, every width from 9 to 40
  // (1 and 3 channels, kernels 1x3 to 4x3, stride 1-2, padding 0-1, the image a few rows high and
  // guarded after, one panel of all pixels): each way the last groups of a row can end before the
  // image's end, its last bytes, and the panel's.
  tt::rng r(97);
  std::size_t permuted = 0;
  /// One geometry: y and x carry stride, dilation and padding (their `in` is set from in_h/in_w).
  struct geometry {
    std::size_t in_c, groups, kh, kw;
    detail::conv_axis y, x;
    std::size_t in_h, in_w, batch;
    tt::guard_side side;
    bool one_panel;  ///< every pixel in one panel; otherwise panels of a random size
  };
  auto check = [&](std::size_t t, geometry gm) {
    const std::size_t in_c = gm.in_c, cg = in_c / gm.groups, kh = gm.kh, kw = gm.kw;
    const std::size_t in_h = gm.in_h, in_w = gm.in_w, batch = gm.batch;
    detail::conv_axis y = gm.y, x = gm.x;
    const std::int64_t span_h = static_cast<std::int64_t>(kh - 1) * y.dilation + 1, span_w = static_cast<std::int64_t>(kw - 1) * x.dilation + 1;
    const std::int64_t pad_h = static_cast<std::int64_t>(in_h) + 2 * y.pad - span_h, pad_w = static_cast<std::int64_t>(in_w) + 2 * x.pad - span_w;
    if (pad_h < 0 || pad_w < 0) return;
    const std::size_t out_h = static_cast<std::size_t>(pad_h / y.stride) + 1, out_w = static_cast<std::size_t>(pad_w / x.stride) + 1;
    y.in = static_cast<std::int64_t>(in_h);
    x.in = static_cast<std::int64_t>(in_w);
    const std::size_t depth = kh * kw * cg, m = batch * out_h * out_w;
    const auto fill = static_cast<std::int8_t>(r.range(-128, 127));
    tt::guarded<std::int8_t> in(batch * in_h * in_w * in_c, gm.side);
    REQUIRE(in.ok());
    for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<std::int8_t>(r.range(-128, 127));
    const std::size_t rows = gm.one_panel ? m : 1 + r.next() % m;
    detail::gather_plan plan;
    plan.prepare<std::int8_t>(in_c, cg, kh, kw, y, x);
#if TESSERA_GATHER_BYTE_ROWS
    permuted += plan.rows.pixels != 0;
#endif
    for (std::size_t grp = 0; grp < gm.groups; ++grp)
      for (std::size_t p0 = 0; p0 < m; p0 += rows) {
        const std::size_t n = std::min(rows, m - p0);
        std::vector<std::int8_t> want(n * depth);
        for (std::size_t i = 0; i < n; ++i) {
          const std::size_t p = p0 + i, ox = p % out_w, oy = p / out_w % out_h, b = p / (out_w * out_h);
          for (std::size_t ky = 0; ky < kh; ++ky)
            for (std::size_t kx = 0; kx < kw; ++kx)
              for (std::size_t c = 0; c < cg; ++c) {
                const std::int64_t iy = static_cast<std::int64_t>(oy) * y.stride - y.pad + static_cast<std::int64_t>(ky) * y.dilation;
                const std::int64_t ix = static_cast<std::int64_t>(ox) * x.stride - x.pad + static_cast<std::int64_t>(kx) * x.dilation;
                const bool inside = iy >= 0 && iy < y.in && ix >= 0 && ix < x.in;
                want[i * depth + (ky * kw + kx) * cg + c] =
                    inside ? in[((b * in_h + static_cast<std::size_t>(iy)) * in_w + static_cast<std::size_t>(ix)) * in_c + grp * cg + c]
                           : fill;
              }
        }
        for (const detail::gather_plan* pl : {static_cast<const detail::gather_plan*>(&plan), static_cast<const detail::gather_plan*>(nullptr)}) {
          tt::guarded<std::int8_t> panel(n * depth, tt::guard_side::after);
          REQUIRE(panel.ok());
          for (std::size_t i = 0; i < panel.size(); ++i) panel[i] = 0x5A;
          detail::gather_panel(panel.data(), p0, n, in.data(), in_h, in_w, in_c, grp * cg, cg, out_h, out_w, kh, kw, y, x,
                               fill, pl);
          INFO("case " << t << " in " << batch << "x" << in_h << "x" << in_w << "x" << in_c << " groups " << gm.groups << " k " << kh
                       << "x" << kw << " s " << y.stride << "," << x.stride << " d " << y.dilation << "," << x.dilation << " pad "
                       << y.pad << "," << x.pad << " panel " << p0 << "+" << n << (pl ? " plan" : " no plan"));
          REQUIRE(std::equal(want.begin(), want.end(), panel.data()));
        }
      }
  };
  const std::size_t cases = tt::scaled(300), shapes = 4 * 2 * 2 * 2 * 32;
  for (std::size_t t = 0; t < cases; ++t) {  // random geometries
    const std::size_t in_c = t % 5 == 4 ? 1 + r.next() % 24 : 1 + r.next() % 8;
    const std::size_t groups = (t % 7 == 6 && in_c % 2 == 0) ? 2 : 1;
    const std::size_t kh = 1 + r.next() % 5, kw = 1 + r.next() % 7;
    const detail::conv_axis y{r.range(1, 3), r.range(1, 3), r.range(0, static_cast<std::int64_t>(kh)), 0, false};
    const detail::conv_axis x{r.range(1, 3), t % 9 == 8 ? 2 : 1, r.range(0, static_cast<std::int64_t>(kw)), 0, false};
    const std::size_t in_h = 1 + r.next() % 12, in_w = 1 + r.next() % 40, batch = 1 + r.next() % 2;
    check(t, {in_c, groups, kh, kw, y, x, in_h, in_w, batch, t % 2 ? tt::guard_side::after : tt::guard_side::before, false});
  }
  for (std::size_t f = 0; f < shapes; ++f) {  // first-layer shapes: every width 9-40 of each kind
    const std::size_t fs = f / 32, kh = 1 + fs / 8 % 4;
    const std::int64_t stride = 1 + static_cast<std::int64_t>(fs / 2 % 2), pad = static_cast<std::int64_t>(fs / 4 % 2);
    const detail::conv_axis a{stride, 1, pad, 0, false};
    check(cases + f, {fs % 2 ? 3u : 1u, 1, kh, 3, a, a, kh + 2, 9 + f % 32, 1, tt::guard_side::after, true});
  }
#if TESSERA_GATHER_BYTE_ROWS
  CHECK(permuted > cases / 4);  // the byte-permute (x86) or TBL (AArch64) rows ran
#endif
  MESSAGE(permuted << " of " << cases + shapes << " cases on byte-permute rows");
}
#endif

TEST_CASE("gather's copy_rows and copy_short copy every run length exactly and write nothing else") {
  // Runs of 1-100 elements of 1, 2 and 4 bytes (fixed-size cases, copy_piece's pieces of 1-32
  // bytes, memcpy past 64), kh 1-4 (3 takes the unrolled copy), 1-3 rows; destination rows have a
  // gap after them and the source a different ky stride, so a copy that reads or writes the wrong
  // bytes shows up.
  auto check = [](auto tag) {
    using T = decltype(tag);
    for (std::size_t n = 1; n <= 100; ++n)
      for (std::size_t kh = 1; kh <= 4; ++kh)
        for (std::size_t count = 1; count <= 3; ++count) {
          const std::size_t src_step = n + 3, src_ky = 2 * n + 5, dst_step = kh * n + 7;
          std::vector<T> src(count * src_step + kh * src_ky + n), dst(count * dst_step + 8, T(0x55));
          for (std::size_t i = 0; i < src.size(); ++i) src[i] = static_cast<T>(i * 7 + 1);
          detail::copy_rows(dst.data(), dst_step, src.data(), src_step, src_ky, kh, count, n);
          std::vector<T> want(dst.size(), T(0x55));
          for (std::size_t i = 0; i < count; ++i)
            for (std::size_t ky = 0; ky < kh; ++ky)
              for (std::size_t e = 0; e < n; ++e) want[i * dst_step + ky * n + e] = src[i * src_step + ky * src_ky + e];
          INFO("element bytes " << sizeof(T) << " n " << n << " kh " << kh << " count " << count);
          REQUIRE(dst == want);
        }
  };
  check(std::int8_t{});
  check(std::int16_t{});
  check(float{});
  // copy_short (the edge pixels' inside run): every length 0-100, nothing written around it.
  for (std::size_t n = 0; n <= 100; ++n) {
    std::vector<std::int8_t> src(n + 4), dst(n + 4, 0x55), want(n + 4, 0x55);
    for (std::size_t i = 0; i < src.size(); ++i) src[i] = static_cast<std::int8_t>(i * 3 + 1);
    detail::copy_short(dst.data() + 1, src.data() + 2, n);
    for (std::size_t i = 0; i < n; ++i) want[1 + i] = src[2 + i];
    INFO("copy_short n " << n);
    REQUIRE(dst == want);
  }
}
