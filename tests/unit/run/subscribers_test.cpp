// Subscribers (run/subscribers.h): the lists behind control::Target's subscriptions.
#include <catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "run/subscribers.h"

using namespace treerun;

TEST_CASE("subscribers: each is told in order until its subscription ends", "[run][control][subscribers]") {
  Subscribers<int> list;
  std::vector<std::string> told;
  control::Subscription a = list.add([&](int v) { told.push_back("a" + std::to_string(v)); });
  control::Subscription b = list.add([&](int v) { told.push_back("b" + std::to_string(v)); });
  list.tell(1);
  a.reset();
  list.tell(2);
  CHECK(told == std::vector<std::string>{"a1", "b1", "b2"});
  CHECK_FALSE(list.empty());
  b = control::Subscription();  // moved over: ends it
  CHECK(list.empty());
}

TEST_CASE("subscribers: ending itself, or another, or adding one, while being told", "[run][control][subscribers]") {
  Subscribers<int> list;
  std::vector<std::string> told;
  control::Subscription self, other, added;
  self = list.add([&](int v) {
    told.push_back("self" + std::to_string(v));
    self.reset();
    other.reset();
    added = list.add([&](int w) { told.push_back("added" + std::to_string(w)); });
  });
  other = list.add([&](int v) { told.push_back("other" + std::to_string(v)); });
  list.tell(1);
  list.tell(2);
  // The one added meanwhile hears from the next call on.
  CHECK(told == std::vector<std::string>{"self1", "added2"});
}

TEST_CASE("subscribers: cleared, or outlived by a subscription, nothing more happens", "[run][control][subscribers]") {
  int told = 0;
  control::Subscription kept;
  {
    auto list = std::make_unique<Subscribers<>>();
    kept = list->add([&] { told++; });
    list->tell();
    list->clear();
    list->tell();
    CHECK(list->empty());
  }
  kept.reset();  // its list is gone
  CHECK(told == 1);
}
