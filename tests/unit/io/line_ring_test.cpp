// LineRing: the bounded histories `treerun logs` and `treerun events` replay
// (interface.md 6.2: 1 000 lines and 1 MiB per node, 16 MiB of events).
#include <catch.hpp>
#include <string>
#include <vector>

#include "io/line_ring.h"

using namespace treerun;

TEST_CASE("line ring: keeps the last lines up to its count, oldest first", "[io][history]") {
  LineRing ring(1000, 1 << 20);
  for (int i = 0; i < 1500; ++i) ring.push("line " + std::to_string(i), static_cast<std::uint64_t>(i));
  REQUIRE(ring.size() == 1000);
  CHECK(ring.line(0) == "line 500");
  CHECK(ring.seq(0) == 500);
  CHECK(ring.line(999) == "line 1499");
  CHECK(ring.seq(999) == 1499);
}

TEST_CASE("line ring: keeps at most its bytes, dropping the oldest first", "[io][history]") {
  const std::size_t kMiB = 1 << 20;
  LineRing ring(1000, kMiB);
  std::string big(4000, 'x');
  for (int i = 0; i < 600; ++i) ring.push(std::to_string(i % 10) + big, static_cast<std::uint64_t>(i));  // 2.4 MB
  CHECK(ring.bytes() <= kMiB);
  CHECK(ring.bytes() > kMiB - 4001);  // full but for less than one line
  CHECK(ring.size() == ring.bytes() / 4001);
  CHECK(ring.seq(ring.size() - 1) == 599);
  CHECK(ring.line(ring.size() - 1) == "9" + big);
  for (std::size_t i = 0; i < ring.size(); ++i) {
    INFO(i);
    REQUIRE(ring.line(i).size() == 4001);
    CHECK(ring.line(i)[0] == static_cast<char>('0' + ring.seq(i) % 10));
  }
}

TEST_CASE("line ring: the event history's 16 MiB bound holds over many more events", "[io][history]") {
  const std::size_t k16MiB = 16 << 20;
  LineRing ring(SIZE_MAX, k16MiB);
  std::string event = R"({"t":1.000000,"event":"spawn","node":"some/node","pid":1234,"pgid":1234})";
  std::uint64_t n = 0;
  for (std::size_t total = 0; total < 3 * k16MiB; total += event.size()) ring.push(event, n++);
  CHECK(ring.bytes() <= k16MiB);
  CHECK(ring.bytes() > k16MiB - event.size());
  CHECK(ring.seq(ring.size() - 1) == n - 1);
  CHECK(ring.line(0) == event);
}

TEST_CASE("line ring: a line longer than the bound is cut to it", "[io][history]") {
  LineRing ring(10, 8);
  ring.push("0123456789", 1);
  REQUIRE(ring.size() == 1);
  CHECK(ring.line(0) == "01234567");
  ring.push("ab", 2);
  CHECK(ring.size() == 1);
  CHECK(ring.line(0) == "ab");
}

TEST_CASE("line ring: a ring moved (as a vector of them grows) keeps its lines and takes more", "[io][history]") {
  std::vector<LineRing> rings;
  rings.emplace_back(1000, 1 << 20);
  rings[0].push("first", 1);
  for (int i = 0; i < 100; ++i) rings.emplace_back(1000, 1 << 20);  // moves rings[0] again and again
  for (int i = 0; i < 300; ++i) rings[0].push(std::string(300, 'x'), static_cast<std::uint64_t>(i + 2));
  REQUIRE(rings[0].size() == 301);
  CHECK(rings[0].line(0) == "first");
  CHECK(rings[0].line(300) == std::string(300, 'x'));
}

TEST_CASE("line ring: one long line drops several blocks at once and the ring goes on", "[io][history]") {
  // Short lines fill the first blocks (64, 128, 256, ... bytes); a line of the whole
  // bound pushes every one of them out in one go.
  LineRing ring(1000, 1000);
  for (int i = 0; i < 60; ++i) ring.push("short " + std::to_string(i), static_cast<std::uint64_t>(i));
  REQUIRE(ring.size() == 60);
  ring.push(std::string(1000, 'L'), 60);
  REQUIRE(ring.size() == 1);
  CHECK(ring.line(0) == std::string(1000, 'L'));
  CHECK(ring.seq(0) == 60);
  for (int i = 61; i < 200; ++i) ring.push("again " + std::to_string(i), static_cast<std::uint64_t>(i));
  CHECK(ring.bytes() <= 1000);
  CHECK(ring.line(ring.size() - 1) == "again 199");
  for (std::size_t i = 0; i < ring.size(); ++i) CHECK(ring.line(i) == "again " + std::to_string(ring.seq(i)));
}
