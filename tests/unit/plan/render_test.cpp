#include <catch.hpp>
#include <tuple>
#include <vector>

#include "plan/render.h"
#include "spec_fixture.h"

using namespace treerun;
using namespace treerun::test;

namespace {

const char* kSpec = R"(
name: demo
grace: 3s
children:
  - name: db
    daemon: true
    cmd: [redis-server, --port, "6390"]
    stop: "redis-cli -p 6390 shutdown nosave"
    ready: {tcp: "127.0.0.1:6390"}
  - name: load
    after: [db]
    cmd: "redis-benchmark -q"
  - name: pipeline
    children:
      - {name: produce, cmd: "seq 1 1000000", stdout: log}
      - {name: keep, cmd: "grep 7", stdin: produce}
      - {name: count, cmd: "wc -l", stdin: keep, stop_signal: INT, grace: 500ms}
      - {name: fan, cmd: "cat", stdin: {from: [keep, "produce:stderr"], lag: drop, buffer: 64KiB}}
)";

std::string render(bool color) {
  auto r = load(kSpec);
  INFO(problems(r));
  REQUIRE(r.ok());
  return render_plan(*r.plan, color);
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("tree shows the nodes with their kind and command", "[render]") {
  std::string t = render(false);
  INFO(t);
  CHECK(t.rfind("demo  spec.yaml\n", 0) == 0);
  CHECK(has(t, "├─ db  daemon  `redis-server --port 6390`  ready: tcp 127.0.0.1:6390 (timeout 30s)\n"));
  CHECK(has(t, "├─ load  worker  `redis-benchmark -q`  after: db\n"));
  CHECK(has(t, "└─ pipeline  group\n"));
  CHECK(has(t, "   ├─ produce  worker  `seq 1 1000000`\n"));
  CHECK(has(t, "   └─ fan  worker  `cat`  stdin: pipeline/keep pipeline/produce:stderr\n"));
}

TEST_CASE("tree shows start order, stop order, streams and stop sequences", "[render]") {
  std::string t = render(false);
  INFO(t);
  CHECK(has(t, "\nStart order\n  1. db\n  2. load  (after db ready)\n  3. pipeline\n"));
  CHECK(has(t, "\nStop order\n  pipeline/fan → pipeline/count → pipeline/keep → pipeline/produce → pipeline → load → db\n"));
  CHECK(has(t, "  pipeline/produce → pipeline/keep  direct pipe +log\n") == false);
  CHECK(has(t, "  pipeline/produce → pipeline/keep  spliced (lag block, buffer 1MiB) +log\n"));
  CHECK(has(t, "  pipeline/keep → pipeline/count, pipeline/fan  relay (fan-out, merge, lag drop, buffer 1MiB)\n"));
  CHECK(has(t, "  pipeline/produce:stderr → pipeline/fan  relay (merge, lag drop, buffer 64KiB)\n"));
  CHECK(has(t, "  db: run `redis-cli -p 6390 shutdown nosave`, wait 3s, SIGKILL\n"));
  CHECK(has(t, "  pipeline/count: SIGINT, wait 500ms, SIGKILL\n"));
  CHECK(has(t, "  load: SIGTERM, wait 3s, SIGKILL\n"));
}

TEST_CASE("color adds ANSI codes only when asked", "[render]") {
  CHECK(render(false).find('\x1b') == std::string::npos);
  CHECK(render(true).find("\x1b[1m") != std::string::npos);
}

TEST_CASE("a direct pipe and a spliced fan-out are shown as such", "[render]") {
  auto r = load("children:\n  - {name: a, cmd: x}\n  - {name: b, cmd: y, stdin: a}\n");
  REQUIRE(r.ok());
  CHECK(has(render_plan(*r.plan, false), "\nStreams\n  a → b  direct pipe\n"));
  auto fan = load("children:\n  - {name: a, cmd: x}\n  - {name: b, cmd: y, stdin: a}\n  - {name: c, cmd: y, stdin: a}\n");
  REQUIRE(fan.ok());
  CHECK(has(render_plan(*fan.plan, false), "\nStreams\n  a → b, c  spliced (fan-out, lag block, buffer 1MiB)\n"));
  auto none = load("children: [{name: a, cmd: x}]");
  CHECK(has(render_plan(*none.plan, false), "\nStreams\n  (none)\n"));
}

TEST_CASE("stop sequences: the stop command or the stop signal, wait grace, SIGKILL; none for a group", "[render][stop]") {
  auto r = load(R"(grace: 2s
children:
  - {name: db, daemon: true, cmd: redis-server, stop: "redis-cli shutdown"}
  - {name: job, cmd: make, stop_signal: INT}
  - name: g
    children: [{name: w, cmd: "true", grace: 250ms}]
)");
  REQUIRE_LOADS(r);
  const Plan& p = *r.plan;
  using Kind = StopStep::Kind;
  auto steps = [&](const char* path) {
    std::vector<std::tuple<Kind, int, long>> out;
    for (const StopStep& s : p[*p.find(path)].stop_sequence) out.emplace_back(s.kind, s.sig, long(s.wait.count()));
    return out;
  };
  CHECK(steps("db") == std::vector<std::tuple<Kind, int, long>>{{Kind::command, 15, 2000}, {Kind::kill, 9, 0}});
  CHECK(steps("job") == std::vector<std::tuple<Kind, int, long>>{{Kind::signal, 2, 2000}, {Kind::kill, 9, 0}});
  CHECK(steps("g").empty());
  std::string t = render_plan(p, false);
  INFO(t);
  const std::string section =
      "\nStop sequences\n"
      "  g/w: SIGTERM, wait 250ms, SIGKILL\n"
      "  job: SIGINT, wait 2s, SIGKILL\n"
      "  db: run `redis-cli shutdown`, wait 2s, SIGKILL\n";
  REQUIRE(t.size() >= section.size());
  CHECK(t.substr(t.size() - section.size()) == section);
}

TEST_CASE("after a daemon with worker children waits for it to be ready, not done", "[render][regression]") {
  // A daemon runs until cancelled, whatever its own nursery holds: its workers do not
  // make it a worker (tree once printed "after d done" while the runtime waited for ready).
  auto r = load(R"(
children:
  - name: d
    daemon: true
    cmd: "sleep 100"
    children:
      - {name: w, cmd: "true"}
  - {name: x, after: [d], cmd: "echo x"}
)");
  REQUIRE_LOADS(r);
  std::string t = render_plan(*r.plan, false);
  INFO(t);
  CHECK(has(t, "\nStart order\n  1. d\n  2. d/w\n  3. x  (after d ready)\n"));
  CHECK_FALSE(has(t, "after d done"));
  // Nor does it make a group around it one.
  auto g = load(R"(
children:
  - name: g
    children:
      - {name: d, daemon: true, cmd: "sleep 100", children: [{name: w, cmd: "true"}]}
  - {name: x, after: [g], cmd: "echo x"}
)");
  REQUIRE_LOADS(g);
  CHECK(has(render_plan(*g.plan, false), "  (after g ready)\n"));
}

TEST_CASE("tree shows which commands run directly and which by the shell", "[render][command]") {
  // Issue 14, item 3: `yes` runs as itself; a string with shell syntax as `sh -c '...'`.
  auto r = load(R"spec(children:
  - {name: direct, cmd: "yes"}
  - {name: shell, cmd: "yes | head -n 1", stop: "kill $(cat pid)"}
  - {name: out, cmd: "make all", stdout: {file: /tmp/make.log}, stderr: stdout}
)spec");
  REQUIRE_LOADS(r);
  std::string t = render_plan(*r.plan, false);
  INFO(t);
  CHECK(has(t, "├─ direct  worker  `yes`\n"));
  CHECK(has(t, "├─ shell  worker  `sh -c 'yes | head -n 1'`\n"));
  CHECK(has(t, "└─ out  worker  `make all`  stdout: file /tmp/make.log, stderr: stdout\n"));
  CHECK(has(t, "  shell: run `sh -c 'kill $(cat pid)'`, wait 3s, SIGKILL\n"));
}
