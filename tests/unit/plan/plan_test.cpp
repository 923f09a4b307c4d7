// The derived parts of a plan: paths, is_worker, order, stream wiring.
#include <algorithm>
#include <catch.hpp>

#include "spec_fixture.h"

using namespace treerun;
using namespace treerun::test;

namespace {

std::vector<std::string> paths(const Plan& p, const std::vector<NodeId>& ids) {
  std::vector<std::string> out;
  for (NodeId id : ids)
    if (id != 0) out.push_back(p[id].path);
  return out;
}

std::size_t index_of(const std::vector<NodeId>& order, NodeId id) {
  return std::size_t(std::find(order.begin(), order.end(), id) - order.begin());
}

const char* kDemo = R"(
children:
  - name: db
    daemon: true
    cmd: [redis-server]
  - name: load
    after: [db]
    cmd: "redis-benchmark -q"
  - name: pipeline
    children:
      - {name: produce, cmd: "seq 1 1000000"}
      - {name: keep, cmd: "grep 7", stdin: produce}
      - {name: count, cmd: "wc -l", stdin: keep}
)";

}  // namespace

TEST_CASE("paths, ids, parents and find", "[plan]") {
  auto r = load(kDemo);
  REQUIRE_LOADS(r);
  const Plan& p = *r.plan;
  REQUIRE(p.nodes.size() == 7);
  CHECK(paths(p, {1, 2, 3, 4, 5, 6}) ==
        std::vector<std::string>{"db", "load", "pipeline", "pipeline/produce", "pipeline/keep", "pipeline/count"});
  for (NodeId i = 0; i < p.nodes.size(); ++i) CHECK(p[i].id == i);
  CHECK_FALSE(p.root().parent.has_value());
  CHECK(p[4].parent == NodeId(3));
  CHECK(p.root().children == std::vector<NodeId>{1, 2, 3});
  CHECK(p[3].children == std::vector<NodeId>{4, 5, 6});
  CHECK(p.find("") == NodeId(0));
  CHECK(p.find("pipeline/keep") == NodeId(5));
  CHECK_FALSE(p.find("pipeline/nope").has_value());
  CHECK_FALSE(p.find("keep").has_value());
}

TEST_CASE("is_worker: a worker, or a group with one somewhere inside; never a daemon", "[plan]") {
  auto r = load(R"(
children:
  - {name: d, cmd: x, daemon: true}
  - {name: w, cmd: x}
  - name: only-daemons
    children: [{name: d1, cmd: x, daemon: true}, {name: g, children: [{name: d2, cmd: x, daemon: true}]}]
  - name: deep-worker
    children: [{name: g, children: [{name: w, cmd: x}]}]
  - name: daemon-with-worker-child
    cmd: x
    daemon: true
    children: [{name: w, cmd: x}]
)");
  REQUIRE_LOADS(r);
  const Plan& p = *r.plan;
  auto hw = [&](const char* path) { return p[*p.find(path)].is_worker; };
  CHECK_FALSE(hw("d"));
  CHECK(hw("w"));
  CHECK_FALSE(hw("only-daemons"));
  CHECK_FALSE(hw("only-daemons/g"));
  CHECK(hw("deep-worker"));
  CHECK(hw("deep-worker/g"));
  // A daemon runs until cancelled: `after` it waits for it to be ready, whatever its
  // nursery holds (`tree` once said "done" here while the runtime waited for ready).
  CHECK_FALSE(hw("daemon-with-worker-child"));
  CHECK(hw("daemon-with-worker-child/w"));
  CHECK(p.root().is_worker);
}

TEST_CASE("setup steps: workers that only daemons wait for", "[plan]") {
  auto r = load(R"(
children:
  - name: stack
    children:
      - {name: db, cmd: x, daemon: true}
      - {name: migrate, cmd: x, after: [db]}
      - {name: api, cmd: x, daemon: true, after: [migrate]}
  - name: ci
    children:
      - {name: build, cmd: x}
      - {name: test, cmd: x, after: [build]}
      - {name: server, cmd: x, daemon: true, after: [build]}
  - {name: lonely, cmd: x}
  - name: setups
    children: [{name: s1, cmd: x}]
  - {name: web, cmd: x, daemon: true, after: [setups]}
)");
  REQUIRE_LOADS(r);
  const Plan& p = *r.plan;
  auto at = [&](const char* path) -> const PlanNode& { return p[*p.find(path)]; };
  CHECK(at("stack/migrate").setup_step);
  CHECK(at("stack/migrate").is_worker);  // it must succeed: `after` it waits for done
  CHECK_FALSE(at("stack").is_worker);    // its only worker is a setup step: runs until cancelled
  CHECK_FALSE(at("ci/build").setup_step);  // a worker (test) waits for it too
  CHECK(at("ci").is_worker);
  CHECK_FALSE(at("lonely").setup_step);    // nothing waits for it: an ordinary worker
  CHECK(at("setups").setup_step);          // a group of workers that only a daemon waits for
  CHECK_FALSE(at("setups/s1").setup_step);
}

TEST_CASE("start order follows after and parenthood; stop order is its reverse", "[plan]") {
  auto r = load(R"(
children:
  - {name: app, cmd: x, after: [cache, db]}
  - {name: db, cmd: x, daemon: true}
  - {name: cache, cmd: x, daemon: true, after: [db]}
  - name: jobs
    after: [app]
    children:
      - {name: b, cmd: x, after: [a]}
      - {name: a, cmd: x, after: [/db]}
)");
  REQUIRE_LOADS(r);
  const Plan& p = *r.plan;
  CHECK(paths(p, p.start_order) == std::vector<std::string>{"db", "cache", "app", "jobs", "jobs/a", "jobs/b"});
  CHECK(p.start_order.front() == 0);
  std::vector<NodeId> reversed(p.start_order.rbegin(), p.start_order.rend());
  CHECK(p.stop_order == reversed);
  for (const auto& n : p.nodes) {
    if (n.parent) CHECK(index_of(p.start_order, *n.parent) < index_of(p.start_order, n.id));
    for (NodeId t : n.after) CHECK(index_of(p.start_order, t) < index_of(p.start_order, n.id));
  }
  CHECK(p[*p.find("app")].after == std::vector<NodeId>{*p.find("cache"), *p.find("db")});
}

TEST_CASE("without after, the start order is the spec's order", "[plan]") {
  auto r = load(kDemo);
  REQUIRE_LOADS(r);
  CHECK(paths(*r.plan, r.plan->start_order) ==
        std::vector<std::string>{"db", "load", "pipeline", "pipeline/produce", "pipeline/keep", "pipeline/count"});
}

TEST_CASE("a one-to-one stream is a direct pipe", "[plan][streams]") {
  auto r = load(kDemo);
  REQUIRE_LOADS(r);
  const Plan& p = *r.plan;
  REQUIRE(p.streams.size() == 2);
  NodeId produce = *p.find("pipeline/produce"), keep = *p.find("pipeline/keep"), count = *p.find("pipeline/count");
  const StreamWiring* w = p.stream_of({produce, false});
  REQUIRE(w);
  CHECK(w->consumers == std::vector<NodeId>{keep});
  CHECK(w->carrier == StreamWiring::Carrier::pipe);
  CHECK_FALSE(w->to_log);
  CHECK(p.stream_of({keep, false})->consumers == std::vector<NodeId>{count});
  CHECK(p.stream_of({produce, true}) == nullptr);
  CHECK(p.stream_of({count, false}) == nullptr);
}

TEST_CASE("fan-out and a log copy are spliced; merge and lag drop make a relay", "[plan][streams]") {
  auto r = load(R"(
children:
  - {name: fan, cmd: x}
  - {name: m1, cmd: x}
  - {name: m2, cmd: x}
  - {name: lossy, cmd: x}
  - {name: logged, cmd: x, stdout: log}
  - {name: err, cmd: x}
  - {name: mixed, cmd: x}
  - {name: a, cmd: x, stdin: fan}
  - {name: b, cmd: x, stdin: fan}
  - {name: merged, cmd: x, stdin: [m1, m2]}
  - {name: c, cmd: x, stdin: {from: lossy, lag: drop}}
  - {name: d, cmd: x, stdin: logged}
  - {name: e, cmd: x, stdin: "err:stderr"}
  - {name: f, cmd: x, stdin: mixed}
  - {name: g, cmd: x, stdin: [mixed, m1]}
)");
  REQUIRE_LOADS(r);
  const Plan& p = *r.plan;
  using Carrier = StreamWiring::Carrier;
  auto w = [&](const char* name, bool is_stderr = false) {
    const StreamWiring* s = p.stream_of({*p.find(name), is_stderr});
    REQUIRE(s);
    return *s;
  };
  CHECK(w("fan").consumers == std::vector<NodeId>{*p.find("a"), *p.find("b")});
  CHECK(w("fan").carrier == Carrier::splice);
  CHECK(w("m1").carrier == Carrier::relay);
  CHECK(w("m2").carrier == Carrier::relay);
  CHECK(w("lossy").carrier == Carrier::relay);
  CHECK(w("logged").carrier == Carrier::splice);
  CHECK(w("mixed").carrier == Carrier::relay);  // one of its consumers merges
  CHECK(w("logged").to_log);
  CHECK_FALSE(w("fan").to_log);
  CHECK(w("err", true).carrier == Carrier::pipe);
  CHECK(w("err", true).source.is_stderr);
  CHECK(p.streams.size() == 7);
  for (std::size_t i = 1; i < p.streams.size(); ++i)
    CHECK(p.streams[i - 1].source.node < p.streams[i].source.node);
}

TEST_CASE("sources by absolute path and relative path", "[plan][streams]") {
  auto r = load(R"(
children:
  - name: g
    children:
      - {name: p, cmd: x}
  - {name: c1, cmd: x, stdin: /g/p}
  - {name: c2, cmd: x, stdin: "g/p:stderr"}
)");
  REQUIRE_LOADS(r);
  NodeId gp = *r.plan->find("g/p");
  CHECK(r.plan->stream_of({gp, false})->consumers == std::vector<NodeId>{*r.plan->find("c1")});
  CHECK(r.plan->stream_of({gp, true})->consumers == std::vector<NodeId>{*r.plan->find("c2")});
}

TEST_CASE("Command::display", "[plan]") {
  CHECK(Command{true, {"echo hi | wc"}}.display() == "sh -c 'echo hi | wc'");
  CHECK(Command{false, {"redis-server", "--save", ""}}.display() == "redis-server --save ''");
  CHECK(Command{false, {"grep", "a b", "it's"}}.display() == "grep 'a b' 'it'\\''s'");
  CHECK(Command{false, {"ls", "-l", "/tmp"}}.display() == "ls -l /tmp");
}
