// What the client commands print: ls and ps tables, the answer to an action.
#include <catch.hpp>

#include "control/print.h"

using namespace treerun::control;

TEST_CASE("durations as ps shows them", "[control][print]") {
  CHECK(short_duration(0.4) == "0s");
  CHECK(short_duration(42) == "42s");
  CHECK(short_duration(187) == "3m07s");
  CHECK(short_duration(2 * 3600 + 5 * 60 + 9) == "2h05m");
  CHECK(short_duration(3 * 86400 + 4 * 3600) == "3d04h");
  CHECK(short_duration(-1) == "0s");
}

TEST_CASE("ps: a column for each field, a dash where there is nothing", "[control][print]") {
  std::vector<NodeStatus> nodes{{"web", "daemon", "ready", 41, 2.5, 0, {}, {}, {}, {}},
                                {"jobs/a", "worker", "exited", {}, {}, 1, 0, {}, std::string("ok"), {}},
                                {"jobs/b", "worker", "exited", {}, {}, 0, {}, std::string("SIGKILL"),
                                 std::string("killed"), {}}};
  CHECK(nodes_table(nodes) ==
        "PATH    KIND    STATE   PID  UPTIME  RESTARTS  EXIT     OUTCOME\n"
        "web     daemon  ready   41   3s      0         -        -\n"
        "jobs/a  worker  exited  -    -       1         0        ok\n"
        "jobs/b  worker  exited  -    -       0         SIGKILL  killed\n");
}

TEST_CASE("ps under a backend of several hosts: a HOST column, a dash for a group", "[control][print]") {
  std::vector<NodeStatus> nodes{{"db", "daemon", "ready", 41, 2.5, 0, {}, {}, {}, std::string("n2")},
                                {"g", "group", "ready", {}, {}, 0, {}, {}, {}, {}}};
  CHECK(nodes_table(nodes) ==
        "PATH  KIND    STATE  HOST  PID  UPTIME  RESTARTS  EXIT  OUTCOME\n"
        "db    daemon  ready  n2    41   3s      0         -     -\n"
        "g     group   ready  -     -    -       0         -     -\n");
}

TEST_CASE("ls: name, pid, uptime, running nodes, spec; -q the names", "[control][print]") {
  std::vector<LiveRun> runs{{"demo", "/r/demo.sock", RunStatus{"demo", 12, "/a/demo.yaml", 75, 3}, ""},
                            {"hung", "/r/hung.sock", std::nullopt, "the run did not answer within 2s"}};
  CHECK(runs_table(runs) ==
        "NAME  PID  UPTIME  RUNNING  SPEC\n"
        "demo  12   1m15s   3        /a/demo.yaml\n"
        "hung  ?    ?       ?        (the run did not answer within 2s)\n");
  CHECK(names_of(runs) == "demo\nhung\n");
}

TEST_CASE("an action says what it did", "[control][print]") {
  CHECK(acted_text(Cmd::stop, 0, {"web", "db"}) == "stopped web, db");
  CHECK(acted_text(Cmd::signal, 1, {"web"}) == "sent SIGHUP to web");
  CHECK(acted_text(Cmd::restart, 0, {"g"}) == "restarted g");
}
