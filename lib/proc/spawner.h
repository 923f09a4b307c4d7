// The spawner: a small process, forked before treerun holds more than a handful of
// descriptors, that starts every node's process for it.
//
// Why: a process is made by copying its parent's descriptor table, and exec then closes
// every close-on-exec entry of the copy. treerun holds one or more pipes per node, so a
// spawn from treerun itself costs time linear in the tree and starting n nodes costs
// n² (measured: 0.51 ms of CPU per node at 2 000 nodes, 1.38 ms at 19 000). The spawner
// holds four descriptors; treerun sends it only the three or four a child needs
// (SCM_RIGHTS), and it starts the child with CLONE_PARENT: the child's parent is still
// treerun, so the reaper, the parent-death signal, the subreaper and waitid work as
// before. The spawner itself is a child of treerun that the run never waits for until
// its end (~Spawner); if it dies, the reaper may collect it as a stray, and treerun
// starts processes itself from then on.
#pragma once

#include <sys/types.h>

#include <optional>
#include <vector>

#include "base/fd.h"
#include "proc/child.h"

namespace treerun {

class Spawner {
 public:
  /// Forks the spawner. Call while treerun is single-threaded. RESET_SIGNALS: the
  /// signals a child must find at their default disposition (LocalLauncher's list).
  explicit Spawner(const std::vector<int>& reset_signals);
  /// Tells the spawner to go (EOF on its socket, then SIGKILL) and reaps it.
  ~Spawner();
  Spawner(const Spawner&) = delete;
  Spawner& operator=(const Spawner&) = delete;

  /// Starts SPEC as a child of this process; nullopt when there is no spawner (it could
  /// not be forked, or it died before it had the request): the caller then starts the
  /// child itself. A spawner that dies or does not answer within 10 s once it has the
  /// request fails that one spawn (EIO): a child may have been made, and is not made again.
  std::optional<ChildStarted> start(const ChildSpec& spec);
  pid_t pid() const { return pid_; }

 private:
  void lost();

  UniqueFd socket_;
  UniqueFd pidfd_;
  pid_t pid_ = -1;
};

}  // namespace treerun
