// Graceful cancel, then reap (treerun(1), SEMANTICS › Stopping).
//
// Cancelling marks a node and everything that must go before it (children, then
// dependents); a node's stop starts the moment the last of those is collected, so
// only those two orders serialize and everything else stops at once. A stop walks the
// node's stop sequence (plan/stop_sequence.h): one signal (with SIGCONT) or the stop
// command to the process group, its wait as a deadline on the loop, then SIGKILL. A
// process that exits is collected in the same turn, so nothing waits on a fixed sleep.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <span>

#include "base/units.h"
#include "probes/health.h"
#include "run/supervisor.h"

namespace treerun {

/// Delivers a cancel to IDS and, through the cells, to everything it reaches. Stops are
/// considered once the marking is over, in a later turn of the loop: whether a node must
/// wait for its dependents depends on which of them are going too, and a handler may
/// cancel more than once (a failure goes up, then the children of an exited node).
void Supervisor::cancel(std::span<const NodeId> ids, Cancel c) {
  if (ids.empty()) return;  // every process's exit cancels its children: most have none
  struct Restore {  // whatever a cell throws, the marking state is put back
    Supervisor& s;
    std::optional<Cancel> saved;
    bool outer;
    ~Restore() {
      s.cancel_ = std::move(saved);
      if (outer) s.marking_ = false;
    }
  } restore{*this, std::exchange(cancel_, std::move(c)), !marking_};
  marking_ = true;
  for (NodeId id : ids) on(id, Event::cancel);
  // Readers held back by a slow log reader look again: a cancelled node's are not.
  log_->wake_waiters();
}

void Supervisor::cancel(NodeId id, Cancel c) { cancel(std::span<const NodeId>(&id, 1), std::move(c)); }

/// Considers, in a later turn, the stops that a cancel made possible.
void Supervisor::defer_stop_check(NodeId id) {
  stop_checks_.push_back(id);
  if (stop_checks_.size() > 1) return;
  boost::asio::post(io_, [this] {
    // Every signal first, then the bookkeeping: the processes of a big tree start to
    // end while the run writes its events and notes, not one by one after them.
    // SIGCHLD is held meanwhile: each process that ends at once would interrupt the
    // batch with the signal's handler; held, the reaper hears of all of them once.
    std::vector<std::pair<NodeId, bool>> sent;
    {
      struct Batch {
        Supervisor& s;
        sigset_t old;
        explicit Batch(Supervisor& s, std::vector<std::pair<NodeId, bool>>& sent) : s(s) {
          sigset_t chld;
          sigemptyset(&chld);
          sigaddset(&chld, SIGCHLD);
          pthread_sigmask(SIG_BLOCK, &chld, &old);
          s.stops_sent_ = &sent;
          // One look at every child, not one per stop. An exit after it, before the
          // node's own stop in this batch, came after the cancel had begun: it is judged
          // as a stop, as an exit just after the signal would be.
          s.none_exited_ = !s.launcher_.any_exited();
        }
        ~Batch() {
          s.stops_sent_ = nullptr;
          s.none_exited_ = false;
          pthread_sigmask(SIG_SETMASK, &old, nullptr);
        }
      } batch(*this, sent);
      for (NodeId at : std::exchange(stop_checks_, {})) consider_stop(at);
    }
    for (auto [id, leftovers] : sent) stop_sent(id, leftovers);
  });
}

/// Cancels ID's children and, unless a group is done (it keeps the nodes that waited
/// for it) or the control socket stops it (`stop` spares them), its dependents, which
/// need it. Not those that wait for it to exit (`{NAME: exited}`): a stop is an exit.
void Supervisor::cancel_subtree(NodeId id, bool dependents) {
  Cancel c = *cancel_;
  c.emit = false;
  for (NodeId child : plan_[id].children) cancel(child, c);
  if (dependents && !c.spare_dependents)
    for (NodeId dep : nodes_[id].dependents)
      if (!plan_[dep].waits_for_exit(id)) cancel(dep, c);
}

void Supervisor::cancel_running(NodeId id) {
  Node& n = nodes_[id];
  n.cancelled = *cancel_;
  if (cancel_->emit) events_.cancel(n.spec->path, cancel_->cause, cancel_->by);
  set_state(id, State::cancelling);
  if (n.run.probe) {
    n.run.probe->cancel();
    n.run.probe.reset();
  }
  if (n.run.health) n.run.health->cancel();  // a check failing while it stops means nothing
  cancel_subtree(id, true);
  consider_stop(id);
}

/// The leader is gone; what it left in its group, if anything, keeps its place in the
/// stop order.
void Supervisor::cancel_after_exit(NodeId id) {
  Node& n = nodes_[id];
  if (n.cancelled) return;
  n.cancelled = *cancel_;
  if (cancel_->emit) events_.cancel(n.spec->path, cancel_->cause, cancel_->by);
  cancel_subtree(id, true);
  consider_stop(id);
  consider_settled(id);
}

void Supervisor::cancel_group(NodeId id) {
  Node& n = nodes_[id];
  n.cancelled = *cancel_;
  if (cancel_->emit) events_.cancel(n.spec->path, cancel_->cause, cancel_->by);
  set_state(id, State::cancelling);
  cancel_subtree(id, cancel_->cause != "done");
  consider_settled(id);
}

/// Every worker of the group is done: it succeeded, and its daemons are torn down.
void Supervisor::complete_group(NodeId id) {
  Node& n = nodes_[id];
  std::string workers;
  for (NodeId child : n.spec->children)
    if (plan_[child].is_worker && !plan_[child].setup_step) workers += (workers.empty() ? "" : ", ") + plan_[child].name;
  log_->note(id == 0 ? -1 : n.log_source, fmt::format("done: its workers ({}) are done; stopping what still runs", workers));
  n.outcome = Outcome::ok;
  cancel(id, {"done", "", true});
}

/// A node that something depends on, directly or through a group it is in, is stopped
/// only once those dependents that are going away too are gone. One that stays (its
/// own cancel did not reach it) does not hold the stop up.
bool Supervisor::waits_for_dependents(NodeId id) const {
  for (std::optional<NodeId> at = id; at; at = plan_[*at].parent)
    for (NodeId dep : nodes_[*at].dependents) {
      const Node& d = nodes_[dep];
      if (d.cancelled && d.state != State::pending && !d.done()) return true;
    }
  return false;
}

void Supervisor::first_stop_step(NodeId id) {
  set_state(id, State::stopping);
  run_step(id, /*leftovers=*/false);
}

void Supervisor::stop_leftovers(NodeId id) { run_step(id, /*leftovers=*/true); }

/// Runs the first step of the node's stop sequence. What a dead leader left behind gets
/// the signal, never the stop command (which addresses the service, now gone).
void Supervisor::run_step(NodeId id, bool leftovers) {
  Node& n = nodes_[id];
  const PlanNode& spec = *n.spec;
  Incarnation& run = n.run;
  const StopStep& step = spec.stop_sequence.front();
  if (!leftovers && !none_exited_ && launcher_.exited(run.proc)) {
    // Its exit came before the stop: it is judged by what it did (a failure racing the
    // cancel stays a failure). Its exit is on its way; the grace only guards against a
    // report that never comes, and what it left in its group is stopped after it.
    verbose(id, [] { return "had already exited when its stop was due: judged by its exit"; });
    arm_grace(id, step.wait);
    return;
  }
  run.stop_step = 0;
  run.stop_sent_at = Clock::now();
  if (step.kind == StopStep::Kind::command && !leftovers && run_stop_command(id)) {
    run.stop_how = "command";
  } else {
    launcher_.signal(run.proc, step.sig);
    // A stopped process cannot act on the stop signal until it is continued.
    launcher_.signal(run.proc, SIGCONT);
    run.stop_how = signal_name(step.sig);
  }
  if (stops_sent_) stops_sent_->emplace_back(id, leftovers);
  else stop_sent(id, leftovers);
}

/// The stop's event and note, and the deadline of its step.
void Supervisor::stop_sent(NodeId id, bool leftovers) {
  Node& n = nodes_[id];
  const PlanNode& spec = *n.spec;
  const Incarnation& run = n.run;
  const StopStep& step = spec.stop_sequence.front();
  events_.stop(spec.path, run.stop_how);
  log_->wake_waiters();  // its lines, if a slow log reader held them back, are not now
  // Built by hand, not with fmt: one of these per node of a stop.
  std::string& text = note_text_;
  text.assign(leftovers ? "stopping what it left running (" : "stopping (");
  if (run.stop_how == "command") text.append("`").append(spec.stop->display()).append("`");
  else text += run.stop_how;
  text.append(", SIGKILL after ").append(format_duration(step.wait)).append(")");
  log_->note(n.log_source, text);
  arm_grace(id, step.wait);
}

void Supervisor::arm_grace(NodeId id, Millis wait) {
  disarm_grace(id);
  Incarnation& run = nodes_[id].run;
  if (++grace_tokens_ == 0) ++grace_tokens_;  // 0 is "none"
  run.grace = grace_tokens_;
  graces_.add(Clock::now() + wait, (static_cast<Deadlines::Key>(id) << 32) | run.grace);
}

void Supervisor::disarm_grace(NodeId id) {
  Incarnation& run = nodes_[id].run;
  if (!run.grace) return;
  run.grace = 0;
  graces_.forget();
}

/// A wait is over: the node's, if it still has that one armed.
bool Supervisor::grace_due(Deadlines::Key key) {
  NodeId id = static_cast<NodeId>(key >> 32);
  auto token = static_cast<std::uint32_t>(key);
  if (id >= nodes_.size() || nodes_[id].run.grace != token) return false;
  nodes_[id].run.grace = 0;
  on(id, Event::grace_expired);
  return true;
}

/// Runs the node's `stop` command beside it, with its environment, its output under
/// its name. Bounded by the same grace: SIGKILL reaches it too.
bool Supervisor::run_stop_command(NodeId id) {
  Node& n = nodes_[id];
  SpawnRequest req = request_for(id, *n.spec->stop);
  UniqueFd out_keep;
  std::error_code ec;
  open_log_pipe(id, req.stdout_fd, out_keep, ec);
  req.stderr_fd = req.stdout_fd;
  SpawnResult r;
  unsigned gen = n.run.generation;
  try {
    if (!ec)
      r = launcher_.spawn(req, [this, id, gen](ExitStatus st) {
        Node& n = nodes_[id];
        if (n.run.generation != gen) return;
        n.run.stop_cmd = 0;
        if (!st.success()) log_->note(n.log_source, fmt::format("stop command ended: {}", st.describe()));
        consider_settled(id);
      }, ec);
  } catch (const std::exception&) {  // bad_alloc, say: as if it could not be created
    ec = std::make_error_code(std::errc::not_enough_memory);
  }
  if (ec) {
    log_->note(n.log_source, fmt::format("cannot run the stop command ({}): sending the stop signal", ec.message()));
    return false;
  }
  n.run.stop_cmd = r.proc.pid;
  return true;
}

/// The step's wait is over: SIGKILL to the group (and to the stop command), unless the
/// group is already gone, or the node holds the terminal (a debugger: only a second
/// ctrl-c kills it).
void Supervisor::next_stop_step(NodeId id) {
  Node& n = nodes_[id];
  if (n.run.holds_terminal && !forced_) {
    // ctrl-c now goes to the node, not to treerun: say what works.
    log_->note(n.log_source, fmt::format("holds the terminal: waiting for it to exit (quit it to go on, or "
                                         "`kill -INT {}` to force)", ::getpid()));
    return;
  }
  set_state(id, State::killing);
  kill_group(id);
}

void Supervisor::expire_leftovers(NodeId id) {
  Node& n = nodes_[id];
  if (refresh_group(id)) {
    if (n.run.stop_cmd) launcher_.signal({n.run.stop_cmd, n.run.stop_cmd}, SIGKILL);  // bounded too
    return;
  }
  kill_group(id);
}

void Supervisor::kill_group(NodeId id) {
  Node& n = nodes_[id];
  Incarnation& run = n.run;
  const int last = static_cast<int>(n.spec->stop_sequence.size()) - 1;
  if (run.stop_step == last || !n.has_processes()) return;
  if (!run.stop_sent()) run.stop_sent_at = Clock::now();
  run.stop_step = last;
  launcher_.signal(run.proc, SIGKILL);
  if (run.stop_cmd) launcher_.signal({run.stop_cmd, run.stop_cmd}, SIGKILL);
  run.stop_how += run.stop_how.empty() ? "SIGKILL" : " + SIGKILL";
  events_.kill(n.spec->path);
  log_->note(n.log_source,
             forced_ ? "killed (forced)" : fmt::format("killed (SIGKILL after {})", format_duration(n.spec->grace)));
}

/// A second ctrl-c: SIGKILL is the one and only stop left.
void Supervisor::force_kill(NodeId id) {
  Node& n = nodes_[id];
  if (n.run.proc.pid <= 0) return;
  if (!n.leader_alive() && refresh_group(id)) return;
  if (n.leader_alive()) set_state(id, State::killing);
  kill_group(id);
}

}  // namespace treerun
