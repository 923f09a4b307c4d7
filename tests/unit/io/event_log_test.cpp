// The event log's lines, as the contract spells them: built in place, field by field.
#include <catch.hpp>
#include <string>
#include <vector>

#include "io/event_log.h"

using namespace treerun;

namespace {

/// Every line the log writes, through its tap.
struct Tapped {
  EventLog log;
  std::vector<std::string> lines;
  explicit Tapped(EventLog::Clock::time_point start = EventLog::Clock::now()) : log(start) {
    log.set_tap([this](std::string_view line) { lines.emplace_back(line); });
  }
  /// The last line without its time, which the test cannot know.
  std::string last() const {
    const std::string& l = lines.back();
    auto comma = l.find(',');
    return "{" + l.substr(comma + 1);
  }
};

}  // namespace

TEST_CASE("every event's fields, in the contract's order and spelling", "[io][events]") {
  Tapped t;
  t.log.spawn("db", 41, 41);
  CHECK(t.last() == R"({"event":"spawn","node":"db","pid":41,"pgid":41})");
  t.log.spawn("g/w", 7, 7, "n2");
  CHECK(t.last() == R"({"event":"spawn","node":"g/w","pid":7,"pgid":7,"host":"n2"})");
  t.log.ready("");
  CHECK(t.last() == R"({"event":"ready","node":"/"})");
  t.log.stop("db", "SIGTERM");
  CHECK(t.last() == R"({"event":"stop","node":"db","how":"SIGTERM"})");
  t.log.kill("db");
  CHECK(t.last() == R"({"event":"kill","node":"db"})");
  t.log.exit("db", 41, 3, std::nullopt, "failed");
  CHECK(t.last() == R"({"event":"exit","node":"db","pid":41,"code":3,"signal":null,"outcome":"failed"})");
  t.log.exit("db", 0, std::nullopt, 15, "cancelled");
  CHECK(t.last() == R"({"event":"exit","node":"db","pid":null,"code":null,"signal":"SIGTERM","outcome":"cancelled"})");
  t.log.cancel("", "sigint", "");
  CHECK(t.last() == R"({"event":"cancel","node":"/","cause":"sigint"})");
  t.log.cancel("g", "failure", "g/w");
  CHECK(t.last() == R"({"event":"cancel","node":"g","cause":"failure","by":"g/w"})");
  t.log.lag("w", "stdout", 12345678901ULL);
  CHECK(t.last() == R"({"event":"lag","node":"w","source":"stdout","dropped_bytes":12345678901})");
  t.log.lag("w", "stdout", 18446744073709551615ULL);  // past LLONG_MAX: still unsigned
  CHECK(t.last() == R"({"event":"lag","node":"w","source":"stdout","dropped_bytes":18446744073709551615})");
  t.log.restart("w", 2, "watch", "src/a.c");
  CHECK(t.last() == R"({"event":"restart","node":"w","attempt":2,"cause":"watch","path":"src/a.c"})");
  t.log.control("stop", {"a", "b"}, 9, 1000, -1);
  CHECK(t.last() == R"({"event":"control","cmd":"stop","nodes":["a","b"],"signal":"SIGKILL","uid":1000,"pid":-1})");
  t.log.done(130, 2.5, {{"stdout", 10}});
  CHECK(t.last() == R"({"event":"done","code":130,"duration":2.500000,"output_dropped":{"stdout":10}})");
}

TEST_CASE("an event's time: seconds since the start, six decimals", "[io][events]") {
  Tapped t(EventLog::Clock::now() - std::chrono::microseconds(12'000'042));
  t.log.ready("a");
  const std::string& l = t.lines.back();
  REQUIRE(l.starts_with(R"({"t":12.0000)"));
  auto comma = l.find(',');
  CHECK(comma == std::string(R"({"t":12.000042)").size());  // six decimals, zero-padded
  t.log.done(0, 0.000001);
  CHECK(t.lines.back().ends_with(R"("duration":0.000001})"));
}

TEST_CASE("names are escaped as JSON strings", "[io][events]") {
  Tapped t;
  t.log.ready(std::string("a\"b\\c\n\x01", 7));
  CHECK(t.last() == R"({"event":"ready","node":"a\"b\\c\n\u0001"})");
}

TEST_CASE("without a file or a tap nothing is built", "[io][events]") {
  EventLog log(EventLog::Clock::now());
  log.exit("db", 41, 3, std::nullopt, "failed");  // must not crash, nothing to see
  CHECK_FALSE(log.enabled());
}
