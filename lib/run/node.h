// What the supervisor knows of a node: its State (the row of the table in table.cpp),
// its Outcome once decided, and the Incarnation of its process, a record that a restart
// replaces whole so that nothing of the last run survives into the next.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/exit_status.h"
#include "base/fd.h"
#include "io/line_reader.h"
#include "plan/plan.h"
#include "proc/launcher.h"

namespace treerun {

class ReadinessProbe;
class HealthMonitor;
class Carrier;

using Clock = std::chrono::steady_clock;

enum class State : std::uint8_t {
  pending,       // waits for its parent to be ready and each `after` to be met
  awaiting_tty,  // would start; another node holds the terminal
  starting,      // process spawned; readiness probe not passed yet
  ready,         // probe passed (or none): children and dependents may start. A group: started
  cancelling,    // cancelled; its stop waits until its children and cancelling dependents are gone
  stopping,      // a step of its stop sequence is under way, its deadline armed
  killing,       // SIGKILL sent to the group
  draining,      // leader collected; its last output is still being read
  exited,        // exit reported, outcome decided; waits for its children, what it left
                 // in its group, and its stop command
  finished,      // parent and dependents told
  restart_due,   // finished, restart timer armed
};
constexpr std::size_t kStates = 11;

enum class Event : std::uint8_t {
  can_start,      // parent ready, every `after` met
  dep_lost,       // an `after` can never be met
  tty_free,       // its turn at the terminal came
  probe_passed,
  probe_failed,   // the readiness probe timed out; once ready: the health check failed
  timed_out,      // the node's own `timeout`
  leader_exited,  // its process was collected
  drained,        // its output is read to EOF, or nothing more can come
  settled,        // children finished, group empty, stop command ended
  cancel,         // with a Cancel: parent, dependency, failure, done, timeout, signal
  unblocked,      // cancelled, and its children and cancelling dependents are gone
  grace_expired,  // the current stop step's wait is over
  force,          // a second ctrl-c
  restart_timer,  // the restart's backoff is over
  workers_done,   // a group: every worker child is finished
  start_asked,    // `start` (or the second half of `restart`) from the control socket
};
constexpr std::size_t kEvents = 16;

const char* name(State s);
const char* name(Event e);

/// How a node ended, decided once: the summary, the event log and `after` read it.
enum class Outcome : std::uint8_t { none, ok, failed, failed_ignored, cancelled, killed, not_started };
const char* name(Outcome o);

/// A cancel's reason, the payload of Event::cancel.
struct Cancel {
  std::string cause;  // parent, failure, done, timeout, sigint, sigterm, sighup, ...
  std::string by;     // the failed node at the bottom, if any
  bool emit = false;  // written to the event log (only where the cancel starts)
  /// A `stop` from the control socket: the nodes that depend on what it stops are not
  /// touched (as `docker compose stop`), at every level of the subtree it stops.
  bool spare_dependents = false;
};

/// What the control socket's `stop` or `restart` left on a node (contract 6.2), until
/// it starts again.
enum class Hold : std::uint8_t {
  none,
  /// Stays stopped until `start`. For its group's *done* it counts as finished; a group
  /// of daemons does not end because its daemons are stopped; what waits for it
  /// (`after`) waits on instead of giving up.
  stopped,
  /// Its stop is under way and a start follows: nothing counts it as finished.
  restarting,
};

/// One run of a node's process, from spawn to the end of its group. Replaced whole on
/// restart.
struct Incarnation {
  /// Which incarnation: handlers of an earlier one (a reader's EOF, a timer already
  /// due) compare it and stay out of this one.
  unsigned generation = 0;
  ProcHandle proc;          // proc.pid 0: never spawned
  bool group_gone = false;  // no process of its group remains; never signalled again
  bool was_ready = false;
  bool holds_terminal = false;
  int stop_step = -1;       // index into the plan's stop_sequence; -1: no stop sent
  bool failed_running = false;  // its own failure (a probe or its timeout) came first
  /// What had been sent when the leader exited: it decides "cancelled" or "killed".
  int stop_step_at_exit = -1;
  int open_pipes = 0;       // log pipes not yet at EOF
  std::optional<ExitStatus> status;
  std::string start_error;  // why it could not start, for the message
  Clock::time_point started{}, stop_sent_at{}, ended{};
  std::string stop_how;     // "SIGTERM", "command", + " + SIGKILL"
  pid_t stop_cmd = 0;       // the `stop` command, while it runs
  std::vector<std::shared_ptr<LineReader>> readers;
  std::shared_ptr<ReadinessProbe> probe;
  std::shared_ptr<HealthMonitor> health;  // once ready, with `health:`
  std::uint32_t grace = 0;  // the stop step's wait, while armed: its token in Supervisor::graces_
  std::unique_ptr<boost::asio::steady_timer> timeout_timer;

  bool stop_sent() const { return stop_step >= 0; }
};

struct Node {
  const PlanNode* spec = nullptr;
  State state = State::pending;
  Outcome outcome = Outcome::none;
  std::optional<Cancel> cancelled;  // set once, by the first cancel that reached it
  bool restart_wanted = false;      // the failure policy chose restart: at settle, restart_due
  Hold held = Hold::none;
  /// Gone from the spec at a `reload` (reload.cpp): stopped, kept only so that NodeIds
  /// stay; no command, `ps` or summary sees it.
  bool removed = false;
  /// What its next start_asked is, for its `restart` event: control, watch or reload,
  /// and for watch the first changed path (set by the action that asks, watch.cpp).
  std::string restart_cause = "control";
  std::string restart_path;
  /// A change seen while a restart of it was under way: one more restart follows that one.
  std::string watch_pending;
  std::string skip_reason;
  std::string failure_reason;
  int failure_code = 0;
  /// A group: the first node inside it that failed under `continue` (its path). The
  /// group carries on, and then ends failed, not ok.
  std::optional<std::string> failure_inside;
  int log_source = 0;
  std::vector<NodeId> dependents;   // nodes whose `after` names this one
  Incarnation run;
  std::unique_ptr<boost::asio::steady_timer> restart_timer;
  /// Its restarts within `restart.within`, oldest first: a few (restart.max at most),
  /// and a vector costs nothing while empty (a deque allocates 576 bytes up front).
  std::vector<Clock::time_point> restarts;
  int attempt = 0;
  std::shared_ptr<Carrier> log_carriers[2];  // stdout, stderr: a stream that is also logged
  // Stream ends this node's process is given: kept while the node may be respawned.
  UniqueFd stdin_end, stdout_end, stderr_end;
  /// The pipes its stdout and stderr streams start with (inodes; 0: none), to name who
  /// still holds one open after it is gone.
  ino_t out_pipes[2] = {0, 0};
  std::string tail;  // last bytes of its output, for the summary
  std::map<std::string, unsigned long long> lag_dropped;  // lag: drop, bytes lost per source

  bool is_group() const { return spec->is_group(); }
  /// Its process is running (and not yet collected).
  bool leader_alive() const {
    return state == State::starting || state == State::ready || state == State::cancelling ||
           state == State::stopping || state == State::killing;
  }
  /// Something of its incarnation may still run: the leader, or what it left in its group.
  bool has_processes() const { return run.proc.pid > 0 && (leader_alive() || !run.group_gone); }
  bool done() const { return state == State::finished || state == State::restart_due; }
};

}  // namespace treerun
