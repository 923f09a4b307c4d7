// If treerun is SIGKILLed, the parent-death signal takes its children down, but not
// what they started in their process groups (`sh -c 'a | b'`, a server's workers).
// The guardian is a small forked watcher that holds the read end of a pipe and the
// list of live process groups: when the pipe hits EOF without a clean goodbye,
// treerun is dead, and it SIGKILLs every group still on the list.
#pragma once

#include <sys/types.h>

#include "base/fd.h"

namespace treerun {

class Guardian {
 public:
  /// Forks the watcher. Call before anything else opens fds or installs handlers.
  Guardian();
  /// A clean goodbye: the watcher exits without killing anything, and is reaped.
  ~Guardian();
  Guardian(const Guardian&) = delete;
  Guardian& operator=(const Guardian&) = delete;

  void watch(pid_t pgid) { send(pgid); }
  void unwatch(pid_t pgid) { send(-pgid); }
  pid_t pid() const { return pid_; }

 private:
  void send(int record);

  UniqueFd pipe_;
  pid_t pid_ = -1;
};

}  // namespace treerun
