// tessera conformance runner: runs nnconf-1 case files (tests/conformance/README.md) through the
// library on every microkernel compiled into this binary whose tag the CPU supports, and prints
//
//   PASS <case> <kernel>            (or FAIL <case> <kernel>: <first difference>)
//   SKIP <case> (no operator yet)
//   N passed, N failed, N skipped
//
// Usage: tessera_conformance [--tag=NAME] CASE.txt... DIR... @INDEX...
//   DIR     a folder, searched recursively for *.txt cases (Linux; bare metal lists no folders)
//   @INDEX  a file listing one case path per line, relative to the index's folder
//           (tests/conformance/index.txt); the way to pass many cases on bare metal
//   --tag   run only the kernels of that tag (scalar, neon, sve, helium, ...)
// Exit status: 0 when nothing failed, 1 on any failure, 2 on a usage error.
//
// Operators plug in through `handlers` below: one function per op family, which picks the
// operator from the case's dtypes and runs it on every kernel of its registry.
#include "nnconf.hpp"

#include <cstdio>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>
#include <tessera/arch/features.hpp>
#include <tessera/core/dtype.hpp>
#include <tessera/ops/fully_connected.hpp>
#include <tessera/ops/fully_connected_s16.hpp>

#if defined(__linux__)
#include <algorithm>
#include <filesystem>
#endif

using namespace tessera;

namespace {

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

// ---- the plug-in table: one entry per op family -------------------------------------------------

/// Runs case `f` on every selected kernel; false when no operator handles its dtypes yet.
using handler_fn = bool (*)(const nnconf::case_file& f, context& ctx);
struct handler {
  const char* op;
  handler_fn run;
};
constexpr handler handlers[] = {
    {"fully_connected", run_fully_connected},
    // {"conv2d", run_conv2d}, {"depthwise_conv2d", ...}, {"avg_pool2d", ...}, {"max_pool2d", ...},
    // {"softmax", ...}, {"add", ...}, {"mul", ...}: add one line as each operator lands.
};

void run_case(const std::string& path, context& ctx) {
  nnconf::case_file f;
  std::string err;
  if (!nnconf::load(path, f, err)) return ctx.fail(path, err);
  const std::string op = f.word("op");
  for (const handler& h : handlers)
    if (op == h.op) {
      if (!h.run(f, ctx)) ctx.skip(path, "no operator for these dtypes yet");
      return;
    }
  ctx.skip(path, "no operator yet");
}

// ---- command line ---------------------------------------------------------------------------------

std::string folder_of(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

/// Appends the cases listed in index file `path` (one per line, relative to its folder; `#` comments).
bool read_index(const std::string& path, std::vector<std::string>& cases) {
  std::string text;
  if (!nnconf::slurp(path, text)) return false;
  const std::string dir = folder_of(path);
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    cases.push_back(line[0] == '/' ? line : dir + "/" + line);
  }
  return true;
}

/// Appends `path`: the *.txt files under it (sorted) if it is a folder, else the path itself.
void add_path(const std::string& path, std::vector<std::string>& cases) {
#if defined(__linux__)
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::vector<std::string> found;
    for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec))
      if (it->is_regular_file(ec) && it->path().extension() == ".txt" && it->path().filename() != "index.txt")
        found.push_back(it->path().string());
    std::sort(found.begin(), found.end());
    cases.insert(cases.end(), found.begin(), found.end());
    return;
  }
#endif
  cases.push_back(path);
}

template <class... T> bool known_tag(arch::type_list<T...>, const std::string& name) {
  return ((name == T::name) || ...);
}

int usage(const char* why) {
  std::printf("tessera_conformance: %s\nusage: tessera_conformance [--tag=NAME] CASE.txt... DIR... @INDEX...\n", why);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  context ctx;
  std::vector<std::string> cases;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--tag=", 0) == 0) {
      ctx.tag = a.substr(6);
      if (!known_tag(arch::all_tags{}, ctx.tag)) return usage(("unknown tag " + ctx.tag).c_str());
    } else if (a == "--help" || a == "-h") {
      return usage("runs nnconf-1 conformance cases on every kernel compiled into this binary");
    } else if (a[0] == '@') {
      if (!read_index(a.substr(1), cases)) return usage(("cannot read index " + a.substr(1)).c_str());
    } else {
      add_path(a, cases);
    }
  }
  if (cases.empty()) return usage("no cases given");
  std::printf("# tessera conformance: %u cases, native tag %s, best available %s%s%s\n",
              static_cast<unsigned>(cases.size()), arch::native::name, arch::best_available_tag_name(),
              ctx.tag.empty() ? "" : ", only tag ", ctx.tag.c_str());
  for (const std::string& path : cases) run_case(path, ctx);
  std::printf("%u passed, %u failed, %u skipped\n", ctx.passed, ctx.failed, ctx.skipped);
  return ctx.failed != 0 ? 1 : 0;
}
