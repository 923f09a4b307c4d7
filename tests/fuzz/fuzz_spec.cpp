// libFuzzer entry: any bytes as a spec. The loader must never crash, hang or blow up;
// problems are fine. Includes and env files resolve against an empty temp folder, so
// they mostly fail to open (as they should), except for the few the seed corpus names.
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "plan/render.h"
#include "plan/load.h"

namespace {

/// An empty folder of its own, removed when the fuzzer exits: every run left one in /tmp.
struct BaseDir {
  std::string path;
  BaseDir() {
    char tmpl[] = "/tmp/treerun-fuzz-XXXXXX";
    const char* d = mkdtemp(tmpl);
    path = d ? d : "/nonexistent";
  }
  ~BaseDir() { rmdir(path.c_str()); }
};

const std::string& base_dir() {
  static const BaseDir dir;
  return dir.path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto result = treerun::load_plan_from_string(text, "fuzz.yaml", base_dir());
  if (result.plan) {
    std::string out = treerun::render_plan(*result.plan, false);
    (void)out;
  }
  for (const auto& p : result.problems) (void)p.str();
  return 0;
}
