// A Launcher with no processes, as ninja's FakeCommandRunner: it records every spawn
// and every signal in order, hands out pids 100, 101, ..., and makes each "process"
// behave as a Script the test chose for its node. Exits are posted on the loop, as the
// real reaper runs exit handlers from the loop, so the Supervisor sees the same order of
// events it would see with real processes: only the processes are fake, the loop and
// its timers are real.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/exit_status.h"
#include "proc/launcher.h"

namespace treerun::test {

/// How a fake process behaves, chosen when it is spawned.
struct Script {
  enum class Kind {
    exits,          // exits with `status` at once
    runs,           // runs until a signal (but SIGCONT), then ends as `on_signal` says
    ignores_term,   // every signal but SIGKILL is ignored
    survives_first, // the first signal (but SIGCONT) does nothing; the next ends it
    not_found,      // exec fails with ENOENT: the process exits 127 at once
    cannot_spawn,   // no process at all (spawn's error_code: `error`)
    stop_command,   // a `stop:` command that works: exits 0 at once, and the process
                    // it runs beside then exits 0
    throws,         // spawn throws std::bad_alloc (LocalLauncher::spawn allocates)
  };
  Kind kind = Kind::runs;
  ExitStatus status = ExitStatus::exited(0);
  /// For `runs` and `survives_first`: how a signal that ends it ends it. Empty: dies
  /// of that signal.
  std::optional<ExitStatus> on_signal;
  /// The leader exits, but something it started stays in its group until the group
  /// gets a signal that would end the leader (any, for `runs` and `exits`; SIGKILL for
  /// `ignores_term`), or the test calls end_group().
  bool lingers = false;
  int error = 0;  // cannot_spawn
  /// Written to its stdout at its spawn (under a pipe's 64 KiB: the write blocks).
  std::string output;

  static Script of(Kind kind, ExitStatus status = ExitStatus::exited(0)) {
    Script s;
    s.kind = kind;
    s.status = status;
    return s;
  }
  static Script exits(int code) { return of(Kind::exits, ExitStatus::exited(code)); }
  static Script dies_of(int sig) { return of(Kind::exits, ExitStatus::signaled(sig)); }
  static Script runs() { return of(Kind::runs); }
  /// Runs until a signal, then exits with CODE (a service that traps SIGTERM).
  static Script runs_then_exits(int code) {
    Script s = of(Kind::runs);
    s.on_signal = ExitStatus::exited(code);
    return s;
  }
  static Script ignores_term() { return of(Kind::ignores_term); }
  static Script survives_first() { return of(Kind::survives_first); }
  static Script not_found() { return of(Kind::not_found); }
  static Script cannot_spawn(int err) {
    Script s = of(Kind::cannot_spawn);
    s.error = err;
    return s;
  }
  static Script stop_command() { return of(Kind::stop_command); }
  static Script throws() { return of(Kind::throws); }
  Script writing(std::string text) const {
    Script s = *this;
    s.output = std::move(text);
    return s;
  }
  Script lingering() const {
    Script s = *this;
    s.lingers = true;
    return s;
  }
};

/// One fake process: what was asked for, and where it stands.
struct FakeProcess {
  pid_t pid = 0;
  std::string node;     // SpawnRequest::node_path
  std::string cmd;      // the command's display(); a shell command's text
  std::optional<ProcHandle> beside;
  Script script;
  Launcher::ExitHandler on_exit;
  bool leader = true;     // the leader has not exited
  bool group = true;      // some process of its group is still there
  bool collected = false; // its exit handler has run
  int signals_taken = 0;  // signals that did not end it (SIGCONT not counted)
  /// The files its stdin and stdout were, by inode (0: none): which pipe it was given.
  unsigned long stdin_ino = 0, stdout_ino = 0;
  /// How the journal names it: "w", or "w[stop cmd]" for a helper beside w.
  std::string label() const { return beside ? node + "[" + cmd + "]" : node; }
};

struct SignalRecord {
  pid_t pgid = 0;
  std::string node;  // label of the process whose group it was sent to ("?" if none)
  int sig = 0;
};

class FakeLauncher final : public Launcher {
 public:
  explicit FakeLauncher(boost::asio::io_context& io) : io_(io) {}

  // ---- what the test says ----
  /// The scripts for NODE's own process, one per spawn; the last one repeats.
  void script(const std::string& node, std::vector<Script> scripts);
  void script(const std::string& node, Script s) { script(node, std::vector<Script>{s}); }
  /// The same for processes spawned beside NODE (its stop command, an exec probe).
  /// Default: exit 0 at once.
  void script_beside(const std::string& node, std::vector<Script> scripts);
  void script_beside(const std::string& node, Script s) { script_beside(node, std::vector<Script>{s}); }
  /// Process PID ends now with STATUS (a kill from outside, a worker's own end): its
  /// exit handler is posted on the loop. Nothing happens if it has already ended.
  void exit(pid_t pid, ExitStatus status);
  /// What PID's leader left in its group is gone now (collected as a stray).
  void end_group(pid_t pid);
  /// What strays() answers.
  std::vector<pid_t> stray_pids;
  /// A line that starts with this is the backend's own (backend_line), as srun's are.
  std::string backend_prefix;

  // Hooks, called on the loop. on_spawn: right after a spawn is recorded (before the
  // Supervisor has the result). on_signal: after a signal is recorded and acted on.
  // after_exit: after an exit handler and the on_collected hook have run.
  std::function<void(const FakeProcess&)> on_spawn;
  std::function<void(const SignalRecord&)> on_signal;
  std::function<void(const FakeProcess&, ExitStatus)> after_exit;

  // ---- what the test reads ----
  const std::vector<FakeProcess>& processes() const { return procs_; }
  const FakeProcess& process(pid_t pid) const;
  /// Every signal sent, in order, SIGCONT included.
  const std::vector<SignalRecord>& signals() const { return signals_; }
  /// One line per act, in order: "spawn w", "spawn d[stop cmd]", "SIGTERM d",
  /// "exit d SIGTERM", "exit w 0", "spawn-error w", "spawn-throw w". SIGCONT (sent with every stop
  /// signal) is left out: it is in signals().
  const std::vector<std::string>& journal() const { return journal_; }
  /// The nodes whose own processes were spawned, in order (helpers beside left out).
  std::vector<std::string> spawned() const;
  /// The signals (SIGCONT left out) sent to the groups of NODE's own processes.
  std::vector<int> signals_to(const std::string& node) const;
  /// The pid of NODE's Nth own process (0 if none).
  pid_t pid_of(const std::string& node, std::size_t nth = 0) const;
  /// Labels of processes whose leader or group is still there, or whose exit was not
  /// delivered.
  std::vector<std::string> alive() const;
  const std::vector<ProcHandle>& forgotten() const { return forgotten_; }

  // ---- Launcher ----
  SpawnResult spawn(const SpawnRequest& request, ExitHandler on_exit, std::error_code& ec) override;
  void signal(const ProcHandle& p, int sig) override;
  bool exited(const ProcHandle& p) override;
  bool any_exited() override {
    for (const FakeProcess& q : procs_)
      if (!q.leader && !q.collected) return true;
    return false;
  }
  bool group_alive(const ProcHandle& p) override;
  void forget(const ProcHandle& p) override { forgotten_.push_back(p); }
  std::vector<pid_t> strays() override { return stray_pids; }
  void signal_stray(pid_t pid, int sig) override { signals_.push_back({pid, "stray", sig}); }
  void on_collected(std::function<void(bool stray)> hook) override { collected_hook_ = std::move(hook); }
  bool backend_line(std::string_view line) const override {
    return !backend_prefix.empty() && line.starts_with(backend_prefix);
  }

 private:
  FakeProcess* find(pid_t pgid);
  Script next_script(std::map<std::string, std::deque<Script>>& table, const std::string& node, Script fallback);
  void end_leader(FakeProcess& p, ExitStatus status);
  void group_ends(FakeProcess& p);

  boost::asio::io_context& io_;
  pid_t next_pid_ = 100;
  std::vector<FakeProcess> procs_;  // index: pid - 100
  std::map<std::string, std::deque<Script>> scripts_, beside_scripts_;
  std::vector<SignalRecord> signals_;
  std::vector<std::string> journal_;
  std::vector<ProcHandle> forgotten_;
  std::function<void(bool)> collected_hook_;
};

}  // namespace treerun::test
