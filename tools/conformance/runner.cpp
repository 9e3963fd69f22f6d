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
// Operators plug in through `handlers` below: one function per op family (handle_<op>.hpp, on
// runner_support.hpp), which picks the operator from the case's dtypes and runs it on every kernel
// of its registry.
#include "handle_conv2d.hpp"
#include "handle_depthwise_conv2d.hpp"
#include "handle_fully_connected.hpp"
#include "runner_support.hpp"

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#if defined(__linux__)
#include <algorithm>
#include <filesystem>
#endif

using namespace tessera;
using namespace tessera_conformance;

namespace {

// ---- the plug-in table: one entry per op family -------------------------------------------------

/// Runs case `f` on every selected kernel; false when no operator handles its dtypes yet.
using handler_fn = bool (*)(const nnconf::case_file& f, context& ctx);
struct handler {
  const char* op;
  handler_fn run;
};
constexpr handler handlers[] = {
    {"fully_connected", run_fully_connected},
    {"conv2d", run_conv2d},
    {"depthwise_conv2d", run_depthwise_conv2d},
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
