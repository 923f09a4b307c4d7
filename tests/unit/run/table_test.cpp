// The table itself (run/table.cpp): every cell of both tables is a decision someone
// made (an action, `nothing` or `impossible`), never an empty slot.
#include <catch.hpp>
#include <string>

#include "run/supervisor.h"

using namespace treerun;

TEST_CASE("run: every cell of the process and group tables has an action", "[run][table]") {
  std::size_t cells = 0;
  for (bool group : {false, true})
    for (std::size_t s = 0; s < kStates; ++s)
      for (std::size_t e = 0; e < kEvents; ++e) {
        State state = static_cast<State>(s);
        Event event = static_cast<Event>(e);
        INFO((group ? "group" : "process") << " table, state " << name(state) << ", event " << name(event));
        CHECK(table_cell(group, state, event) != nullptr);
        ++cells;
      }
  CHECK(cells == 2 * kStates * kEvents);
}

TEST_CASE("run: every state and event has a name of its own", "[run][table]") {
  std::vector<std::string> seen;
  for (std::size_t s = 0; s < kStates; ++s) {
    const char* n = name(static_cast<State>(s));
    REQUIRE(n != nullptr);
    CHECK(std::find(seen.begin(), seen.end(), n) == seen.end());
    seen.push_back(n);
  }
  seen.clear();
  for (std::size_t e = 0; e < kEvents; ++e) {
    const char* n = name(static_cast<Event>(e));
    REQUIRE(n != nullptr);
    CHECK(std::find(seen.begin(), seen.end(), n) == seen.end());
    seen.push_back(n);
  }
  // The last enumerators are the tables' last rows and columns.
  CHECK(std::string(name(static_cast<State>(kStates - 1))) == "restart_due");
  CHECK(std::string(name(static_cast<Event>(kEvents - 1))) == "start_asked");
}
