// Where nodes run (treerun(1), ACROSS MACHINES): `backend`, `slurm:`, `on` and
// `${host:PATH}`, placed on the allocation's hosts.
#include <catch.hpp>

#include "spec_fixture.h"

using namespace treerun;
using namespace treerun::test;

namespace {

const char* kSpec = R"(
backend: slurm
slurm: {nodes: 2, partition: debug, time: 90s, args: [--exclusive]}
children:
  - name: db
    on: 1
    cmd: [redis-server]
  - name: g
    on: n1
    children:
      - {name: api, env: {DB: "${host:/db}"}, cmd: [api, "--db=${host:/db}"], ready: {tcp: "${host:api}:80"}}
  - {name: top, cmd: [top]}
)";

Overrides on_hosts(std::vector<std::string> hosts) {
  Overrides o;
  o.hosts = std::move(hosts);
  return o;
}

/// Whether R has a problem on LINE whose message contains TEXT.
bool said(const LoadResult& r, const std::string& text, int line) {
  for (const auto& p : r.problems)
    if (p.pos.line == line && p.message.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("on picks a host of the allocation by index or name; groups pass it on", "[load][hosts]") {
  auto r = load(kSpec, "/tmp", on_hosts({"n1", "n2"}));
  REQUIRE(r.ok());
  const Plan& p = *r.plan;
  CHECK(p.backend == Backend::slurm);
  CHECK(p.slurm.nodes == 2);
  CHECK(p.slurm.partition == "debug");
  CHECK(p.slurm.time == Millis(90'000));
  CHECK(p.slurm.args == std::vector<std::string>{"--exclusive"});
  CHECK(at(p, "db").host == "n2");
  CHECK(at(p, "g/api").host == "n1");
  CHECK(at(p, "top").host == "n1");  // the root's `on` is 0
  CHECK(at(p, "g/api").cmd->argv[1] == "--db=n2");
  CHECK(env_of(at(p, "g/api"), "DB") == "n2");
  CHECK(at(p, "g/api").ready.arg == "n1:80");
}

TEST_CASE("an on outside the known allocation is an error at its position", "[load][hosts]") {
  auto r = load(kSpec, "/tmp", on_hosts({"n1"}));
  REQUIRE_PROBLEM(r, "`on: 1`: the allocation has 1 host (n1)", 6, 9);
  r = load(kSpec, "/tmp", on_hosts({"a", "b"}));
  REQUIRE_PROBLEM(r, "`on: n1` is not a host of the allocation (a b)", 9, 9);
}

TEST_CASE("without a known allocation, check accepts any on; local ignores it", "[load][hosts]") {
  auto r = load(kSpec);
  REQUIRE(r.ok());
  CHECK(at(*r.plan, "db").host == "1");
  Overrides local;
  local.backend = Backend::local;
  r = load(kSpec, "/tmp", local);
  REQUIRE(r.ok());
  CHECK(at(*r.plan, "db").host == "localhost");
  CHECK(at(*r.plan, "g/api").cmd->argv[1] == "--db=localhost");
  CHECK(r.plan->hosts == std::vector<std::string>{"localhost"});
}

TEST_CASE("slurm refuses notify probes with the reason, and takes tty nodes (srun --pty)", "[load][hosts]") {
  auto r = load(R"(
backend: slurm
children:
  - {name: a, daemon: true, cmd: [a], ready: {notify: true}}
  - {name: b, tty: true, cmd: [b]}
)");
  INFO(problems(r));
  CHECK(said(r, "`notify` probes do not work under `backend: slurm`", 4));
  CHECK(!said(r, "tty", 5));
  CHECK(r.problems.size() == 1);
}

TEST_CASE("bad backend, slurm and on values", "[load][hosts]") {
  auto r = load(R"(
backend: kubernetes
slurm: {nodes: 0, colour: red}
children:
  - {name: a, on: "n 1", cmd: [a]}
)");
  INFO(problems(r));
  CHECK(has_problem(r, "`backend` must be `local` or `slurm`, not `kubernetes`", 2, 10));
  CHECK(has_problem(r, "`nodes` must be a whole number of hosts", 3, 16));
  CHECK(said(r, "unknown key `colour`", 3));
  CHECK(has_problem(r, "`on` must be a host's index", 5, 19));
}

TEST_CASE("an `on` of digits is an index, one too big is an error where it is written", "[load][hosts]") {
  auto r = load(R"(
backend: slurm
children:
  - {name: a, on: 99999999999, cmd: [a]}
  - {name: b, on: 1234567, cmd: [b]}
  - {name: c, on: 999999, cmd: [c]}
)");
  INFO(problems(r));
  CHECK(has_problem(r, "`on: 99999999999`: a host's index is at most 999999", 4, 19));
  CHECK(has_problem(r, "`on: 1234567`: a host's index is at most 999999", 5, 19));
  CHECK(r.problems.size() == 2);  // 999999 is an index: the allocation is not known yet
  auto placed = load(R"(
backend: slurm
children:
  - {name: c, on: 999999, cmd: [c]}
)", "/tmp", on_hosts({"n1", "n2"}));
  INFO(problems(placed));
  CHECK(said(placed, "`on: 999999`: the allocation has 2 hosts (n1 n2), indexed from 0", 4));
}
