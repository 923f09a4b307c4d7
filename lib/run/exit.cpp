// A node's process ends: its leader is collected, its output drained, its outcome
// decided once, and its failure (if it is one) handed to the failure policy. What it
// left in its group is stopped like the node itself.
#include <signal.h>

#include <fmt/format.h>

#include <algorithm>

#include "probes/health.h"
#include "run/supervisor.h"

namespace treerun {

void Supervisor::on_leader_exit(NodeId id, ExitStatus status) {
  Incarnation& run = nodes_[id].run;
  run.status = status;
  run.ended = Clock::now();
  on(id, Event::leader_exited);
}

void Supervisor::leader_gone(NodeId id) {
  Node& n = nodes_[id];
  Incarnation& run = n.run;
  if (run.holds_terminal) take_terminal_back(id);
  set_state(id, State::draining);
  run.stop_step_at_exit = run.stop_step;
  if (run.timeout_timer) run.timeout_timer->cancel();
  if (run.probe) run.probe->cancel();
  run.probe.reset();
  if (run.health) run.health->cancel();
  if (!refresh_group(id)) {
    lingering_.push_back(id);
    // The leader is gone but something it started lives on in its group (a daemon
    // that forked, `cmd &`): stop it with the node's stop sequence. A node being
    // cancelled keeps its place in the stop order: after its dependents.
    if (!run.stop_sent()) {
      if (n.cancelled) consider_stop(id);
      else run_step(id, /*leftovers=*/true);
    }
  }
  maybe_drained(id);
}

/// Whether the node's group is empty now (its leader collected). Once empty, the
/// launcher forgets it and it is never signalled again.
bool Supervisor::refresh_group(NodeId id) {
  Node& n = nodes_[id];
  Incarnation& run = n.run;
  if (run.group_gone) return true;
  if (n.leader_alive() || run.proc.pid <= 0) return false;
  run.group_gone = !launcher_.group_alive(run.proc);
  if (!run.group_gone) return false;
  launcher_.forget(run.proc);
  if (!run.stop_cmd) disarm_grace(id);
  return true;
}

void Supervisor::on_pipe_eof(NodeId id) {
  Incarnation& run = nodes_[id].run;
  if (run.open_pipes > 0) run.open_pipes--;
  maybe_drained(id);
}

/// The exit is reported once the output is drained: a node's last lines always come
/// before its exit line. A pipe held open by a descendant outside the node's group
/// does not hold the report up once the group is empty.
void Supervisor::maybe_drained(NodeId id) {
  Node& n = nodes_[id];
  if (n.state != State::draining) return;
  if (n.run.open_pipes > 0 && !n.run.group_gone) return;
  // The group is gone, but its last bytes (or the EOF) may still sit in the pipe: the
  // reader will get them, and report then. A pipe with nothing in it and no EOF is
  // held by a process outside the group: do not wait for that one.
  for (const auto& reader : n.run.readers)
    if (reader->readable()) return;
  on(id, Event::drained);
}

/// One rule for what a process's end means. A producer killed by SIGPIPE only lost its
/// readers: closing is not cancelling.
Outcome Supervisor::decide_outcome(const Node& n) const {
  const Incarnation& run = n.run;
  // Stopped because of its own failure (its probe or its timeout): that is what it was.
  if (run.failed_running) return Outcome::failed;
  if (run.stop_step_at_exit >= 0)
    return n.spec->stop_sequence[run.stop_step_at_exit].kind == StopStep::Kind::kill ? Outcome::killed
                                                                                     : Outcome::cancelled;
  const ExitStatus& st = *run.status;
  bool feeds_streams = plan_.stream_of({n.spec->id, false}) || plan_.stream_of({n.spec->id, true});
  // A `sh -c` that forked its command exits 128+SIGPIPE where the command died of it.
  bool shell_sigpipe = n.spec->cmd && n.spec->cmd->shell && st.kind == ExitStatus::Kind::exited &&
                       st.value == 128 + SIGPIPE;
  bool sigpipe_ok = (st.by_signal(SIGPIPE) || shell_sigpipe) && feeds_streams;
  if (!n.spec->daemon && (st.success() || sigpipe_ok)) return Outcome::ok;
  return Outcome::failed;
}

void Supervisor::report_exit(NodeId id) {
  Node& n = nodes_[id];
  const PlanNode& spec = *n.spec;
  Incarnation& run = n.run;
  set_state(id, State::exited);
  const ExitStatus st = *run.status;
  for (const auto& carrier : n.log_carriers)
    if (carrier) {
      carrier->drain();  // what it wrote last, logged before its exit
      n.tail += carrier->take_exit_tail();
    }
  for (const auto& reader : run.readers) n.tail += reader->tail();
  if (n.tail.size() > 4096) n.tail.erase(0, n.tail.size() - 4096);

  n.outcome = decide_outcome(n);
  std::optional<int> code, sig;
  if (st.kind == ExitStatus::Kind::exited) code = st.value;
  else sig = st.value;
  events_.exit(spec.path, run.proc.pid, code, sig, name(n.outcome));
  note_text_.assign("exited: ").append(st.describe()).append(" (").append(name(n.outcome)).append(")");
  log_->note(n.log_source, note_text_);
  if (spec.tty && terminal_) terminal_->hand_on();
  if (n.outcome == Outcome::failed && !run.failed_running) report_failure(id);
  else if (n.outcome == Outcome::failed && n.spec->on_failure == OnFailure::ignore) n.outcome = Outcome::failed_ignored;
  // When a node's own process exits, its children are cancelled.
  cancel(spec.children, {"done", "", false});
  consider_settled(id);
}

/// The failure's exit code and the reason the summary gives.
void Supervisor::report_failure(NodeId id) {
  Node& n = nodes_[id];
  const PlanNode& spec = *n.spec;
  const ExitStatus st = *n.run.status;
  int exit_code = st.shell_code();
  std::string reason;
  if (!n.run.start_error.empty()) reason = n.run.start_error;
  else if (spec.daemon && st.success()) {
    exit_code = 1;
    reason = "daemon exited on its own with status 0";
  } else if (spec.daemon) reason = fmt::format("daemon exited on its own: {}", st.describe());
  else reason = st.describe();
  if (!n.run.was_ready && spec.ready.type != Probe::Type::none && reason.starts_with("daemon"))
    reason += " before it was ready";
  node_failed(id, exit_code, reason);
}

/// After each batch of collected processes: an escaped process's end may be the last
/// of a lingering group, or free a drained pipe. Only lingering nodes can be concerned:
/// no walk over the whole tree per stray. Then the final sweep, if it is under way.
void Supervisor::on_collected(bool stray) {
  if (stray) {
    for (NodeId id : std::vector<NodeId>(lingering_)) {  // a copy: what follows may add to it
      Node& n = nodes_[id];
      if (n.leader_alive() || n.run.group_gone) continue;
      if (refresh_group(id)) {
        maybe_drained(id);
        consider_settled(id);
      }
    }
    std::erase_if(lingering_, [this](NodeId id) { return nodes_[id].leader_alive() || nodes_[id].run.group_gone; });
  }
  continue_sweep();
}

}  // namespace treerun
