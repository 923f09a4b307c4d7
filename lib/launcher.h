// The only code that starts processes. The supervisor owns a Launcher and knows
// nothing of how a node's process comes to exist, so another backend (a Slurm job
// step through `srun`, say) can stand in with the same semantics.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "plan.h"

namespace treerun {

struct SpawnRequest {
  std::string node_path;            // for messages
  Command cmd;
  std::vector<std::string> env;     // complete environment, "KEY=VALUE"
  std::string cwd;                  // absolute
  int stdin_fd = -1;                // -1: /dev/null; otherwise dup'ed onto fd 0
  int stdout_fd = -1;               // -1: /dev/null
  int stderr_fd = -1;               // -1: /dev/null
  int tty_fd = -1;                  // >= 0: the child's group becomes this terminal's foreground
};

struct SpawnResult {
  pid_t pid = -1;    // > 0: a process exists (it may already have failed to exec)
  pid_t pgid = -1;   // the process group to signal: the child leads its own
  /// Set when exec (or the set-up before it) failed; the process then exits 126 or 127
  /// and is reaped like any other, so a failure to start is an ordinary exit.
  std::error_code exec_error;
  std::string failed_step;  // "exec", "chdir", ... for the message
};

class Launcher {
 public:
  virtual ~Launcher() = default;
  /// Starts a process; an error_code only when no process could be created at all
  /// (EAGAIN under RLIMIT_NPROC, ENOMEM).
  virtual SpawnResult spawn(const SpawnRequest& request, std::error_code& ec) = 0;
  /// Signals the process group led by a spawned process. ESRCH is not an error.
  virtual void signal_group(pid_t pgid, int sig) = 0;
};

/// Local processes: vfork + exec, each in its own process group, with an empty
/// signal mask, default dispositions, and a parent-death signal.
class LocalLauncher final : public Launcher {
 public:
  LocalLauncher();
  SpawnResult spawn(const SpawnRequest& request, std::error_code& ec) override;
  void signal_group(pid_t pgid, int sig) override;
  /// Re-reads which signals treerun catches or ignores; call after installing handlers.
  void refresh_signal_dispositions();

 private:
  void raise_fd_limit();

  std::vector<int> non_default_signals_;
  std::optional<struct rlimit> children_nofile_;  // set when ours was raised
  int dev_null_read_ = -1;
  int dev_null_write_ = -1;
};

}  // namespace treerun
