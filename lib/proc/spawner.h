// A spawner: a small process, forked before treerun holds more than a handful of
// descriptors, that starts node processes for it. Requests are answered in order and
// may be sent ahead (send, then receive), so that it starts one child while treerun
// prepares the next.
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
// starts processes through the other spawner, or itself once none is left.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
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

  /// A request sent, to ask for its answer by.
  using Ticket = std::uint64_t;

  /// Sends SPEC to be started as a child of this process, and returns at once: the
  /// spawner starts it while the caller prepares the next. nullopt when there is no
  /// spawner (it could not be forked, or it died before it had the whole request): the
  /// caller then starts the child itself. SPEC's descriptors go with the request.
  std::optional<Ticket> send(const ChildSpec& spec);
  /// The answer to TICKET, waiting for it (answers come in the order of the requests;
  /// earlier ones read here are kept for their own receive). A spawner lost (dead, or
  /// no answer within 10 s) fails the one request it may have had in hand (EIO: a child
  /// may have been made, and is not made again); nullopt for one it never took, which
  /// the caller starts elsewhere.
  std::optional<ChildStarted> receive(Ticket ticket);
  /// send, then receive: nullopt when the caller is to start it itself.
  std::optional<ChildStarted> start(const ChildSpec& spec);
  /// EOF on its socket: it exits on its own, while the caller ends its other helpers
  /// (the destructor then reaps it). Nothing can be started through it after.
  void hang_up() { socket_.reset(); }
  pid_t pid() const { return pid_; }

 private:
  void lost();
  bool read_answer();

  UniqueFd socket_;
  UniqueFd pidfd_;
  pid_t pid_ = -1;
  Ticket sent_ = 0;      // requests sent so far: the next one's ticket
  Ticket answered_ = 0;  // tickets below it have been answered (or lost)
  std::map<Ticket, ChildStarted> answers_;  // read before they were asked for
  // Once lost: requests from this one on were never taken (it reads a request only
  // after it has answered the one before).
  Ticket never_taken_ = ~Ticket{0};
};

}  // namespace treerun
