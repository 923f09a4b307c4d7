// One ctrl-c (interface.md 4.4; treerun(1) SEMANTICS › Stopping): a stop signal to
// treerun, or the run's timeout, cancels the whole tree once; a second ctrl-c forces.
// The signals are raised on this process: the Supervisor takes them as loop events.
#include <signal.h>

#include <catch.hpp>

#include "run_fixture.h"

using namespace treerun;
using namespace treerun::test;

using Lines = std::vector<std::string>;
using Signals = std::vector<int>;

TEST_CASE("run: a stop signal to treerun cancels the whole tree once", "[run][signal]") {
  const int sig = GENERATE(SIGINT, SIGTERM, SIGHUP);
  const char* cause = sig == SIGINT ? "sigint" : sig == SIGTERM ? "sigterm" : "sighup";
  RunRig rig(R"(
children:
  - {name: a, daemon: true, cmd: "a"}
  - name: g
    children:
      - {name: b, daemon: true, cmd: "b"}
      - {name: c, after: [b], cmd: "c"}
  - name: d
    daemon: true
    cmd: "d"
    children:
      - {name: e, daemon: true, cmd: "e"}
)", /*events=*/true);
  rig.launcher.on_spawn = [&](const FakeProcess& p) {
    if (p.node == "d/e") ::raise(sig);  // everything runs
  };
  RunResult r = rig.run();
  INFO(lines(rig.launcher.journal()));
  CHECK(r.code == 128 + sig);
  CHECK(r.signal == sig);
  for (const char* n : {"a", "g/b", "g/c", "d", "d/e"}) {
    INFO(n);
    CHECK(rig.launcher.signals_to(n) == Signals{SIGTERM});
    CHECK(rig.outcome(n) == Outcome::cancelled);
  }
  // Children and dependents first: e before d, c before b.
  const auto& j = rig.launcher.journal();
  CHECK(at(j, "exit d/e SIGTERM") < at(j, "SIGTERM d"));
  CHECK(at(j, "exit g/c SIGTERM") < at(j, "SIGTERM g/b"));
  CHECK(rig.event_index({R"("event":"cancel","node":"/","cause":")" + std::string(cause) + "\""}) >= 0);
  CHECK(rig.launcher.alive().empty());
}

TEST_CASE("run: a second ctrl-c sends SIGKILL to what is still running", "[run][signal]") {
  RunRig rig(R"(
children:
  - {name: a, daemon: true, grace: 10s, cmd: "a"}
)", /*events=*/true);
  rig.launcher.script("a", Script::ignores_term());
  rig.launcher.on_spawn = [&](const FakeProcess&) { ::raise(SIGINT); };
  rig.launcher.on_signal = [&](const SignalRecord& s) {
    if (s.sig == SIGTERM) ::raise(SIGINT);  // the first stop is under way: ctrl-c again
  };
  RunResult r = rig.run();
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.journal() == Lines{"spawn a", "SIGTERM a", "SIGKILL a", "exit a SIGKILL"});
  CHECK(r.code == 130);
  CHECK(rig.outcome("a") == Outcome::killed);
  CHECK(rig.event_index({R"("event":"kill","node":"a")"}) >= 0);
}

TEST_CASE("run: the run's timeout cancels the tree with 124", "[run][signal]") {
  RunRig rig(R"(
timeout: 50ms
children:
  - {name: d, daemon: true, cmd: "d"}
  - {name: w, after: [d], cmd: "w"}
)", /*events=*/true);
  RunResult r = rig.run();
  INFO(lines(rig.launcher.journal()));
  CHECK(r.code == 124);
  CHECK(r.signal == 0);
  CHECK(rig.launcher.journal() == Lines{"spawn d", "spawn w", "SIGTERM w", "exit w SIGTERM", "SIGTERM d", "exit d SIGTERM"});
  CHECK(rig.outcome("w") == Outcome::cancelled);
  CHECK(rig.event_index({R"("event":"cancel","node":"/","cause":"timeout")"}) >= 0);
}

TEST_CASE("run: the run's timeout does not strike a run already tearing down", "[run][signal]") {
  // The workers are done and s is in its grace (200ms) when the timeout (100ms) comes.
  RunRig rig(R"(
timeout: 100ms
children:
  - {name: s, daemon: true, grace: 200ms, cmd: "s"}
  - {name: w, cmd: "w"}
)", /*events=*/true);
  rig.launcher.script("s", Script::ignores_term());
  rig.launcher.script("w", Script::exits(0));
  RunResult r = rig.run();
  INFO(lines(rig.launcher.journal()));
  CHECK(r.code == 0);
  CHECK(rig.launcher.journal() == Lines{"spawn s", "spawn w", "exit w 0", "SIGTERM s", "SIGKILL s", "exit s SIGKILL"});
  CHECK(rig.event_index({R"("cause":"timeout")"}) == -1);
}
