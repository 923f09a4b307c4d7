// Failure (interface.md 4.2, exit codes in 2; treerun(1) SEMANTICS › Failure): what a
// node's failure does under each on_failure, which failure decides the exit code, and
// what counts as a failure at all.
#include <errno.h>
#include <signal.h>

#include <boost/asio/post.hpp>
#include <catch.hpp>

#include "run_fixture.h"

using namespace treerun;
using namespace treerun::test;

using Lines = std::vector<std::string>;
using Signals = std::vector<int>;

TEST_CASE("run: a failure under cancel tears the group down; the exit code is its", "[run][failure]") {
  RunRig rig(R"(
children:
  - {name: d, daemon: true, cmd: "d"}
  - {name: a, cmd: "a"}
  - {name: b, cmd: "b"}
)", /*events=*/true);
  rig.launcher.script("a", Script::exits(3));
  rig.launcher.script("b", Script::runs_then_exits(7));  // a stopped node's status is no failure
  REQUIRE(rig.run().code == 3);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.journal() == Lines{"spawn d", "spawn a", "spawn b", "exit a 3", "SIGTERM d", "SIGTERM b",
                                        "exit d SIGTERM", "exit b 7"});
  CHECK(rig.outcome("a") == Outcome::failed);
  CHECK(rig.outcome("b") == Outcome::cancelled);
  CHECK(rig.outcome("d") == Outcome::cancelled);
  CHECK(rig.node("b").failure_reason.empty());
  CHECK(rig.event_index({R"("event":"cancel","node":"/","cause":"failure","by":"a")"}) >= 0);
}

TEST_CASE("run: a failure goes up through the groups to the root", "[run][failure]") {
  RunRig rig(R"(
children:
  - name: outer
    children:
      - name: inner
        children:
          - {name: x, cmd: "x"}
          - {name: y, daemon: true, cmd: "y"}
  - {name: z, daemon: true, cmd: "z"}
)", /*events=*/true);
  rig.launcher.script("outer/inner/x", Script::exits(9));
  REQUIRE(rig.run().code == 9);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.signals_to("outer/inner/y") == Signals{SIGTERM});
  CHECK(rig.launcher.signals_to("z") == Signals{SIGTERM});
  CHECK(rig.outcome("outer/inner") == Outcome::failed);
  CHECK(rig.outcome("outer") == Outcome::failed);
  CHECK(rig.event_index({R"("event":"cancel","node":"outer/inner","cause":"failure","by":"outer/inner/x")"}) >= 0);
  CHECK(rig.event_index({R"("event":"cancel","node":"outer","cause":"failure","by":"outer/inner/x")"}) >= 0);
  CHECK(rig.event_index({R"("event":"cancel","node":"/","cause":"failure","by":"outer/inner/x")"}) >= 0);
}

TEST_CASE("run: the first failure decides the exit code", "[run][failure]") {
  // w fails (3); while s, which ignores its stop, holds up d's stop, d exits on its own
  // (5): a second failure, reported, but not the run's exit code.
  RunRig rig(R"(
children:
  - {name: d, daemon: true, cmd: "d"}
  - {name: s, daemon: true, after: [d], grace: 50ms, cmd: "s"}
  - {name: w, after: [s], cmd: "w"}
)");
  rig.launcher.script("s", Script::ignores_term());
  rig.launcher.script("w", Script::exits(3));
  rig.launcher.on_signal = [&](const SignalRecord& sig) {
    if (sig.node == "s" && sig.sig == SIGTERM) rig.launcher.exit(rig.launcher.pid_of("d"), ExitStatus::exited(5));
  };
  REQUIRE(rig.run().code == 3);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.journal() == Lines{"spawn d", "spawn s", "spawn w", "exit w 3", "SIGTERM s", "exit d 5",
                                        "SIGKILL s", "exit s SIGKILL"});
  CHECK(rig.outcome("w") == Outcome::failed);
  CHECK(rig.outcome("d") == Outcome::failed);
  CHECK(rig.node("d").failure_reason == "daemon exited on its own: exit 5");
  CHECK(rig.outcome("s") == Outcome::killed);
}

TEST_CASE("run: a failure under ignore is recorded and the group goes on", "[run][failure]") {
  RunRig rig(R"(
children:
  - {name: d, daemon: true, cmd: "d"}
  - {name: a, on_failure: ignore, cmd: "a"}
  - {name: b, cmd: "b"}
)");
  rig.launcher.script("a", Script::exits(3));
  rig.launcher.script("b", Script::runs());
  rig.launcher.after_exit = [&](const FakeProcess& p, ExitStatus) {
    if (p.node == "a") rig.launcher.exit(rig.launcher.pid_of("b"), ExitStatus::exited(0));
  };
  REQUIRE(rig.run().code == 0);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.journal() == Lines{"spawn d", "spawn a", "spawn b", "exit a 3", "exit b 0", "SIGTERM d",
                                        "exit d SIGTERM"});
  CHECK(rig.outcome("a") == Outcome::failed_ignored);
  CHECK(rig.outcome("b") == Outcome::ok);
  CHECK(rig.outcome("d") == Outcome::cancelled);
}

// interface.md 3 (on_failure): `continue` records the failure, carries on, and decides
// the exit code at the end as a failure does (make -k).
TEST_CASE("run: a failure under continue lets the group go on and decides the exit code",
          "[run][failure]") {
  RunRig rig(R"(
children:
  - {name: a, on_failure: continue, cmd: "a"}
  - {name: b, cmd: "b"}
)");
  rig.launcher.script("a", Script::exits(3));
  rig.launcher.script("b", Script::runs());
  rig.launcher.after_exit = [&](const FakeProcess& p, ExitStatus) {
    if (p.node == "a") rig.launcher.exit(rig.launcher.pid_of("b"), ExitStatus::exited(0));
  };
  RunResult r = rig.run();
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.journal() == Lines{"spawn a", "spawn b", "exit a 3", "exit b 0"});
  CHECK(rig.outcome("b") == Outcome::ok);
  CHECK(rig.outcome("a") == Outcome::failed);
  CHECK(r.code == 3);
}

TEST_CASE("run: a failure under restart respawns the node, a new pid each time", "[run][failure][restart]") {
  RunRig rig(R"(
children:
  - name: w
    on_failure: restart
    restart: {max: 3, within: 60s, backoff: 10ms}
    cmd: "w"
)", /*events=*/true);
  rig.launcher.script("w", {Script::exits(1), Script::exits(1), Script::exits(0)});
  REQUIRE(rig.run().code == 0);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.journal() == Lines{"spawn w", "exit w 1", "spawn w", "exit w 1", "spawn w", "exit w 0"});
  CHECK(rig.launcher.pid_of("w", 0) == 100);
  CHECK(rig.launcher.pid_of("w", 1) == 101);
  CHECK(rig.launcher.pid_of("w", 2) == 102);
  // The last incarnation decides: nothing of the failed ones survives the restart.
  CHECK(rig.outcome("w") == Outcome::ok);
  CHECK(rig.node("w").failure_reason.empty());
  CHECK(rig.node("w").attempt == 2);
  CHECK(rig.event_index({R"("event":"restart","node":"w","attempt":2)"}) >= 0);
  CHECK(rig.event_index({R"("event":"exit","node":"w","pid":102,"code":0,"signal":null,"outcome":"ok")"}) >= 0);
}

TEST_CASE("run: past restart.max, a restarting node fails as under cancel", "[run][failure][restart]") {
  RunRig rig(R"(
children:
  - {name: d, daemon: true, cmd: "d"}
  - name: w
    on_failure: restart
    restart: {max: 2, within: 60s, backoff: 10ms}
    cmd: "w"
)");
  rig.launcher.script("w", Script::exits(6));
  REQUIRE(rig.run().code == 6);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.spawned() == Lines{"d", "w", "w", "w"});
  CHECK(rig.outcome("w") == Outcome::failed);
  CHECK(rig.launcher.signals_to("d") == Signals{SIGTERM});
}

TEST_CASE("run: a group under restart is torn down whole and started again", "[run][failure][restart]") {
  RunRig rig(R"(
children:
  - name: g
    on_failure: restart
    restart: {max: 1, within: 60s, backoff: 10ms}
    children:
      - {name: d, daemon: true, cmd: "d"}
      - {name: w, after: [d], cmd: "w"}
)", /*events=*/true);
  rig.launcher.script("g/w", {Script::exits(2), Script::exits(0)});
  REQUIRE(rig.run().code == 0);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.journal() == Lines{"spawn g/d", "spawn g/w", "exit g/w 2", "SIGTERM g/d", "exit g/d SIGTERM",
                                        "spawn g/d", "spawn g/w", "exit g/w 0", "SIGTERM g/d", "exit g/d SIGTERM"});
  CHECK(rig.launcher.pid_of("g/d", 1) == 102);
  CHECK(rig.outcome("g") == Outcome::ok);
  CHECK(rig.outcome("g/w") == Outcome::ok);
  CHECK(rig.outcome("g/d") == Outcome::cancelled);
  CHECK(rig.event_index({R"("event":"restart","node":"g","attempt":1)"}) >= 0);
}

TEST_CASE("run: a daemon that exits on its own is a failure", "[run][failure]") {
  SECTION("with status 0: exit code 1") {
    RunRig rig(R"(
children:
  - {name: d, daemon: true, cmd: "d"}
  - {name: w, cmd: "w"}
)");
    rig.launcher.script("d", Script::exits(0));
    REQUIRE(rig.run().code == 1);
    INFO(lines(rig.launcher.journal()));
    CHECK(rig.launcher.journal() == Lines{"spawn d", "spawn w", "exit d 0", "SIGTERM w", "exit w SIGTERM"});
    CHECK(rig.outcome("d") == Outcome::failed);
    CHECK(rig.node("d").failure_reason == "daemon exited on its own with status 0");
    CHECK(rig.outcome("w") == Outcome::cancelled);
  }
  SECTION("with its own status") {
    RunRig rig(R"(
children:
  - {name: d, daemon: true, cmd: "d"}
  - {name: w, cmd: "w"}
)");
    rig.launcher.script("d", Script::exits(4));
    REQUIRE(rig.run().code == 4);
    CHECK(rig.outcome("d") == Outcome::failed);
  }
}

TEST_CASE("run: a process killed by a signal nobody in treerun sent has failed", "[run][failure]") {
  RunRig rig(R"(
children:
  - {name: d, daemon: true, cmd: "d"}
  - {name: w, cmd: "w"}
)");
  rig.launcher.on_spawn = [&](const FakeProcess& p) {
    if (p.node == "w") rig.launcher.exit(rig.launcher.pid_of("d"), ExitStatus::signaled(SIGKILL));  // kill -9 from outside
  };
  REQUIRE(rig.run().code == 128 + SIGKILL);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.journal() == Lines{"spawn d", "spawn w", "exit d SIGKILL", "SIGTERM w", "exit w SIGTERM"});
  CHECK(rig.outcome("d") == Outcome::failed);
  CHECK(rig.outcome("w") == Outcome::cancelled);
}

TEST_CASE("run: a worker killed by a signal fails with 128+N", "[run][failure]") {
  RunRig rig(R"(
children:
  - {name: w, cmd: "w"}
)");
  rig.launcher.script("w", Script::dies_of(SIGSEGV));
  REQUIRE(rig.run().code == 128 + SIGSEGV);
  CHECK(rig.outcome("w") == Outcome::failed);
}

TEST_CASE("run: a command that is not found fails with 127", "[run][failure]") {
  RunRig rig(R"(
children:
  - {name: d, daemon: true, cmd: "d"}
  - {name: w, cmd: [nosuchprogram]}
)");
  rig.launcher.script("w", Script::not_found());
  REQUIRE(rig.run().code == 127);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.journal() == Lines{"spawn d", "spawn w", "exit w 127", "SIGTERM d", "exit d SIGTERM"});
  CHECK(rig.outcome("w") == Outcome::failed);
  CHECK(rig.node("w").failure_reason == "command not found: nosuchprogram");
}

TEST_CASE("run: a process that cannot be created fails with 126, and has an exit event", "[run][failure]") {
  RunRig rig(R"(
children:
  - {name: d, daemon: true, cmd: "d"}
  - {name: w, cmd: "w"}
)", /*events=*/true);
  rig.launcher.script("w", Script::cannot_spawn(EAGAIN));
  REQUIRE(rig.run().code == 126);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.journal() == Lines{"spawn d", "spawn-error w", "SIGTERM d", "exit d SIGTERM"});
  CHECK(rig.outcome("w") == Outcome::failed);
  CHECK(rig.event_index({R"("event":"exit","node":"w","pid":null,"code":126,"signal":null,"outcome":"failed")"}) >= 0);
}

TEST_CASE("run: a batch's spawns are collected after all are submitted; a failure among them cancels the rest",
          "[run][failure]") {
  // One batch: d, w, x and y are submitted before any is collected. w's failure cancels
  // the tree while x and y are submitted but not collected: x, which could not be made
  // either, is not started (as if the cancel had come first, not a second failure);
  // y, which was, is stopped once it is known.
  RunRig rig(R"(
children:
  - {name: d, daemon: true, cmd: "d"}
  - {name: w, cmd: "w"}
  - {name: x, cmd: "x"}
  - {name: y, daemon: true, cmd: "y"}
)", /*events=*/true);
  rig.launcher.script("w", Script::cannot_spawn(EAGAIN));
  rig.launcher.script("x", Script::cannot_spawn(EAGAIN));
  REQUIRE(rig.run().code == 126);
  INFO(lines(rig.launcher.journal()));
  const Lines& all = rig.launcher.journal();
  REQUIRE(all.size() >= 4);
  CHECK(Lines(all.begin(), all.begin() + 4) == Lines{"spawn d", "spawn-error w", "spawn-error x", "spawn y"});
  CHECK(std::count(all.begin(), all.end(), "SIGTERM d") == 1);
  CHECK(std::count(all.begin(), all.end(), "SIGTERM y") == 1);
  CHECK(rig.outcome("w") == Outcome::failed);
  CHECK(rig.outcome("x") == Outcome::not_started);
  CHECK(rig.node("x").skip_reason == "not started: cancelled");
  CHECK(rig.outcome("y") == Outcome::cancelled);
  CHECK(rig.outcome("d") == Outcome::cancelled);
  CHECK(rig.event_index({R"("event":"exit","node":"x")"}) < 0);
}

TEST_CASE("run: a node past its own timeout is stopped and fails with 124", "[run][failure]") {
  RunRig rig(R"(
children:
  - {name: w, timeout: 50ms, cmd: "w"}
)", /*events=*/true);
  REQUIRE(rig.run().code == 124);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.journal() == Lines{"spawn w", "SIGTERM w", "exit w SIGTERM"});
  CHECK(rig.node("w").failure_reason == "timed out after 50ms");
  CHECK(rig.outcome("w") == Outcome::failed);  // stopped for its own failure: failed, not cancelled
  CHECK(rig.event_index({R"("event":"cancel","node":"w","cause":"timeout")"}) >= 0);
}

TEST_CASE("run: a readiness probe that times out fails its node with 124", "[run][failure]") {
  RunRig rig(R"(
children:
  - {name: d, daemon: true, cmd: "d", ready: {exec: "check", interval: 10ms, timeout: 50ms}}
  - {name: x, after: [d], cmd: "x"}
)");
  rig.launcher.script_beside("d", Script::exits(1));
  REQUIRE(rig.run().code == 124);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.spawned() == Lines{"d"});
  CHECK(rig.launcher.signals_to("d") == Signals{SIGTERM});
  CHECK(rig.outcome("d") == Outcome::failed);
  CHECK(rig.outcome("x") == Outcome::not_started);
  CHECK(rig.launcher.alive().empty());
}

TEST_CASE("run: a failure racing the cancel is judged by what it did, not as cancelled", "[run][failure]") {
  RunRig rig(R"(
children:
  - {name: a, cmd: "a"}
  - {name: b, cmd: "b"}
  - {name: c, cmd: "c"}
)", /*events=*/true);
  rig.launcher.script("a", Script::runs());
  rig.launcher.script("b", Script::runs());
  rig.launcher.script("c", Script::runs_then_exits(0));
  // a fails, and b's failure is already waiting to be collected when the root's cancel
  // comes to stop it: b gets no stop signal and ends failed; c, still running, cancelled.
  bool once = false;
  rig.launcher.on_spawn = [&](const FakeProcess& p) {
    if (p.node != "c" || once) return;
    once = true;
    boost::asio::post(rig.io, [&] { rig.launcher.exit(rig.launcher.pid_of("a"), ExitStatus::exited(3)); });
  };
  rig.launcher.after_exit = [&](const FakeProcess& p, ExitStatus) {
    // a's failure has been handled and the stops it calls for are due next turn.
    if (p.node == "a") rig.launcher.exit(rig.launcher.pid_of("b"), ExitStatus::exited(4));
  };
  REQUIRE(rig.run().code == 3);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.signals_to("b").empty());
  CHECK(rig.launcher.signals_to("c") == Signals{SIGTERM});
  CHECK(rig.outcome("a") == Outcome::failed);
  CHECK(rig.outcome("b") == Outcome::failed);
  CHECK(rig.outcome("c") == Outcome::cancelled);
  CHECK(rig.event_index({R"("event":"exit","node":"b","pid":101,"code":4,"signal":null,"outcome":"failed")"}) >= 0);
}

// REVIEW (rev9): the batch's "no child had exited" must not outlive the batch: a stop
// that comes later, outside any batch (a parent's, once its child is gone), looks again.
TEST_CASE("run: a parent that failed while its child was stopping is judged by its exit", "[run][failure][rev9]") {
  RunRig rig(R"(
children:
  - name: p
    cmd: "p"
    children:
      - {name: c, cmd: "c"}
  - {name: x, cmd: "x"}
)", /*events=*/true);
  rig.launcher.script("p", Script::runs());
  rig.launcher.script("c", Script::runs());
  rig.launcher.script("x", Script::runs());
  bool once = false;
  rig.launcher.on_spawn = [&](const FakeProcess& p) {
    if (p.node != "p/c" || once) return;
    once = true;
    boost::asio::post(rig.io, [&] { rig.launcher.exit(rig.launcher.pid_of("x"), ExitStatus::exited(3)); });
  };
  // c's stop (the first batch, no child exited at its start) makes p fail: p's exit
  // waits to be collected when c's exit lets p's stop go out, in a later turn.
  rig.launcher.on_signal = [&](const SignalRecord& s) {
    if (s.node == "p/c" && s.sig == SIGTERM) rig.launcher.exit(rig.launcher.pid_of("p"), ExitStatus::exited(4));
  };
  int code = rig.run().code;
  INFO(lines(rig.launcher.journal()));
  CHECK(code == 3);
  CHECK(rig.launcher.signals_to("p").empty());
  CHECK(rig.outcome("p") == Outcome::failed);
  CHECK(rig.outcome("p/c") == Outcome::cancelled);
}
