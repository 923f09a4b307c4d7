#include "io/deadlines.h"

#include <algorithm>

namespace treerun {

Deadlines::Deadlines(boost::asio::io_context& io, std::function<bool(Key)> expired)
    : timer_(io), expired_(std::move(expired)) {}

void Deadlines::add(Clock::time_point at, Key key) {
  heap_.push_back({at, key});
  std::push_heap(heap_.begin(), heap_.end(), std::greater<>());
  ++live_;
  if (at < armed_for_) arm();
}

void Deadlines::forget() {
  if (live_ > 0 && --live_ == 0) {
    heap_.clear();
    armed_for_ = Clock::time_point::max();
    timer_.cancel();
  }
}

/// The timer waits for the earliest deadline. A wait it replaces ends cancelled, and
/// is told apart by the time it was armed for.
void Deadlines::arm() {
  armed_for_ = heap_.front().at;
  timer_.expires_at(armed_for_);
  timer_.async_wait([this, at = armed_for_](const boost::system::error_code& ec) {
    if (!ec && at == armed_for_) fire();
  });
}

void Deadlines::fire() {
  armed_for_ = Clock::time_point::max();
  auto now = Clock::now();
  std::vector<Key> due;
  while (!heap_.empty() && heap_.front().at <= now) {
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<>());
    due.push_back(heap_.back().key);
    heap_.pop_back();
  }
  for (Key key : due)
    if (expired_(key) && live_ > 0) --live_;
  if (live_ == 0) heap_.clear();
  if (!heap_.empty() && heap_.front().at < armed_for_) arm();
}

}  // namespace treerun
