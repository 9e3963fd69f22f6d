/// @file runner_support.hpp
/// What every conformance handler shares: the pass/fail bookkeeping, the kernel loop over a
/// registry, and reading/comparing case arrays. A handler is one function
/// `bool run_<op>(const nnconf::case_file&, context&)` in its own handle_<op>.hpp, listed in
/// runner.cpp's table.
#pragma once
#include "nnconf.hpp"

#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>
#include <tessera/arch/features.hpp>
#include <tessera/ops/conv_geometry.hpp>
#include <tessera/quant/requantize.hpp>

namespace tessera_conformance {
using namespace tessera;

// ---- bookkeeping shared by every handler -----------------------------------------------------

struct context {
  std::string tag;  // empty: every tag
  unsigned passed = 0, failed = 0, skipped = 0;

  void fail(const std::string& what, const std::string& why) {
    std::printf("FAIL %s%s%s\n", what.c_str(), why.empty() ? "" : ": ", why.c_str());
    ++failed;
  }
  void skip(const std::string& path, const char* why) {
    std::printf("SKIP %s (%s)\n", path.c_str(), why);
    ++skipped;
  }
  template <class K> bool selected() const {
    return arch::available<typename K::arch>() && (tag.empty() || tag == K::arch::name);
  }
  /// Runs `check(std::type_identity<K>{})` (returns "" or why it failed) for every selected kernel K.
  template <class... K, class Check>
  void each_kernel(arch::type_list<K...>, const std::string& path, Check&& check) {
    unsigned ran = 0;
    auto one = [&](auto id) {
      using kernel = typename decltype(id)::type;
      if (!selected<kernel>()) return;
      ++ran;
      const std::string why = check(id);
      if (why.empty()) {
        std::printf("PASS %s %s\n", path.c_str(), kernel::name);
        ++passed;
      } else {
        fail(path + " " + kernel::name, why);
      }
    };
    (one(std::type_identity<K>{}), ...);
    if (ran == 0) skip(path, "no kernel of the requested tag");
  }
};

template <class T> std::vector<T> values(const nnconf::case_file& f, const char* name) {
  std::vector<T> out;
  for (auto v : f.arr(name).values) out.push_back(static_cast<T>(v));
  return out;
}

/// "" when `got` equals the case's `output` array, else the first difference.
template <class T> std::string compare(const nnconf::case_file& f, const std::vector<T>& got) {
  const auto& want = f.arr("output").values;
  if (want.size() != got.size()) return "output has " + std::to_string(want.size()) + " values, expected " + std::to_string(got.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    if (got[i] != want[i])
      return "element " + std::to_string(i) + " is " + std::to_string(got[i]) + ", expected " + std::to_string(want[i]);
  return {};
}

/// A conv/depthwise/pooling case's geometry (explicit pads and output size, as the format gives
/// them; `groups` defaults to 1): "" or why it is rejected.
inline std::string read_conv_geometry(const nnconf::case_file& f, conv_geometry& g) {
  conv_shape s;
  s.batch = f.integer("batches", 1);
  s.in_h = f.integer("input_h");
  s.in_w = f.integer("input_w");
  s.in_c = f.integer("input_c");
  s.out_c = f.integer("output_c");
  s.kernel_h = f.integer("filter_h");
  s.kernel_w = f.integer("filter_w");
  s.stride_h = f.integer("stride_h", 1);
  s.stride_w = f.integer("stride_w", 1);
  s.dilation_h = f.integer("dilation_h", 1);
  s.dilation_w = f.integer("dilation_w", 1);
  s.pad_top = f.integer("pad_top", 0);
  s.pad_left = f.integer("pad_left", 0);
  s.pad_bottom = f.integer("pad_bottom", 0);
  s.pad_right = f.integer("pad_right", 0);
  s.out_h = f.integer("output_h");
  s.out_w = f.integer("output_w");
  s.groups = f.integer("groups", 1);
  const status st = make_conv_geometry(s, padding::explicit_pads, g);
  if (!st) return std::string("geometry rejected: ") + st.message();
  if (g.out_h != static_cast<std::size_t>(s.out_h) || g.out_w != static_cast<std::size_t>(s.out_w))
    return "geometry: output size differs from the case's";
  return {};
}

/// Runs `run(stage)` with a conv/depthwise case's per-tensor (one multiplier) or per-channel
/// output stage (output_multiplier, output_shift, output_zero_point, activation_min/max).
template <class Run> status with_case_stage(const nnconf::case_file& f, Run&& run) {
  const auto mult = values<std::int32_t>(f, "output_multiplier"), shift = values<std::int32_t>(f, "output_shift");
  const auto zp = static_cast<std::int32_t>(f.integer("output_zero_point"));
  const auto lo = static_cast<std::int32_t>(f.integer("activation_min")),
             hi = static_cast<std::int32_t>(f.integer("activation_max"));
  if (mult.size() == 1) return run(output_stage<requant::per_tensor>{{mult[0], shift[0]}, zp, lo, hi});
  return run(output_stage<requant::per_channel>{{mult.data(), shift.data()}, zp, lo, hi});
}

}  // namespace tessera_conformance
