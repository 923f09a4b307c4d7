// Many deadlines on one timer: order, forgetting, and no wait left once none is live.
#include <boost/asio/io_context.hpp>
#include <catch.hpp>
#include <chrono>
#include <set>
#include <vector>

#include "io/deadlines.h"

using namespace treerun;
using namespace std::chrono_literals;

namespace {

struct Rig {
  boost::asio::io_context io;
  std::vector<Deadlines::Key> fired;
  std::set<Deadlines::Key> forgotten;
  std::function<void(Deadlines::Key)> then;
  Deadlines deadlines{io, [this](Deadlines::Key k) {
                        fired.push_back(k);
                        if (then) then(k);
                        return !forgotten.contains(k);
                      }};
  void forget(Deadlines::Key k) {
    forgotten.insert(k);
    deadlines.forget();
  }
};

}  // namespace

TEST_CASE("deadlines fire in their order, each once", "[io][deadlines]") {
  Rig r;
  auto now = Deadlines::Clock::now();
  r.deadlines.add(now + 20ms, 3);
  r.deadlines.add(now + 5ms, 1);
  r.deadlines.add(now + 10ms, 2);
  CHECK(r.deadlines.live() == 3);
  r.io.run();  // returns once nothing is waited on
  CHECK(r.fired == std::vector<Deadlines::Key>{1, 2, 3});
  CHECK(r.deadlines.live() == 0);
  CHECK(Deadlines::Clock::now() >= now + 20ms);
}

TEST_CASE("once every deadline is forgotten, nothing is waited on", "[io][deadlines]") {
  Rig r;
  auto now = Deadlines::Clock::now();
  r.deadlines.add(now + 1h, 1);
  r.deadlines.add(now + 2h, 2);
  r.forget(1);
  r.forget(2);
  auto t0 = Deadlines::Clock::now();
  r.io.run();  // an hour's wait left armed would hang here
  CHECK(Deadlines::Clock::now() - t0 < 10s);
  CHECK(r.fired.empty());
}

TEST_CASE("a forgotten deadline that comes due does not count as live", "[io][deadlines]") {
  Rig r;
  auto now = Deadlines::Clock::now();
  r.deadlines.add(now + 1ms, 1);
  r.deadlines.add(now + 30ms, 2);
  r.forget(1);  // its owner no longer honours it; 2 is still live
  CHECK(r.deadlines.live() == 1);
  r.io.run();
  CHECK(r.fired == std::vector<Deadlines::Key>{1, 2});  // 1 came due too, and was told apart
  CHECK(r.deadlines.live() == 0);
}

TEST_CASE("a deadline added when another fires is waited for too", "[io][deadlines]") {
  Rig r;
  r.then = [&](Deadlines::Key k) {
    if (k == 1) r.deadlines.add(Deadlines::Clock::now() + 5ms, 2);
  };
  r.deadlines.add(Deadlines::Clock::now() + 5ms, 1);
  r.io.run();
  CHECK(r.fired == std::vector<Deadlines::Key>{1, 2});
}

TEST_CASE("an earlier deadline added later moves the timer up", "[io][deadlines]") {
  Rig r;
  auto now = Deadlines::Clock::now();
  r.deadlines.add(now + 1h, 1);
  r.deadlines.add(now + 5ms, 2);
  r.then = [&](Deadlines::Key k) {
    if (k == 2) r.forget(1);
  };
  auto t0 = Deadlines::Clock::now();
  r.io.run();
  CHECK(r.fired == std::vector<Deadlines::Key>{2});
  CHECK(Deadlines::Clock::now() - t0 < 10s);
}
