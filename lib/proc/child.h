// What a node's process is to become, and the one routine that makes it: a clone that
// shares our memory (CLONE_VM | CLONE_VFORK, as vfork and posix_spawn do), whose child
// makes only async-signal-safe calls on memory prepared here, then execs.
//
// Two callers: the spawner (proc/spawner.h), a small process forked early that starts
// every node with CLONE_PARENT, so that treerun stays the parent while the child copies
// the spawner's few descriptors instead of treerun's thousands; and LocalLauncher
// itself, in process, when there is no spawner.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace treerun {

/// Plain values, so that the spawner can be sent them (proc/spawner.cpp).
struct ChildSpec {
  std::vector<std::string> candidates;  // paths to try, in PATH order
  std::vector<std::string> argv;
  std::vector<std::string> env;         // "KEY=VALUE"
  std::string cwd;                      // empty: stay where the starter is
  bool script_fallback = false;         // on ENOEXEC, run the file with /bin/sh (as execvp)
  int fds[3] = {-1, -1, -1};            // become 0, 1, 2 (never -1 here)
  int tty_fd = -1;                      // >= 0: the child's group takes this terminal
  std::optional<struct rlimit> nofile;  // the descriptor limit to give back, if treerun raised its own
};

struct ChildStarted {
  pid_t pid = -1;        // > 0: a process exists (it may have failed to exec)
  int clone_errno = 0;   // pid < 0: why no process could be made
  int error = 0;         // the set-up or the exec failed: the child exits 126 or 127
  std::string step;      // "exec", "chdir", "dup2": what failed
};

struct ChildContext {
  pid_t parent = 0;                              // who the child's parent must be (the pdeathsig check)
  const std::vector<int>* reset_signals = nullptr;  // dispositions to make default
  bool as_sibling = false;                       // CLONE_PARENT: the child is our parent's
};

/// Starts SPEC. Blocks every signal across the clone: a handler of ours running in the
/// child would run on our memory. Returns once the child has exec'd or exited.
ChildStarted start_child(const ChildSpec& spec, const ChildContext& context);

}  // namespace treerun
