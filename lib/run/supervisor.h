// The supervisor: runs a Plan as a tree of nurseries, on one thread, driven by events
// (child exits, pipe data, signals, deadlines) on one Asio loop.
//
// Each node moves through  pending -> running -> finished. While running, a node may be
// `ready` (dependents and children may start) and `cancelling` (its stop is due once its
// children and dependents are gone). The table of what each event does in each state is
// at the top of supervisor.cpp.
#pragma once

#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/event_log.h"
#include "base/exit_status.h"
#include "base/fd.h"
#include "proc/launcher.h"
#include "io/line_reader.h"
#include "io/log_stream.h"
#include "plan/plan.h"
#include "proc/reaper.h"

namespace treerun {

class ReadinessProbe;
class Carrier;
class TerminalLock;

struct RunOptions {
  LogTarget logs;
  bool color = false;
  bool timestamps = false;
  bool quiet = false;
  int verbose = 0;
  std::string events_path;
};

/// How a run ended: an exit code, or a signal treerun should die by.
struct RunResult {
  int code = 0;
  int signal = 0;  // > 0: re-raise it after cleaning up
};

/// SIGINT, SIGTERM and SIGHUP: the signals that cancel a run. The caller holds them
/// blocked from its start; the run takes them as events, then blocks them again.
sigset_t stop_signals();

/// Runs PLAN to the end. Never throws for what a node does; only for treerun's own
/// failures before anything started (reported as 125 by the caller).
RunResult run_plan(const Plan& plan, const RunOptions& options);

// ---- internals shared by the supervisor's files ------------------------------------

using Clock = std::chrono::steady_clock;

enum class Phase { pending, running, finished };

/// The node's own process, one incarnation of it.
struct ProcessState {
  pid_t pid = 0;         // 0: never spawned
  pid_t pgid = 0;
  bool alive = false;    // not yet reaped
  bool stop_sent = false;
  bool kill_sent = false;
  bool asked_to_stop = false;  // a stop had been sent when the leader exited
  bool killed = false;         // ... and SIGKILL too
  bool exit_reported = false;
  bool group_empty = false;  // no process of its group remains
  int open_pipes = 0;        // log pipes not yet at EOF
  std::optional<ExitStatus> status;
  std::string start_error;   // why exec failed, for the message
  Clock::time_point started{};
  Clock::time_point stop_sent_at{};
  Clock::time_point ended{};
  std::string stop_how;      // "SIGTERM", "command", + " + SIGKILL"
  pid_t stop_cmd_pid = 0;    // the `stop` command, while it runs
};

struct NodeState {
  const PlanNode* spec = nullptr;
  int log_source = 0;
  bool is_worker = false;  // `after` waits for it to be done, not ready
  Phase phase = Phase::pending;
  bool ready = false;
  bool cancelling = false;
  bool timed_out = false;
  bool completed = false;       // a group whose workers are all done: a success
  bool failed = false;          // failed, and the failure went on up (cancel)
  bool failure_ignored = false; // failed under on_failure: ignore
  bool restart_pending = false;
  bool skipped = false;         // never started
  std::string skip_reason;
  std::string failure_reason;
  int failure_code = 0;
  ProcessState proc;
  std::vector<NodeId> dependents;  // nodes whose `after` names this one
  std::unique_ptr<boost::asio::steady_timer> grace_timer;
  std::unique_ptr<boost::asio::steady_timer> timeout_timer;
  std::unique_ptr<boost::asio::steady_timer> restart_timer;
  std::deque<Clock::time_point> restarts;
  int attempt = 0;
  std::vector<std::shared_ptr<LineReader>> readers;
  std::shared_ptr<Carrier> log_relays[2];  // for stdout, stderr: a stream that is also logged
  std::shared_ptr<ReadinessProbe> probe;
  // Stream ends this node's process is given: kept while the node may be respawned.
  UniqueFd stdin_end;
  UniqueFd stdout_end;
  UniqueFd stderr_end;
  bool holds_terminal = false;
  bool waiting_terminal = false;  // started, but its turn at the terminal has not come
  std::string tail;  // last bytes of its output, for the summary
  std::map<std::string, unsigned long long> lag_dropped;  // lag: drop, bytes lost per source
};

}  // namespace treerun
