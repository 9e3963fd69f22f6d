/// @file handle_conv2d.hpp
/// Conformance handler for `op: conv2d` (s8 and s4 weights with s8 activations; 16x8 with s32 or
/// s64 bias). The `check_conv2d_*<K>` functions are also what the doctest suite runs per kernel.
#pragma once
#include "runner_support.hpp"

#include <tessera/core/dtype.hpp>
#include <tessera/ops/conv2d.hpp>

namespace tessera_conformance {

/// int8 activations, s8 or s4 weights, on GEMM kernel K; `ws_rows` = panel rows (0: the default workspace).
template <class K> std::string check_conv2d_s8(const nnconf::case_file& f, std::size_t ws_rows = 0) {
  using conv = conv2d_s8<typename K::arch, K>;
  conv_geometry g;
  if (std::string e = read_conv_geometry(f, g); !e.empty()) return e;
  const auto zin = static_cast<std::int32_t>(f.integer("input_zero_point"));
  const auto in = values<std::int8_t>(f, "input"), w = values<std::int8_t>(f, "filter");
  const auto bias = values<std::int32_t>(f, "bias");
  if (in.size() != g.in_elems() || w.size() != g.out_c * g.depth()) return "malformed case: array sizes";
  const std::size_t bytes = conv::packed_weights_bytes(g);
  std::vector<std::uint64_t> packed((bytes + 63) / 8 + 8);
  void* pk = reinterpret_cast<void*>((reinterpret_cast<std::uintptr_t>(packed.data()) + 63) / 64 * 64);
  status st;
  if (f.word("weight_dtype") == "s4") {
    std::vector<std::uint8_t> w4(storage_bytes<s4>(w.size()));
    pack_s4(w.size(), w.data(), w4.data());
    st = conv::pack_weights_s4(g, w4.data(), bias.empty() ? nullptr : bias.data(), zin, pk, bytes);
  } else {
    st = conv::pack_weights(g, w.data(), bias.empty() ? nullptr : bias.data(), zin, pk, bytes);
  }
  if (!st) return st.message();
  const std::size_t wsb = ws_rows ? ws_rows * conv::min_workspace_bytes(g) : conv::workspace_bytes(g);
  std::vector<std::int8_t> out(g.out_elems()), ws(wsb + 1);
  st = with_case_stage(f, [&](const auto& stage) { return conv::run(g, in.data(), pk, out.data(), stage, ws.data(), wsb); });
  return st ? compare(f, out) : std::string(st.message());
}

/// int16 activations, int8 weights, s64 or s32 bias, on 16x8 GEMM kernel K.
template <class K> std::string check_conv2d_s16(const nnconf::case_file& f, std::size_t ws_rows = 0) {
  using conv = conv2d_s16<typename K::arch, K>;
  conv_geometry g;
  if (std::string e = read_conv_geometry(f, g); !e.empty()) return e;
  if (f.integer("input_zero_point") != 0) return "16x8 conv needs a zero input zero point";
  const auto in = values<std::int16_t>(f, "input");
  const auto w = values<std::int8_t>(f, "filter");
  if (in.size() != g.in_elems() || w.size() != g.out_c * g.depth()) return "malformed case: array sizes";
  const std::size_t bytes = conv::packed_weights_bytes(g);
  std::vector<std::uint64_t> packed((bytes + 63) / 8 + 8);
  void* pk = reinterpret_cast<void*>((reinterpret_cast<std::uintptr_t>(packed.data()) + 63) / 64 * 64);
  status st;
  if (f.word("bias_dtype") == "s32") {
    const auto bias = values<std::int32_t>(f, "bias");
    st = conv::pack_weights(g, w.data(), bias.empty() ? nullptr : bias.data(), pk, bytes);
  } else {
    const auto bias = values<std::int64_t>(f, "bias");
    st = conv::pack_weights(g, w.data(), bias.empty() ? nullptr : bias.data(), pk, bytes);
  }
  if (!st) return st.message();
  const std::size_t wsb = ws_rows ? ws_rows * conv::min_workspace_bytes(g) : conv::workspace_bytes(g);
  std::vector<std::int16_t> out(g.out_elems()), ws(wsb / 2 + 1);
  st = with_case_stage(f, [&](const auto& stage) { return conv::run(g, in.data(), pk, out.data(), stage, ws.data(), wsb); });
  return st ? compare(f, out) : std::string(st.message());
}

inline bool run_conv2d(const nnconf::case_file& f, context& ctx) {
  const std::string in = f.word("input_dtype"), w = f.word("weight_dtype"), out = f.word("output_dtype");
  if (in == "s8" && out == "s8" && (w == "s8" || w == "s4")) {
    ctx.each_kernel(kernels::gemm_qs8_registry{}, f.path,
                    [&](auto id) { return check_conv2d_s8<typename decltype(id)::type>(f); });
    return true;
  }
  if (in == "s16" && out == "s16" && w == "s8") {
    ctx.each_kernel(kernels::gemm_qs16_registry{}, f.path,
                    [&](auto id) { return check_conv2d_s16<typename decltype(id)::type>(f); });
    return true;
  }
  return false;
}

}  // namespace tessera_conformance
