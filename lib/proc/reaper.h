// The only code that waits for the processes of the run: every process the launcher
// starts, and every orphan that comes back to treerun. One other wait exists, for a
// process that is not one of the run: ~Guardian waits for its own watcher
// (proc/guardian.h); if the watcher dies early, this waiter may collect it first, as a
// stray.
//
// treerun is a child subreaper, so orphans of any node come back to it and must be
// reaped too: there has to be a waiter for pids nobody registered. Two waiters steal
// each other's children (waitpid(-1) takes a pid a pidfd waiter was about to reap), so
// there is exactly one: SIGCHLD, as a loop event, drains waitpid(-1, WNOHANG) and hands
// each status to whoever registered the pid. Exits are collected the moment the loop
// sees SIGCHLD; nothing polls.
#pragma once

#include <sys/types.h>
#include <sys/wait.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <functional>
#include <unordered_map>

#include "base/exit_status.h"

namespace treerun {

/// A child of ours that has exited and waits to be collected, looked at, not collected
/// (WNOWAIT: the reaper still reports it): its pid, or 0. WHICH, ID as for waitid():
/// P_PID for one child, P_ALL for one look at every child.
pid_t uncollected_exit(idtype_t which, id_t id = 0);

class Reaper {
 public:
  using Handler = std::function<void(ExitStatus)>;

  explicit Reaper(boost::asio::io_context& io);
  /// Calls HANDLER once PID has exited and been reaped. Register right after spawning,
  /// in the same turn of the loop: SIGCHLD is handled in a later turn, so none is lost.
  void watch(pid_t pid, Handler handler);
  /// Called after every batch of reaps, once their handlers have run; STRAY says whether
  /// one of them was a pid nobody registered (an orphan that came back to us).
  void after_reap(std::function<void(bool stray)> hook) { after_ = std::move(hook); }
  /// Reaps whatever has exited, now.
  void reap();

 private:
  void arm();

  boost::asio::signal_set sigchld_;
  std::unordered_map<pid_t, Handler> handlers_;
  std::function<void(bool stray)> after_;
};

}  // namespace treerun
