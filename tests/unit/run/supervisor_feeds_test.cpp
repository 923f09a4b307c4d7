// What the control socket reads of a run (interface.md 6.2, 6.3): each node's last lines
// and the event log from memory, then as they come; treerun's console; the run's end;
// and RunOptions::on_up. Subscriptions end safely inside their own callbacks and when
// the run ends.
#include <signal.h>

#include <catch.hpp>

#include "control_fixture.h"

using namespace treerun;
using namespace treerun::test;

using Lines = std::vector<std::string>;

namespace {

std::string numbered(int from, int to) {
  std::string out;
  for (int i = from; i < to; ++i) out += "line " + std::to_string(i) + "\n";
  return out;
}

}  // namespace

TEST_CASE("feeds: logs replays a node's last lines as the log stream shows them, 1 000 at most",
          "[run][control][feeds]") {
  RunRig rig(R"(
children:
  - {name: w, cmd: "w"}
  - {name: other, cmd: "other"}
)");
  rig.launcher.script("w", Script::exits(0).writing(numbered(0, 1500)));
  rig.launcher.script("other", Script::exits(0).writing("hello\n"));
  REQUIRE(rig.run().code == 0);
  Lines w = history(rig, {"w"});
  REQUIRE(w.size() == kLogHistoryLines);
  CHECK(std::find(w.begin(), w.end(), "w     | line 500") == w.end());
  CHECK(w.front() == "w     | line 501");  // 1 500 lines, "started" and "exited": the last 1 000
  CHECK(has_line_with(w, "w     | line 1499"));
  CHECK(w.back().starts_with("w     * exited: "));
  CHECK(!has_line_with(w, "hello"));
  CHECK(history(rig, {"w"}, 2) == Lines{"w     | line 1499", w.back()});
  // Several nodes: the last N of each, in the order they came.
  std::vector<std::pair<std::string, std::string>> all;
  rig.sup().logs({}, 3, false, [&](std::string_view node, std::string_view line, std::uint64_t) { all.emplace_back(node, line); });
  REQUIRE(all.size() == 6);
  Lines of_w, of_other;
  for (const auto& [node, line] : all) (node == "w" ? of_w : of_other).push_back(line);
  CHECK(of_w == Lines{"w     | line 1498", "w     | line 1499", w.back()});
  CHECK(of_other == Lines{"other * started (pid 101)", "other | hello", "other * exited: exit 0 (ok)"});
  // other started before w's last lines were read: the replay keeps that order.
  CHECK(all[0].second == "other * started (pid 101)");
}

TEST_CASE("feeds: logs of a group is its subtree's lines", "[run][control][feeds]") {
  RunRig rig(R"(
children:
  - name: g
    children:
      - {name: a, cmd: "a"}
  - {name: b, cmd: "b"}
)");
  rig.launcher.script("g/a", Script::exits(0).writing("from a\n"));
  rig.launcher.script("b", Script::exits(0).writing("from b\n"));
  REQUIRE(rig.run().code == 0);
  Lines g = history(rig, {"/g"});
  CHECK(has_line_with(g, "g/a | from a"));
  CHECK(!has_line_with(g, "from b"));
}

TEST_CASE("feeds: logs -f gets each new line, and ends itself safely in its callback", "[run][control][feeds]") {
  RunRig rig(R"(
children:
  - {name: w, cmd: "w"}
)");
  rig.launcher.script("w", Script::exits(0).writing(numbered(0, 5)));
  Lines followed, once;
  control::Subscription all = rig.sup().logs({"w"}, 100, true, [&](std::string_view node, std::string_view line, std::uint64_t) {
    CHECK(node == "w");
    followed.emplace_back(line);
  });
  control::Subscription first;
  first = rig.sup().logs({}, 100, true, [&](std::string_view, std::string_view line, std::uint64_t) {
    once.emplace_back(line);
    first.reset();
  });
  REQUIRE(rig.run().code == 0);
  CHECK(once.size() == 1);
  REQUIRE(followed.size() == 7);  // started, 5 lines, exited
  CHECK(followed[1] == "w | line 0");
  CHECK(followed[5] == "w | line 4");
  // The run is over: its followers were let go; ending them now, or after the
  // Supervisor is gone, is harmless.
  rig.supervisor.reset();
  all.reset();
}

TEST_CASE("feeds: events replays the event log from its start, and follows it up to done",
          "[run][control][feeds]") {
  RunRig rig(R"(
children:
  - {name: d, daemon: true, cmd: "d"}
  - {name: w, cmd: "w"}
)", /*events=*/true);
  rig.launcher.script("w", Script::exits(0));
  Lines followed, by_first, by_second;
  control::Subscription sub = rig.sup().events(true, [&](std::string_view e, std::uint64_t) { followed.emplace_back(e); });
  control::Subscription first, second;
  first = rig.sup().events(true, [&](std::string_view e, std::uint64_t) {
    by_first.emplace_back(e);
    if (by_first.size() == 2) second.reset();  // ends another one while they are told
  });
  second = rig.sup().events(true, [&](std::string_view e, std::uint64_t) { by_second.emplace_back(e); });
  REQUIRE(rig.run().code == 0);
  Lines file = rig.events();
  REQUIRE(followed.size() == file.size());
  CHECK(followed.back().find(R"("event":"done","code":0)") != std::string::npos);
  for (std::size_t i = 0; i < file.size(); ++i) CHECK(followed[i].find(file[i]) != std::string::npos);
  CHECK(by_first.size() == file.size());
  CHECK(by_second.size() == 1);  // told the first before the second ended it
  Lines replay;
  rig.sup().events(true, [&](std::string_view e, std::uint64_t) { replay.emplace_back(e); });
  CHECK(replay == followed);
}

TEST_CASE("feeds: the console gets treerun's own lines and the summary", "[run][control][feeds]") {
  RunRig rig(R"(
children:
  - {name: d, daemon: true, cmd: "d"}
)");
  rig.quiet = false;  // the summary also goes to this test's stderr
  std::string seen;
  control::Subscription console;
  rig.on_up = [&] {
    console = rig.sup().console([&](std::string_view text) { seen += text; });
    ask(rig, Verb::down, {});
  };
  REQUIRE(rig.run().code == 0);
  CHECK(seen.find("treerun * down, asked on the control socket by uid 1000, pid 4242\n") != std::string::npos);
  CHECK(seen.find("d * stopping (SIGTERM, SIGKILL after 3s)\n") != std::string::npos);
  CHECK(seen.find("\nsummary:\n") != std::string::npos);
  CHECK(seen.find("exit code 0 after ") != std::string::npos);
  CHECK(seen.find("started (pid") == std::string::npos);  // only from the subscription on
}

TEST_CASE("feeds: on_end is told once, after done; later subscribers at once", "[run][control][feeds]") {
  RunRig rig(R"(
children:
  - {name: w, cmd: "w"}
)");
  rig.launcher.script("w", Script::exits(3));
  std::vector<int> codes;
  bool done_before = false;
  control::Subscription end = rig.sup().on_end([&](int code) {
    codes.push_back(code);
    Lines events;
    rig.sup().events(false, [&](std::string_view e, std::uint64_t) { events.emplace_back(e); });
    done_before = !events.empty() && events.back().find(R"("event":"done","code":3)") != std::string::npos;
  });
  int dropped_told = 0;
  control::Subscription dropped = rig.sup().on_end([&](int) { dropped_told++; });
  dropped.reset();
  REQUIRE(rig.run().code == 3);
  CHECK(codes == std::vector<int>{3});
  CHECK(done_before);
  CHECK(dropped_told == 0);
  int later = 0;
  rig.sup().on_end([&](int code) { later = code; });
  CHECK(later == 3);
}

TEST_CASE("feeds: on_up once every daemon is ready and every other node started", "[run][control][feeds]") {
  RunRig rig(R"(
children:
  - {name: d, daemon: true, cmd: "d", ready: {exec: "check", interval: 10ms}}
  - {name: w1, cmd: "w1"}
  - {name: w2, after: [w1], cmd: "w2"}
)");
  rig.launcher.script_beside("d", {Script::exits(1), Script::exits(0)});
  std::size_t up_at = 0;
  int ups = 0, checks = 0;
  rig.on_up = [&] {
    ups++;
    up_at = rig.launcher.journal().size();
    ask(rig, Verb::down, {});
  };
  rig.launcher.after_exit = [&](const FakeProcess& p, ExitStatus) {
    if (p.label() == "d[check]" && ++checks == 2)  // the probe passed: now w1 ends
      boost::asio::post(rig.io, [&] { rig.launcher.exit(rig.launcher.pid_of("w1"), ExitStatus::exited(0)); });
  };
  REQUIRE(rig.run().code == 0);
  INFO(lines(rig.launcher.journal()));
  CHECK(ups == 1);
  // d and w1 are one batch of starts: both spawned before d's probe starts.
  CHECK(first(rig.launcher.journal(), up_at) == Lines{"spawn d", "spawn w1", "spawn d[check]", "exit d[check] 1",
                                                      "spawn d[check]", "exit d[check] 0", "exit w1 0", "spawn w2"});
}

TEST_CASE("feeds: on_up is not told for a run that fails before it is up", "[run][control][feeds]") {
  RunRig rig(R"(
children:
  - {name: d, daemon: true, cmd: "d", ready: {exec: "check", interval: 10ms, timeout: 50ms}}
  - {name: w, cmd: "w"}
)");
  rig.launcher.script_beside("d", Script::exits(1));
  int ups = 0;
  rig.on_up = [&] { ups++; };
  CHECK(rig.run().code == 124);
  CHECK(ups == 0);
}

TEST_CASE("feeds: a run whose work is done at once was up, and is told so before its end",
          "[run][control][feeds]") {
  RunRig rig(R"(
children:
  - {name: a, cmd: "a"}
  - {name: b, cmd: "b"}
)");
  rig.launcher.script("a", Script::exits(0));
  rig.launcher.script("b", Script::exits(0));
  std::vector<std::string> told;
  rig.on_up = [&] { told.push_back("up"); };
  control::Subscription end = rig.sup().on_end([&](int code) { told.push_back("end " + std::to_string(code)); });
  REQUIRE(rig.run().code == 0);
  CHECK(told == std::vector<std::string>{"up", "end 0"});
}
