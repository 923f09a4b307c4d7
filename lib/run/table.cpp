// The node lifecycle as a table: what each Event does to a node in each State. Every
// cell is a decision someone made: an action, `nop` (nothing to do, on purpose) or
// `bug` (cannot happen: aborts in debug builds). The man page's SEMANTICS sections read
// against these rows: Start-up (pending, awaiting_tty, starting, ready), Stopping
// (cancelling, stopping, killing), Failure (draining → exited: the outcome and
// on_failure), Restart (restart_due). The control socket's `stop` is a cancel, its
// `start` the start_asked column (control_act.cpp decides when each is delivered).
//
// Conditions over several nodes (is every `after` met? are the children gone?) are
// evaluated by the consider_* functions below, which raise the events; the cells act.
#include <fmt/format.h>

#include <array>
#include <boost/asio/post.hpp>
#include <cassert>

#include "base/units.h"
#include "probes/health.h"
#include "run/supervisor.h"

namespace treerun {
namespace {

using S = Supervisor;
constexpr S::Action nop = &S::nothing;
constexpr S::Action bug = &S::impossible;
using Row = std::array<S::Action, kEvents>;

// clang-format off
//                         can_start        dep_lost       tty_free      probe_passed     probe_failed       timed_out          leader_exited   drained         settled    cancel                  unblocked             grace_expired  force          restart_timer workers_done start_asked
constexpr std::array<Row, kStates> kProcess = {{
  /* pending      */ {&S::start,         &S::skip_lost, bug,          bug,             bug,               bug,               bug,            bug,            bug,       &S::skip_cancelled,     bug,                  bug,           nop,           bug,          bug,         nop},
  /* awaiting_tty */ {nop,               bug,           &S::spawn_now,bug,             bug,               bug,               bug,            bug,            bug,       &S::unqueue_cancelled,  bug,                  bug,           nop,           bug,          bug,         nop},
  /* starting     */ {bug,               nop,           bug,          &S::become_ready,&S::fail_not_ready,&S::fail_timed_out,&S::leader_gone,bug,            bug,       &S::cancel_running,     bug,                  bug,           &S::force_kill,bug,          bug,         nop},
  /* ready        */ {bug,               nop,           bug,          nop,             &S::fail_unhealthy,&S::fail_timed_out,&S::leader_gone,bug,            bug,       &S::cancel_running,     bug,                  bug,           &S::force_kill,bug,          bug,         nop},
  /* cancelling   */ {bug,               nop,           bug,          nop,             nop,               nop,               &S::leader_gone,bug,            bug,       nop,                    &S::first_stop_step,  bug,           &S::force_kill,bug,          bug,         bug},
  /* stopping     */ {bug,               nop,           bug,          nop,             nop,               nop,               &S::leader_gone,bug,            bug,       nop,                    bug,                  &S::next_stop_step, &S::force_kill, bug,     bug,         bug},
  /* killing      */ {bug,               nop,           bug,          nop,             nop,               nop,               &S::leader_gone,bug,            bug,       nop,                    bug,                  nop,           nop,           bug,          bug,         bug},
  /* draining     */ {bug,               nop,           bug,          bug,             bug,               nop,               bug,            &S::report_exit,bug,       &S::cancel_after_exit,  &S::stop_leftovers,   &S::expire_leftovers, &S::force_kill, bug,      bug,         bug},
  /* exited       */ {bug,               nop,           bug,          bug,             bug,               nop,               bug,            bug,            &S::finish,&S::cancel_after_exit,  &S::stop_leftovers,   &S::expire_leftovers, &S::force_kill, bug,      bug,         bug},
  /* finished     */ {bug,               nop,           bug,          bug,             bug,               nop,               bug,            bug,            bug,       nop,                    bug,                  nop,           nop,           bug,          bug,         &S::start_again},
  /* restart_due  */ {bug,               nop,           bug,          bug,             bug,               nop,               bug,            bug,            bug,       &S::drop_restart,       bug,                  nop,           &S::drop_restart, &S::restart, bug,        nop},
}};

// A group has no process: it is started (ready), cancelled, and finished when its
// children are; when its last worker is done, it completes (cancels its daemons, ok).
constexpr Row kNoGroupState = {bug, bug, bug, bug, bug, bug, bug, bug, bug, bug, bug, bug, bug, bug, bug, bug};
constexpr std::array<Row, kStates> kGroup = {{
  /* pending      */ {&S::start_group,   &S::skip_lost, bug,          bug,             bug,               bug,               bug,            bug,            bug,       &S::skip_cancelled,     bug,                  bug,           nop,           bug,          bug,         nop},
  /* awaiting_tty */ kNoGroupState,
  /* starting     */ kNoGroupState,
  /* ready        */ {bug,               nop,           bug,          bug,             bug,               bug,               bug,            bug,            &S::finish,&S::cancel_group,       bug,                  bug,           nop,           bug,          &S::complete_group, nop},
  /* cancelling   */ {bug,               nop,           bug,          bug,             bug,               bug,               bug,            bug,            &S::finish,nop,                    bug,                  bug,           nop,           bug,          nop,         bug},
  /* stopping     */ kNoGroupState,
  /* killing      */ kNoGroupState,
  /* draining     */ kNoGroupState,
  /* exited       */ kNoGroupState,
  /* finished     */ {bug,               nop,           bug,          bug,             bug,               bug,               bug,            bug,            bug,       nop,                    bug,                  bug,           nop,           bug,          bug,         &S::start_again},
  /* restart_due  */ {bug,               nop,           bug,          bug,             bug,               bug,               bug,            bug,            bug,       &S::drop_restart,       bug,                  bug,           &S::drop_restart, &S::restart, bug,        nop},
}};
// clang-format on

constexpr const char* kStateNames[kStates] = {"pending",  "awaiting_tty", "starting", "ready",    "cancelling", "stopping",
                                              "killing",  "draining",     "exited",   "finished", "restart_due"};
constexpr const char* kEventNames[kEvents] = {"can_start",     "dep_lost", "tty_free", "probe_passed", "probe_failed",
                                              "timed_out",     "leader_exited", "drained", "settled", "cancel",
                                              "unblocked",     "grace_expired", "force", "restart_timer", "workers_done",
                                              "start_asked"};

}  // namespace

const char* name(State s) { return kStateNames[static_cast<std::size_t>(s)]; }
const char* name(Event e) { return kEventNames[static_cast<std::size_t>(e)]; }
const char* name(Outcome o) {
  switch (o) {
    case Outcome::none: return "running";
    case Outcome::ok: return "ok";
    case Outcome::failed: return "failed";
    case Outcome::failed_ignored: return "failed (ignored)";
    case Outcome::cancelled: return "cancelled";
    case Outcome::killed: return "killed";
    case Outcome::not_started: return "not started";
  }
  return "?";
}

TableAction table_cell(bool group, State s, Event e) {
  const auto& table = group ? kGroup : kProcess;
  return table[static_cast<std::size_t>(s)][static_cast<std::size_t>(e)];
}

void Supervisor::on(NodeId id, Event e) {
  const State before = nodes_[id].state;
  (this->*table_cell(nodes_[id].is_group(), before, e))(id);
  trace(id, before, e);
  after_change();
}

/// -vv: "db  ready --cancel(failure)--> cancelling"
void Supervisor::trace(NodeId id, State before, Event e) {
  if (options_.verbose < 2) return;
  const Node& n = nodes_[id];
  std::string cause = e == Event::cancel && cancel_ ? "(" + cancel_->cause + ")" : "";
  log_->note(n.log_source, fmt::format("{} --{}{}--> {}", name(before), name(e), cause, name(n.state)));
}

void Supervisor::nothing(NodeId) {}

void Supervisor::impossible(NodeId id) {
  log_->note(nodes_[id].log_source, fmt::format("internal error: an event that cannot happen in state {}",
                                                name(nodes_[id].state)));
  assert(!"an event that cannot happen in this state");
}

// ---- evaluations that raise events -------------------------------------------------

/// A worker must be done and ok; a daemon (or a group without workers) ready. EXITED
/// (`{NAME: exited}`): a worker that has ended with any status; not one that never
/// started, nor one that will be started again.
bool Supervisor::dependency_met(NodeId dep, bool exited) const {
  const Node& d = nodes_[dep];
  if (exited) return d.state == State::finished && d.outcome != Outcome::not_started && !held_by_control(dep);
  if (d.spec->is_worker)
    return d.state == State::finished && d.outcome == Outcome::ok &&
           (d.is_group() || (!d.cancelled && d.failure_reason.empty()));
  return group_ready(dep);
}

/// A daemon is ready once its probe passed; a group without workers once every daemon
/// in it is (treerun(1), `after`).
bool Supervisor::group_ready(NodeId id) const {
  const Node& n = nodes_[id];
  if (n.state != State::ready) return false;
  if (!n.is_group()) return true;  // a daemon's own nursery does not hold it back
  for (NodeId child : n.spec->children) {
    // A setup step in a group of daemons is ready when it is done and ok.
    bool ok = plan_[child].is_worker ? dependency_met(child) : group_ready(child);
    if (!ok) return false;
  }
  return true;
}

bool Supervisor::dependency_lost(NodeId dep, bool exited) const {
  const Node& d = nodes_[dep];
  if (d.restart_wanted || d.state == State::restart_due) return false;
  if (held_by_control(dep)) return false;  // it may be started again: wait for it
  if (d.state == State::finished) return !dependency_met(dep, exited);
  return !exited && d.cancelled.has_value();  // a cancelled one still exits: wait for that
}

Supervisor::StartCheck Supervisor::start_check(NodeId id) {
  Node& n = nodes_[id];
  if (n.state != State::pending || nodes_[*n.spec->parent].state != State::ready) return StartCheck::not_yet;
  for (NodeId dep : n.spec->after) {
    bool exited = n.spec->waits_for_exit(dep);
    if (dependency_lost(dep, exited)) {
      n.skip_reason = fmt::format("not started: {} {}", plan_[dep].path,
                                  nodes_[dep].outcome == Outcome::not_started ? "was not started" : "did not succeed");
      return StartCheck::lost;
    }
    if (!dependency_met(dep, exited)) return StartCheck::not_yet;
  }
  return StartCheck::go;
}

/// A group starts at once; a process is queued, and spawned in batches of kStartBatch
/// per turn of the loop, so that a signal or a deadline is heard during the start of a
/// large tree, and a cancel stops the spawns that have not happened yet.
void Supervisor::consider_start(NodeId id) {
  switch (start_check(id)) {
    case StartCheck::not_yet: return;
    case StartCheck::lost: return on(id, Event::dep_lost);
    case StartCheck::go: break;
  }
  if (nodes_[id].is_group()) return on(id, Event::can_start);
  start_queue_.push_back(id);
  if (start_queue_.size() == 1) boost::asio::post(io_, [this] { start_batch(); });
}

void Supervisor::start_batch() {
  int taken = 0;
  // Rounds: the spawns of one are all submitted before the first is collected; what
  // their starts make ready (a node's children) goes in the next round of this turn.
  while (taken < kStartBatch && !start_queue_.empty()) {
    batching_ = true;
    for (; taken < kStartBatch && !start_queue_.empty(); ++taken) {
      NodeId id = start_queue_.front();
      start_queue_.pop_front();
      // Checked again: a cancel, or a dependency lost, may have come since it was queued.
      switch (start_check(id)) {
        case StartCheck::not_yet: break;  // whatever changed will consider it again
        case StartCheck::lost: on(id, Event::dep_lost); break;
        case StartCheck::go: on(id, Event::can_start); break;
      }
    }
    batching_ = false;
    collect_spawns();
  }
  if (!start_queue_.empty()) boost::asio::post(io_, [this] { start_batch(); });
}

/// A cancelled node's stop waits for its children and for its cancelling dependents.
/// While a cancel is still marking nodes, the check waits for it to end: whether this
/// node must wait depends on which of its dependents are going too.
void Supervisor::consider_stop(NodeId id) {
  Node& n = nodes_[id];
  if (n.is_group() || !n.cancelled || n.run.stop_sent() || n.run.proc.pid <= 0) return;
  if (!n.leader_alive() && n.run.group_gone) return;
  if (marking_) return defer_stop_check(id);
  for (NodeId child : n.spec->children)
    if (!nodes_[child].done()) return;
  if (waits_for_dependents(id)) return;
  on(id, Event::unblocked);
}

void Supervisor::consider_stop_subtree(NodeId id) {
  consider_stop(id);
  for (NodeId child : plan_[id].children) consider_stop_subtree(child);
}

/// A process node is settled when its exit is reported, its group is empty and its
/// stop command has ended; any node, when its children are finished.
void Supervisor::consider_settled(NodeId id) {
  Node& n = nodes_[id];
  if (n.is_group() ? (n.state != State::ready && n.state != State::cancelling)
                   : (n.state != State::exited || !n.run.group_gone || n.run.stop_cmd))
    return;
  // A child being restarted from the control socket is coming back, unless its group
  // is going away.
  bool running_group = n.is_group() && n.state == State::ready;
  bool stopped_child = false;
  // From the last: children are stopped in order and end roughly so, so the first one
  // not finished is met at once, not after all the finished ones (a teardown of a group
  // of 5 000 was O(n²) here).
  for (auto it = n.spec->children.rbegin(); it != n.spec->children.rend(); ++it) {
    const Node& c = nodes_[*it];
    if (c.state != State::finished || (running_group && c.held == Hold::restarting))
      return consider_workers_done(id);
    stopped_child = stopped_child || c.held == Hold::stopped;
  }
  // A group of daemons runs until cancelled: the control socket stopping them all does
  // not end it (they may be started again). A group with workers is done as usual,
  // but one that a change may run something in again: it waits for that change.
  if (running_group && ((stopped_child && !has_workers(id)) || held_for_watches(id))) return;
  on(id, Event::settled);
}

/// The workers that make a group done: its worker children but its setup steps.
bool Supervisor::has_workers(NodeId id) const {
  for (NodeId child : plan_[id].children)
    if (plan_[child].is_worker && !plan_[child].setup_step) return true;
  return false;
}

/// A group that is not cancelled is done when every worker among its children is (one
/// stopped from the control socket counts as finished; one being restarted does not).
void Supervisor::consider_workers_done(NodeId id) {
  Node& n = nodes_[id];
  if (!n.is_group() || n.state != State::ready || !has_workers(id) || held_for_watches(id)) return;
  for (NodeId child : n.spec->children) {
    if (!plan_[child].is_worker || plan_[child].setup_step) continue;  // setup steps do not end it
    if (nodes_[child].state != State::finished || nodes_[child].held == Hold::restarting) return;
  }
  on(id, Event::workers_done);
}

/// Whether ID or a group above it was stopped from the control socket and not started
/// again: it may come back.
bool Supervisor::held_by_control(NodeId id) const {
  for (std::optional<NodeId> at = id; at; at = plan_[*at].parent)
    if (nodes_[*at].held != Hold::none) return true;
  return false;
}

// ---- lifecycle actions ---------------------------------------------------------------

void Supervisor::start(NodeId id) {
  Node& n = nodes_[id];
  if (n.spec->tty && terminal_ && terminal_->available() &&
      !terminal_->acquire(id, [this, id] { on(id, Event::tty_free); })) {
    set_state(id, State::awaiting_tty);
    log_->note(n.log_source, fmt::format("waiting for the terminal (held by {})", plan_[*terminal_->holder()].path));
    return;
  }
  spawn_now(id);
}

void Supervisor::spawn_now(NodeId id) {
  set_state(id, State::starting);
  spawn(id);
}

void Supervisor::start_group(NodeId id) {
  become_ready(id);
  consider_settled(id);  // an empty or all-skipped group is done at once
}

/// Children and dependents may start: this node, and maybe every group above it, is
/// now ready for them.
void Supervisor::become_ready(NodeId id) {
  Node& n = nodes_[id];
  set_state(id, State::ready);
  n.run.was_ready = true;
  events_.ready(n.spec->path);
  if (id != 0 && n.spec->ready.type != Probe::Type::none)
    log_->note(n.log_source, fmt::format("ready ({:.2f}s after its start)",
                                         std::chrono::duration<double>(Clock::now() - n.run.started).count()));
  if (n.spec->health && !n.is_group()) {
    n.run.health = std::make_shared<HealthMonitor>(*this, id, *n.spec->health, n.spec->cwd);
    n.run.health->start();
  }
  for (NodeId child : n.spec->children) consider_start(child);
  for (std::optional<NodeId> at = id; at; at = plan_[*at].parent)
    for (NodeId dep : nodes_[*at].dependents) consider_start(dep);
}

/// Skipped work never ends in exit 0: a worker that will never start because what it
/// waits for failed is a failure of its own (exit code 1), unless it is itself
/// `on_failure: ignore`. One skipped because of a cancel is not. Skipped because of a
/// failure under `continue`, it is one as under `continue`: the group carries on.
void Supervisor::skip_lost(NodeId id) {
  Node& n = nodes_[id];
  log_->note(n.log_source, n.skip_reason);
  std::optional<NodeId> failed_dep;
  for (NodeId dep : n.spec->after)
    if (!nodes_[dep].failure_reason.empty() && dependency_lost(dep, n.spec->waits_for_exit(dep))) failed_dep = dep;
  bool fails = n.spec->is_worker && failed_dep;
  skip(id, n.skip_reason, /*tell=*/!fails);
  if (!fails) return;
  // The failure goes up before its parent and dependents learn it is finished.
  n.failure_reason = fmt::format("skipped: its `after` {} failed", plan_[*failed_dep].path);
  n.failure_code = 1;
  if (n.spec->on_failure == OnFailure::ignore) log_->note(n.log_source, "failure ignored (on_failure: ignore)");
  else if (n.spec->on_failure == OnFailure::continue_ || kept_going(*failed_dep)) carry_on(id, 1);
  else propagate_failure(id, 1, n.spec->path);
  notify_finished(id);
}

void Supervisor::skip_cancelled(NodeId id) {
  Node& n = nodes_[id];
  n.cancelled = *cancel_;
  if (cancel_->emit) events_.cancel(n.spec->path, cancel_->cause, cancel_->by);
  skip(id, "not started: cancelled");
}

void Supervisor::unqueue_cancelled(NodeId id) {
  terminal_->forget(id);
  skip_cancelled(id);
}

/// ID and everything inside it will never start: all of it is finished, so that what
/// waits for any of it (an `after` naming a node inside) learns so too.
void Supervisor::skip(NodeId id, const std::string& reason, bool tell) {
  Node& n = nodes_[id];
  n.outcome = Outcome::not_started;
  n.skip_reason = reason;
  set_state(id, State::finished);
  for (NodeId child : n.spec->children)
    if (nodes_[child].state == State::pending) skip(child, "not started: " + n.spec->path + " was not started");
  if (tell) notify_finished(id);
}

/// Settled: finished, or due for a restart its failure policy chose.
void Supervisor::finish(NodeId id) {
  Node& n = nodes_[id];
  if (n.is_group() && n.outcome == Outcome::none) n.outcome = n.cancelled ? Outcome::cancelled : Outcome::ok;
  if (n.is_group() && n.outcome == Outcome::ok && n.failure_inside) {
    // A failure under `continue` in it let it carry on to its end, not succeed.
    n.outcome = Outcome::failed;
    n.failure_reason = *n.failure_inside + " failed (on_failure: continue)";
  }
  if (n.restart_wanted && restart_still_allowed(id)) return schedule_restart(id);
  n.restart_wanted = false;
  set_state(id, State::finished);
  notify_finished(id);
}

/// A restart decided at the failure is dropped if, by the time the node has settled,
/// the run or a nursery above it is being torn down: a new incarnation there would run
/// with nobody left to stop it. (Its own cancel, by its failure or its timeout, is the
/// restart's first half.)
bool Supervisor::restart_still_allowed(NodeId id) const {
  if (signalled_) return false;
  for (std::optional<NodeId> at = plan_[id].parent; at; at = plan_[*at].parent)
    if (nodes_[*at].cancelled) return false;
  return true;
}

void Supervisor::drop_restart(NodeId id) {
  Node& n = nodes_[id];
  n.restart_wanted = false;
  if (n.restart_timer) n.restart_timer->cancel();
  set_state(id, State::finished);
  notify_finished(id);
}

/// Its parent, its dependents and what it depends on learn that it is gone: the stop
/// order (a node's stop waits for its children and dependents) and the start order.
void Supervisor::notify_finished(NodeId id) {
  release_stream_ends(id);
  name_pipe_holders(id);
  if (id == 0) return sweep_strays();
  for (NodeId dep : nodes_[id].dependents) consider_start(dep);
  // A setup step that succeeded may be what makes a group of daemons around it ready
  // (chaos seed 63864): what waits for such a group looks again. (A group with workers
  // is waited for until it is done: its own finish tells its dependents.)
  for (std::optional<NodeId> at = plan_[id].parent; at && !plan_[*at].is_worker; at = plan_[*at].parent)
    for (NodeId dep : nodes_[*at].dependents) consider_start(dep);
  for (NodeId target : plan_[id].after) consider_stop_subtree(target);
  NodeId parent = *plan_[id].parent;
  consider_stop(parent);
  consider_settled(parent);
}

/// Back to pending, with the node's whole subtree, each with a fresh incarnation, and
/// started again.
void Supervisor::restart(NodeId id) {
  std::vector<NodeId> todo{id};
  while (!todo.empty()) {
    NodeId at = todo.back();
    todo.pop_back();
    Node& n = nodes_[at];
    n.state = State::pending;
    n.outcome = Outcome::none;
    n.cancelled.reset();
    n.restart_wanted = false;
    n.held = Hold::none;
    n.skip_reason.clear();
    n.failure_reason.clear();
    n.failure_code = 0;
    n.failure_inside.reset();
    n.run = Incarnation{};
    for (NodeId child : n.spec->children) todo.push_back(child);
  }
  if (!plan_[id].children.empty() && !reopen_streams(id)) return;
  consider_start(id);  // its `after` and its parent are checked again, as for a first start
}

/// `start` from the control socket (contract 6.2): a new incarnation of the node and of
/// everything in it, once its `after` holds; a restart that does not count against its
/// restart.max.
void Supervisor::start_again(NodeId id) {
  Node& n = nodes_[id];
  n.attempt++;
  events_.restart(n.spec->path, n.attempt, n.restart_cause, n.restart_path);
  restart(id);
}

/// A group restarted as a whole gets fresh streams. Out of descriptors (EMFILE), it
/// cannot: that is its failure, whatever its policy, and it goes up like any other.
bool Supervisor::reopen_streams(NodeId id) {
  try {
    open_streams(id);
    return true;
  } catch (const std::system_error& e) {
    Node& n = nodes_[id];
    std::string reason = fmt::format("cannot restart: {}", e.what());
    log_->note(n.log_source, reason);
    n.failure_reason = reason;
    n.failure_code = 125;
    propagate_failure(id, 125, n.spec->path);
    if (n.state == State::pending) skip(id, reason);  // no cancel reached it
    n.outcome = Outcome::failed;
    return false;
  }
}

}  // namespace treerun
