// The tty lock (treerun(1), SEMANTICS › The terminal): one node at a time holds
// treerun's controlling terminal as its foreground process group; others with
// `tty: true` wait their turn, first come, first served. treerun takes the terminal
// back, with its modes as they were, only if it was treerun's to take.
//
// The lock decides who holds the terminal; the launcher makes it so. The node's
// process puts its own group in the foreground between fork and exec, and the parent
// does the same once the spawn returns (proc/local_launcher.cpp), so that neither
// order of scheduling starts the node in the background: fish's tty_transfer_t case
// "the tty is owned by the process". Under vfork the child's call always comes first
// (the parent resumes only once the child has exec'd), so the parent's changes
// nothing, or fails harmlessly if the process has already exited. The race that
// remains is with the program itself: if it has already given the foreground to
// another group of its own (a shell starting a job), the parent's call takes the
// terminal back from that group.
#pragma once

#include <termios.h>
#include <sys/types.h>

#include <cstddef>
#include <deque>
#include <functional>
#include <optional>

#include "base/fd.h"

namespace treerun {

/// Who holds or waits for the terminal: an opaque key the caller chooses (a node).
using Ticket = std::size_t;

class TerminalLock {
 public:
  /// Opens the controlling terminal, if there is one and treerun is in its foreground.
  TerminalLock();
  /// Puts the terminal's modes back. Every holder must have been released first (as
  /// fish asserts that the tty was reclaimed): destroying the lock while a node holds
  /// the terminal would leave that node's group in the foreground. A bug; debug builds
  /// abort on it.
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
