// The control socket's acting commands (interface.md 6.2; treerun(1), A RUNNING TREE):
// stop, start, restart, signal and down, asked from inside the loop through
// control::Target as the server asks them, over fake processes.
#include <signal.h>

#include <catch.hpp>

#include "control_fixture.h"

using namespace treerun;
using namespace treerun::test;

using Lines = std::vector<std::string>;
using Signals = std::vector<int>;

TEST_CASE("control: stop cancels a node and its children, children first, and spares its dependents",
          "[run][control]") {
  RunRig rig(R"(
children:
  - name: d
    daemon: true
    cmd: "d"
    children:
      - {name: c1, daemon: true, cmd: "c1"}
      - {name: c2, daemon: true, cmd: "c2"}
  - {name: api, daemon: true, after: [d], cmd: "api"}
  - {name: other, daemon: true, cmd: "other"}
)", /*events=*/true);
  std::shared_ptr<Answer> stop, down;
  State api{}, other{};
  std::string shown;
  rig.on_up = [&] {
    stop = ask(rig, Verb::stop, {"d"}, 0, [&] {
      api = rig.node("api").state;
      other = rig.node("other").state;
      shown = row(rig, "d").state;
      down = ask(rig, Verb::down, {});
    });
  };
  RunResult r = rig.run();
  const Lines& j = rig.launcher.journal();
  INFO(lines(j));
  REQUIRE(stop->given);
  CHECK(stop->error.empty());
  CHECK(r.code == 0);
  // Up to the answer: the children, then d; nothing else was touched.
  Lines until = from(first(j, stop->at), "SIGTERM d/c1");
  CHECK(until == Lines{"SIGTERM d/c1", "SIGTERM d/c2", "exit d/c1 SIGTERM", "exit d/c2 SIGTERM", "SIGTERM d",
                       "exit d SIGTERM"});
  CHECK(api == State::ready);
  CHECK(other == State::ready);
  CHECK(shown == "stopped");
  for (const char* n : {"d", "d/c1", "d/c2", "api", "other"}) {
    INFO(n);
    CHECK(rig.launcher.signals_to(n) == Signals{SIGTERM});  // one stop each, the down's for the rest
    CHECK(rig.outcome(n) == Outcome::cancelled);
    CHECK(rig.node(n).failure_reason.empty());
  }
  long control = rig.event_index({R"("event":"control","cmd":"stop","nodes":["d"],"uid":1000,"pid":4242)"});
  CHECK(control >= 0);
  CHECK(control < rig.event_index({R"("event":"stop","node":"d/c1")"}));
  CHECK(rig.event_index({R"("cause":"failure")"}) == -1);
  CHECK(has_line_with(history(rig, {"d"}), "stop, asked on the control socket by uid 1000, pid 4242"));
}

TEST_CASE("control: start after stop is a new incarnation that waits for its probe, not counted against "
          "restart.max",
          "[run][control]") {
  RunRig rig(R"(
children:
  - name: d
    daemon: true
    cmd: "d"
    ready: {exec: "check", interval: 10ms}
    on_failure: restart
    restart: {max: 1, within: 60s, backoff: 10ms}
  - {name: api, daemon: true, after: [d], cmd: "api"}
)", /*events=*/true);
  rig.launcher.script_beside("d", {Script::exits(0), Script::exits(1), Script::exits(0)});
  std::shared_ptr<Answer> stop, start, down;
  rig.on_up = [&] {
    stop = ask(rig, Verb::stop, {"d"}, 0, [&] {
      start = ask(rig, Verb::start, {"/d"}, 0, [&] {
        // Killed from outside: its own policy restarts it, the one restart max allows.
        rig.launcher.exit(rig.launcher.pid_of("d", 1), ExitStatus::exited(1));
      });
    });
  };
  rig.launcher.on_spawn = [&](const FakeProcess& p) {
    if (p.node == "d" && !p.beside && rig.launcher.pid_of("d", 2) == p.pid) down = ask(rig, Verb::down, {});
  };
  RunResult r = rig.run();
  const Lines& j = rig.launcher.journal();
  INFO(lines(j));
  REQUIRE(start);
  REQUIRE(start->given);
  CHECK(start->error.empty());
  CHECK(r.code == 0);
  // Started again, and answered once its probe passed (it failed once first).
  CHECK(from(first(j, start->at), "exit d SIGTERM") ==
        Lines{"exit d SIGTERM", "spawn d", "spawn d[check]", "exit d[check] 1", "spawn d[check]", "exit d[check] 0"});
  CHECK(rig.launcher.spawned() == Lines{"d", "api", "d", "d"});
  CHECK(rig.launcher.pid_of("d", 0) != rig.launcher.pid_of("d", 1));
  CHECK(rig.launcher.signals_to("api") == Signals{SIGTERM});  // only the down's
  CHECK(rig.event_index({R"("event":"restart","node":"d","attempt":1,"cause":"control")"}) >= 0);
  CHECK(rig.event_index({R"("event":"restart","node":"d","attempt":2,"cause":"failure")"}) >= 0);
  CHECK(rig.node("d").attempt == 2);
  CHECK(rig.node("d").restarts.size() == 1);  // only the failure's counts
  CHECK(row(rig, "d").restarts == 2);
  CHECK(has_line_with(history(rig, {"d"}), "d   * restarting in 10ms (attempt 1 of 1)"));
}

TEST_CASE("control: restart of a group tears it down whole and starts it with fresh streams", "[run][control]") {
  RunRig rig(R"(
children:
  - name: g
    children:
      - {name: produce, daemon: true, cmd: "produce"}
      - {name: keep, daemon: true, cmd: "keep", stdin: produce}
      - {name: db, daemon: true, cmd: "db"}
  - {name: out, daemon: true, cmd: "out"}
)", /*events=*/true);
  std::shared_ptr<Answer> restart, down;
  rig.on_up = [&] { restart = ask(rig, Verb::restart, {"g"}, 0, [&] { down = ask(rig, Verb::down, {}); }); };
  RunResult r = rig.run();
  const Lines& j = rig.launcher.journal();
  INFO(lines(j));
  REQUIRE(restart->given);
  CHECK(restart->error.empty());
  CHECK(r.code == 0);
  CHECK(sorted(rig.launcher.spawned()) == Lines{"g/db", "g/db", "g/keep", "g/keep", "g/produce", "g/produce", "out"});
  Lines until = first(j, restart->at);
  CHECK(std::count(until.begin(), until.end(), "SIGTERM out") == 0);
  for (const char* n : {"spawn g/db", "spawn g/keep", "spawn g/produce"})
    CHECK(std::count(until.begin(), until.end(), n) == 2);
  CHECK(rig.event_index({R"("event":"restart","node":"g","attempt":1,"cause":"control")"}) == 
        rig.event_index({R"("event":"restart")"}));
  // The stream inside the group is a new pipe, from the new producer to the new consumer.
  const FakeProcess& keep0 = rig.launcher.process(rig.launcher.pid_of("g/keep", 0));
  const FakeProcess& keep1 = rig.launcher.process(rig.launcher.pid_of("g/keep", 1));
  const FakeProcess& produce1 = rig.launcher.process(rig.launcher.pid_of("g/produce", 1));
  CHECK(keep1.stdin_ino != 0);
  CHECK(keep1.stdin_ino == produce1.stdout_ino);
  CHECK(keep1.stdin_ino != keep0.stdin_ino);
}

TEST_CASE("control: restart of a worker in a group does not make the group done", "[run][control]") {
  RunRig rig(R"(
children:
  - name: g
    children:
      - {name: w, cmd: "w"}
      - {name: d, daemon: true, cmd: "d"}
)");
  std::shared_ptr<Answer> restart;
  rig.launcher.script("g/w", {Script::runs(), Script::exits(0)});
  rig.on_up = [&] { restart = ask(rig, Verb::restart, {"g/w"}); };
  RunResult r = rig.run();
  INFO(lines(rig.launcher.journal()));
  REQUIRE(restart->given);
  CHECK(restart->error.empty());
  CHECK(r.code == 0);
  CHECK(rig.launcher.journal() == Lines{"spawn g/w", "spawn g/d", "SIGTERM g/w", "exit g/w SIGTERM", "spawn g/w",
                                        "exit g/w 0", "SIGTERM g/d", "exit g/d SIGTERM"});
}

TEST_CASE("control: a signal that kills its node is judged as any exit", "[run][control]") {
  RunRig rig(R"(
children:
  - {name: d, daemon: true, cmd: "d"}
  - {name: s, daemon: true, cmd: "s"}
)", /*events=*/true);
  rig.launcher.script("s", Script::survives_first());
  std::shared_ptr<Answer> survived, killed;
  rig.on_up = [&] {
    survived = ask(rig, Verb::signal, {"s"}, SIGHUP, [&] { killed = ask(rig, Verb::signal, {"d"}, SIGHUP); });
  };
  RunResult r = rig.run();
  const Lines& j = rig.launcher.journal();
  INFO(lines(j));
  REQUIRE(killed);
  CHECK(survived->error.empty());
  CHECK(killed->error.empty());
  CHECK(j[survived->at - 1] == "SIGHUP s");  // answered once sent
  CHECK(j[killed->at - 1] == "SIGHUP d");
  // d died of it on its own account: a daemon's failure, which ends the run (on_failure: cancel).
  CHECK(r.code == 128 + SIGHUP);
  CHECK(rig.outcome("d") == Outcome::failed);
  CHECK(rig.launcher.signals_to("s") == Signals{SIGHUP, SIGTERM});
  CHECK(rig.outcome("s") == Outcome::cancelled);
  CHECK(rig.event_index({R"("event":"control","cmd":"signal","nodes":["d"],"signal":"SIGHUP","uid":1000)"}) >= 0);
}

TEST_CASE("control: down cancels the run as one ctrl-c, and the run exits 0", "[run][control]") {
  RunRig rig(R"(
children:
  - {name: a, daemon: true, cmd: "a"}
  - {name: b, daemon: true, after: [a], cmd: "b"}
)", /*events=*/true);
  std::shared_ptr<Answer> down, again;
  std::string note;
  rig.on_up = [&] { down = ask(rig, Verb::down, {}, 0, [&] { again = ask(rig, Verb::down, {}); }); };
  RunResult r = rig.run();
  INFO(lines(rig.launcher.journal()));
  CHECK(r.code == 0);
  CHECK(r.signal == 0);
  CHECK(down->error.empty());
  CHECK(again->error.empty());  // a second one finds it under way
  CHECK(rig.launcher.journal() == Lines{"spawn a", "spawn b", "SIGTERM b", "exit b SIGTERM", "SIGTERM a", "exit a SIGTERM"});
  CHECK(rig.event_index({R"("event":"cancel","node":"/","cause":"down")"}) >= 0);
  CHECK(rig.event_index({R"("event":"control","cmd":"down","nodes":[],"uid":1000,"pid":4242)"}) >= 0);
  CHECK(rig.event_index({R"("event":"done","code":0)"}) >= 0);
  auto all = rig.events();
  CHECK(std::count_if(all.begin(), all.end(), [](const std::string& e) { return e.find("\"cancel\"") != e.npos; }) == 1);
  Lines told = history(rig);
  CHECK(has_line_with(told, "treerun * down, asked on the control socket by uid 1000, pid 4242"));
  std::string about;  // the run's own lines are about "/", as the root in the event log
  rig.sup().logs({}, 100, false, [&](std::string_view node, std::string_view line, std::uint64_t) {
    if (line.find("down, asked") != std::string_view::npos) about = node;
  });
  CHECK(about == "/");
  CHECK(has_line_with(told, "stopping gracefully (ctrl-c in its terminal or `kill -INT"));
}

TEST_CASE("control: a failure during the teardown of a down decides the exit code", "[run][control]") {
  RunRig rig(R"(
children:
  - name: p
    cmd: "p"
    children:
      - {name: c, daemon: true, grace: 50ms, cmd: "c"}
)");
  rig.launcher.script("p/c", Script::ignores_term());
  rig.on_up = [&] { ask(rig, Verb::down, {}); };
  rig.launcher.on_signal = [&](const SignalRecord& s) {
    // p waits for its child to go, and fails on its own meanwhile.
    if (s.node == "p/c" && s.sig == SIGTERM) rig.launcher.exit(rig.launcher.pid_of("p"), ExitStatus::exited(5));
  };
  RunResult r = rig.run();
  INFO(lines(rig.launcher.journal()));
  CHECK(r.code == 5);
  CHECK(rig.outcome("p") == Outcome::failed);
}

TEST_CASE("control: a ctrl-c after a down forces, and the run ends by SIGINT", "[run][control]") {
  RunRig rig(R"(
children:
  - {name: a, daemon: true, grace: 10s, cmd: "a"}
)");
  rig.launcher.script("a", Script::ignores_term());
  rig.on_up = [&] { ask(rig, Verb::down, {}); };
  rig.launcher.on_signal = [&](const SignalRecord& s) {
    if (s.sig == SIGTERM) ::raise(SIGINT);
  };
  RunResult r = rig.run();
  INFO(lines(rig.launcher.journal()));
  CHECK(rig.launcher.journal() == Lines{"spawn a", "SIGTERM a", "SIGKILL a", "exit a SIGKILL"});
  CHECK(r.code == 130);
  CHECK(r.signal == SIGINT);
}

TEST_CASE("control: acting on a run that is ending, or has ended, is refused", "[run][control]") {
  RunRig rig(R"(
children:
  - {name: a, daemon: true, grace: 100ms, cmd: "a"}
  - {name: b, daemon: true, cmd: "b"}
)");
  rig.launcher.script("a", Script::ignores_term());
  std::shared_ptr<Answer> stop, start, restart, signal;
  rig.on_up = [&] {
    ask(rig, Verb::down, {}, 0, [&] {
      stop = ask(rig, Verb::stop, {"b"});
      start = ask(rig, Verb::start, {"a"});
      restart = ask(rig, Verb::restart, {"a"});
      signal = ask(rig, Verb::signal, {"a"}, SIGUSR1);
    });
  };
  RunResult r = rig.run();
  INFO(lines(rig.launcher.journal()));
  CHECK(r.code == 0);
  for (const auto& a : {stop, start, restart, signal}) CHECK(a->error == "the run is ending");
  CHECK(rig.launcher.signals_to("a") == Signals{SIGTERM, SIGKILL});
  std::string after;
  rig.sup().act(Verb::stop, {"a"}, 0, kPeer, [&](std::string e) { after = e; });
  CHECK(after == "the run has ended");
}

TEST_CASE("control: what is already so is answered at once", "[run][control]") {
  RunRig rig(R"(
children:
  - {name: d, daemon: true, cmd: "d"}
  - {name: e, daemon: true, cmd: "e"}
)");
  std::shared_ptr<Answer> stop, stop_again, start_running;
  std::size_t asked_again = 0;
  rig.on_up = [&] {
    start_running = ask(rig, Verb::start, {"e"}, 0, [&] {
      stop = ask(rig, Verb::stop, {"d"}, 0, [&] {
        asked_again = rig.launcher.journal().size();
        stop_again = ask(rig, Verb::stop, {"d"}, 0, [&] { ask(rig, Verb::down, {}); });
      });
    });
  };
  RunResult r = rig.run();
  INFO(lines(rig.launcher.journal()));
  CHECK(r.code == 0);
  CHECK(start_running->error.empty());
  CHECK(start_running->at == 2);  // nothing spawned for it
  CHECK(stop_again->error.empty());
  CHECK(stop_again->at == asked_again);
  CHECK(rig.launcher.spawned() == Lines{"d", "e"});
}

TEST_CASE("control: a request the run cannot carry out changes nothing and says why", "[run][control]") {
  RunRig rig(R"(
children:
  - name: g
    children:
      - {name: a, daemon: true, cmd: "a"}
      - {name: produce, daemon: true, cmd: "produce"}
      - {name: keep, daemon: true, cmd: "keep", stdin: produce}
  - {name: db, daemon: true, cmd: "db"}
  - {name: api, daemon: true, after: [db], cmd: "api"}
)");
  std::map<std::string, std::shared_ptr<Answer>> asked;
  std::size_t journal_then = 0;
  rig.on_up = [&] {
    ask(rig, Verb::stop, {"g", "db"}, 0, [&] {
      journal_then = rig.launcher.journal().size();
      asked["inside"] = ask(rig, Verb::start, {"g/a"});
      asked["waits"] = ask(rig, Verb::restart, {"api", "g"});
      asked["unknown"] = ask(rig, Verb::start, {"nope"});
      asked["not running"] = ask(rig, Verb::signal, {"db"}, SIGHUP);
      asked["none"] = ask(rig, Verb::stop, {});
      asked["stream"] = ask(rig, Verb::start, {"g", "g/keep"}, 0, [&] {
        asked["stream alone"] = ask(rig, Verb::restart, {"g/keep"}, 0, [&] { ask(rig, Verb::down, {}); });
      });
    });
  };
  RunResult r = rig.run();
  INFO(lines(rig.launcher.journal()));
  CHECK(r.code == 0);
  CHECK(asked["inside"]->error == "g/a is in g, which is stopped: start g");
  CHECK(asked["waits"]->error == "api waits for db, which is stopped: start it too");
  CHECK(asked["unknown"]->error.starts_with("no node `nope`"));
  CHECK(asked["not running"]->error == "db is not running");
  CHECK(asked["none"]->error == "stop needs at least one node");
  CHECK(asked["stream"]->error.empty());  // g/keep is inside g: one start of g
  CHECK(asked["stream alone"]->error ==
        "g/keep is on the stream g/produce → g/keep, whose pipe cannot be made again for it alone: restart g as a "
        "whole");
  // The refusals changed nothing: the next thing done was g's start.
  REQUIRE(rig.launcher.journal().size() > journal_then);
  CHECK(rig.launcher.journal()[journal_then] == "spawn g/a");
}

TEST_CASE("control: stopping the last running worker makes its group done", "[run][control]") {
  RunRig rig(R"(
children:
  - {name: d, daemon: true, cmd: "d"}
  - {name: w, cmd: "w"}
)", /*events=*/true);
  std::shared_ptr<Answer> stop;
  rig.on_up = [&] { stop = ask(rig, Verb::stop, {"w"}); };
  RunResult r = rig.run();
  INFO(lines(rig.launcher.journal()));
  CHECK(r.code == 0);
  CHECK(stop->error.empty());
  CHECK(rig.launcher.journal() == Lines{"spawn d", "spawn w", "SIGTERM w", "exit w SIGTERM", "SIGTERM d", "exit d SIGTERM"});
  CHECK(rig.outcome("w") == Outcome::cancelled);
  CHECK(rig.event_index({R"("event":"cancel","node":"/","cause":"done")"}) >= 0);
}

TEST_CASE("control: a group of daemons whose daemons are all stopped runs on, and starts them again",
          "[run][control]") {
  RunRig rig(R"(
children:
  - {name: d, daemon: true, cmd: "d"}
)");
  std::shared_ptr<Answer> stop, start;
  State root{};
  rig.on_up = [&] {
    stop = ask(rig, Verb::stop, {"d"}, 0, [&] {
      root = rig.sup().node(0).state;
      start = ask(rig, Verb::start, {"d"}, 0, [&] { ask(rig, Verb::down, {}); });
    });
  };
  RunResult r = rig.run();
  INFO(lines(rig.launcher.journal()));
  CHECK(r.code == 0);
  CHECK(root == State::ready);
  CHECK(start->error.empty());
  CHECK(rig.launcher.journal() == Lines{"spawn d", "SIGTERM d", "exit d SIGTERM", "spawn d", "SIGTERM d", "exit d SIGTERM"});
}

TEST_CASE("control: a node stopped before it started waits to be started, then waits for its `after`",
          "[run][control]") {
  RunRig rig(R"(
children:
  - {name: w, cmd: "w"}
  - {name: x, daemon: true, after: [w], cmd: "x"}
  - {name: z, cmd: "z"}
)");
  std::shared_ptr<Answer> stop, start;
  std::string shown;
  rig.launcher.on_spawn = [&](const FakeProcess& p) {
    if (p.node != "w") return;
    stop = ask(rig, Verb::stop, {"x"}, 0, [&] {
      shown = row(rig, "x").state;
      start = ask(rig, Verb::start, {"x"}, 0, [&] { ask(rig, Verb::down, {}); });
      boost::asio::post(rig.io, [&] { rig.launcher.exit(rig.launcher.pid_of("w"), ExitStatus::exited(0)); });
    });
  };
  RunResult r = rig.run();
  INFO(lines(rig.launcher.journal()));
  CHECK(r.code == 0);
  CHECK(shown == "stopped");
  REQUIRE(start->given);
  CHECK(start->error.empty());
  CHECK(first(rig.launcher.journal(), start->at) == Lines{"spawn w", "spawn z", "exit w 0", "spawn x"});
}

TEST_CASE("control: requests that cross: the latest word wins, and an ending run answers them all",
          "[run][control]") {
  RunRig rig(R"(
children:
  - {name: d, daemon: true, grace: 50ms, cmd: "d"}
  - {name: w, cmd: "w"}
)");
  rig.launcher.script("d", Script::ignores_term());
  Watchdog dog(rig.io, std::chrono::seconds(10));
  std::map<std::string, std::shared_ptr<Answer>> asked;
  State w_then{};
  SECTION("stop, then start in the same turn: started again once stopped") {
    rig.on_up = [&] {
      asked["stop"] = ask(rig, Verb::stop, {"d"});
      asked["start"] = ask(rig, Verb::start, {"d"}, 0, [&] { ask(rig, Verb::down, {}); });
    };
    RunResult r = rig.run();
    INFO(lines(rig.launcher.journal()));
    CHECK(r.code == 0);
    CHECK(asked["stop"]->error.empty());
    CHECK(asked["start"]->error.empty());
    CHECK(asked["stop"]->at < asked["start"]->at);
    CHECK(rig.launcher.spawned() == Lines{"d", "w", "d"});
  }
  SECTION("restart, then stop: it stays stopped") {
    rig.on_up = [&] {
      asked["restart"] = ask(rig, Verb::restart, {"d"});
      asked["stop"] = ask(rig, Verb::stop, {"d"}, 0, [&] {
        boost::asio::post(rig.io, [&] { ask(rig, Verb::down, {}); });
      });
    };
    RunResult r = rig.run();
    INFO(lines(rig.launcher.journal()));
    CHECK(r.code == 0);
    CHECK(asked["restart"]->error == "d was stopped meanwhile");
    CHECK(asked["stop"]->error.empty());
    CHECK(rig.launcher.spawned() == Lines{"d", "w"});
  }
  SECTION("restart of a worker, then down: the restart is answered, the run ends") {
    rig.launcher.script("w", Script::ignores_term());
    rig.on_up = [&] {
      asked["restart"] = ask(rig, Verb::restart, {"w"});
      asked["down"] = ask(rig, Verb::down, {}, 0, [&] { w_then = rig.node("w").state; });
    };
    RunResult r = rig.run();
    INFO(lines(rig.launcher.journal()));
    CHECK(r.code == 0);
    CHECK(w_then == State::cancelling);  // the restart's stop was under way
    // Answered at the end: the run ended before w was down.
    CHECK(asked["restart"]->error == "the run has ended");
    CHECK(asked["down"]->error.empty());
    CHECK(rig.launcher.spawned() == Lines{"d", "w"});
  }
  CHECK_FALSE(dog.fired);
}

TEST_CASE("control: start of a group that runs starts what was stopped in it, and only that", "[run][control]") {
  RunRig rig(R"(
children:
  - name: g
    children:
      - {name: a, daemon: true, cmd: "a"}
      - {name: b, daemon: true, cmd: "b"}
)");
  std::shared_ptr<Answer> start, again;
  rig.on_up = [&] {
    ask(rig, Verb::stop, {"g/a"}, 0, [&] {
      start = ask(rig, Verb::start, {"g"}, 0, [&] {
        again = ask(rig, Verb::start, {"g"}, 0, [&] { ask(rig, Verb::down, {}); });
      });
    });
  };
  RunResult r = rig.run();
  INFO(lines(rig.launcher.journal()));
  CHECK(r.code == 0);
  CHECK(start->error.empty());
  CHECK(again->error.empty());
  CHECK(first(rig.launcher.journal(), start->at) ==
        Lines{"spawn g/a", "spawn g/b", "SIGTERM g/a", "exit g/a SIGTERM", "spawn g/a"});
  CHECK(again->at == start->at);  // all of it runs: nothing to do
}

TEST_CASE("control: start of a node on a stream that has not started yet waits for it", "[run][control]") {
  RunRig rig(R"(
children:
  - {name: gate, cmd: "gate"}
  - {name: hold, cmd: "hold"}
  - {name: produce, daemon: true, cmd: "produce"}
  - {name: keep, daemon: true, cmd: "keep", stdin: produce, after: [gate]}
)");
  std::shared_ptr<Answer> start;
  rig.launcher.on_spawn = [&](const FakeProcess& p) {
    if (p.node != "produce") return;
    start = ask(rig, Verb::start, {"keep"}, 0, [&] { ask(rig, Verb::down, {}); });
    boost::asio::post(rig.io, [&] { rig.launcher.exit(rig.launcher.pid_of("gate"), ExitStatus::exited(0)); });
  };
  RunResult r = rig.run();
  INFO(lines(rig.launcher.journal()));
  CHECK(r.code == 0);
  REQUIRE(start->given);
  CHECK(start->error.empty());
  CHECK(rig.launcher.journal()[start->at - 1] == "spawn keep");
  const FakeProcess& keep = rig.launcher.process(rig.launcher.pid_of("keep"));
  CHECK(keep.stdin_ino == rig.launcher.process(rig.launcher.pid_of("produce")).stdout_ino);
}

TEST_CASE("control: ps gives a group no uptime; an unknown path with a leading / gets its did-you-mean",
          "[run][control]") {
  RunRig rig(R"(
children:
  - name: g
    children:
      - {name: d, daemon: true, cmd: "d"}
)");
  rig.launcher.script("g/d", Script::runs());
  std::vector<control::NodeStatus> rows;
  std::string unknown;
  rig.on_up = [&] {
    rows = rig.sup().ps();
    unknown = rig.sup().check_nodes({"/g/b"});
    rig.sup().act(control::Verb::down, {}, 0, kPeer, [](std::string) {});
  };
  REQUIRE(rig.run().code == 0);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].path == "g");
  CHECK_FALSE(rows[0].uptime.has_value());
  CHECK(rows[1].uptime.has_value());
  CHECK(unknown.find("did you mean `g/d`") != std::string::npos);
}

TEST_CASE("control: an answer comes after its events are written, and so does on_up",
          "[run][control]") {
  // The loop writes a burst's events together at its end; a client that reads the event
  // log once answered (or once `up -d` returned) must find what led there.
  RunRig rig(R"(
children:
  - {name: d, daemon: true, cmd: "d"}
)", /*events=*/true);
  bool ready_written_at_up = false, control_written = false, respawn_written = false;
  std::shared_ptr<Answer> restart, down;
  rig.on_up = [&] {
    ready_written_at_up = rig.event_index({R"("event":"ready","node":"d")"}) >= 0;
    restart = ask(rig, Verb::restart, {"d"}, 0, [&] {
      control_written = rig.event_index({R"("event":"control","cmd":"restart")"}) >= 0;
      auto all = rig.events();
      respawn_written = std::count_if(all.begin(), all.end(), [](const std::string& e) {
                          return e.find(R"("event":"ready","node":"d")") != e.npos;
                        }) == 2;
      down = ask(rig, Verb::down, {});
    });
  };
  REQUIRE(rig.run().code == 0);
  REQUIRE(restart->given);
  CHECK(ready_written_at_up);
  CHECK(control_written);
  CHECK(respawn_written);
}
