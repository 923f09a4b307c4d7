// `up SPEC NODE...` (contract 8): the part of a plan the named nodes need.
#include <catch.hpp>

#include <algorithm>

#include "plan/render.h"
#include "plan/select.h"
#include "spec_fixture.h"

using namespace treerun;
using namespace treerun::test;

namespace {

constexpr const char* kSpec = R"(children:
  - {name: db, daemon: true, cmd: x}
  - {name: cache, daemon: true, cmd: x}
  - {name: migrate, after: [db], cmd: x}
  - name: api
    daemon: true
    after: [migrate]
    cmd: x
  - name: tools
    children:
      - {name: lint, cmd: x}
      - {name: report, after: [/api], cmd: x}
  - name: pipeline
    after: [cache]
    children:
      - {name: produce, cmd: x}
      - {name: keep, cmd: x, stdin: produce}
      - {name: count, cmd: x, stdin: keep}
  - name: web
    replicas: 2
    cmd: x
)";

const Plan& full() {
  static LoadResult r = load(kSpec);
  REQUIRE_LOADS(r);
  return *r.plan;
}

std::vector<std::string> paths(const Plan& p) {
  std::vector<std::string> out;
  for (const auto& n : p.nodes)
    if (n.id != 0) out.push_back(n.path);
  return out;
}

Plan select(std::vector<std::string> names) {
  Selection s = select_nodes(full(), names);
  INFO(s.problem);
  REQUIRE(s.plan);
  return *s.plan;
}

}  // namespace

TEST_CASE("select: the named node and what it needs through after, transitively", "[select]") {
  Plan p = select({"api"});
  CHECK(paths(p) == std::vector<std::string>{"db", "migrate", "api"});
  // renumbered: every id, parent, child and `after` points into the part
  for (const auto& n : p.nodes) {
    CHECK(p[n.id].path == n.path);
    for (NodeId t : n.after) CHECK(t < p.nodes.size());
  }
  CHECK(p[*p.find("api")].after == std::vector<NodeId>{*p.find("migrate")});
  CHECK(p[*p.find("migrate")].setup_step);  // still only a daemon waits for it
  CHECK(p.start_order.size() == p.nodes.size());
}

TEST_CASE("select: the groups that hold a node, not their other children", "[select]") {
  Plan p = select({"tools/report"});
  CHECK(paths(p) == std::vector<std::string>{"db", "migrate", "api", "tools", "tools/report"});
  CHECK(p[*p.find("tools")].children.size() == 1);
  CHECK(p[*p.find("tools")].is_worker);
}

TEST_CASE("select: a named group comes whole, with its own after", "[select]") {
  Plan p = select({"/pipeline"});
  CHECK(paths(p) == std::vector<std::string>{"cache", "pipeline", "pipeline/produce", "pipeline/keep", "pipeline/count"});
  REQUIRE(p.streams.size() == 2);
  CHECK(p.streams[0].carrier == StreamWiring::Carrier::pipe);
}

TEST_CASE("select: a consumer brings its producers", "[select]") {
  Plan p = select({"pipeline/count"});
  CHECK(paths(p) == std::vector<std::string>{"cache", "pipeline", "pipeline/produce", "pipeline/keep", "pipeline/count"});
}

TEST_CASE("select: a producer alone logs its output", "[select]") {
  Plan p = select({"pipeline/produce"});
  CHECK(paths(p) == std::vector<std::string>{"cache", "pipeline", "pipeline/produce"});
  CHECK(p.streams.empty());
}

TEST_CASE("select: one replica, or all of them", "[select]") {
  CHECK(paths(select({"web/1"})) == std::vector<std::string>{"web", "web/1"});
  CHECK(paths(select({"web"})) == std::vector<std::string>{"web", "web/0", "web/1"});
  CHECK(paths(select({"web/1", "db", "web/1"})) == std::vector<std::string>{"db", "web", "web/1"});
}

TEST_CASE("select: a worker that was a setup step is the part's work", "[select]") {
  Plan p = select({"migrate"});
  CHECK(paths(p) == std::vector<std::string>{"db", "migrate"});
  CHECK_FALSE(p[*p.find("migrate")].setup_step);  // nothing waits for it here: the run ends when it is done
  CHECK(p.root().is_worker);
  CHECK(render_plan(p, false).find("cache") == std::string::npos);
}

TEST_CASE("select: an unknown node, with a did-you-mean", "[select]") {
  CHECK(select_nodes(full(), {"apj"}).problem == "no node `apj` in spec.yaml (did you mean `api`?)");
  CHECK(select_nodes(full(), {"keep"}).problem == "no node `keep` in spec.yaml (did you mean `pipeline/keep`?)");
  CHECK(select_nodes(full(), {"kep"}).problem == "no node `kep` in spec.yaml (did you mean `pipeline/keep`?)");
  CHECK(select_nodes(full(), {"api", "zzzzzz"}).problem ==
        "no node `zzzzzz` in spec.yaml; its top-level nodes: db, cache, migrate, api, tools, pipeline, web");
  CHECK_FALSE(select_nodes(full(), {"/"}).plan);
}
