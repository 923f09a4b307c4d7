// Keeping going after a failure (interface.md 3, 4.2): `on_failure: continue` and
// `after: [{NAME: exited}]`, the report or clean-up step that runs whatever the tests
// did, and which failure decides the exit code.
#include <catch.hpp>

#include "run_fixture.h"

using namespace treerun;
using namespace treerun::test;

using Lines = std::vector<std::string>;

TEST_CASE("run: a report step after {tests: exited} runs after failed tests; the run exits with their status",
          "[run][exited][continue]") {
  RunRig rig(R"(
children:
  - {name: db, daemon: true, cmd: "db"}
  - {name: tests, after: [db], on_failure: continue, cmd: "tests"}
  - {name: report, after: [{tests: exited}], cmd: "report"}
  - {name: deploy, after: [tests], cmd: "deploy"}
)", /*events=*/true);
  rig.launcher.script("tests", Script::exits(3));
  rig.launcher.script("report", Script::exits(0));
  REQUIRE(rig.run().code == 3);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.journal() == Lines{"spawn db", "spawn tests", "exit tests 3", "spawn report", "exit report 0",
                                        "SIGTERM db", "exit db SIGTERM"});
  CHECK(rig.outcome("tests") == Outcome::failed);
  CHECK(rig.outcome("report") == Outcome::ok);
  // Skipped work never exits 0, and counts as a failure, but it cancels nothing.
  CHECK(rig.outcome("deploy") == Outcome::not_started);
  CHECK(rig.node("deploy").failure_reason == "skipped: its `after` tests failed");
  CHECK(rig.event_index({R"("event":"exit","node":"tests")", R"("outcome":"failed")"}) >= 0);
  CHECK(rig.event_index({R"("event":"cancel","node":"/","cause":"failure")"}) == -1);
}

TEST_CASE("run: {tests: exited} also follows tests that passed", "[run][exited]") {
  RunRig rig(R"(
children:
  - {name: tests, cmd: "tests"}
  - {name: report, after: [{tests: exited}], cmd: "report"}
)");
  rig.launcher.script("tests", Script::exits(0));
  rig.launcher.script("report", Script::exits(0));
  REQUIRE(rig.run().code == 0);
  CHECK(rig.launcher.journal() == Lines{"spawn tests", "exit tests 0", "spawn report", "exit report 0"});
}

TEST_CASE("run: {tests: exited} waits for the last run of a restarting worker", "[run][exited][restart]") {
  RunRig rig(R"(
children:
  - name: tests
    on_failure: restart
    restart: {max: 2, within: 60s, backoff: 10ms}
    cmd: "tests"
  - {name: report, after: [{tests: exited}], cmd: "report"}
)", /*events=*/true);
  rig.launcher.script("tests", {Script::exits(1), Script::exits(0)});
  rig.launcher.script("report", Script::exits(0));
  REQUIRE(rig.run().code == 0);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.journal() == Lines{"spawn tests", "exit tests 1", "spawn tests", "exit tests 0", "spawn report",
                                        "exit report 0"});
  CHECK(rig.event_index({R"("event":"restart","node":"tests","attempt":1,"cause":"failure","reason":"exit 1")"}) >= 0);
}

TEST_CASE("run: a worker that never started is no exit: what waits for its exit is skipped", "[run][exited]") {
  RunRig rig(R"(
children:
  - {name: build, on_failure: continue, cmd: "build"}
  - {name: tests, after: [build], cmd: "tests"}
  - {name: report, after: [{tests: exited}], cmd: "report"}
)");
  rig.launcher.script("build", Script::exits(2));
  REQUIRE(rig.run().code == 2);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.spawned() == Lines{"build"});
  CHECK(rig.outcome("tests") == Outcome::not_started);
  CHECK(rig.outcome("report") == Outcome::not_started);
}

TEST_CASE("run: a worker cancelled by its own timeout has exited: its report step still runs",
          "[run][exited]") {
  RunRig rig(R"(
children:
  - {name: tests, timeout: 20ms, on_failure: continue, cmd: "tests"}
  - {name: report, after: [{tests: exited}], cmd: "report"}
)");
  rig.launcher.script("tests", Script::runs());
  rig.launcher.script("report", Script::exits(0));
  REQUIRE(rig.run().code == 124);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.journal() == Lines{"spawn tests", "SIGTERM tests", "exit tests SIGTERM", "spawn report",
                                        "exit report 0"});
  CHECK(rig.outcome("tests") == Outcome::failed);
}

TEST_CASE("run: a failure under continue decides the exit code though a later one cancels the run",
          "[run][continue]") {
  RunRig rig(R"(
children:
  - {name: a, on_failure: continue, cmd: "a"}
  - {name: b, cmd: "b"}
)");
  rig.launcher.script("a", Script::exits(3));
  rig.launcher.script("b", Script::runs());
  rig.launcher.after_exit = [&](const FakeProcess& p, ExitStatus) {
    if (p.node == "a") rig.launcher.exit(rig.launcher.pid_of("b"), ExitStatus::exited(5));
  };
  REQUIRE(rig.run().code == 3);
  CHECK(rig.outcome("b") == Outcome::failed);
}

TEST_CASE("run: an earlier failure decides the exit code over a later one under continue", "[run][continue]") {
  RunRig rig(R"(
children:
  - {name: d, daemon: true, grace: 50ms, cmd: "d"}
  - {name: a, cmd: "a"}
  - {name: c, on_failure: continue, after: [d], cmd: "c"}
)");
  rig.launcher.script("a", Script::exits(4));
  rig.launcher.script("d", Script::ignores_term());
  rig.launcher.script("c", Script::runs());
  rig.launcher.on_signal = [&](const SignalRecord& sig) {
    if (sig.node == "d" && sig.sig == SIGTERM) rig.launcher.exit(rig.launcher.pid_of("c"), ExitStatus::exited(6));
  };
  REQUIRE(rig.run().code == 4);
}

TEST_CASE("run: a group with a failure under continue carries on, then ends failed", "[run][continue]") {
  RunRig rig(R"(
children:
  - name: suite
    children:
      - {name: unit, on_failure: continue, cmd: "unit"}
      - {name: e2e, cmd: "e2e"}
  - {name: publish, after: [suite], cmd: "publish"}
  - {name: cleanup, after: [{suite: exited}], cmd: "cleanup"}
)");
  rig.launcher.script("suite/unit", Script::exits(7));
  rig.launcher.script("suite/e2e", Script::exits(0));
  rig.launcher.script("cleanup", Script::exits(0));
  REQUIRE(rig.run().code == 7);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.spawned() == Lines{"suite/unit", "suite/e2e", "cleanup"});
  CHECK(rig.outcome("suite/e2e") == Outcome::ok);
  CHECK(rig.outcome("suite") == Outcome::failed);
  CHECK(rig.outcome("publish") == Outcome::not_started);
  CHECK(rig.node("publish").failure_reason == "skipped: its `after` suite failed");
}

TEST_CASE("run: under a group that ignores failures, a failure under continue decides nothing",
          "[run][continue]") {
  RunRig rig(R"(
children:
  - name: g
    on_failure: ignore
    children:
      - {name: a, on_failure: continue, cmd: "a"}
  - {name: b, cmd: "b"}
)");
  rig.launcher.script("g/a", Script::exits(3));
  rig.launcher.script("b", Script::exits(0));
  REQUIRE(rig.run().code == 0);
}
