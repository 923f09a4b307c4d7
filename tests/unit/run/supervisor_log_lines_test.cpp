// A node's output on its way to the log stream: the lines of one read go at once, but
// for those that must be looked at one by one (the backend's own word, which is kept out).
#include <catch.hpp>
#include <fstream>
#include <sstream>

#include "control_fixture.h"

using namespace treerun;
using namespace treerun::test;

using Lines = std::vector<std::string>;

namespace {

Lines node_lines(const std::string& path) {
  std::ifstream in(path);
  Lines out;
  for (std::string line; std::getline(in, line);)
    if (line.find(" * ") == std::string::npos) out.push_back(line);  // treerun's own left out
  return out;
}

}  // namespace

TEST_CASE("log lines: the backend's own lines among a node's are kept out; the others in their order",
          "[run][log]") {
  RunRig rig(R"(
children:
  - {name: w, cmd: "w"}
)");
  rig.logs_path = rig.dir / "logs";
  rig.launcher.backend_prefix = "srun: ";
  rig.launcher.script("w", Script::exits(0).writing("a\nsrun: error: n1: task 0\nb\nc\nsrun: x\n"));
  REQUIRE(rig.run().code == 0);
  CHECK(node_lines(rig.logs_path) == Lines{"w | a", "w | b", "w | c"});
  Lines h = history(rig, {"w"});
  h.erase(std::remove_if(h.begin(), h.end(), [](const std::string& l) { return l.starts_with("w * "); }), h.end());
  CHECK(h == Lines{"w | a", "w | b", "w | c"});
}

TEST_CASE("log lines: many lines of a node, to a file, each once, whole and in order", "[run][log]") {
  RunRig rig(R"(
children:
  - {name: w, cmd: "w"}
)");
  rig.logs_path = rig.dir / "logs";
  std::string text;
  Lines expected;
  for (int i = 0; i < 5000; ++i) {
    text += std::to_string(i) + "\n";
    expected.push_back("w | " + std::to_string(i));
  }
  rig.launcher.script("w", Script::exits(0).writing(text + "no newline"));
  REQUIRE(rig.run().code == 0);
  expected.push_back("w | no newline");
  CHECK(node_lines(rig.logs_path) == expected);
}
