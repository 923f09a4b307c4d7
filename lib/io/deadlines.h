// Many deadlines on one timer. A stop arms one grace per node, thousands at once and
// mostly the same; as an asio timer each cost two allocations, a heap entry, and a
// completion to run once cancelled (issue 20). Here a deadline is an entry in a heap,
// and a cancel is the caller's: it forgets the key (a token it no longer honours) and
// says so, so that the timer stops once no deadline is live.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

namespace treerun {

class Deadlines {
 public:
  using Clock = std::chrono::steady_clock;
  using Key = std::uint64_t;

  /// EXPIRED runs on the loop for each key whose time has come, in deadline order, and
  /// says whether the key was live (not forgotten); it may add deadlines.
  Deadlines(boost::asio::io_context& io, std::function<bool(Key)> expired);
  Deadlines(const Deadlines&) = delete;
  Deadlines& operator=(const Deadlines&) = delete;

  /// KEY expires at AT. Live until it expires or forget() is called for it.
  void add(Clock::time_point at, Key key);
  /// One live deadline was cancelled by its owner (who will ignore its key). Once none
  /// is live, what is left is dropped and the timer is not waited on.
  void forget();
  std::size_t live() const { return live_; }

 private:
  struct Entry {
    Clock::time_point at;
    Key key;
    bool operator>(const Entry& o) const { return at > o.at; }
  };
  void arm();
  void fire();

  boost::asio::steady_timer timer_;
  std::function<bool(Key)> expired_;
  std::vector<Entry> heap_;  // the earliest on top (std::greater)
  std::size_t live_ = 0;
  Clock::time_point armed_for_ = Clock::time_point::max();
};

}  // namespace treerun
