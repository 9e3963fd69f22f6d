/// @file handle_depthwise_conv2d.hpp
/// Conformance handler for `op: depthwise_conv2d`: s8 and s4 weights with s8 activations
/// (depthwise_conv2d_s8 on every dwconv_qs8 kernel) and 16x8 with s64 or s32 bias
/// (depthwise_conv2d_s16 on every dwconv_qs16 kernel).
#pragma once
#include "runner_support.hpp"

#include <tessera/core/dtype.hpp>
#include <tessera/ops/depthwise_conv2d.hpp>

namespace tessera_conformance {

/// The case's geometry (explicit pads and output size, as the format gives them); "" or why not.
inline std::string read_dw_geometry(const nnconf::case_file& f, conv_geometry& g) {
  if (std::string e = read_conv_geometry(f, g); !e.empty()) return e;
  const std::int64_t in_c = f.integer("input_c"), out_c = f.integer("output_c");
  if (in_c <= 0 || out_c % in_c != 0 || f.integer("depth_multiplier", out_c / in_c) != out_c / in_c)
    return "malformed case: output_c is not input_c * depth_multiplier";
  if (f.arr("input").values.size() != g.in_elems() || f.arr("filter").values.size() != g.taps() * g.out_c ||
      f.arr("output").values.size() != g.out_elems())
    return "malformed case: array sizes disagree with the geometry";
  const std::size_t nb = f.arr("bias").values.size(), nm = f.arr("output_multiplier").values.size();
  if ((nb != 0 && nb != g.out_c) || (nm != 1 && nm != g.out_c) || f.arr("output_shift").values.size() != nm)
    return "malformed case: bias / multiplier / shift sizes";
  return {};
}

/// int8 activations, s8 or s4 weights: depthwise_conv2d_s8 on kernel K.
template <class K> std::string check_depthwise_s8(const nnconf::case_file& f) {
  using dw = depthwise_conv2d_s8<typename K::arch, K>;
  conv_geometry g;
  if (std::string e = read_dw_geometry(f, g); !e.empty()) return e;
  if (f.integer("weight_zero_point") != 0) return "depthwise needs a zero weight zero point";
  const auto zin = static_cast<std::int32_t>(f.integer("input_zero_point"));
  const auto in = values<std::int8_t>(f, "input"), w = values<std::int8_t>(f, "filter");
  const auto bias = values<std::int32_t>(f, "bias");
  const std::size_t bytes = dw::packed_weights_bytes(g), ws_bytes = dw::workspace_bytes(g);
  std::vector<std::uint64_t> packed(bytes / 8 + 1), ws(ws_bytes / 8 + 1);
  status st;
  if (f.word("weight_dtype") == "s4") {
    std::vector<std::uint8_t> w4(storage_bytes<s4>(w.size()));
    pack_s4(w.size(), w.data(), w4.data());
    st = dw::pack_weights_s4(g, w4.data(), bias.empty() ? nullptr : bias.data(), zin, packed.data(), bytes);
  } else {
    st = dw::pack_weights(g, w.data(), bias.empty() ? nullptr : bias.data(), zin, packed.data(), bytes);
  }
  if (!st) return st.message();
  std::vector<std::int8_t> out(g.out_elems());
  st = with_case_stage(f, [&](const auto& stage) {
    return dw::run(g, in.data(), packed.data(), out.data(), stage, zin, ws.data(), ws.size() * 8);
  });
  return st ? compare(f, out) : std::string(st.message());
}

/// int16 activations, int8 weights (16x8), s64 or s32 bias: depthwise_conv2d_s16 on kernel K.
template <class K> std::string check_depthwise_s16(const nnconf::case_file& f) {
  using dw = depthwise_conv2d_s16<typename K::arch, K>;
  conv_geometry g;
  if (std::string e = read_dw_geometry(f, g); !e.empty()) return e;
  if (f.integer("input_zero_point") != 0 || f.integer("weight_zero_point") != 0)
    return "16x8 depthwise needs zero input and weight zero points";
  const auto in = values<std::int16_t>(f, "input");
  const auto w = values<std::int8_t>(f, "filter");
  const std::size_t bytes = dw::packed_weights_bytes(g), ws_bytes = dw::workspace_bytes(g);
  std::vector<std::uint64_t> packed(bytes / 8 + 1), ws(ws_bytes / 8 + 1);
  status st;
  if (f.word("bias_dtype") == "s32") {
    const auto bias = values<std::int32_t>(f, "bias");
    st = dw::pack_weights(g, w.data(), bias.empty() ? nullptr : bias.data(), packed.data(), bytes);
  } else {
    const auto bias = values<std::int64_t>(f, "bias");
    st = dw::pack_weights(g, w.data(), bias.empty() ? nullptr : bias.data(), packed.data(), bytes);
  }
  if (!st) return st.message();
  std::vector<std::int16_t> out(g.out_elems());
  st = with_case_stage(f, [&](const auto& stage) {
    return dw::run(g, in.data(), packed.data(), out.data(), stage, ws.data(), ws.size() * 8);
  });
  return st ? compare(f, out) : std::string(st.message());
}

/// Picks the operator from the case's dtypes; false when none handles them.
inline bool run_depthwise_conv2d(const nnconf::case_file& f, context& ctx) {
  const std::string in = f.word("input_dtype"), w = f.word("weight_dtype"), out = f.word("output_dtype");
  if (in == "s8" && out == "s8" && (w == "s8" || w == "s4")) {
    ctx.each_kernel(kernels::dwconv_qs8_registry{}, f.path,
                    [&](auto id) { return check_depthwise_s8<typename decltype(id)::type>(f); });
    return true;
  }
  if (in == "s16" && out == "s16" && w == "s8") {
    ctx.each_kernel(kernels::dwconv_qs16_registry{}, f.path,
                    [&](auto id) { return check_depthwise_s16<typename decltype(id)::type>(f); });
    return true;
  }
  return false;
}

}  // namespace tessera_conformance
