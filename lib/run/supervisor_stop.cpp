// Graceful cancel, then reap (contract 4.3 and 4.4).
//
// Cancelling marks a node and everything that must go before it (children, then
// dependents); a node's stop is sent the moment the last of those is collected, so
// only those two orders serialize and everything else stops at once. Each stop is one
// signal (or one stop command) to the process group, SIGCONT, a grace deadline on the
// loop, then SIGKILL to the group. A process that exits is collected by the reaper in
// the same turn, so nothing waits on a fixed sleep.
#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <boost/asio/post.hpp>

#include "probes/probe.h"
#include "run/supervisor_impl.h"
#include "base/units.h"

namespace treerun {
namespace {

const char* cause_of(int sig) {
  switch (sig) {
    case SIGINT: return "sigint";
    case SIGTERM: return "sigterm";
    case SIGHUP: return "sighup";
    default: return "signal";
  }
}

}  // namespace

void Supervisor::cancel(NodeId id, std::string_view cause, std::string_view by, bool emit) {
  NodeState& n = nodes_[id];
  if (n.phase == Phase::finished) {
    if (n.restart_pending) {  // a restart that has not happened yet is simply dropped
      n.restart_pending = false;
      if (n.restart_timer) n.restart_timer->cancel();
      on_finished(id);
    }
    return;
  }
  if (n.cancelling) return;
  n.cancelling = true;
  ++cascading_;
  if (emit) events_.cancel(n.spec->path, cause, by);
  if (n.waiting_terminal) {
    terminal_->forget(id);
    n.waiting_terminal = false;
    n.phase = Phase::pending;
  }
  if (n.phase == Phase::pending) {
    skip(id, "not started: cancelled");
    --cascading_;
    return;
  }
  if (n.probe) {
    n.probe->cancel();
    n.probe.reset();
  }
  for (NodeId child : n.spec->children) cancel(child, cause, by, false);
  // A group that is done keeps the nodes that waited for it; anything else takes its
  // dependents down first, as they need it.
  if (!(cause == "done" && n.spec->is_group()))
    for (NodeId dep : n.dependents) cancel(dep, cause, by, false);
  --cascading_;
  try_stop(id);
  check_finished(id);
}

void Supervisor::try_stop(NodeId id) {
  NodeState& n = nodes_[id];
  const ProcessState& p = n.proc;
  // Something to stop: the process, or what it left in its group when it died.
  if (!n.cancelling || p.stop_sent || p.pid == 0 || (!p.alive && p.group_empty)) return;
  if (cascading_ > 0) {
    // Not while a cancel is still marking nodes: whether this one must wait depends on
    // which of its dependents are going too, and those may be marked after it.
    boost::asio::post(io_, [this, id] { try_stop(id); });
    return;
  }
  for (NodeId child : n.spec->children)
    if (nodes_[child].phase != Phase::finished) return;
  if (waits_for_dependents(id)) return;
  send_stop(id, /*leftovers=*/!p.alive);
}

/// A node that something depends on, directly or through a group it is in, is stopped
/// only once those dependents that are going away too are gone. One that stays (its
/// own cancel did not reach it) does not hold the stop up.
bool Supervisor::waits_for_dependents(NodeId id) const {
  for (std::optional<NodeId> at = id; at; at = plan_[*at].parent)
    for (NodeId dep : nodes_[*at].dependents)
      if (nodes_[dep].phase == Phase::running && nodes_[dep].cancelling) return true;
  return false;
}

void Supervisor::try_stop_subtree(NodeId id) {
  try_stop(id);
  for (NodeId child : plan_[id].children) try_stop_subtree(child);
}

/// Runs the node's `stop` command, with its environment, its output under its name.
bool Supervisor::run_stop_command(NodeId id) {
  NodeState& n = nodes_[id];
  SpawnRequest req;
  req.node_path = n.spec->path;
  req.cmd = *n.spec->stop;
  req.env = node_env(id);
  req.cwd = n.spec->cwd;
  UniqueFd out_keep;
  std::error_code ec;
  open_log_pipe(id, req.stdout_fd, out_keep, ec);
  req.stderr_fd = req.stdout_fd;
  SpawnResult r;
  if (!ec) r = launcher_->spawn(req, ec);
  if (ec) {
    log_->note(n.log_source, fmt::format("cannot run the stop command ({}): sending the stop signal", ec.message()));
    return false;
  }
  n.proc.stop_cmd_pid = r.pid;
  reaper_.watch(r.pid, [this, id](ExitStatus st) {
    nodes_[id].proc.stop_cmd_pid = 0;
    if (!st.success()) log_->note(nodes_[id].log_source, fmt::format("stop command ended: {}", st.describe()));
    check_finished(id);
  });
  return true;
}

void Supervisor::send_stop(NodeId id, bool leftovers) {
  NodeState& n = nodes_[id];
  const PlanNode& spec = *n.spec;
  ProcessState& p = n.proc;
  p.stop_sent = true;
  p.stop_sent_at = Clock::now();
  if (spec.stop && !leftovers && run_stop_command(id)) {
    p.stop_how = "command";
  } else {
    launcher_->signal_group(p.pgid, spec.stop_signal);
    // A stopped process cannot act on the stop signal until it is continued.
    launcher_->signal_group(p.pgid, SIGCONT);
    p.stop_how = signal_name(spec.stop_signal);
  }
  events_.stop(spec.path, p.stop_how);
  log_->note(n.log_source, fmt::format("stopping{} ({}, SIGKILL after {})", leftovers ? " what it left running" : "",
                                       p.stop_how == "command" ? "`" + spec.stop->display() + "`" : p.stop_how,
                                       format_duration(spec.grace)));
  n.grace_timer = std::make_unique<boost::asio::steady_timer>(io_, spec.grace);
  n.grace_timer->async_wait([this, id](const boost::system::error_code& ec) {
    if (!ec) on_grace_expired(id);
  });
}

void Supervisor::on_grace_expired(NodeId id) {
  NodeState& n = nodes_[id];
  refresh_group(id);
  if (!n.proc.alive && n.proc.group_empty) {
    if (n.proc.stop_cmd_pid > 0) launcher_->signal_group(n.proc.stop_cmd_pid, SIGKILL);  // bounded too
    return;
  }
  if (n.holds_terminal && !forced_) {
    log_->note(n.log_source, "holds the terminal: waiting for it to exit (a second ctrl-c forces)");
    return;
  }
  kill_group(id);
}

void Supervisor::kill_group(NodeId id) {
  NodeState& n = nodes_[id];
  ProcessState& p = n.proc;
  if (p.kill_sent || (!p.alive && p.group_empty)) return;
  p.kill_sent = true;
  launcher_->signal_group(p.pgid, SIGKILL);
  if (p.stop_cmd_pid > 0) launcher_->signal_group(p.stop_cmd_pid, SIGKILL);
  p.stop_how += p.stop_how.empty() ? "SIGKILL" : " + SIGKILL";
  events_.kill(n.spec->path);
  log_->note(n.log_source, forced_ ? "killed (forced)" : fmt::format("killed (SIGKILL after {})", format_duration(n.spec->grace)));
}

void Supervisor::on_signal(int sig) {
  signals_.async_wait([this](const boost::system::error_code& ec, int next) {
    if (!ec) on_signal(next);
  });
  if (signalled_) return force_kill_all();
  signalled_ = sig;
  log_->note(-1, fmt::format("{}: stopping gracefully (ctrl-c again to force)", signal_name(sig)));
  cancel(0, cause_of(sig), "", true);
  progress_timer_.expires_after(std::chrono::seconds(1));
  progress_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) report_progress();
  });
}

void Supervisor::force_kill_all() {
  if (forced_) return;
  forced_ = true;
  log_->note(-1, "forced stop: killing everything that is left");
  cancel(0, "sigint", "", false);
  for (NodeState& n : nodes_) {
    if (n.proc.pid == 0) continue;
    refresh_group(n.spec->id);
    if (n.proc.alive || !n.proc.group_empty) {
      n.proc.stop_sent = true;  // forced: SIGKILL is the one and only stop
      kill_group(n.spec->id);
    }
  }
  for (pid_t pid : own_children(guardian_.pid())) ::kill(pid, SIGKILL);
}

/// While the stop takes more than a second: who we still wait for, and when each
/// will be killed.
void Supervisor::report_progress() {
  if (run_finished_) return;
  std::string waiting;
  auto now = Clock::now();
  for (const NodeState& n : nodes_) {
    if (n.proc.pid == 0 || (!n.proc.alive && n.proc.group_empty) || !n.proc.stop_sent) continue;
    if (!waiting.empty()) waiting += ", ";
    if (n.holds_terminal) waiting += n.spec->path + " (holds the terminal)";
    else if (n.proc.kill_sent) waiting += n.spec->path + " (killed)";
    else {
      auto left = std::chrono::duration<double>(n.proc.stop_sent_at + n.spec->grace - now).count();
      waiting += fmt::format("{} (SIGKILL in {:.1f}s)", n.spec->path, std::max(0.0, left));
    }
  }
  if (!waiting.empty()) log_->note(-1, "waiting for " + waiting);
  progress_timer_.expires_after(std::chrono::seconds(1));
  progress_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) report_progress();
  });
}

/// The last step: descendants that escaped their node's process group (double forks,
/// setsid) came back to us; they get the root's stop signal, its grace, then SIGKILL.
void Supervisor::sweep_orphans() {
  std::size_t count = own_children(guardian_.pid()).size();
  if (count == 0) {
    run_finished_ = true;
    return;
  }
  sweeping_ = true;
  log_->note(-1, fmt::format("stopping {} orphaned process(es)", count));
  orphan_timer_.expires_after(plan_.root().grace);
  orphan_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    orphans_killed_ = true;
    for (pid_t pid : own_children(guardian_.pid())) ::kill(pid, SIGKILL);
  });
  continue_sweep();
}

}  // namespace treerun
