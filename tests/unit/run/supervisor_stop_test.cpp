// Graceful cancel, then reap (interface.md 4.3; treerun(1) SEMANTICS › Stopping):
// children and dependents before what they need, exactly one stop per process, the
// node's stop_signal or stop command, SIGKILL after grace, leftovers of a dead leader.
#include <signal.h>

#include <catch.hpp>

#include "run_fixture.h"

using namespace treerun;
using namespace treerun::test;

using Lines = std::vector<std::string>;
using Signals = std::vector<int>;

TEST_CASE("run: dependents are stopped before what they depend on", "[run][stop]") {
  RunRig rig(R"(
children:
  - {name: db, daemon: true, cmd: "db"}
  - {name: api, daemon: true, after: [db], cmd: "api"}
  - {name: w, after: [api], cmd: "w"}
)");
  rig.launcher.script("w", Script::exits(0));
  REQUIRE(rig.run().code == 0);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.journal() == Lines{"spawn db", "spawn api", "spawn w", "exit w 0", "SIGTERM api",
                                        "exit api SIGTERM", "SIGTERM db", "exit db SIGTERM"});
}

TEST_CASE("run: children are stopped before their parent", "[run][stop]") {
  RunRig rig(R"(
children:
  - name: d
    daemon: true
    cmd: "d"
    children:
      - {name: c, daemon: true, cmd: "c"}
  - {name: w, cmd: "w"}
)");
  rig.launcher.script("w", Script::exits(0));
  REQUIRE(rig.run().code == 0);
  INFO(lines(rig.launcher.journal()));
  CHECK(sorted(rig.launcher.spawned()) == Lines{"d", "d/c", "w"});
  CHECK(from(rig.launcher.journal(), "exit w 0") ==
        Lines{"exit w 0", "SIGTERM d/c", "exit d/c SIGTERM", "SIGTERM d", "exit d SIGTERM"});
}

TEST_CASE("run: a node that something inside a group depends on waits for it", "[run][stop]") {
  RunRig rig(R"(
children:
  - name: g
    children:
      - {name: a, daemon: true, cmd: "a"}
  - {name: b, daemon: true, after: [g], cmd: "b"}
  - {name: w, after: [b], cmd: "w"}
)");
  rig.launcher.script("w", Script::exits(0));
  REQUIRE(rig.run().code == 0);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.journal() == Lines{"spawn g/a", "spawn b", "spawn w", "exit w 0", "SIGTERM b",
                                        "exit b SIGTERM", "SIGTERM g/a", "exit g/a SIGTERM"});
}

TEST_CASE("run: nodes with no order between them are stopped at once", "[run][stop]") {
  RunRig rig(R"(
children:
  - {name: a, daemon: true, cmd: "a"}
  - {name: g, children: [{name: b, daemon: true, cmd: "b"}]}
  - {name: w, cmd: "w"}
)");
  rig.launcher.script("w", Script::exits(0));
  REQUIRE(rig.run().code == 0);
  INFO(lines(rig.launcher.journal()));
  // Both stops are sent in the same turn, before either exit is collected.
  CHECK(rig.launcher.journal() == Lines{"spawn a", "spawn g/b", "spawn w", "exit w 0", "SIGTERM a", "SIGTERM g/b",
                                        "exit a SIGTERM", "exit g/b SIGTERM"});
}

TEST_CASE("run: the stop is the node's stop_signal, followed by SIGCONT", "[run][stop]") {
  RunRig rig(R"(
children:
  - {name: d, daemon: true, stop_signal: SIGINT, cmd: "d"}
  - {name: w, cmd: "w"}
)", /*events=*/true);
  rig.launcher.script("w", Script::exits(0));
  REQUIRE(rig.run().code == 0);
  std::vector<int> sent;
  for (const SignalRecord& s : rig.launcher.signals()) {
    CHECK(s.pgid == rig.launcher.pid_of("d"));
    sent.push_back(s.sig);
  }
  CHECK(sent == Signals{SIGINT, SIGCONT});
  CHECK(rig.outcome("d") == Outcome::cancelled);
  CHECK(rig.event_index({R"("event":"stop","node":"d","how":"SIGINT")"}) >= 0);
}

TEST_CASE("run: a node that ignores its stop signal gets SIGKILL after its grace", "[run][stop]") {
  RunRig rig(R"(
children:
  - {name: d, daemon: true, grace: 50ms, cmd: "d"}
  - {name: w, cmd: "w"}
)", /*events=*/true);
  rig.launcher.script("d", Script::ignores_term());
  rig.launcher.script("w", Script::exits(0));
  REQUIRE(rig.run().code == 0);  // asked to stop: killed is no failure
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.journal() == Lines{"spawn d", "spawn w", "exit w 0", "SIGTERM d", "SIGKILL d", "exit d SIGKILL"});
  CHECK(rig.outcome("d") == Outcome::killed);
  CHECK(rig.node("d").failure_reason.empty());
  CHECK(rig.event_index({R"("event":"kill","node":"d")"}) > rig.event_index({R"("event":"stop","node":"d")"}));
  CHECK(rig.event_index({R"("event":"exit","node":"d",)", R"("outcome":"killed")"}) >= 0);
}

TEST_CASE("run: each process gets exactly one stop signal, however deep its nursery", "[run][stop]") {
  // A process that would die of a second SIGTERM: a stop sent once per level would end
  // it `cancelled` by SIGTERM instead of `killed` after its grace.
  RunRig rig(R"(
children:
  - name: g1
    children:
      - name: g2
        children:
          - {name: d, daemon: true, grace: 50ms, cmd: "d"}
          - {name: e, daemon: true, grace: 50ms, cmd: "e"}
  - {name: w, cmd: "w"}
)");
  rig.launcher.script("g1/g2/d", Script::survives_first());
  rig.launcher.script("g1/g2/e", Script::survives_first());
  rig.launcher.script("w", Script::exits(0));
  REQUIRE(rig.run().code == 0);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.signals_to("g1/g2/d") == Signals{SIGTERM, SIGKILL});
  CHECK(rig.launcher.signals_to("g1/g2/e") == Signals{SIGTERM, SIGKILL});
  CHECK(rig.outcome("g1/g2/d") == Outcome::killed);
  CHECK(rig.outcome("g1/g2/e") == Outcome::killed);
}

TEST_CASE("run: a stop command runs beside its node instead of the stop signal", "[run][stop]") {
  RunRig rig(R"(
children:
  - {name: d, daemon: true, stop: "svc stop", grace: 10s, cmd: "svc run"}
  - {name: w, cmd: "w"}
)", /*events=*/true);
  rig.launcher.script("w", Script::exits(0));
  rig.launcher.script_beside("d", Script::stop_command());  // it works: d then exits 0
  REQUIRE(rig.run().code == 0);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.journal() ==
        Lines{"spawn d", "spawn w", "exit w 0", "spawn d[svc stop]", "exit d[svc stop] 0", "exit d 0"});
  const FakeProcess& stop = rig.launcher.process(102);
  REQUIRE(stop.beside.has_value());
  CHECK(stop.beside->pid == rig.launcher.pid_of("d"));
  CHECK(stop.beside->pgid == rig.launcher.pid_of("d"));
  CHECK(rig.launcher.signals_to("d").empty());
  CHECK(rig.outcome("d") == Outcome::cancelled);
  CHECK(rig.event_index({R"("event":"stop","node":"d","how":"command")"}) >= 0);
}

TEST_CASE("run: a stop command that does not stop its node is bounded by the grace", "[run][stop]") {
  RunRig rig(R"(
children:
  - {name: d, daemon: true, stop: "svc stop", grace: 50ms, cmd: "svc run"}
  - {name: w, cmd: "w"}
)");
  rig.launcher.script("w", Script::exits(0));
  rig.launcher.script_beside("d", Script::exits(0));  // ends, but d runs on
  REQUIRE(rig.run().code == 0);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.journal() == Lines{"spawn d", "spawn w", "exit w 0", "spawn d[svc stop]", "exit d[svc stop] 0",
                                        "SIGKILL d", "exit d SIGKILL"});
  CHECK(rig.outcome("d") == Outcome::killed);
}

TEST_CASE("run: what a dead leader left in its group gets the stop signal", "[run][stop]") {
  RunRig rig(R"(
children:
  - {name: w, cmd: "w &"}
)");
  rig.launcher.script("w", Script::exits(0).lingering());
  REQUIRE(rig.run().code == 0);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.journal() == Lines{"spawn w", "exit w 0", "SIGTERM w", "group-gone w"});
  CHECK(rig.outcome("w") == Outcome::ok);
  REQUIRE(rig.launcher.forgotten().size() == 1);
  CHECK(rig.launcher.forgotten()[0].pgid == rig.launcher.pid_of("w"));
  CHECK(rig.launcher.alive().empty());
}

TEST_CASE("run: nothing is left running and every group is forgotten at the end", "[run][stop]") {
  RunRig rig(R"(
children:
  - {name: a, daemon: true, cmd: "a"}
  - {name: b, daemon: true, after: [a], grace: 50ms, cmd: "b"}
  - {name: w, cmd: "w"}
)");
  rig.launcher.script("b", Script::ignores_term());
  rig.launcher.script("w", Script::exits(0));
  REQUIRE(rig.run().code == 0);
  CHECK(rig.launcher.alive().empty());
  std::vector<pid_t> forgotten;
  for (const ProcHandle& h : rig.launcher.forgotten()) forgotten.push_back(h.pgid);
  std::sort(forgotten.begin(), forgotten.end());
  CHECK(forgotten == std::vector<pid_t>{100, 101, 102});
}
