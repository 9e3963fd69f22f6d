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

}  // namespace tessera_conformance
