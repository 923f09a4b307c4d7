// A string `cmd:` (and `stop:`) as the spec reader takes it: plain words are an argv,
// anything else the shell's (interface.md 3, `cmd`; issue 14, item 3).
#include <catch.hpp>

#include "spec_fixture.h"

using namespace treerun;
using namespace treerun::test;
using Argv = std::vector<std::string>;

TEST_CASE("a string cmd of plain words is an argv; with shell syntax it is the shell's", "[spec][command]") {
  auto r = load(R"spec(children:
  - {name: plain, cmd: "yes"}
  - {name: words, cmd: "head -n 1", stop: "pkill -f 'my server'"}
  - {name: pipe, cmd: "yes | cat", stop: "kill $(cat pid)"}
  - {name: var, cmd: "FOO=1 env"}
  - {name: builtin, cmd: "exit 3"}
  - {name: list, cmd: [sh, -c, "a | b"]}
)spec");
  REQUIRE_LOADS(r);
  const Plan& p = *r.plan;
  auto cmd = [&](const char* name) { return *p[*p.find(name)].cmd; };
  CHECK_FALSE(cmd("plain").shell);
  CHECK(cmd("plain").argv == Argv{"yes"});
  CHECK_FALSE(cmd("words").shell);
  CHECK(cmd("words").argv == Argv{"head", "-n", "1"});
  CHECK_FALSE(p[*p.find("words")].stop->shell);
  CHECK(p[*p.find("words")].stop->argv == Argv{"pkill", "-f", "my server"});
  CHECK(cmd("pipe").shell);
  CHECK(cmd("pipe").argv == Argv{"yes | cat"});
  CHECK(p[*p.find("pipe")].stop->shell);
  CHECK(cmd("var").shell);
  CHECK(cmd("builtin").shell);
  CHECK_FALSE(cmd("list").shell);
  CHECK(cmd("list").argv == Argv{"sh", "-c", "a | b"});
}

TEST_CASE("an empty string cmd is still refused, whichever way it would run", "[spec][command]") {
  auto r = load("children:\n  - {name: a, cmd: \"  \"}\n");
  REQUIRE_PROBLEM(r, "`cmd` is empty", 2, 20);
}
