// `stdout:` and `stderr:` as the spec reader takes them: `stderr: stdout` (2>&1) and the
// mistakes near it (issue 14, item 5).
#include <catch.hpp>

#include "spec_fixture.h"

using namespace treerun;
using namespace treerun::test;

TEST_CASE("`stderr: stdout` sends stderr where stdout goes", "[spec][stdio]") {
  auto r = load(R"(children:
  - {name: a, cmd: x, stderr: stdout}
  - {name: b, cmd: x, stdout: {file: out.log}, stderr: stdout}
  - {name: c, cmd: x, stderr: stdout, stdout: null}
  - {name: d, cmd: x}
)", "/srv");
  REQUIRE_LOADS(r);
  const Plan& p = *r.plan;
  for (const char* name : {"a", "b", "c"}) {
    INFO(name);
    CHECK(p[*p.find(name)].stderr_spec.type == OutputSpec::Type::as_stdout);
  }
  CHECK(p[*p.find("b")].stdout_spec.path == "/srv/out.log");
  CHECK(p[*p.find("c")].stdout_spec.type == OutputSpec::Type::null);
  CHECK(p[*p.find("d")].stderr_spec.type == OutputSpec::Type::log);
}

TEST_CASE("`stdout: stderr`, `stdout: stdout` and a misspelt `stdout` are refused", "[spec][stdio]") {
  auto r = load(R"(children:
  - {name: a, cmd: x, stdout: stderr}
  - {name: b, cmd: x, stdout: stdout}
  - {name: c, cmd: x, stderr: stdot}
  - {name: d, cmd: x, stderr: stderr}
)");
  REQUIRE_PROBLEM(r, "`stdout` must be log, inherit, null or {file: PATH}, not `stderr` (to send stderr where "
                     "stdout goes, write `stderr: stdout`)", 2, 31);
  REQUIRE_PROBLEM(r, "`stdout` must be log, inherit, null or {file: PATH}, not `stdout` (to send", 3, 31);
  REQUIRE_PROBLEM(r, "`stderr` must be log, inherit, null, stdout or {file: PATH}, not `stdot` (did you mean "
                     "`stdout`?)", 4, 31);
  REQUIRE_PROBLEM(r, "`stderr` must be log, inherit, null, stdout or {file: PATH}, not `stderr`", 5, 31);
  CHECK(r.problems.size() == 4);
}
