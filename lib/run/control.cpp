// The run as the control socket sees it (control::Target): what `ls` and `ps` show, and
// node paths as clients name them. treerun(1), A RUNNING TREE.
#include <fmt/format.h>
#include <unistd.h>

#include "base/exit_status.h"
#include "base/units.h"
#include "spec/diagnostics.h"
#include "run/supervisor.h"

namespace treerun {
namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

const char* kind_of(const PlanNode& spec) {
  return spec.is_group() ? "group" : spec.daemon ? "daemon" : "worker";
}

/// The states of contract 6.2, from the table's finer ones.
const char* shown_state(const Node& n) {
  switch (n.state) {
    case State::pending:
    case State::awaiting_tty:
    case State::restart_due: return "waiting";
    case State::starting: return "starting";
    case State::ready: return n.is_group() || n.spec->daemon ? "ready" : "running";
    case State::cancelling:
    case State::stopping:
    case State::killing: return "stopping";
    case State::draining:
    case State::exited: return n.cancelled ? "stopping" : "exited";
    case State::finished:
      return n.outcome == Outcome::cancelled || n.outcome == Outcome::killed || n.outcome == Outcome::not_started
                 ? "stopped"
                 : "exited";
  }
  return "waiting";
}

}  // namespace

control::RunStatus Supervisor::status() const {
  control::RunStatus s{options_.name, static_cast<long>(getpid()), options_.spec_path, seconds_since(start_), 0};
  for (const Node& n : nodes_) s.running += !n.is_group() && n.leader_alive();
  return s;
}

control::NodeStatus Supervisor::node_status(const Node& n) const {
  control::NodeStatus s;
  s.path = n.spec->path;
  s.kind = kind_of(*n.spec);
  s.state = shown_state(n);
  s.restarts = n.attempt;
  if (n.has_processes()) s.pid = n.run.proc.pid;
  if (!n.is_group() && n.leader_alive()) s.uptime = seconds_since(n.run.started);  // a group has no process
  if (n.run.status) {
    if (n.run.status->kind == ExitStatus::Kind::signaled) s.signal = signal_name(n.run.status->value);
    else s.code = n.run.status->value;
  }
  if (n.outcome != Outcome::none) s.outcome = name(n.outcome);
  if (plan_.backend != Backend::local && !n.is_group()) s.host = n.spec->host;  // a group runs nowhere itself
  return s;
}

std::vector<control::NodeStatus> Supervisor::ps() const {
  std::vector<control::NodeStatus> rows;
  for (const Node& n : nodes_)
    if (n.spec->id != 0 && !n.removed) rows.push_back(node_status(n));
  return rows;
}

std::optional<NodeId> Supervisor::find_node(std::string_view path) const {
  if (path.starts_with('/')) path.remove_prefix(1);
  for (const PlanNode& spec : plan_.nodes)
    if (spec.id != 0 && spec.path == path && !nodes_[spec.id].removed) return spec.id;
  return std::nullopt;
}

std::vector<NodeId> Supervisor::subtree(NodeId id) const {
  std::vector<NodeId> out{id};
  for (std::size_t i = 0; i < out.size(); ++i)
    for (NodeId child : plan_[out[i]].children) out.push_back(child);
  return out;
}

std::string Supervisor::check_nodes(const std::vector<std::string>& paths) const {
  for (const std::string& path : paths) {
    if (find_node(path)) continue;
    std::vector<std::string_view> known;
    std::string list;
    for (const PlanNode& spec : plan_.nodes) {
      if (spec.id == 0 || nodes_[spec.id].removed) continue;
      known.push_back(spec.path);
      list += (list.empty() ? "" : " ") + spec.path;
    }
    std::string_view bare = std::string_view(path).substr(path.starts_with('/') ? 1 : 0);
    return fmt::format("no node `{}`{}; the nodes are: {}", path, did_you_mean(bare, known), list);
  }
  return "";
}

}  // namespace treerun
