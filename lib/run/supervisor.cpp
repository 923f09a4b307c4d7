// The supervisor's lifecycle: which node starts when, and when a node or group is done.
//
//   state     | event                      | decision
//   ----------+----------------------------+---------------------------------------------
//   pending   | parent ready, deps met     | start: spawn its process, or (a group) ready
//   pending   | a dependency failed        | finished, not started (skip_reason)
//   pending   | cancel                     | finished, not started
//   running   | probe passed / spawned     | ready: children and dependents may start
//   running   | own process reported exit  | cancel its children; failure rules (4.2)
//   running   | all worker children done   | a group: cancel (cause done) its daemons
//   running   | children and process gone  | finished; tell the parent and dependents
//   running   | cancel                     | cancel children and dependents; stop (stop.cpp)
//   finished  | anything                   | nothing, unless a restart is pending
#include <fmt/format.h>
#include <signal.h>
#include <sys/random.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "probes/probe.h"
#include "run/supervisor_impl.h"
#include "base/units.h"

extern char** environ;

namespace treerun {
namespace {

std::string make_run_id() {
  unsigned char bytes[8] = {};
  if (getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    auto now = Clock::now().time_since_epoch().count();
    std::memcpy(bytes, &now, sizeof bytes);
  }
  std::string id;
  for (unsigned char b : bytes) id += fmt::format("{:02x}", b);
  return id;
}

std::vector<std::string> inherited_env() {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    // Ours to set per node; a nested treerun must not pass its own on.
    if (kv.starts_with("TREERUN_NODE=") || kv.starts_with("TREERUN_RUN_ID=") ||
        kv.starts_with("NOTIFY_SOCKET="))
      continue;
    out.emplace_back(kv);
  }
  return out;
}

}  // namespace

std::vector<pid_t> own_children(pid_t except) {
  std::vector<pid_t> out;
  std::ifstream in(fmt::format("/proc/self/task/{}/children", ::getpid()));
  pid_t pid;
  while (in >> pid)
    if (pid != except) out.push_back(pid);
  return out;
}

Supervisor::Supervisor(const Plan& plan, const RunOptions& options)
    : plan_(plan),
      options_(options),
      reaper_(io_),
      signals_(io_, SIGINT, SIGTERM, SIGHUP),
      run_timer_(io_),
      progress_timer_(io_),
      orphan_timer_(io_),
      nodes_(plan.nodes.size()),
      base_env_(inherited_env()),
      run_id_(make_run_id()) {
  std::error_code ec;
  log_ = std::make_unique<LogStream>(LogStream::Options{options.logs, options.color, options.timestamps}, ec);
  if (ec) throw std::system_error(ec, "cannot open the log file " + options.logs.path);
  if (!options.events_path.empty()) {
    events_.open(options.events_path, ec);
    if (ec) throw std::system_error(ec, "cannot open the event log " + options.events_path);
  }
  for (const PlanNode& spec : plan.nodes) {
    NodeState& n = nodes_[spec.id];
    n.spec = &spec;
    n.log_source = spec.id == 0 ? 0 : log_->add_source(spec.path);
    n.is_worker = counts_as_worker(plan, spec.id);
    for (NodeId dep : spec.after) nodes_[dep].dependents.push_back(spec.id);
  }
  // SIGPIPE: a reader that went away is an EPIPE to handle, not our death. SIGTTOU:
  // handing the terminal over and back must not stop us.
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGTTOU, SIG_IGN);
  launcher_ = std::make_unique<LocalLauncher>();  // after the handlers, so it sees them
  wire_streams();
  open_terminal();
  reaper_.on_orphan([this](pid_t pid, ExitStatus) { on_orphan(pid); });
  reaper_.after_reap([this] { continue_sweep(); });
}

Supervisor::~Supervisor() = default;

std::vector<std::string> Supervisor::node_env(NodeId id) const {
  const PlanNode& spec = plan_[id];
  std::vector<std::string> env = base_env_;
  auto set = [&env](const std::string& key, const std::string& value) {
    std::string prefix = key + "=";
    for (auto& kv : env)
      if (kv.starts_with(prefix)) {
        kv = prefix + value;
        return;
      }
    env.push_back(prefix + value);
  };
  for (const auto& [key, value] : spec.env) set(key, value);
  set("TREERUN_NODE", spec.path);
  set("TREERUN_RUN_ID", run_id_);
  return env;
}

RunResult Supervisor::run() {
  signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (!ec) on_signal(sig);
  });
  // Signals that came while the spec loaded (the caller blocks them) arrive now.
  sigset_t stops = stop_signals();
  sigprocmask(SIG_UNBLOCK, &stops, nullptr);
  if (plan_.timeout) {
    run_timer_.expires_after(*plan_.timeout);
    run_timer_.async_wait([this](const boost::system::error_code& ec) {
      // A run already on its way down (its work done, a failure, a signal) is not
      // timed out by its own teardown, which its graces bound.
      if (ec || run_finished_ || nodes_[0].cancelling) return;
      log_->note(-1, fmt::format("the run's timeout ({}) is up: stopping everything",
                                 format_duration(*plan_.timeout)));
      if (!first_code_) first_code_ = 124;
      cancel(0, "timeout", "", true);
    });
  }
  start_node(0);
  for (;;) {
    // What a burst of events caused is written together before the loop sleeps, one
    // write per burst; the burst is bounded so a chatty pipe cannot hold it back.
    events_.flush();
    log_->flush();
    if (run_finished_ || !io_.run_one()) break;
    for (int i = 0; i < 64 && !run_finished_ && io_.poll_one(); ++i) {
    }
  }
  int code = signalled_ ? 128 + signalled_ : first_code_.value_or(0);
  events_.done(code, std::chrono::duration<double>(Clock::now() - start_).count());
  events_.flush();
  log_->flush();
  if (!options_.quiet) print_summary(code);
  return RunResult{code, signalled_};
}

/// For `after` and for a group being done: a node with a command is what its `daemon`
/// says; a group is a worker if one of its children is (workers in a daemon's own
/// nursery do not make the groups above it wait: the daemon runs until cancelled).
bool counts_as_worker(const Plan& plan, NodeId id) {
  const PlanNode& spec = plan[id];
  if (!spec.is_group()) return !spec.daemon;
  for (NodeId child : spec.children)
    if (counts_as_worker(plan, child)) return true;
  return false;
}

bool Supervisor::dependency_met(NodeId dep) const {
  const NodeState& d = nodes_[dep];
  if (d.is_worker)
    return d.phase == Phase::finished && !d.skipped && !d.failed && !d.failure_ignored &&
           (!d.cancelling || d.completed);
  return group_ready(dep);
}

/// A daemon is ready once its probe passed; a group without workers once every daemon
/// in it is (contract 3, `after`).
bool Supervisor::group_ready(NodeId id) const {
  const NodeState& n = nodes_[id];
  if (!n.ready || n.phase != Phase::running || n.cancelling) return false;
  if (!n.spec->is_group()) return true;
  for (NodeId child : n.spec->children)
    if (!group_ready(child)) return false;
  return true;
}

bool Supervisor::dependency_lost(NodeId dep) const {
  const NodeState& d = nodes_[dep];
  if (d.restart_pending) return false;
  if (d.phase == Phase::finished) return !dependency_met(dep);
  return d.cancelling;
}

void Supervisor::try_start(NodeId id) {
  NodeState& n = nodes_[id];
  if (n.phase != Phase::pending || n.cancelling) return;
  const NodeState& parent = nodes_[*n.spec->parent];
  if (parent.phase != Phase::running || !parent.ready || parent.cancelling) return;
  for (NodeId dep : n.spec->after) {
    if (dependency_lost(dep)) {
      std::string reason = fmt::format("not started: {} {}", plan_[dep].path,
                                       nodes_[dep].skipped ? "was not started" : "did not succeed");
      log_->note(n.log_source, reason);
      return skip(id, reason);
    }
    if (!dependency_met(dep)) return;
  }
  start_node(id);
}

/// ID and everything inside it will never start: all of it is finished, so that what
/// waits for any of it (an `after` naming a node inside) learns so too.
void Supervisor::skip(NodeId id, const std::string& reason) {
  NodeState& n = nodes_[id];
  n.skipped = true;
  n.skip_reason = reason;
  n.phase = Phase::finished;
  for (NodeId child : n.spec->children)
    if (nodes_[child].phase == Phase::pending) skip(child, "not started: " + n.spec->path + " was not started");
  on_finished(id);
}

void Supervisor::start_node(NodeId id) {
  NodeState& n = nodes_[id];
  n.phase = Phase::running;
  n.ready = false;
  if (n.spec->is_group()) {
    mark_ready(id);
    check_finished(id);  // an empty or all-skipped group is done at once
    return;
  }
  if (n.spec->tty && terminal_ && terminal_->available() &&
      !terminal_->acquire(id, [this, id] {
        nodes_[id].waiting_terminal = false;
        spawn(id);
      })) {
    n.waiting_terminal = true;
    log_->note(n.log_source, fmt::format("waiting for the terminal (held by {})", plan_[*terminal_->holder()].path));
    return;
  }
  spawn(id);
}

void Supervisor::mark_ready(NodeId id) {
  NodeState& n = nodes_[id];
  if (n.ready || n.phase != Phase::running) return;
  n.ready = true;
  events_.ready(n.spec->path);
  if (id != 0 && n.spec->ready.type != treerun::Probe::Type::none) log_->note(n.log_source, "ready");
  for (NodeId child : n.spec->children) try_start(child);
  // This node, and maybe every group above it, is now ready for its dependents.
  for (std::optional<NodeId> at = id; at; at = plan_[*at].parent)
    for (NodeId dep : nodes_[*at].dependents) try_start(dep);
}

void Supervisor::detail(NodeId id, const std::function<std::string()>& text) {
  if (options_.verbose > 0) log_->note(nodes_[id].log_source, text());
}

void Supervisor::on_probe_ready(NodeId id) {
  // The probe stays until the process exits: a notify socket keeps showing STATUS=.
  NodeState& n = nodes_[id];
  if (n.proc.alive && !n.cancelling) mark_ready(id);
}

void Supervisor::on_probe_failed(NodeId id, std::string reason) {
  NodeState& n = nodes_[id];
  n.probe.reset();
  if (!n.proc.alive || n.cancelling) return;
  n.timed_out = true;
  log_->note(n.log_source, reason);
  node_failed(id, 124, std::move(reason));
  cancel(id, "timeout", "", false);
}

void Supervisor::check_finished(NodeId id) {
  NodeState& n = nodes_[id];
  if (n.phase != Phase::running) return;
  // A process node is done when its exit is reported, its group is empty, and its
  // stop command (bounded by the grace period) has ended too.
  if (!n.spec->is_group() && !(n.proc.exit_reported && n.proc.group_empty && n.proc.stop_cmd_pid == 0)) return;
  for (NodeId child : n.spec->children)
    if (nodes_[child].phase != Phase::finished || nodes_[child].restart_pending) {
      evaluate_group(id);
      return;
    }
  n.phase = Phase::finished;
  on_finished(id);
}

/// A group that is not cancelled is done when every worker among its children is:
/// its daemons are then torn down gracefully, and the group succeeds.
void Supervisor::evaluate_group(NodeId id) {
  NodeState& n = nodes_[id];
  if (n.cancelling || !n.spec->is_group() || n.phase != Phase::running) return;
  bool any_worker = false;
  for (NodeId child : n.spec->children) {
    const NodeState& c = nodes_[child];
    if (!c.is_worker) continue;
    any_worker = true;
    if (c.phase != Phase::finished || c.restart_pending) return;
  }
  if (!any_worker) return;
  n.completed = true;
  cancel(id, "done", "", true);
}

void Supervisor::on_finished(NodeId id) {
  NodeState& n = nodes_[id];
  if (n.restart_pending) return schedule_restart(id);
  release_stream_ends(id);
  if (id == 0) return finish_run();
  NodeId parent = *n.spec->parent;
  for (NodeId dep : n.dependents) try_start(dep);
  // The stop order: a node's stop waits for its children and its dependents (and the
  // dependents of the groups it is in).
  for (NodeId target : n.spec->after) try_stop_subtree(target);
  try_stop(parent);
  check_finished(parent);
}

void Supervisor::finish_run() {
  sweep_orphans();
}

RunResult run_plan(const Plan& plan, const RunOptions& options) {
  Supervisor supervisor(plan, options);
  RunResult result = supervisor.run();
  // The run is over and `done` is written: a late SIGTERM must not kill us now with
  // another status. (The caller unblocks the one signal it re-raises.)
  sigset_t late = stop_signals();
  sigprocmask(SIG_BLOCK, &late, nullptr);
  return result;
}

sigset_t stop_signals() {
  sigset_t stops;
  sigemptyset(&stops);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&stops, sig);
  return stops;
}

}  // namespace treerun
