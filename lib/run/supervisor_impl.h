// The Supervisor class, shared by supervisor*.cpp. Not part of the library's API.
#pragma once

#include <functional>
#include <optional>

#include "proc/guardian.h"
#include "io/line_relay.h"
#include "proc/terminal.h"
#include "run/supervisor.h"

namespace treerun {

/// The longest line the log stream passes whole; longer ones go on in pieces.
constexpr std::size_t kMaxLogLine = 64 * 1024;

class Supervisor {
 public:
  Supervisor(const Plan& plan, const RunOptions& options);
  ~Supervisor();
  RunResult run();

  // ---- used by probes and streams ----
  boost::asio::io_context& io() { return io_; }
  void on_probe_ready(NodeId id);
  void on_probe_failed(NodeId id, std::string reason);
  LogStream& log() { return *log_; }
  /// One of treerun's own lines about ID that only `-v` shows; TEXT is made only then,
  /// so a spawn or a probe check pays nothing for it without `-v`.
  void detail(NodeId id, const std::function<std::string()>& text);
  EventLog& events() { return events_; }
  const NodeState& node(NodeId id) const { return nodes_[id]; }
  std::vector<std::string> node_env(NodeId id) const;
  Launcher& launcher() { return *launcher_; }
  Reaper& reaper() { return reaper_; }

 private:
  // lifecycle (supervisor.cpp)
  void try_start(NodeId id);
  void start_node(NodeId id);
  void skip(NodeId id, const std::string& reason);
  void mark_ready(NodeId id);
  void on_finished(NodeId id);
  void check_finished(NodeId id);
  void evaluate_group(NodeId id);
  bool dependency_met(NodeId dep) const;
  bool dependency_lost(NodeId dep) const;
  bool group_ready(NodeId id) const;
  void finish_run();

  // processes (supervisor_process.cpp)
  struct OutputEnds {  // this incarnation's output ends, closed once it is spawned
    UniqueFd out, err;
  };
  void spawn(NodeId id);
  std::string wire_stdio(NodeId id, SpawnRequest& req, OutputEnds& ends);
  std::string wire_output(NodeId id, const OutputSpec& out, bool is_stderr, int& fd, OutputEnds& ends);
  void start_failed(NodeId id, std::string error);
  void spawned(NodeId id, const SpawnRequest& req, const SpawnResult& r);
  void arm_node_timeout(NodeId id);
  void open_log_pipe(NodeId id, int& child_fd, UniqueFd& keep, std::error_code& ec);
  /// A line of the node's output: to the log stream, and to its `log:` probe.
  void output_line(NodeId id, std::string_view line);
  void on_exit(NodeId id, ExitStatus status);
  void on_pipe_eof(NodeId id);
  void maybe_report_exit(NodeId id);
  void report_exit(NodeId id);
  void refresh_group(NodeId id);
  void on_orphan(pid_t pid);
  void release_stream_ends(NodeId id);
  void open_terminal();
  bool lend_terminal(NodeId id, SpawnRequest& req);
  void take_terminal_back(NodeId id);

  // failure (supervisor_failure.cpp)
  /// BY: the node whose failure this is, at the bottom (empty: this node itself).
  void node_failed(NodeId id, int code, std::string reason, std::string by = "");
  void propagate_failure(NodeId id, int code, const std::string& by);
  bool may_restart(NodeId id);
  void schedule_restart(NodeId id);
  void restart(NodeId id);

  // stopping (supervisor_stop.cpp)
  void cancel(NodeId id, std::string_view cause, std::string_view by, bool emit);
  void try_stop(NodeId id);
  void try_stop_subtree(NodeId id);
  bool waits_for_dependents(NodeId id) const;
  void send_stop(NodeId id, bool leftovers = false);
  bool run_stop_command(NodeId id);
  void on_grace_expired(NodeId id);
  void kill_group(NodeId id);
  void on_signal(int sig);
  void force_kill_all();
  void report_progress();
  void sweep_orphans();
  void continue_sweep();

  // streams (supervisor_streams.cpp)
  void wire_streams(std::optional<NodeId> within = std::nullopt);
  bool stream_within(const StreamWiring& s, NodeId top) const;
  std::string describe(const StreamWiring& s) const;
  std::vector<LineRelay::Target> relay_targets(const StreamWiring& s,
                                                 std::vector<std::shared_ptr<StreamSink>>& sinks);
  std::unique_ptr<LogCopy> log_copy(const StreamWiring& s);

  // summary (summary.cpp)
  void print_summary(int code) const;

  const Plan& plan_;
  RunOptions options_;
  Guardian guardian_;  // first: it forks before anything else exists
  boost::asio::io_context io_;
  Clock::time_point start_ = Clock::now();
  EventLog events_{start_};
  std::unique_ptr<LogStream> log_;
  std::unique_ptr<Launcher> launcher_;
  Reaper reaper_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer run_timer_;
  boost::asio::steady_timer progress_timer_;
  boost::asio::steady_timer orphan_timer_;
  std::vector<NodeState> nodes_;
  std::vector<std::string> base_env_;  // treerun's environment, minus what we set
  std::string run_id_;
  int signalled_ = 0;              // the first SIGINT/SIGTERM/SIGHUP
  bool forced_ = false;
  int cascading_ = 0;  // cancels under way in this call stack
  bool run_finished_ = false;
  bool sweeping_ = false;
  std::optional<int> first_code_;  // the first failure's (or timeout's) exit code
  std::vector<std::shared_ptr<Carrier>> relays_;
  std::unique_ptr<TerminalLock> terminal_;  // only when some node has `tty: true`
  std::vector<pid_t> orphans_;     // descendants that came back to us, still alive
  std::vector<NodeId> lingering_;  // nodes whose leader is gone but not its whole group
  bool orphans_killed_ = false;
};

bool counts_as_worker(const Plan& plan, NodeId id);

/// Our own children, from the kernel's list: after every node is collected, any left
/// are orphans that came back to us as subreaper.
std::vector<pid_t> own_children(pid_t except);

}  // namespace treerun
