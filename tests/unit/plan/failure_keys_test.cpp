// The spec keys of failure semantics (interface.md 3): `after: [{NAME: exited}]`,
// `on_failure: continue`, `health`, and the http probe's `https://`, `status` and
// `insecure`: what loads, what `check` refuses, and where it points.
#include <catch.hpp>

#include "plan/render.h"
#include "spec_fixture.h"

using namespace treerun;
using namespace treerun::test;

TEST_CASE("after: {NAME: exited} waits for the exit; a mixed list keeps both kinds", "[plan][exited]") {
  auto r = load(R"(
children:
  - {name: db, daemon: true, cmd: "db"}
  - {name: tests, after: [db], on_failure: continue, cmd: "t"}
  - {name: report, after: [db, {tests: exited}], cmd: "r"}
)");
  REQUIRE_LOADS(r);
  const Plan& p = *r.plan;
  const PlanNode& report = at(p, "report");
  REQUIRE(report.after.size() == 2);
  CHECK(report.after_exited == std::vector<NodeId>{*p.find("tests")});
  CHECK(report.waits_for_exit(*p.find("tests")));
  CHECK_FALSE(report.waits_for_exit(*p.find("db")));
  CHECK(at(p, "tests").on_failure == OnFailure::continue_);
  std::string tree = render_plan(p, false);
  CHECK(tree.find("after: db tests (exited)") != std::string::npos);
  CHECK(tree.find("(after db ready, tests exited)") != std::string::npos);
  CHECK(tree.find("on_failure: continue") != std::string::npos);
}

TEST_CASE("check refuses {NAME: exited} on a daemon or a group of daemons, where it is written", "[plan][exited]") {
  auto r = load(R"(
children:
  - {name: db, daemon: true, cmd: "db"}
  - name: services
    children:
      - {name: api, daemon: true, cmd: "api"}
  - {name: w, after: [{db: exited}, {services: exited}], cmd: "w"}
)");
  REQUIRE_PROBLEM(r, "`{db: exited}`: `db` is a daemon, which never exits on its own", 7, 24);
  REQUIRE_PROBLEM(r, "`{services: exited}`: `services` is a group of daemons", 7, 38);
}

TEST_CASE("an after entry is a name or {NAME: exited}", "[plan][exited]") {
  auto r = load(R"(
children:
  - {name: t, cmd: "t"}
  - {name: w, after: [{t: done}], cmd: "w"}
)");
  REQUIRE_PROBLEM(r, "an `after` entry is a name or {NAME: exited}, not {t: done}", 4, 23);
}

TEST_CASE("on_failure names continue among its values", "[plan][continue]") {
  auto r = load(R"(
children:
  - {name: t, on_failure: go-on, cmd: "t"}
)");
  REQUIRE_PROBLEM(r, "`on_failure` must be cancel, ignore, continue or restart, not `go-on`", 3, 27);
}

TEST_CASE("health: a probe with its defaults: every 10s, a check's timeout its interval, 3 failures",
          "[plan][health]") {
  auto r = load(R"(
children:
  - name: api
    daemon: true
    cmd: "api"
    health: {http: "https://localhost:8443/health", status: [200, "300-399"], insecure: true}
  - name: db
    daemon: true
    cmd: "db"
    health: {tcp: "127.0.0.1:5432", interval: 2s, timeout: 500ms, failures: 5}
)");
  REQUIRE_LOADS(r);
  const HealthCheck& api = *at(*r.plan, "api").health;
  CHECK(api.probe.type == Probe::Type::http);
  CHECK(api.probe.interval == Millis{10'000});
  CHECK(api.probe.timeout == Millis{10'000});
  CHECK(api.failures == 3);
  CHECK(api.probe.insecure);
  CHECK(api.probe.status == std::vector<StatusRange>{{200, 200}, {300, 399}});
  const HealthCheck& db = *at(*r.plan, "db").health;
  CHECK(db.probe.interval == Millis{2'000});
  CHECK(db.probe.timeout == Millis{500});
  CHECK(db.failures == 5);
  CHECK(render_plan(*r.plan, false).find("health: tcp 127.0.0.1:5432 (every 2s, 5 failures)") != std::string::npos);
}

TEST_CASE("health and the http options: what check refuses", "[plan][health]") {
  SECTION("a log probe cannot be a health check") {
    auto r = load("children:\n  - {name: a, cmd: a, health: {log: up}}\n");
    REQUIRE_PROBLEM(r, "`health` cannot use `log`: use tcp, http, exec or file", 2, 32);
  }
  SECTION("status outside 100-599, or a range upside down") {
    auto r = load("children:\n  - {name: a, cmd: a, ready: {http: \"http://h:1/\", status: [200, \"399-300\", 700]}}\n");
    REQUIRE_PROBLEM(r, "`status` entries are codes (200) or ranges (\"200-399\") from 100 to 599, not `399-300`", 2, 66);
    REQUIRE_PROBLEM(r, "not `700`", 2, 77);
  }
  SECTION("status and insecure are an http probe's") {
    auto r = load("children:\n  - {name: a, cmd: a, health: {tcp: \"h:1\", insecure: true}}\n");
    REQUIRE_PROBLEM(r, "`insecure` applies only to an `http` probe, not `tcp`", 2, 44);
  }
  SECTION("failures is a whole number from 1") {
    auto r = load("children:\n  - {name: a, cmd: a, health: {tcp: \"h:1\", failures: 0}}\n");
    REQUIRE_PROBLEM(r, "`failures` must be a whole number from 1 to 9999, not `0`", 2, 54);
  }
  SECTION("a group has no process to check") {
    auto r = load("children:\n  - name: g\n    health: {tcp: \"h:1\"}\n    children: [{name: a, cmd: a}]\n");
    REQUIRE_PROBLEM(r, "`health` needs a `cmd`: `g` is a group", 3, 5);
  }
  SECTION("an http URL is http:// or https://") {
    auto r = load("children:\n  - {name: a, cmd: a, ready: {http: \"ftp://h/\"}}\n");
    REQUIRE_PROBLEM(r, "`http` must be a URL starting with http:// or https://", 2, 37);
  }
}
