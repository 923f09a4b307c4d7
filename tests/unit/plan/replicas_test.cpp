// `replicas: N` (contract 8): a group of N copies named 0 to N-1.
#include <catch.hpp>

#include <nlohmann/json.hpp>

#include "plan/render.h"
#include "plan/render_json.h"
#include "spec_fixture.h"

using namespace treerun;
using namespace treerun::test;

TEST_CASE("replicas make a group of copies, each with its index", "[load][replicas]") {
  auto r = load(R"(children:
  - {name: db, daemon: true, cmd: x}
  - name: web
    replicas: 3
    daemon: true
    after: [db]
    env: {PORT: "80${TREERUN_REPLICA}"}
    cmd: [serve, --port, "${PORT}", --of, "${TREERUN_REPLICAS}"]
    ready: {tcp: "127.0.0.1:${PORT}"}
  - {name: client, cmd: x, after: [web]}
)");
  REQUIRE_LOADS(r);
  const Plan& p = *r.plan;
  const PlanNode& web = at(p, "web");
  CHECK(web.is_group());
  CHECK(web.replicas == 3);
  REQUIRE(web.children.size() == 3);
  CHECK(web.after == std::vector<NodeId>{*p.find("db")});  // the group waits; its copies start in it
  CHECK_FALSE(web.is_worker);  // a group of daemons: `after` it waits for all three ready
  for (int i = 0; i < 3; ++i) {
    const PlanNode& copy = at(p, "web/" + std::to_string(i));
    CHECK(copy.name == std::to_string(i));
    CHECK(copy.daemon);
    CHECK(copy.after.empty());
    CHECK(env_of(copy, "TREERUN_REPLICA") == std::to_string(i));
    CHECK(env_of(copy, "TREERUN_REPLICAS") == "3");
    CHECK(env_of(copy, "PORT") == "80" + std::to_string(i));
    CHECK((copy.cmd->argv == std::vector<std::string>{"serve", "--port", "80" + std::to_string(i), "--of", "3"}));
    CHECK(copy.ready.arg == "127.0.0.1:80" + std::to_string(i));
  }
  CHECK(at(p, "client").after == std::vector<NodeId>{web.id});
}

TEST_CASE("replicas: one copy is a group too; workers make a worker group", "[load][replicas]") {
  auto r = load("children:\n  - {name: w, replicas: 1, cmd: x}\n  - {name: after_w, after: [w/0], cmd: x}\n");
  REQUIRE_LOADS(r);
  CHECK(at(*r.plan, "w").is_worker);
  CHECK(at(*r.plan, "w/0").is_worker);
  CHECK(at(*r.plan, "after_w").after == std::vector<NodeId>{*r.plan->find("w/0")});
}

TEST_CASE("a replicated source merges its copies' outputs", "[load][replicas]") {
  auto r = load(R"(children:
  - {name: gen, replicas: 2, cmd: x, stderr: log}
  - {name: sink, cmd: x, stdin: gen}
  - {name: errs, cmd: x, stdin: "gen:stderr"}
)");
  REQUIRE_LOADS(r);
  const Plan& p = *r.plan;
  const PlanNode& sink = at(p, "sink");
  REQUIRE(sink.stdin_spec.from.size() == 2);
  CHECK(sink.stdin_spec.from[0] == SourceRef{*p.find("gen/0"), false});
  CHECK(sink.stdin_spec.from[1] == SourceRef{*p.find("gen/1"), false});
  CHECK(at(p, "errs").stdin_spec.from[1] == SourceRef{*p.find("gen/1"), true});
  REQUIRE(p.streams.size() == 4);
  for (const auto& w : p.streams) CHECK(w.carrier == StreamWiring::Carrier::relay);  // a merge
}

TEST_CASE("a replicated node cannot read a stream", "[load][replicas]") {
  auto r = load(R"(children:
  - {name: src, cmd: x}
  - {name: many, replicas: 2, cmd: x, stdin: src}
  - {name: term, replicas: 2, cmd: x, stdin: inherit}
)");
  REQUIRE_PROBLEM(r, "`many` has `replicas`: a replicated node cannot read a stream (`stdin`)", 3, 46);
  REQUIRE_PROBLEM(r, "`term` has `replicas`: a replicated node cannot read treerun's stdin (`stdin`)", 4, 46);
}

TEST_CASE("replicas must be 1 to 1000, and the copies are bounded", "[load][replicas]") {
  for (const char* bad : {"0", "1001", "two", "-1", "1.5", "\"\""}) {
    auto r = load(std::string("children:\n  - {name: w, cmd: x, replicas: ") + bad + "}\n");
    REQUIRE_PROBLEM(r, "`replicas` must be a whole number from 1 to 1000", 2, 33);
  }
  std::string nested = "children:\n  - name: a\n    replicas: 1000\n    children:\n"
                       "      - {name: b, replicas: 1000, cmd: x}\n";
  auto r = load(nested);
  REQUIRE_FALSE(r.plan);
  CHECK(r.problems.size() == 1);
  CHECK(r.problems[0].message.find("more than 100000 nodes") != std::string::npos);
  std::string wide = "children:\n  - name: a\n    replicas: 1000\n    children:\n";
  for (int i = 0; i < 100; ++i) wide += "      - {name: b" + std::to_string(i) + ", cmd: x}\n";
  REQUIRE_PROBLEM(load(wide), "with its replicas it has more than 100000 nodes", 3, 15);
}

TEST_CASE("a replica's children are copied too, and references inside resolve", "[load][replicas]") {
  auto r = load(R"(children:
  - name: shard
    replicas: 2
    children:
      - {name: db, daemon: true, cmd: x}
      - {name: app, after: [db], cmd: [x, "${host:db}"]}
)");
  REQUIRE_LOADS(r);
  const Plan& p = *r.plan;
  for (const char* s : {"shard/0", "shard/1"})
    CHECK(at(p, std::string(s) + "/app").after == std::vector<NodeId>{*p.find(std::string(s) + "/db")});
}

TEST_CASE("tree shows the replicas, each with its values expanded", "[load][replicas][render]") {
  auto r = load("children:\n  - {name: web, replicas: 2, cmd: [serve, \"${TREERUN_REPLICA}\"]}\n");
  REQUIRE_LOADS(r);
  std::string text = render_plan(*r.plan, false);
  CHECK(text.find("└─ web  group  replicas: 2\n   ├─ 0  worker  `serve 0`\n   └─ 1  worker  `serve 1`\n") !=
        std::string::npos);
  auto j = nlohmann::json::parse(render_plan_json(*r.plan));
  CHECK(j["nodes"][0]["replicas"] == 2);
  CHECK(j["nodes"][1]["replicas"].is_null());
  CHECK(j["nodes"][2]["cmd"] == nlohmann::json({"serve", "1"}));
}
