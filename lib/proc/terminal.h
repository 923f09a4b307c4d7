// The tty lock (contract 4.5): one node at a time holds treerun's controlling
// terminal as its foreground process group; others with `tty: true` wait their turn,
// first come, first served. treerun takes the terminal back, with its modes as they
// were, only if it was treerun's to take.
#pragma once

#include <termios.h>
#include <sys/types.h>

#include <deque>
#include <functional>
#include <optional>

#include "base/fd.h"
#include <cstddef>

namespace treerun {

/// Who holds or waits for the terminal: an opaque key the caller chooses (a node).
using Ticket = std::size_t;

class TerminalLock {
 public:
  /// Opens the controlling terminal, if there is one and treerun is in its foreground.
  TerminalLock();
  ~TerminalLock();

  /// A terminal that treerun may lend out.
  bool available() const { return tty_.valid(); }
  int fd() const { return tty_.get(); }
  bool held() const { return holder_.has_value(); }
  std::optional<Ticket> holder() const { return holder_; }

  /// Takes the lock for ID now if it is free; otherwise queues GO for when it is.
  bool acquire(Ticket id, std::function<void()> go);
  /// ID's process is gone: take the terminal back, with its modes as they were.
  void release(Ticket id);
  /// Gives a free terminal to the first waiter. Called once the last holder's exit is
  /// reported, so the log shows one node leave before the next one comes.
  void hand_on();
  /// Drops ID from the queue (it was cancelled while waiting).
  void forget(Ticket id);

 private:
  UniqueFd tty_;
  pid_t own_pgrp_ = 0;
  std::optional<termios> modes_;
  std::optional<Ticket> holder_;
  std::deque<std::pair<Ticket, std::function<void()>>> waiting_;
};

}  // namespace treerun
