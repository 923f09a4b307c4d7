// Which processes hold a pipe open: a stream's consumer waits for EOF until every
// write end is closed, and a producer's descendant that escaped its group (setsid, a
// double fork) may keep one long after the producer is gone, as in a shell pipeline.
// treerun names it instead of leaving the user to guess.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace treerun {

struct PipeHolder {
  pid_t pid = 0;
  std::string name;  // its command name (/proc/PID/comm)
};

/// The pipe an fd refers to, by inode (0 if FD is not a pipe).
ino_t pipe_inode(int fd);

/// Those of PIDS that have the pipe INODE's write end open: what keeps its reader from EOF.
std::vector<PipeHolder> pipe_holders(ino_t inode, const std::vector<pid_t>& pids);

}  // namespace treerun
