// Start-up and structure (interface.md 4.1; treerun(1) SEMANTICS › Structure): start
// order by `after` and readiness, a node's children once it is ready, a group done when
// its workers are, skipped work.
#include <catch.hpp>

#include "run_fixture.h"

using namespace treerun;
using namespace treerun::test;

using Lines = std::vector<std::string>;

TEST_CASE("run: a worker after another starts once that one has exited 0", "[run][start]") {
  RunRig rig(R"(
children:
  - {name: b, after: [a], cmd: "b"}
  - {name: a, cmd: "a"}
)");
  rig.launcher.script("a", Script::exits(0));
  rig.launcher.script("b", Script::exits(0));
  REQUIRE(rig.run().code == 0);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.journal() == Lines{"spawn a", "exit a 0", "spawn b", "exit b 0"});
  CHECK(rig.outcome("a") == Outcome::ok);
  CHECK(rig.outcome("b") == Outcome::ok);
  CHECK(rig.launcher.alive().empty());
}

TEST_CASE("run: a node after a daemon starts once the daemon's probe has passed", "[run][start]") {
  RunRig rig(R"(
children:
  - {name: d, daemon: true, cmd: "d", ready: {exec: "check", interval: 10ms}}
  - {name: x, after: [d], cmd: "x"}
)");
  rig.launcher.script_beside("d", {Script::exits(1), Script::exits(0)});  // not yet, then ready
  rig.launcher.script("x", Script::exits(0));
  REQUIRE(rig.run().code == 0);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.journal() == Lines{"spawn d", "spawn d[check]", "exit d[check] 1", "spawn d[check]",
                                        "exit d[check] 0", "spawn x", "exit x 0", "SIGTERM d", "exit d SIGTERM"});
  // The probe runs beside its node.
  const FakeProcess& check = rig.launcher.process(101);
  REQUIRE(check.beside.has_value());
  CHECK(check.beside->pid == rig.launcher.pid_of("d"));
  CHECK(rig.outcome("d") == Outcome::cancelled);
}

TEST_CASE("run: a node with a command starts its children once it is ready", "[run][start]") {
  RunRig rig(R"(
children:
  - name: p
    daemon: true
    cmd: "p"
    ready: {exec: "check", interval: 10ms}
    children:
      - {name: c, cmd: "c"}
  - {name: x, after: [/p/c], cmd: "x"}
)");
  rig.launcher.script("p/c", Script::exits(0));
  rig.launcher.script("x", Script::exits(0));
  REQUIRE(rig.run().code == 0);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.journal() == Lines{"spawn p", "spawn p[check]", "exit p[check] 0", "spawn p/c", "exit p/c 0",
                                        "spawn x", "exit x 0", "SIGTERM p", "exit p SIGTERM"});
}

TEST_CASE("run: independent nodes start together, in spec order", "[run][start]") {
  RunRig rig(R"(
children:
  - {name: a, cmd: "a"}
  - {name: g, children: [{name: b, cmd: "b"}, {name: c, cmd: "c"}]}
  - {name: d, cmd: "d"}
)");
  for (const char* n : {"a", "g/b", "g/c", "d"}) rig.launcher.script(n, Script::exits(0));
  REQUIRE(rig.run().code == 0);
  INFO(lines(rig.launcher.journal()));
  // Every spawn comes before the first exit: nothing waited for anything.
  CHECK(rig.launcher.journal() ==
        Lines{"spawn a", "spawn g/b", "spawn g/c", "spawn d", "exit a 0", "exit g/b 0", "exit g/c 0", "exit d 0"});
}

TEST_CASE("run: a group is done when its workers are; then each daemon gets one stop signal", "[run][start][stop]") {
  RunRig rig(R"(
children:
  - {name: d, daemon: true, cmd: "d"}
  - {name: w, cmd: "w"}
)", /*events=*/true);
  rig.launcher.script("w", Script::exits(0));
  REQUIRE(rig.run().code == 0);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.journal() == Lines{"spawn d", "spawn w", "exit w 0", "SIGTERM d", "exit d SIGTERM"});
  CHECK(rig.launcher.signals_to("d") == std::vector<int>{SIGTERM});
  CHECK(rig.outcome("d") == Outcome::cancelled);
  CHECK(rig.outcome("w") == Outcome::ok);
  CHECK(rig.node("d").state == State::finished);
  CHECK(rig.node("").outcome == Outcome::ok);
  // A daemon torn down at the end of a successful run ends `cancelled`.
  CHECK(rig.event_index({R"("event":"cancel","node":"/","cause":"done")"}) >= 0);
  CHECK(rig.event_index({R"("event":"exit","node":"d","pid":100,"code":null,"signal":"SIGTERM","outcome":"cancelled")"}) >= 0);
  CHECK(rig.event_index({R"("event":"done","code":0)"}) >= 0);
}

TEST_CASE("run: a daemon with worker children is waited for as a daemon: ready, not done", "[run][start]") {
  RunRig rig(R"(
children:
  - name: d
    daemon: true
    cmd: "d"
    children:
      - {name: w, cmd: "w"}
  - {name: x, after: [d], cmd: "x"}
)");
  rig.launcher.script("d/w", Script::runs());  // never done on its own
  rig.launcher.script("x", Script::exits(0));
  REQUIRE(rig.run().code == 0);
  INFO(lines(rig.launcher.journal()));
  CHECK(at(rig.launcher.journal(), "spawn x") < at(rig.launcher.journal(), "SIGTERM d/w"));
  CHECK(at(rig.launcher.journal(), "SIGTERM d/w") < at(rig.launcher.journal(), "SIGTERM d"));
  CHECK(rig.outcome("x") == Outcome::ok);
  CHECK(rig.outcome("d/w") == Outcome::cancelled);
}

TEST_CASE("run: when a node's own process exits, its children are cancelled", "[run][start][stop]") {
  RunRig rig(R"(
children:
  - name: w
    cmd: "w"
    children:
      - {name: c, daemon: true, cmd: "c"}
)");
  rig.launcher.script("w", Script::exits(0));
  REQUIRE(rig.run().code == 0);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.journal() == Lines{"spawn w", "spawn w/c", "exit w 0", "SIGTERM w/c", "exit w/c SIGTERM"});
  CHECK(rig.outcome("w") == Outcome::ok);
  CHECK(rig.outcome("w/c") == Outcome::cancelled);
}

TEST_CASE("run: a node whose `after` failed is not started, and its children neither", "[run][start][failure]") {
  RunRig rig(R"(
children:
  - {name: a, cmd: "a"}
  - name: b
    after: [a]
    cmd: "b"
    children: [{name: c, cmd: "c"}]
)");
  rig.launcher.script("a", Script::exits(2));
  REQUIRE(rig.run().code == 2);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.spawned() == Lines{"a"});
  CHECK(rig.outcome("a") == Outcome::failed);
  CHECK(rig.outcome("b") == Outcome::not_started);
  CHECK(rig.outcome("b/c") == Outcome::not_started);
  CHECK(rig.node("b").state == State::finished);
}

// interface.md 4.1: "A worker that never starts because what it waits for failed is a
// failure of its own, with exit code 1 (unless it is itself on_failure: ignore):
// skipped work never ends in exit 0."
TEST_CASE("run: skipped work is a failure with exit code 1", "[run][start][failure]") {
  RunRig rig(R"(
children:
  - {name: a, on_failure: ignore, cmd: "a"}
  - {name: b, after: [a], cmd: "b"}
)");
  rig.launcher.script("a", Script::exits(2));
  RunResult r = rig.run();
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.spawned() == Lines{"a"});
  CHECK(rig.outcome("a") == Outcome::failed_ignored);
  CHECK(rig.outcome("b") == Outcome::not_started);
  CHECK(rig.node("b").failure_reason == "skipped: its `after` a failed");
  CHECK(r.code == 1);
}

TEST_CASE("run: skipped work under on_failure: ignore does not fail the run", "[run][start][failure]") {
  RunRig rig(R"(
children:
  - {name: a, on_failure: ignore, cmd: "a"}
  - {name: b, after: [a], on_failure: ignore, cmd: "b"}
)");
  rig.launcher.script("a", Script::exits(2));
  REQUIRE(rig.run().code == 0);
  CHECK(rig.launcher.spawned() == Lines{"a"});
  CHECK(rig.outcome("b") == Outcome::not_started);
}

// interface.md 4.1: a worker that only daemons wait for is a setup step; it must
// succeed, but it does not make its group done, so the group runs until cancelled (here
// by the run's timeout: 124). The supervisor counts every worker child for
// workers_done (consider_workers_done, PlanNode::is_worker), so the root is done as
// soon as migrate has exited: api, queued to start, is skipped by the `done` cancel
// and never runs, and the run ends 0.
TEST_CASE("run: a setup step does not make its group done", "[run][start]") {
  RunRig rig(R"(
timeout: 100ms
children:
  - {name: migrate, cmd: "migrate"}
  - {name: api, daemon: true, after: [migrate], cmd: "api"}
)", /*events=*/true);
  rig.launcher.script("migrate", Script::exits(0));
  RunResult r = rig.run();
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.journal() == Lines{"spawn migrate", "exit migrate 0", "spawn api", "SIGTERM api", "exit api SIGTERM"});
  CHECK(r.code == 124);
  CHECK(rig.event_index({R"("event":"cancel","node":"/","cause":"timeout")"}) >= 0);
  CHECK(rig.event_index({R"("cause":"done")"}) == -1);
}
