// Regression tests for the supervisor, each named after the problem it pins
// (research/architecture-review.md §2.8).
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>

#include <boost/asio/steady_timer.hpp>
#include <catch.hpp>
#include <stdexcept>

#include "run_fixture.h"

using namespace treerun;
using namespace treerun::test;

using Lines = std::vector<std::string>;
using Signals = std::vector<int>;

namespace {

/// Lowers the soft RLIMIT_NOFILE so that the next descriptor cannot be opened, and
/// puts the old limit back when it goes out of scope (whatever the test did).
class NoMoreDescriptors {
 public:
  NoMoreDescriptors() { REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved_) == 0); }
  ~NoMoreDescriptors() { restore(); }
  /// A new descriptor takes the lowest free number; with the limit there, it fails
  /// with EMFILE. (The count of open descriptors would not do where there are holes.)
  void now() {
    int lowest = 0;
    while (::fcntl(lowest, F_GETFD) != -1) ++lowest;
    struct rlimit lim = saved_;
    lim.rlim_cur = static_cast<rlim_t>(lowest);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &lim) == 0);
    lowered_ = true;
  }
  void restore() {
    if (lowered_) ::setrlimit(RLIMIT_NOFILE, &saved_);
    lowered_ = false;
  }
  bool lowered() const { return lowered_; }

 private:
  struct rlimit saved_ {};
  bool lowered_ = false;
};

/// Ends a run that would hang, so that a broken supervisor fails the test instead.

}  // namespace

// §2.8, 2: restart() reset flags by hand but not failure_reason, so the summary said
// `failed` and listed the first exit under failures: for a node that ended well.
TEST_CASE("run: a node that fails, restarts and then succeeds is ok with no failure", "[run][regression]") {
  RunRig rig(R"(
children:
  - name: w
    on_failure: restart
    restart: {max: 3, within: 60s, backoff: 10ms}
    cmd: "w"
)");
  rig.launcher.script("w", {Script::exits(3), Script::exits(0)});
  REQUIRE(rig.run().code == 0);
  CHECK(rig.launcher.spawned() == Lines{"w", "w"});
  const Node& w = rig.node("w");
  CHECK(w.outcome == Outcome::ok);
  CHECK(w.failure_reason.empty());
  CHECK(w.failure_code == 0);
  REQUIRE(w.run.status.has_value());
  CHECK(w.run.status->success());
  CHECK(rig.node("").failure_reason.empty());
}

// §2.8, 3: a group restart re-opens its streams; out of descriptors (EMFILE) that
// threw out of the loop handler, unwinding the run with the other process groups
// alive. Now the group that cannot restart fails (125) and the tree is torn down.
TEST_CASE("run: a group restart that cannot open its streams fails the group and tears the run down",
          "[run][regression]") {
  RunRig rig(R"(
children:
  - {name: d, daemon: true, cmd: "d"}
  - name: g
    on_failure: restart
    restart: {max: 3, within: 60s, backoff: 200ms}
    children:
      - {name: producer, cmd: "producer", stderr: null}
      - {name: consumer, cmd: "consumer", stdin: producer, stdout: null, stderr: null}
)", /*events=*/true);
  rig.launcher.script("g/producer", Script::exits(1));
  rig.launcher.script("g/consumer", Script::runs());
  NoMoreDescriptors limit;
  // Once the group waits for its backoff, no new descriptor can be had.
  rig.launcher.after_exit = [&](const FakeProcess&, ExitStatus) {
    if (!limit.lowered() && rig.node("g").state == State::restart_due) limit.now();
  };
  Watchdog watchdog(rig.io, std::chrono::seconds(5));
  RunResult r{};
  REQUIRE_NOTHROW(r = rig.run());
  limit.restore();
  INFO(lines(rig.launcher.journal()));
  CHECK_FALSE(watchdog.fired);
  CHECK(r.code == 125);
  CHECK(rig.launcher.journal() == Lines{"spawn d", "spawn g/producer", "spawn g/consumer", "exit g/producer 1",
                                        "SIGTERM g/consumer", "exit g/consumer SIGTERM", "SIGTERM d", "exit d SIGTERM"});
  CHECK(rig.launcher.signals_to("d") == Signals{SIGTERM});
  CHECK(rig.launcher.alive().empty());
  CHECK(rig.outcome("g") == Outcome::failed);
  CHECK(rig.node("g").failure_reason.rfind("cannot restart: ", 0) == 0);
  CHECK(rig.node("g").failure_reason.find("Too many open files") != std::string::npos);
  CHECK(rig.outcome("d") == Outcome::cancelled);
  CHECK(rig.event_index({R"("event":"restart","node":"g","attempt":1)"}) >= 0);
  CHECK(rig.event_index({R"("event":"done","code":125)"}) >= 0);
}

// The same promise for any exception out of a loop handler (supervisor.cpp, run()):
// never an unwind with process groups alive, but a clean teardown, exit 125.
TEST_CASE("run: an exception in a loop handler tears the whole tree down with 125", "[run][regression]") {
  RunRig rig(R"(
children:
  - {name: d, daemon: true, cmd: "d"}
  - name: g
    children:
      - {name: e, daemon: true, grace: 50ms, cmd: "e"}
  - {name: a, cmd: "a"}
  - {name: w, cmd: "w"}
)");
  rig.launcher.script("g/e", Script::ignores_term());
  rig.launcher.script("a", Script::exits(0));
  rig.launcher.after_exit = [&](const FakeProcess& p, ExitStatus) {
    if (p.node == "a") throw std::runtime_error("a handler's own fault");
  };
  Watchdog watchdog(rig.io, std::chrono::seconds(5));
  RunResult r{};
  REQUIRE_NOTHROW(r = rig.run());
  INFO(lines(rig.launcher.journal()));
  CHECK_FALSE(watchdog.fired);
  CHECK(r.code == 125);
  CHECK(rig.launcher.signals_to("d") == Signals{SIGTERM});
  CHECK(rig.launcher.signals_to("g/e") == Signals{SIGTERM, SIGKILL});
  CHECK(rig.launcher.signals_to("w") == Signals{SIGTERM});
  CHECK(rig.launcher.alive().empty());
  CHECK(rig.outcome("a") == Outcome::ok);
  CHECK(rig.outcome("w") == Outcome::cancelled);
}

// The same, when what throws is the spawn itself (LocalLauncher::spawn allocates: argv,
// environment, PATH candidates, the reaper's map). b is then left in `starting` with no
// process (pid -1): the teardown's cancel reaches it, but consider_stop() skips a node
// with pid <= 0 and nothing else finishes it, so its group never settles and the run
// never ends (here the watchdog ends it). Now a spawn that throws is a node that cannot
// start: 126, as for EAGAIN, and the teardown is the ordinary one.
TEST_CASE("run: an exception out of a spawn is a failure to start and a clean teardown", "[run][regression]") {
  RunRig rig(R"(
children:
  - {name: d, daemon: true, cmd: "d"}
  - {name: a, cmd: "a"}
  - {name: b, after: [a], cmd: "b"}
)");
  rig.launcher.script("a", Script::exits(0));
  rig.launcher.script("b", Script::throws());
  Watchdog watchdog(rig.io, std::chrono::milliseconds(300));
  RunResult r{};
  REQUIRE_NOTHROW(r = rig.run());
  INFO(lines(rig.launcher.journal()));
  CHECK_FALSE(watchdog.fired);
  CHECK(r.code == 126);
  CHECK(rig.launcher.signals_to("d") == Signals{SIGTERM});
  CHECK(rig.launcher.alive().empty());
  CHECK(rig.node("b").state == State::finished);
  CHECK(rig.node("b").outcome == Outcome::failed);
}

TEST_CASE("run: an exception while a round of spawns is collected still collects the rest before the teardown",
          "[run][regression]") {
  // One round: d, w, y, z. w cannot be made: the tree is cancelled while y and z are in
  // flight. y, collected, is stopped at once, and that stop throws (a handler's own
  // fault). z must still be collected, known, and stopped.
  RunRig rig(R"(
children:
  - {name: d, daemon: true, cmd: "d"}
  - {name: w, cmd: "w"}
  - {name: y, daemon: true, cmd: "y"}
  - {name: z, daemon: true, cmd: "z"}
)");
  rig.launcher.script("w", Script::cannot_spawn(EAGAIN));
  bool thrown = false;
  rig.launcher.on_signal = [&](const SignalRecord& s) {
    if (s.node == "y" && !thrown) {
      thrown = true;
      throw std::runtime_error("a handler's own fault");
    }
  };
  Watchdog watchdog(rig.io, std::chrono::seconds(5));
  RunResult r{};
  REQUIRE_NOTHROW(r = rig.run());
  INFO(lines(rig.launcher.journal()));
  CHECK(thrown);
  CHECK_FALSE(watchdog.fired);
  CHECK(r.code == 126);  // w's failure came first
  CHECK(rig.launcher.alive().empty());
}

TEST_CASE("run: a start that fails before its submit, after an earlier failure of its round, is not started",
          "[run][regression]") {
  // One round: w, then x. w's spawn fails (known at its collect); x's output file cannot
  // be opened (known before its submit). spawn(x) collects w first, which cancels the
  // tree, x with it: x is 'not started: cancelled', not a second failure.
  RunRig rig(R"(
children:
  - {name: w, cmd: "w"}
  - {name: x, cmd: "x", stdout: {file: "/nonexistent-dir/x.log"}}
)", /*events=*/true);
  rig.launcher.script("w", Script::cannot_spawn(EAGAIN));
  REQUIRE(rig.run().code == 126);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.outcome("w") == Outcome::failed);
  CHECK(rig.outcome("x") == Outcome::not_started);
  CHECK(rig.event_index({R"("event":"exit","node":"x")"}) < 0);
}
