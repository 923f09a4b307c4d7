// Health checks (interface.md 3, `health`): once a node is ready, a check every
// interval; `failures` in a row are a failure of the node, which its on_failure
// decides. The checks here are `file:` checks of a path in the test's folder (the
// FakeLauncher runs no command), on the run's real loop and timers.
#include <signal.h>

#include <catch.hpp>
#include <fstream>

#include "run_fixture.h"

using namespace treerun;
using namespace treerun::test;

using Lines = std::vector<std::string>;
using Signals = std::vector<int>;

namespace {

/// A spec whose daemon `d` is healthy while FILE exists, next to a worker `w`.
std::string spec(const std::string& file, const std::string& policy) {
  return "children:\n"
         "  - name: d\n"
         "    daemon: true\n"
         "    cmd: d\n"
         "    " + policy + "\n"
         "    health: {file: " + file + ", interval: 10ms, failures: 2}\n"
         "  - {name: w, cmd: w}\n";
}

}  // namespace

TEST_CASE("run: an unhealthy daemon under cancel fails, with what its last check saw", "[run][health]") {
  TempDir files;
  RunRig rig(spec(files / "healthy", "on_failure: cancel"), /*events=*/true);
  rig.launcher.script("w", Script::runs());
  REQUIRE(rig.run().code == 1);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.outcome("d") == Outcome::failed);
  CHECK(rig.outcome("w") == Outcome::cancelled);
  const std::string& why = rig.node("d").failure_reason;
  CHECK(why.starts_with("unhealthy: 2 health checks failed in a row (last: "));
  CHECK(why.find("No such file or directory") != std::string::npos);
  CHECK(rig.event_index({R"("event":"cancel","node":"/","cause":"failure","by":"d")"}) >= 0);
}

TEST_CASE("run: an unhealthy daemon under restart is started again, the restart saying why",
          "[run][health][restart]") {
  TempDir files;
  RunRig rig(spec(files / "healthy", "on_failure: restart\n    restart: {max: 1, within: 60s, backoff: 10ms}"),
             /*events=*/true);
  rig.launcher.script("w", Script::runs());
  // The second incarnation is healthy: its file is there before its first check.
  rig.launcher.on_spawn = [&](const FakeProcess& p) {
    if (p.node == "d" && p.pid != 100) std::ofstream(files / "healthy") << "ok";
  };
  // Healthy for a while: w ends the run once d's second incarnation has been checked.
  long checks_seen = 0;
  boost::asio::steady_timer end(rig.io);
  std::function<void()> poll_ready = [&] {
    end.expires_after(std::chrono::milliseconds(5));
    end.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      if (rig.launcher.pid_of("d", 1) && ++checks_seen > 10) return rig.launcher.exit(rig.launcher.pid_of("w"), ExitStatus::exited(0));
      poll_ready();
    });
  };
  poll_ready();
  Watchdog watchdog(rig.io, std::chrono::seconds(20));
  REQUIRE(rig.run().code == 0);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.spawned() == Lines{"d", "w", "d"});
  CHECK(rig.launcher.signals_to("d") == Signals{SIGTERM, SIGTERM});
  CHECK(rig.event_index({R"("event":"restart","node":"d","attempt":1,"cause":"failure")",
                         R"("reason":"unhealthy: 2 health checks failed in a row (last: )"}) >= 0);
  CHECK(rig.outcome("w") == Outcome::ok);
}

TEST_CASE("run: an unhealthy daemon under ignore runs on, and the run ends well", "[run][health]") {
  TempDir files;
  RunRig rig(spec(files / "healthy", "on_failure: ignore"));
  rig.launcher.script("w", Script::runs());
  boost::asio::steady_timer end(rig.io);
  std::function<void()> wait_failure = [&] {
    end.expires_after(std::chrono::milliseconds(5));
    end.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      if (!rig.node("d").failure_reason.empty()) return rig.launcher.exit(rig.launcher.pid_of("w"), ExitStatus::exited(0));
      wait_failure();
    });
  };
  rig.sup();
  wait_failure();
  REQUIRE(rig.run().code == 0);
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.journal() == Lines{"spawn d", "spawn w", "exit w 0", "SIGTERM d", "exit d SIGTERM"});
}

TEST_CASE("run: an unhealthy daemon under continue runs on, and decides the exit code", "[run][health][continue]") {
  TempDir files;
  RunRig rig(spec(files / "healthy", "on_failure: continue"));
  rig.launcher.script("w", Script::runs());
  boost::asio::steady_timer end(rig.io);
  std::function<void()> wait_failure = [&] {
    end.expires_after(std::chrono::milliseconds(5));
    end.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      if (!rig.node("d").failure_reason.empty()) return rig.launcher.exit(rig.launcher.pid_of("w"), ExitStatus::exited(0));
      wait_failure();
    });
  };
  rig.sup();
  wait_failure();
  REQUIRE(rig.run().code == 1);
  CHECK(rig.launcher.journal() == Lines{"spawn d", "spawn w", "exit w 0", "SIGTERM d", "exit d SIGTERM"});
}

TEST_CASE("run: a health check that fails while its node stops means nothing", "[run][health]") {
  TempDir files;
  std::ofstream(files / "healthy") << "ok";
  RunRig rig(spec(files / "healthy", "grace: 200ms"));
  rig.launcher.script("w", Script::exits(0));
  rig.launcher.script("d", Script::ignores_term());
  // d is asked to stop, and its health goes while it takes its grace.
  rig.launcher.on_signal = [&](const SignalRecord& sig) {
    if (sig.node == "d" && sig.sig == SIGTERM) std::remove((files / "healthy").c_str());
  };
  REQUIRE(rig.run().code == 0);
  CHECK(rig.outcome("d") == Outcome::killed);
  CHECK(rig.node("d").failure_reason.empty());
}
