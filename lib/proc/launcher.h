// The process layer, proc/: every act on a process goes through a Launcher — starting
// one, learning that it exited, signalling its group, asking whether its group is
// empty, and sweeping what escaped its group. The supervisor is handed a Launcher and
// knows nothing of how a node's process comes to exist, so another backend (a Slurm job
// step through `srun`) stands in with the same semantics, and unit tests drive the
// supervisor with a fake one. proc/ includes only base/.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "base/command.h"
#include "base/exit_status.h"

namespace treerun {

/// A process a launcher started: the pid it reports the exit of, and the group that a
/// stop addresses (the process leads it, with everything it starts).
struct ProcHandle {
  pid_t pid = -1;
  pid_t pgid = -1;
};

struct SpawnRequest {
  std::string node_path;            // for messages
  Command cmd;
  std::vector<std::string> env;     // complete environment, "KEY=VALUE"
  std::string cwd;                  // absolute
  int stdin_fd = -1;                // -1: /dev/null; otherwise dup'ed onto fd 0
  int stdout_fd = -1;               // -1: /dev/null
  int stderr_fd = -1;               // -1: /dev/null
  int tty_fd = -1;                  // >= 0: the child's group becomes this terminal's foreground
  /// A helper of a node (its stop command, an exec probe) runs where that node's
  /// process runs: on the same host, for a backend that has several.
  std::optional<ProcHandle> beside;
  /// Where it runs, for a backend with several hosts (the node's `on`, made a host).
  std::string host;
};

struct SpawnResult {
  ProcHandle proc;   // proc.pid > 0: a process exists (it may already have failed to exec)
  /// Set when exec (or the set-up before it) failed; the process then exits 126 or 127
  /// and is reported like any other, so a failure to start is an ordinary exit.
  std::error_code exec_error;
  std::string failed_step;  // "exec", "chdir", ... for the message
};

class Launcher {
 public:
  using ExitHandler = std::function<void(ExitStatus)>;
  virtual ~Launcher() = default;

  /// Starts a process in a group of its own. ON_EXIT runs once, on the loop, after the
  /// process has exited and been collected. An error_code only when no process could
  /// be created at all (EAGAIN under RLIMIT_NPROC, ENOMEM); ON_EXIT is then dropped.
  virtual SpawnResult spawn(const SpawnRequest& request, ExitHandler on_exit, std::error_code& ec) = 0;
  /// spawn() in two halves, so that a backend that starts processes in a helper (the
  /// spawner) starts one while the caller prepares the next: submit sends REQUEST, and
  /// collect gives what spawn would have (ON_EXIT included). REQUEST's descriptors must
  /// stay open until then. Every ticket is collected before the loop runs again: an
  /// exit is watched for only from its collect on. This default spawns at submit.
  using Ticket = std::uint64_t;
  virtual Ticket submit(const SpawnRequest& request, ExitHandler on_exit);
  virtual SpawnResult collect(Ticket ticket, std::error_code& ec);
  /// Signals every process of P's group. A group already gone is not an error.
  virtual void signal(const ProcHandle& p, int sig) = 0;
  /// Whether P's leader has exited and waits to be collected (its ON_EXIT is on its way):
  /// a stop sent now would judge what it did, a failure racing the cancel, as cancelled.
  virtual bool exited(const ProcHandle& p) = 0;
  /// Whether any process it started may have exited uncollected: false lets a batch of
  /// stops skip exited() for each (one look instead of thousands). When unsure, true.
  virtual bool any_exited() { return true; }
  /// Whether some process of P's group is still there (its leader may be gone).
  virtual bool group_alive(const ProcHandle& p) = 0;
  /// P's group is empty for good: the launcher stops insuring it (it will never be
  /// signalled again, so its pgid may be reused).
  virtual void forget(const ProcHandle& p) = 0;

  /// Processes that escaped their node's group (double forks, setsid) and came back to
  /// treerun, which is their subreaper: a stop must reach them too.
  virtual std::vector<pid_t> strays() = 0;
  virtual void signal_stray(pid_t pid, int sig) = 0;
  /// Called on the loop after each batch of collected processes; STRAY is true when
  /// one of them was not one this launcher started (an escaped process that ended).
  virtual void on_collected(std::function<void(bool stray)> hook) = 0;
  /// Whether LINE of a node's output is the backend's own word, not the node's (srun's
  /// `srun: error: n1: task 0: Exited with exit code 3`): kept out of the log stream.
  virtual bool backend_line(std::string_view line) const {
    (void)line;
    return false;
  }

 private:
  struct Spawned {
    SpawnResult result;
    std::error_code ec;
  };
  Ticket submitted_ = 0;
  std::map<Ticket, Spawned> spawned_;  // the default submit's, until collected
};

}  // namespace treerun
