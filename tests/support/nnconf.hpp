/// @file nnconf.hpp
/// Reader for the nnconf-1 conformance vectors (tests/conformance/README.md): `key: value`
/// scalars and `name[d0,d1,...]: v0 v1 ...` arrays. Plain stdio, so it works over semihosting.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace nnconf {

/// An integer array with its shape.
struct array {
  std::vector<std::size_t> dims;
  std::vector<std::int64_t> values;
};

/// One parsed case file.
struct case_file {
  std::string path;
  std::map<std::string, std::string> scalars;
  std::map<std::string, array> arrays;

  bool has(const std::string& k) const { return scalars.count(k) != 0; }
  std::int64_t integer(const std::string& k, std::int64_t fallback = 0) const {
    auto it = scalars.find(k);
    return it == scalars.end() ? fallback : std::strtoll(it->second.c_str(), nullptr, 10);
  }
  std::string word(const std::string& k) const {
    auto it = scalars.find(k);
    return it == scalars.end() ? std::string() : it->second;
  }
  /// The array `k`, or an empty one.
  const array& arr(const std::string& k) const {
    static const array empty{};
    auto it = arrays.find(k);
    return it == arrays.end() ? empty : it->second;
  }
};

/// Reads a whole file; returns false (and leaves `out` empty) when it cannot be opened.
inline bool slurp(const std::string& path, std::string& out) {
  out.clear();
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  std::fclose(f);
  return true;
}

/// Parses `path`. On failure returns false with a reason in `error`.
inline bool load(const std::string& path, case_file& out, std::string& error) {
  std::string text;
  if (!slurp(path, text)) { error = "cannot open " + path; return false; }
  out = case_file{};
  out.path = path;
  std::size_t pos = 0;
  bool first = true;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const std::size_t colon = line.find(": ");
    if (colon == std::string::npos) { error = "malformed line in " + path; return false; }
    const std::string key = line.substr(0, colon), value = line.substr(colon + 2);
    if (first) {
      if (key != "format" || value != "nnconf-1") { error = path + ": not nnconf-1"; return false; }
      first = false;
    }
    const std::size_t br = key.find('[');
    if (br == std::string::npos) { out.scalars[key] = value; continue; }
    array a;
    std::size_t count = 1;
    for (const char* p = key.c_str() + br + 1; *p != '\0' && *p != ']';) {
      char* end = nullptr;
      a.dims.push_back(static_cast<std::size_t>(std::strtoull(p, &end, 10)));
      count *= a.dims.back();
      p = (*end == ',') ? end + 1 : end;
    }
    a.values.reserve(count);
    const char* p = value.c_str();
    while (true) {
      char* end = nullptr;
      const long long v = std::strtoll(p, &end, 10);
      if (end == p) break;
      a.values.push_back(v);
      p = end;
    }
    if (a.values.size() != count) { error = path + ": array " + key + " has the wrong count"; return false; }
    out.arrays[key.substr(0, br)] = std::move(a);
  }
  return true;
}

/// The case paths listed in `<dir>/index.txt` (relative to dir) whose path contains `filter`.
inline std::vector<std::string> list(const std::string& dir, const std::string& filter) {
  std::vector<std::string> out;
  std::string text;
  if (!slurp(dir + "/index.txt", text)) return out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    const std::string rel = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (!rel.empty() && rel.find(filter) != std::string::npos) out.push_back(dir + "/" + rel);
  }
  return out;
}

}  // namespace nnconf
