// Callbacks that parts of the control socket's server subscribe to (control::Target's
// logs, events, console, on_end): a list of them, told in the order they came.
//
// Safe as the Target promises: a subscription may end inside its own callback (or end
// another one) while the list is being told, a callback may subscribe anew (the new one
// hears from the next call on), and a Subscription that outlives the run (its list is
// gone) ends as a no-op. Nothing is allocated per call of tell(): the log stream's
// followers go through here.
#pragma once

#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <utility>

#include "control/target.h"

namespace treerun {

template <class... Args>
class Subscribers {
 public:
  using Callback = std::function<void(Args...)>;

  Subscribers() : state_(std::make_shared<State>()) {}
  Subscribers(const Subscribers&) = delete;
  Subscribers& operator=(const Subscribers&) = delete;

  /// Adds FN; it is called until the Subscription is reset or destroyed.
  control::Subscription add(Callback fn) {
    State& s = *state_;
    auto it = s.entries.insert(s.entries.end(), Entry{std::move(fn), true, false});
    ++s.live;
    return control::Subscription([weak = std::weak_ptr<State>(state_), it] {
      if (auto s = weak.lock()) s->end(it);
    });
  }

  bool empty() const { return state_->live == 0; }

  /// Calls every live callback with ARGS. Those added meanwhile are not called.
  template <class... A>
  void tell(A&&... args) {
    State& s = *state_;
    if (s.live == 0) return;
    std::shared_ptr<State> keep = state_;  // a callback may destroy what holds this list
    ++s.depth;
    auto last = std::prev(s.entries.end());
    for (auto it = s.entries.begin();; ++it) {
      if (it->live) it->fn(args...);
      if (it == last) break;
    }
    if (--s.depth == 0) s.sweep();
  }

  /// Ends every subscription now: no callback is called again.
  void clear() {
    State& s = *state_;
    for (Entry& e : s.entries) s.silence(e);
  }

 private:
  struct Entry {
    Callback fn;
    bool live;      // is called
    bool released;  // its Subscription has ended: it may be erased
  };
  struct State {
    std::list<Entry> entries;
    std::size_t live = 0;
    int depth = 0;  // tell() calls under way: entries are only marked, not erased
    bool released = false;

    void silence(Entry& e) {
      if (!e.live) return;
      e.live = false;
      --live;
    }
    /// Only the Subscription erases its entry (it holds the iterator), and never while
    /// a callback runs: a callback is never destroyed under its own feet.
    void end(typename std::list<Entry>::iterator it) {
      silence(*it);
      it->released = released = true;
      if (depth == 0) sweep();
    }
    void sweep() {
      if (!std::exchange(released, false)) return;
      entries.remove_if([](const Entry& e) { return e.released; });
    }
  };
  std::shared_ptr<State> state_;
};

}  // namespace treerun
