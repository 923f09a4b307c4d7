// The log stream's history and tap: every line as the stream shows it without colour,
// whether or not the stream goes anywhere (what the control socket's `logs` and
// console read).
#include <catch.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "io/log_stream.h"

using namespace treerun;

namespace {

struct Tapped {
  std::vector<std::tuple<int, std::string, bool>> lines;
  LogStream::Tap tap() {
    return [this](int source, std::string_view line, bool note) { lines.emplace_back(source, line, note); };
  }
};

}  // namespace

TEST_CASE("log stream: the tap gets each line without colour, with its padded prefix", "[io][log]") {
  bool color = GENERATE(false, true);
  INFO("color " << color);
  LogStream::Options o;
  o.color = color;  // no outlet: the stream goes nowhere, the tap still hears it
  LogStream log(o);
  Tapped t;
  log.set_tap(t.tap());
  log.tap_lines(true);
  int web = log.add_source("web");
  int db = log.add_source("pipeline/db");
  log.line(web, "GET /");
  log.note(db, "ready (0.10s after its start)");
  log.note(-1, "stopping");
  REQUIRE(t.lines.size() == 3);
  CHECK(t.lines[0] == std::tuple{web, std::string("web         | GET /"), false});
  CHECK(t.lines[1] == std::tuple{db, std::string("pipeline/db * ready (0.10s after its start)"), true});
  CHECK(t.lines[2] == std::tuple{-1, std::string("treerun     * stopping"), true});
}

TEST_CASE("log stream: with timestamps, the tap's line has the same stamp", "[io][log]") {
  LogStream::Options o;
  o.color = true;
  o.timestamps = true;
  LogStream log(o);
  Tapped t;
  log.set_tap(t.tap());
  log.tap_lines(true);
  int a = log.add_source("a");
  log.line(a, "x");
  REQUIRE(t.lines.size() == 1);
  const std::string& line = std::get<1>(t.lines[0]);
  // "HH:MM:SS.mmm a | x"
  REQUIRE(line.size() == 18);
  CHECK(line[2] == ':');
  CHECK(line[8] == '.');
  CHECK(line.substr(12) == " a | x");
}

TEST_CASE("log stream: each source's history, in order over all sources; lines tapped only when asked",
          "[io][log]") {
  LogStream::Options o;
  o.history_lines = 2;
  o.history_bytes = 1 << 20;
  LogStream log(o);
  Tapped t;
  log.set_tap(t.tap());
  int a = log.add_source("a");
  int b = log.add_source("b");
  log.line(a, "1");
  log.line(b, "2");
  log.note(a, "3");
  log.line(a, "4");
  log.note(-1, "5");
  const LineRing& ha = log.history(a);
  REQUIRE(ha.size() == 2);  // its bound: the last two
  CHECK(ha.line(0) == "a * 3");
  CHECK(ha.line(1) == "a | 4");
  CHECK(log.history(b).line(0) == "b | 2");
  CHECK(log.history(b).seq(0) < ha.seq(0));
  CHECK(ha.seq(0) < ha.seq(1));
  CHECK(log.history(0).line(0) == "treerun * 5");
  // Without tap_lines, only the notes reach the tap.
  REQUIRE(t.lines.size() == 2);
  CHECK(std::get<1>(t.lines[0]) == "a * 3");
  CHECK(std::get<1>(t.lines[1]) == "treerun * 5");
}
