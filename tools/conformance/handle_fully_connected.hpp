/// @file handle_fully_connected.hpp
/// Conformance handler for `op: fully_connected` (s8/s4 weights with s8 activations; 16x8).
#pragma once
#include "runner_support.hpp"

#include <tessera/core/dtype.hpp>
#include <tessera/ops/fully_connected.hpp>
#include <tessera/ops/fully_connected_s16.hpp>

namespace tessera_conformance {

// ---- fully_connected ---------------------------------------------------------------------------

struct fc_case {
  std::size_t batches, k, n;
  std::vector<std::int32_t> mult, shift;
  std::int32_t zp, lo, hi;
};

/// Reads the common FC fields; "" or why the case is malformed.
std::string read_fc(const nnconf::case_file& f, fc_case& c) {
  c.batches = static_cast<std::size_t>(f.integer("batches", 1));
  c.k = static_cast<std::size_t>(f.integer("input_c"));
  c.n = static_cast<std::size_t>(f.integer("output_c"));
  c.mult = values<std::int32_t>(f, "output_multiplier");
  c.shift = values<std::int32_t>(f, "output_shift");
  c.zp = static_cast<std::int32_t>(f.integer("output_zero_point"));
  c.lo = static_cast<std::int32_t>(f.integer("activation_min"));
  c.hi = static_cast<std::int32_t>(f.integer("activation_max"));
  const std::size_t nb = f.arr("bias").values.size();
  if (f.arr("input").values.size() != c.batches * c.k || f.arr("filter").values.size() != c.n * c.k ||
      (nb != 0 && nb != c.n) || (c.mult.size() != 1 && c.mult.size() != c.n) || c.shift.size() != c.mult.size())
    return "malformed case: array sizes disagree with batches/input_c/output_c";
  return {};
}

/// Runs `fc::run` with the case's per-tensor or per-channel output stage.
template <class Run> status with_stage(const fc_case& c, Run&& run) {
  if (c.mult.size() == 1) return run(output_stage<requant::per_tensor>{{c.mult[0], c.shift[0]}, c.zp, c.lo, c.hi});
  return run(output_stage<requant::per_channel>{{c.mult.data(), c.shift.data()}, c.zp, c.lo, c.hi});
}

/// int8 activations, s8 or s4 weights: fully_connected_s8 on kernel K.
template <class K> std::string check_fc_s8(const nnconf::case_file& f) {
  using fc = fully_connected_s8<typename K::arch, K>;
  fc_case c;
  if (std::string e = read_fc(f, c); !e.empty()) return e;
  const auto zin = static_cast<std::int32_t>(f.integer("input_zero_point"));
  const auto zw = static_cast<std::int32_t>(f.integer("weight_zero_point"));
  const auto in = values<std::int8_t>(f, "input"), w = values<std::int8_t>(f, "filter");
  const auto bias = values<std::int32_t>(f, "bias");
  const std::size_t bytes = fc::packed_weights_bytes(c.n, c.k);
  std::vector<std::int32_t> packed((bytes + 3) / 4);
  status st;
  if (f.word("weight_dtype") == "s4") {
    std::vector<std::uint8_t> w4(storage_bytes<s4>(w.size()));
    pack_s4(w.size(), w.data(), w4.data());
    st = fc::pack_weights_s4(c.n, c.k, w4.data(), bias.empty() ? nullptr : bias.data(), zin, packed.data(), bytes);
  } else {
    st = fc::pack_weights(c.n, c.k, w.data(), bias.empty() ? nullptr : bias.data(), zin, zw, packed.data(), bytes);
  }
  if (!st) return st.message();
  std::vector<std::int8_t> out(c.batches * c.n);
  std::vector<std::int32_t> ws(c.batches);
  st = with_stage(c, [&](const auto& stage) {
    return fc::run(c.batches, c.k, c.n, in.data(), c.k, packed.data(), out.data(), c.n, stage, zw, ws.data(),
                   ws.size() * sizeof(std::int32_t));
  });
  return st ? compare(f, out) : std::string(st.message());
}

/// int16 activations, int8 weights (16x8), s64 or s32 bias: fully_connected_s16 on kernel K.
template <class K> std::string check_fc_s16(const nnconf::case_file& f) {
  using fc = fully_connected_s16<typename K::arch, K>;
  fc_case c;
  if (std::string e = read_fc(f, c); !e.empty()) return e;
  if (f.integer("input_zero_point") != 0 || f.integer("weight_zero_point") != 0)
    return "16x8 fully connected needs zero input and weight zero points";
  const auto in = values<std::int16_t>(f, "input");
  const auto w = values<std::int8_t>(f, "filter");
  const std::size_t bytes = fc::packed_weights_bytes(c.n, c.k);
  std::vector<std::int64_t> packed((bytes + 7) / 8);
  status st;
  if (f.word("bias_dtype") == "s32") {
    const auto bias = values<std::int32_t>(f, "bias");
    st = fc::pack_weights(c.n, c.k, w.data(), bias.empty() ? nullptr : bias.data(), packed.data(), bytes);
  } else {
    const auto bias = values<std::int64_t>(f, "bias");
    st = fc::pack_weights(c.n, c.k, w.data(), bias.empty() ? nullptr : bias.data(), packed.data(), bytes);
  }
  if (!st) return st.message();
  std::vector<std::int16_t> out(c.batches * c.n);
  st = with_stage(c, [&](const auto& stage) {
    return fc::run(c.batches, c.k, c.n, in.data(), c.k, packed.data(), out.data(), c.n, stage);
  });
  return st ? compare(f, out) : std::string(st.message());
}

bool run_fully_connected(const nnconf::case_file& f, context& ctx) {
  const std::string in = f.word("input_dtype"), w = f.word("weight_dtype"), out = f.word("output_dtype");
  if (in == "s8" && out == "s8" && (w == "s8" || w == "s4")) {
    ctx.each_kernel(kernels::gemm_qs8_registry{}, f.path,
                    [&](auto id) { return check_fc_s8<typename decltype(id)::type>(f); });
    return true;
  }
  if (in == "s16" && out == "s16" && w == "s8") {
    ctx.each_kernel(kernels::gemm_qs16_registry{}, f.path,
                    [&](auto id) { return check_fc_s16<typename decltype(id)::type>(f); });
    return true;
  }
  return false;
}

}  // namespace tessera_conformance
