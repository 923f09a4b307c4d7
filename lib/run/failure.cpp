// Failure (treerun(1), SEMANTICS › Failure): what a node's failure does to it and to the
// groups above it, by each one's on_failure.
//
// A failure under `cancel` goes up at once, so every group on the way to the first
// `ignore` or `restart` (or the root) is cancelled in the same turn of the loop: the
// whole affected subtree stops concurrently, not one level after another.
#include <algorithm>

#include <fmt/format.h>

#include "base/units.h"
#include "probes/health.h"
#include "run/supervisor.h"

#include <algorithm>

namespace treerun {

void Supervisor::node_failed(NodeId id, int code, std::string reason, std::string by) {
  Node& n = nodes_[id];
  n.failure_reason = std::move(reason);
  n.failure_code = code;
  OnFailure policy = n.spec->on_failure;
  if (policy == OnFailure::restart) {
    if (may_restart(id)) {
      n.restart_wanted = true;
      if (n.is_group()) cancel(id, {"failure", "", false});
      return;
    }
    policy = OnFailure::cancel;  // past restart.max: as under cancel
  }
  switch (policy) {
    case OnFailure::ignore:
      if (n.is_group() || n.state == State::exited) n.outcome = Outcome::failed_ignored;
      log_->note(n.log_source, "failure ignored (on_failure: ignore)");
      if (n.is_group()) cancel(id, {"failure", "", false});
      return;
    case OnFailure::continue_:
      // Recorded first: the cancel below skips what waits for the group, and those
      // skips must not decide the exit code before the failure that caused them.
      carry_on(id, code);
      if (n.is_group()) {  // its own nursery goes, as its child's failure asked
        n.outcome = Outcome::failed;
        cancel(id, {"failure", "", false});
      }
      return;
    case OnFailure::cancel:
    case OnFailure::restart: break;
  }
  if (n.is_group()) n.outcome = Outcome::failed;
  propagate_failure(id, code, by.empty() ? n.spec->path : by);
}

void Supervisor::carry_on(NodeId id, int code) {
  Node& n = nodes_[id];
  log_->note(n.log_source, "failure recorded; carrying on (on_failure: continue)");
  // Every group above ends failed; the first `ignore` among them keeps it from the
  // exit code, as it would any failure inside it.
  bool decides = true;
  for (std::optional<NodeId> at = plan_[id].parent; at; at = plan_[*at].parent) {
    Node& group = nodes_[*at];
    if (!group.failure_inside) group.failure_inside = n.spec->path;
    if (*at != 0 && group.spec->on_failure == OnFailure::ignore) decides = false;
  }
  if (decides && !first_code_) first_code_ = code;
}

bool Supervisor::kept_going(NodeId dep) const {
  const Node& d = nodes_[dep];
  if (d.spec->on_failure == OnFailure::continue_) return true;
  // A group that ended failed through one (finish()), with no failure of its own.
  return d.is_group() && d.failure_inside && d.outcome == Outcome::failed && d.failure_code == 0;
}

void Supervisor::propagate_failure(NodeId id, int code, const std::string& by) {
  if (id == 0) {
    if (!first_code_) first_code_ = code;
    return;
  }
  NodeId parent = *plan_[id].parent;
  if (!nodes_[parent].failure_reason.empty()) return;  // it failed already
  events_.cancel(plan_[parent].path, "failure", by);
  if (parent == 0 && !signalled_ && !down_) log_->note(-1, fmt::format("{} failed: stopping everything", by));
  node_failed(parent, code, fmt::format("{} failed", by), by);
  // Under restart, ignore or continue, node_failed has cancelled the group itself;
  // cancelling it again here would drop the restart it just scheduled.
  const Node& p = nodes_[parent];
  OnFailure policy = p.spec->on_failure;
  if (!p.restart_wanted && policy != OnFailure::ignore && policy != OnFailure::continue_)
    cancel(parent, {"failure", by, false});
}

bool Supervisor::may_restart(NodeId id) {
  Node& n = nodes_[id];
  const RestartPolicy& policy = n.spec->restart;
  auto now = Clock::now();
  auto recent = std::find_if(n.restarts.begin(), n.restarts.end(),
                             [&](Clock::time_point t) { return now - t <= policy.within; });
  n.restarts.erase(n.restarts.begin(), recent);
  if (signalled_) return false;
  // A nursery being torn down restarts nothing: a node that dies while it waits for its
  // stop (killed from outside, say) must not come back after its stop was decided.
  for (std::optional<NodeId> at = id; at; at = plan_[*at].parent)
    if (nodes_[*at].cancelled) return false;
  if (static_cast<int>(n.restarts.size()) < policy.max) return true;
  log_->note(n.log_source, fmt::format("restarted {} times within {}: giving up", policy.max,
                                       format_duration(policy.within)));
  return false;
}

void Supervisor::schedule_restart(NodeId id) {
  Node& n = nodes_[id];
  set_state(id, State::restart_due);
  n.restarts.push_back(Clock::now());
  n.attempt++;
  events_.restart(n.spec->path, n.attempt, "failure", "", n.failure_reason);
  // Counted against restart.max: the restarts after a failure within `within` (a start
  // from the control socket is an attempt in the event log, but not one of these).
  log_->note(n.log_source, fmt::format("restarting in {} (attempt {} of {})",
                                       format_duration(n.spec->restart.backoff), n.restarts.size(),
                                       n.spec->restart.max));
  n.restart_timer = std::make_unique<boost::asio::steady_timer>(io_, n.spec->restart.backoff);
  n.restart_timer->async_wait([this, id](const boost::system::error_code& ec) {
    // Due in the same turn as a cancel that dropped the restart: nothing to do.
    if (!ec && nodes_[id].state == State::restart_due) on(id, Event::restart_timer);
  });
}

void Supervisor::fail_not_ready(NodeId id) {
  Node& n = nodes_[id];
  n.run.probe.reset();
  n.run.failed_running = true;
  log_->note(n.log_source, reason_);
  node_failed(id, 124, reason_);
  cancel(id, {"timeout", "", false});
}

/// Its health check failed `failures` times in a row: a failure of the node, with exit
/// code 1, that its on_failure decides. Under cancel and restart the node is stopped
/// (and, under restart, started again); under ignore and continue it runs on, checked
/// as before.
void Supervisor::fail_unhealthy(NodeId id) {
  Node& n = nodes_[id];
  log_->note(n.log_source, reason_);
  OnFailure policy = n.spec->on_failure;
  bool stops = policy == OnFailure::cancel || policy == OnFailure::restart;
  if (stops) {
    n.run.failed_running = true;
    n.run.health->cancel();
  }
  node_failed(id, 1, reason_);
  if (stops) cancel(id, {"failure", "", false});
}

void Supervisor::fail_timed_out(NodeId id) {
  Node& n = nodes_[id];
  std::string reason = fmt::format("timed out after {}", format_duration(*n.spec->timeout));
  n.run.failed_running = true;
  log_->note(n.log_source, reason);
  events_.cancel(n.spec->path, "timeout", "");
  node_failed(id, 124, reason);
  cancel(id, {"timeout", "", false});
}

}  // namespace treerun
