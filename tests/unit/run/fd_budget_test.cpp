// run/fd_budget.h: what a tree's nodes and streams hold in treerun, against the limit.
#include <sys/resource.h>

#include <catch.hpp>
#include <string>

#include "../spec_fixture.h"
#include "run/fd_budget.h"

using namespace treerun;
using treerun::test::plan_of;

namespace {

std::string daemons(int n, const std::string& extra = "") {
  std::string text = "children:\n";
  for (int i = 0; i < n; ++i)
    text += "  - {name: d" + std::to_string(i) + ", daemon: true, cmd: [sleep, '1']" + extra + "}\n";
  return text;
}

std::size_t needed(const std::string& text) { return descriptor_budget(plan_of(text)).needed; }

}  // namespace

TEST_CASE("fd budget: a log pipe per node, one for both outputs", "[run][fd_budget]") {
  // Past a round of starts (kStartBatch nodes), a node adds its read ends only.
  auto past_a_round = [](const std::string& extra) { return needed(daemons(201, extra)) - needed(daemons(101, extra)); };
  CHECK(past_a_round("") == 100);
  CHECK(past_a_round(", stderr: stdout") == 100);
  // Two pipes when only one output goes to the log: the other is a file.
  CHECK(past_a_round(", stderr: {file: /tmp/x}") == 100);
  CHECK(past_a_round(", pty: true") == 100);
}

TEST_CASE("fd budget: a round of starts holds its nodes' child ends at once", "[run][fd_budget]") {
  // A round's spawns are all submitted before the first is collected: each node's write
  // end (or terminal) and output files are open together, up to kStartBatch nodes.
  CHECK(needed(daemons(11)) - needed(daemons(1)) == 10 * 2);
  CHECK(needed(daemons(11, ", pty: true")) - needed(daemons(1, ", pty: true")) == 10 * 2);
  CHECK(needed(daemons(11, ", stderr: {file: /tmp/x}")) - needed(daemons(1, ", stderr: {file: /tmp/x}")) == 10 * 3);
  CHECK(needed(daemons(kStartBatch + 10)) - needed(daemons(kStartBatch)) == 10);
}

TEST_CASE("fd budget: outputs that need no pipe cost nothing", "[run][fd_budget]") {
  std::size_t base = needed(daemons(1, ", stdout: null, stderr: null"));
  CHECK(needed(daemons(1001, ", stdout: null, stderr: null")) == base);
}

TEST_CASE("fd budget: a stream's pipe and a fan-out's stages", "[run][fd_budget]") {
  const std::string p = "children:\n  - {name: p, cmd: [sleep, '1'], stderr: null";
  const std::string quiet = ", stdout: null, stderr: null}\n";
  std::size_t base = needed(p + ", stdout: null}\n");
  CHECK(needed(p + "}\n  - {name: c, cmd: [cat], stdin: p" + quiet) == base + 2);
  CHECK(needed(p + "}\n  - {name: c, cmd: [cat], stdin: p" + quiet + "  - {name: e, cmd: [cat], stdin: p" + quiet) ==
        base + 2 + 2 * 2);
}

TEST_CASE("fd budget: a tree past the limit is named with the numbers", "[run][fd_budget]") {
  struct rlimit saved {};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
  REQUIRE(saved.rlim_cur >= 256);
  struct rlimit low = saved;
  low.rlim_cur = 200;  // the soft limit only: given back below
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
  DescriptorBudget b = descriptor_budget(plan_of(daemons(300)));
  std::string fits = descriptor_problem(plan_of(daemons(10)));
  std::string problem = descriptor_problem(plan_of(daemons(300)));
  ::setrlimit(RLIMIT_NOFILE, &saved);
  CHECK(b.limit == 200);
  CHECK(b.hard == saved.rlim_max);
  CHECK(b.needed > 300);
  CHECK(fits.empty());
  CHECK(problem.find("300 nodes need up to " + std::to_string(b.needed) + " open files") != std::string::npos);
  CHECK(problem.find("limit of 200 (RLIMIT_NOFILE; hard limit " + std::to_string(saved.rlim_max) + ")") !=
        std::string::npos);
}
