// What `up` leaves to its exit is never destroyed (a leak checker still sees it in use);
// anything else is as usual.
#include <catch.hpp>
#include <vector>

#include "base/left_to_exit.h"

using namespace treerun;

namespace {

int destroyed = 0;
struct Counted {
  ~Counted() { ++destroyed; }
};

struct Holder {
  std::vector<Counted> items = std::vector<Counted>(3);
  LeftToExit<std::vector<Counted>> left{items};
};

}  // namespace

TEST_CASE("left to the exit: not destroyed", "[base]") {
  destroyed = 0;
  {
    Holder h;
    h.left.enabled = true;
  }
  CHECK(destroyed == 0);
}

TEST_CASE("not enabled: destroyed as usual", "[base]") {
  destroyed = 0;
  { Holder h; }
  CHECK(destroyed == 3);
}
