// Regressions found by an independent review of the table-driven supervisor, each a
// whole run on the FakeLauncher that failed (or hung) before its fix.
#include <signal.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <catch.hpp>
#include <chrono>
#include <thread>

#include "run_fixture.h"

using namespace treerun;
using namespace treerun::test;

using Lines = std::vector<std::string>;
using Signals = std::vector<int>;


// R1: a stop command whose spawn throws leaves its node in `stopping` with no signal and
// no grace timer, and the other nodes the same cancel reached are never considered.
TEST_CASE("run: a stop command whose spawn throws", "[run][regression]") {
  RunRig rig(R"(
children:
  - {name: d, daemon: true, stop: "stopd", grace: 50ms, cmd: "d"}
  - {name: e, daemon: true, grace: 50ms, cmd: "e"}
  - {name: w, cmd: "w"}
)");
  rig.launcher.script("w", Script::exits(0));
  rig.launcher.script_beside("d", Script::throws());
  Watchdog dog(rig.io, std::chrono::milliseconds(1500));
  RunResult r{};
  REQUIRE_NOTHROW(r = rig.run());
  INFO(lines(rig.launcher.journal()));
  INFO("d: " << name(rig.node("d").state) << ", e: " << name(rig.node("e").state));
  CHECK_FALSE(dog.fired);
  CHECK(rig.launcher.alive().empty());
}

// R2: the restart timer's handler is not guarded: a cancel in the same loop round as the
// timer's expiry drops the restart (finished), then the handler delivers restart_timer
// to a finished node: a `bug` cell.
TEST_CASE("run: restart timer already due when a cancel drops the restart", "[run][regression]") {
  RunRig rig(R"(
children:
  - name: w
    on_failure: restart
    restart: {max: 3, within: 60s, backoff: 5ms}
    stdout: null
    stderr: null
    cmd: "w"
)");
  rig.launcher.script("w", {Script::exits(3), Script::runs()});
  bool raised = false;
  rig.launcher.after_exit = [&](const FakeProcess& p, ExitStatus) {
    if (p.node == "w" && !raised && rig.node("w").state == State::restart_due) {
      raised = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(30));  // the backoff is over
      ::raise(SIGINT);                                           // and a ctrl-c came
    }
  };
  Watchdog dog(rig.io, std::chrono::milliseconds(1500));
  RunResult r{};
  REQUIRE_NOTHROW(r = rig.run());
  INFO(lines(rig.launcher.journal()));
  CHECK(raised);
  CHECK(r.code == 130);
  CHECK(rig.node("w").state == State::finished);
}


// R2b: the same with the cancel coming from another node's failure, delivered by a
// handler that runs after the loop collected the expired timer.
TEST_CASE("run: restart timer already due when a failure drops the restart", "[run][regression]") {
  RunRig rig(R"(
children:
  - name: w
    on_failure: restart
    restart: {max: 3, within: 60s, backoff: 5ms}
    stdout: null
    stderr: null
    cmd: "w"
  - {name: x, cmd: "x", stdout: null, stderr: null}
)");
  rig.launcher.script("w", {Script::exits(3), Script::runs()});
  rig.launcher.script("x", Script::runs());
  int depth = GENERATE(0, 1, 2, 3);
  bool done = false;
  std::function<void(int)> later = [&](int n) {
    if (n == 0) return rig.launcher.exit(rig.launcher.pid_of("x"), ExitStatus::exited(5));
    boost::asio::post(rig.io, [&, n] { later(n - 1); });
  };
  rig.launcher.after_exit = [&](const FakeProcess& p, ExitStatus) {
    if (p.node == "w" && !done && rig.node("w").state == State::restart_due) {
      done = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(30));  // the backoff is over
      later(depth);
    }
  };
  Watchdog dog(rig.io, std::chrono::milliseconds(1500));
  RunResult r{};
  REQUIRE_NOTHROW(r = rig.run());
  INFO("depth " << depth);
  INFO(lines(rig.launcher.journal()));
  CHECK(done);
  CHECK(r.code == 5);
}


// R2c: deterministic: another timer due in the same loop round, just before the restart
// timer, fails a node (a readiness probe's timeout) and so cancels the root.
TEST_CASE("run: restart timer due in the same round as a cancel", "[run][regression]") {
  RunRig rig(R"(
children:
  - name: w
    on_failure: restart
    restart: {max: 3, within: 60s, backoff: 20ms}
    stdout: null
    stderr: null
    cmd: "w"
  - {name: x, daemon: true, cmd: "x", stdout: null, stderr: null, ready: {file: /nonexistent/review, timeout: 60s}}
)");
  rig.launcher.script("w", {Script::exits(3), Script::runs()});
  rig.launcher.script("x", Script::runs());
  bool armed = false;
  boost::asio::steady_timer mine(rig.io);
  rig.launcher.after_exit = [&](const FakeProcess& p, ExitStatus) {
    if (p.node == "w" && !armed && rig.node("w").state == State::restart_due) {
      armed = true;
      mine.expires_after(std::chrono::milliseconds(10));
      mine.async_wait([&](const boost::system::error_code& ec) {
        if (!ec) rig.supervisor->probe_failed(rig.id("x"), "review: probe failed");
      });
      std::this_thread::sleep_for(std::chrono::milliseconds(40));  // both timers are due
    }
  };
  Watchdog dog(rig.io, std::chrono::milliseconds(1500));
  RunResult r{};
  REQUIRE_NOTHROW(r = rig.run());
  INFO(lines(rig.launcher.journal()));
  CHECK(armed);
  CHECK(r.code == 124);
  CHECK(rig.node("w").state == State::finished);
}

// R3: a process node with children exits; its children are cancelled one cancel() each,
// so d (in g, which c depends on) is stopped before c's cancel is even marked.
TEST_CASE("run: children of an exited node keep the after order in their stop", "[run][regression]") {
  RunRig rig(R"(
children:
  - name: p
    cmd: "p"
    children:
      - name: g
        children:
          - {name: d, daemon: true, cmd: "d"}
      - {name: c, daemon: true, after: [g], grace: 50ms, cmd: "c"}
)");
  rig.launcher.script("p/c", Script::ignores_term());
  rig.launcher.on_spawn = [&](const FakeProcess& proc) {
    if (proc.node == "p/c") rig.launcher.exit(rig.launcher.pid_of("p"), ExitStatus::exited(0));
  };
  Watchdog dog(rig.io, std::chrono::milliseconds(1500));
  RunResult r{};
  REQUIRE_NOTHROW(r = rig.run());
  INFO(lines(rig.launcher.journal()));
  CHECK_FALSE(dog.fired);
  auto j = rig.launcher.journal();
  CHECK(at(j, "exit p/c SIGKILL") >= 0);
  CHECK(at(j, "SIGTERM p/g/d") > at(j, "exit p/c SIGKILL"));
}

// R4: a skipped worker's failure reaches its group after the group has settled: under
// on_failure: restart the restart is wanted on a finished node, never happens, and the
// failure is swallowed: the run exits 0 and `later` (after g) runs.
TEST_CASE("run: skipped work in a restartable group", "[run][regression]") {
  RunRig rig(R"(
children:
  - name: g
    on_failure: restart
    restart: {max: 2, within: 60s, backoff: 10ms}
    children:
      - {name: a, cmd: "a", on_failure: ignore}
      - {name: b, after: [a], cmd: "b"}
  - {name: later, after: [g], cmd: "later"}
)");
  rig.launcher.script("g/a", Script::exits(3));
  rig.launcher.script("later", Script::exits(0));
  Watchdog dog(rig.io, std::chrono::milliseconds(1500));
  RunResult r{};
  REQUIRE_NOTHROW(r = rig.run());
  INFO(lines(rig.launcher.journal()));
  CHECK_FALSE(dog.fired);
  CHECK(r.code != 0);
  CHECK_FALSE(rig.node("g").restart_wanted);
  CHECK(at(rig.launcher.journal(), "spawn later") < 0);
}
