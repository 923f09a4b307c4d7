// Failure (treerun(1), SEMANTICS › Failure): what a node's failure does to it and to the
// groups above it, by each one's on_failure.
//
// A failure under `cancel` goes up at once, so every group on the way to the first
// `ignore` or `restart` (or the root) is cancelled in the same turn of the loop: the
// whole affected subtree stops concurrently, not one level after another.
#include <fmt/format.h>

#include "base/units.h"
#include "run/supervisor.h"

namespace treerun {

void Supervisor::node_failed(NodeId id, int code, std::string reason, std::string by) {
  Node& n = nodes_[id];
  n.failure_reason = std::move(reason);
  n.failure_code = code;
  if (n.spec->on_failure == OnFailure::restart && may_restart(id)) {
    n.restart_wanted = true;
    if (n.is_group()) cancel(id, {"failure", "", false});
    return;
  }
  if (n.spec->on_failure == OnFailure::ignore) {
    if (n.is_group() || n.state == State::exited) n.outcome = Outcome::failed_ignored;
    log_->note(n.log_source, "failure ignored (on_failure: ignore)");
    if (n.is_group()) cancel(id, {"failure", "", false});
    return;
  }
  if (n.is_group()) n.outcome = Outcome::failed;
  propagate_failure(id, code, by.empty() ? n.spec->path : by);
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
  // Under restart or ignore, node_failed has cancelled the group itself; cancelling it
  // again here would drop the restart it just scheduled.
  const Node& p = nodes_[parent];
  if (!p.restart_wanted && !(p.spec->on_failure == OnFailure::ignore)) cancel(parent, {"failure", by, false});
}

bool Supervisor::may_restart(NodeId id) {
  Node& n = nodes_[id];
  const RestartPolicy& policy = n.spec->restart;
  auto now = Clock::now();
  while (!n.restarts.empty() && now - n.restarts.front() > policy.within) n.restarts.pop_front();
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
  events_.restart(n.spec->path, n.attempt, "failure");
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
