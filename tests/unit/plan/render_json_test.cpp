// `tree --json` and `check --json` (issue 14, item 10): what tools read.
#include <catch.hpp>
#include <nlohmann/json.hpp>

#include "plan/render_json.h"
#include "spec_fixture.h"

using namespace treerun;
using namespace treerun::test;
using nlohmann::json;

namespace {

json plan_json(const std::string& spec) {
  auto r = load(spec);
  INFO(problems(r));
  REQUIRE(r.ok());
  std::string text = render_plan_json(*r.plan);
  REQUIRE(text.back() == '\n');
  REQUIRE(text.find('\n') == text.size() - 1);  // one line
  return json::parse(text);
}

const json& node(const json& plan, const std::string& path) {
  for (const json& n : plan["nodes"])
    if (n["path"] == path) return n;
  FAIL("no node " << path);
  throw;
}

}  // namespace

TEST_CASE("tree --json: nodes with kind, command, after, probe, stop sequence and stdio", "[render][json]") {
  json p = plan_json(R"(
name: demo
timeout: 1m
grace: 2s
logs: stderr
children:
  - name: db
    daemon: true
    cmd: [redis-server, --port, "6390"]
    ready: {tcp: "127.0.0.1:6390", timeout: 10s}
    stop: "redis-cli -p 6390 shutdown"
  - {name: load, after: [db], cmd: "redis-benchmark -q | tee out", stderr: stdout}
  - name: pipeline
    children:
      - {name: produce, cmd: "seq 1 1000000", stdout: log}
      - {name: keep, cmd: "grep 7", stdin: produce, stdout: {file: /tmp/keep, append: true}}
  - {name: report, after: [pipeline], cmd: "true", on_failure: ignore, stop_signal: INT}
)");
  INFO(p.dump(2));
  CHECK(p["name"] == "demo");
  CHECK(p["spec_file"] == "spec.yaml");
  CHECK(p["timeout"] == 60.0);
  CHECK(p["logs"] == "stderr");
  CHECK(p["children"] == json({"db", "load", "pipeline", "report"}));
  CHECK(p["nodes"].size() == 6);  // the root is the top level, not a node

  const json& db = node(p, "db");
  CHECK(db["kind"] == "daemon");
  CHECK(db["cmd"] == json({"redis-server", "--port", "6390"}));
  CHECK(db["ready"] == json({{"type", "tcp"}, {"target", "127.0.0.1:6390"}, {"timeout", 10.0}, {"interval", 0.1}}));
  CHECK(db["stop_sequence"] ==
        json::parse(R"([{"command": ["redis-cli", "-p", "6390", "shutdown"], "wait": 2.0}, {"signal": "SIGKILL"}])"));
  CHECK(db["after"] == json::array());

  const json& load_ = node(p, "load");
  CHECK(load_["kind"] == "worker");
  CHECK(load_["cmd"] == "redis-benchmark -q | tee out");  // a string: run by /bin/sh -c
  CHECK(load_["after"] == json::parse(R"([{"path": "db", "waits_for": "ready"}])"));
  CHECK(load_["ready"].is_null());
  CHECK(load_["stdout"] == "log");
  CHECK(load_["stderr"] == "stdout");
  CHECK(load_["stdin"].is_null());

  const json& group = node(p, "pipeline");
  CHECK(group["kind"] == "group");
  CHECK(group["cmd"].is_null());
  CHECK(group["children"] == json({"pipeline/produce", "pipeline/keep"}));
  CHECK(group["stop_sequence"] == json::array());

  const json& keep = node(p, "pipeline/keep");
  CHECK(keep["cmd"] == json({"grep", "7"}));
  CHECK(keep["stdin"] == json::parse(R"({"from": ["pipeline/produce"], "lag": "block", "buffer": 1048576})"));
  CHECK(keep["stdout"] == json::parse(R"({"file": "/tmp/keep", "append": true})"));

  const json& report = node(p, "report");
  CHECK(report["after"] == json::parse(R"([{"path": "pipeline", "waits_for": "done"}])"));
  CHECK(report["on_failure"] == "ignore");
  CHECK(report["stop_sequence"] == json::parse(R"([{"signal": "SIGINT", "wait": 2.0}, {"signal": "SIGKILL"}])"));

  CHECK(p["start_order"] == json({"db", "load", "pipeline", "pipeline/produce", "pipeline/keep", "report"}));
  CHECK(p["stop_order"].front() == "report");
  CHECK(p["streams"] == json::parse(
      R"([{"source": "pipeline/produce", "consumers": ["pipeline/keep"], "carrier": "splice", "log": true}])"));
}

TEST_CASE("tree --json: carriers, stderr sources, and bytes that are not UTF-8", "[render][json]") {
  auto r = load("children:\n"
                "  - {name: a, cmd: x}\n"
                "  - {name: b, cmd: \"y w\", stdin: a}\n"
                "  - {name: c, cmd: z, stdin: {from: [a, \"b:stderr\"], lag: drop}}\n");
  REQUIRE(r.ok());
  // A spec is UTF-8 (its parser refuses other bytes), but the renderer must not trust
  // that of every string a plan holds.
  for (auto& n : r.plan->nodes)
    if (n.path == "b") n.cmd->argv[1].assign(1, '\xff');
  json p = json::parse(render_plan_json(*r.plan));
  INFO(p.dump(2));
  CHECK(node(p, "b")["cmd"] == json({"y", "\xef\xbf\xbd"}));  // U+FFFD, not an exception
  CHECK(p["streams"] == json::parse(R"([
    {"source": "a", "consumers": ["b", "c"], "carrier": "relay", "log": false},
    {"source": "b:stderr", "consumers": ["c"], "carrier": "relay", "log": false}])"));
}

TEST_CASE("check --json: ok, and each problem with its file, line and column", "[render][json]") {
  CHECK(json::parse(render_problems_json(true, {})) == json::parse(R"({"ok": true, "problems": []})"));
  auto r = load("children:\n  - {name: a, cmd: x, after: [b]}\n");
  REQUIRE_FALSE(r.ok());
  json j = json::parse(render_problems_json(r.ok(), r.problems));
  INFO(j.dump(2));
  CHECK(j["ok"] == false);
  REQUIRE(j["problems"].size() == 1);
  const json& problem = j["problems"][0];
  CHECK(problem["file"] == "spec.yaml");
  CHECK(problem["line"] == 2);
  CHECK(problem["col"] == 31);
  CHECK(problem["message"].get<std::string>().find("`b`") != std::string::npos);
  // A problem with no position (an unreadable file) has null line and column.
  json none = json::parse(render_problems_json(false, {Diagnostic{{"gone.yaml", 0, 0}, "cannot read it"}}));
  CHECK(none["problems"][0] == json::parse(R"({"file": "gone.yaml", "line": null, "col": null, "message": "cannot read it"})"));
}
