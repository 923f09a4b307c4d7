// `${...}` in a spec (contract 8): where it is expanded, from what, and where a problem
// points.
#include <catch.hpp>

#include "spec_fixture.h"

using namespace treerun;
using namespace treerun::test;

namespace {

/// Overrides whose environment (treerun's own) is ENV.
Overrides with_env(EnvList env) {
  Overrides o;
  o.environment = std::move(env);
  return o;
}

}  // namespace

TEST_CASE("variables in a list cmd, env values, ready targets and output files", "[load][variables]") {
  TempDir dir;
  auto r = load(R"(
env: {PORT: "${BASE:-80}81"}
children:
  - name: api
    env: {URL: "http://127.0.0.1:${PORT}/"}
    cmd: [server, --port, "${PORT}", "--home=${HOME}", "$${literal}"]
    ready: {http: "${URL}health"}
    stdout: {file: "${HOME}/api.log"}
    stderr: {file: "logs/${TREERUN_NODE}.err"}
  - {name: probe, cmd: x, ready: {tcp: "${host:api}:${PORT}"}}
  - {name: done, cmd: x, ready: {file: "${HOME}/ready"}}
)", dir.path(), with_env({{"HOME", "/home/u"}, {"BASE", "90"}}));
  REQUIRE_LOADS(r);
  const Plan& p = *r.plan;
  const PlanNode& api = at(p, "api");
  CHECK(env_of(api, "PORT") == "9081");
  CHECK(env_of(api, "URL") == "http://127.0.0.1:9081/");
  CHECK((api.cmd->argv == std::vector<std::string>{"server", "--port", "9081", "--home=/home/u", "${literal}"}));
  CHECK(api.ready.arg == "http://127.0.0.1:9081/health");
  CHECK(api.stdout_spec.path == "/home/u/api.log");
  CHECK(api.stderr_spec.path == dir / "logs/api.err");
  CHECK(at(p, "probe").ready.arg == "localhost:9081");
  CHECK(at(p, "done").ready.arg == "/home/u/ready");
}

TEST_CASE("a string cmd and an exec probe are left to their shell", "[load][variables]") {
  auto r = load(R"(children:
  - {name: a, cmd: "echo ${NOPE} $HOME", ready: {exec: "test -n ${NOPE}"}}
  - {name: b, cmd: x, ready: {log: "^up${"}})");
  REQUIRE_LOADS(r);
  CHECK(at(*r.plan, "a").cmd->argv.front() == "echo ${NOPE} $HOME");
  CHECK(at(*r.plan, "a").ready.arg == "test -n ${NOPE}");
  CHECK(at(*r.plan, "b").ready.arg == "^up${");
}

TEST_CASE("the environment a node inherits, in order", "[load][variables]") {
  TempDir dir;
  dir.write("cli1.env", "A=cli1\nB=cli1\nC=cli1\nD=cli1\n");
  dir.write("cli2.env", "B=cli2\n");
  dir.write("spec.env", "C=specfile\n");
  dir.write("own.env", "OWN=ownfile\n");
  Overrides o = with_env({{"A", "outer"}, {"Z", "outer"}});
  o.env_files = {dir / "cli1.env", dir / "cli2.env"};  // a later one wins
  auto r = load(R"(
env_file: spec.env
env: {D: spec}
children:
  - name: n
    env_file: own.env
    env: {SEEN: "${Z} ${A} ${B} ${C} ${D} ${OWN}"}
    cmd: [x, "${SEEN}"]
)", dir.path(), o);
  REQUIRE_LOADS(r);
  const PlanNode& n = at(*r.plan, "n");
  CHECK(env_of(n, "SEEN") == "outer cli1 cli2 specfile spec ownfile");
  CHECK(n.cmd->argv[1] == "outer cli1 cli2 specfile spec ownfile");
  CHECK(env_of(n, "A") == "cli1");  // --env-file values reach the node's environment
}

TEST_CASE("paths: env_file and cwd hold variables too", "[load][variables]") {
  TempDir dir;
  dir.write("prod/app.env", "MODE=prod\n");
  std::filesystem::create_directories(dir / "prod/work");
  auto r = load(R"(
env_file: "${STAGE}/app.env"
children:
  - {name: a, cmd: x, cwd: "${STAGE}/work"}
)", dir.path(), with_env({{"STAGE", "prod"}}));
  REQUIRE_LOADS(r);
  CHECK(env_of(at(*r.plan, "a"), "MODE") == "prod");
  CHECK(at(*r.plan, "a").cwd == dir / "prod/work");
  auto bad = load("children:\n  - {name: a, cmd: x, cwd: \"${STAGE}/nope\"}\n", dir.path(), with_env({{"STAGE", "prod"}}));
  REQUIRE_PROBLEM(bad, "cannot use `cwd` `${STAGE}/nope` (`prod/nope`): No such file", 2, 28);
}

TEST_CASE("an undefined variable is a problem at the column of its `$`", "[load][variables]") {
  auto r = load(R"(children:
  - name: a
    cmd: [x, "--p=${NOPE}", "${ALSO_NOPE}"]
    env: {K: "v ${MISSING:?set MISSING to the key}"}
  - {name: b, cmd: x, ready: {tcp: "127.0.0.1:${P}"}}
)");
  REQUIRE_PROBLEM(r, "`NOPE` is not set", 3, 19);
  REQUIRE_PROBLEM(r, "`ALSO_NOPE` is not set", 3, 30);
  REQUIRE_PROBLEM(r, "set MISSING to the key (`MISSING` is not set)", 4, 17);
  REQUIRE_PROBLEM(r, "`P` is not set", 5, 47);
}

TEST_CASE("an expanded probe target is checked once expanded", "[load][variables]") {
  auto r = load("children:\n  - {name: b, cmd: x, ready: {tcp: \"${ADDR}\"}}\n", "/tmp", with_env({{"ADDR", "nohost"}}));
  REQUIRE_PROBLEM(r, "`tcp` must be HOST:PORT, not `nohost` (from `${ADDR}` (`nohost`))", 2, 36);
}

TEST_CASE("${host:PATH} must name a node", "[load][variables]") {
  auto r = load(R"(children:
  - {name: db, cmd: x}
  - name: g
    children:
      - {name: c, cmd: [x, "${host:/db}", "${host:dbb}"]}
)");
  REQUIRE_PROBLEM(r, "`${host:dbb}`: no node `dbb` next to `c`", 5, 44);
  REQUIRE(r.problems.size() == 1);
}

TEST_CASE("TREERUN_NODE is the node's path; TREERUN_RUN_ID is not known before the run", "[load][variables]") {
  auto r = load("children:\n  - {name: g, children: [{name: a, cmd: [x, \"${TREERUN_NODE}\"]}]}\n", "/tmp",
                with_env({{"TREERUN_NODE", "outer"}}));
  REQUIRE_LOADS(r);
  CHECK(at(*r.plan, "g/a").cmd->argv[1] == "g/a");
  auto id = load("children:\n  - {name: a, cmd: [x, \"${TREERUN_RUN_ID}\"]}\n", "/tmp", with_env({{"TREERUN_RUN_ID", "1"}}));
  REQUIRE_PROBLEM(id, "`TREERUN_RUN_ID` is not set", 2, 25);
}

TEST_CASE("an unreadable --env-file or a bad line in it", "[load][variables]") {
  TempDir dir;
  dir.write("bad.env", "OK=1\nnot a pair\n");
  Overrides o;
  o.env_files = {dir / "missing.env", dir / "bad.env"};
  auto r = load("children: [{name: a, cmd: x}]", dir.path(), o);
  INFO(problems(r));
  REQUIRE_FALSE(r.plan);
  CHECK(has_problem(r, "cannot read --env-file `" + dir / "missing.env" + "`: No such file", 0, 0));
  CHECK(has_problem(r, "expected KEY=VALUE", 2, 1));
}
