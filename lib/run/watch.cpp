// `watch` (treerun(1), THE DEVELOPMENT LOOP › Watching): a change under a node's watched
// paths restarts it, and with `cascade` the nodes that depend on it, through the same
// machinery as the control socket's `restart` (control_act.cpp): a stop that holds the
// nodes for a start, then start_asked, in start order as their `after` allows. Such a
// restart has no backoff and is not counted against restart.max; its `restart` events
// say `cause: watch` and the first changed path.
//
// A change that comes while the node is being restarted (by a watch or from the
// control socket) is kept: one more restart follows once that one is over. A run with a
// watched node does not end when its workers are done (table.cpp): it waits for changes.
#include <fmt/format.h>

#include <algorithm>

#include "run/supervisor.h"

namespace treerun {

void Supervisor::open_watches() {
  for (const PlanNode& spec : plan_.nodes)
    if (spec.watch) watching_ = true;
  if (!watching_) return;
  hold_for_watches();
  watcher_ = std::make_unique<Watcher>(
      io_, [this](std::size_t id, const std::string& path) { on_watch_change(id, path); },
      [this](const std::string& text) { log_->note(-1, text); });
  for (const PlanNode& spec : plan_.nodes)
    for (const OutputSpec* out : {&spec.stdout_spec, &spec.stderr_spec})
      if (out->type == OutputSpec::Type::file) watcher_->ignore_file(out->path);
  if (options_.logs.type == LogTarget::Type::file) watcher_->ignore_file(options_.logs.path);
  if (!options_.events_path.empty()) watcher_->ignore_file(options_.events_path);
  for (const PlanNode& spec : plan_.nodes)
    if (spec.watch) watcher_->watch(spec.id, {spec.watch->paths, spec.watch->ignore, spec.watch->debounce});
}

void Supervisor::on_watch_change(NodeId id, const std::string& path) {
  Node& n = nodes_[id];
  if (run_finished_ || nodes_[0].cancelled) return;
  if (held_by_control(id) && !busy(id)) {
    log_->note(n.log_source, fmt::format("changed: {}; stopped from the control socket: not restarted", path));
    return;
  }
  if (n.state == State::pending || n.state == State::awaiting_tty) return;  // it starts with the change
  if (busy(id)) {
    if (n.watch_pending.empty())
      log_->note(n.log_source, fmt::format("changed: {}; restarting once the restart under way is over", path));
    n.watch_pending = path;
    return;
  }
  std::vector<NodeId> ids = n.spec->watch->cascade ? with_dependents(id) : std::vector<NodeId>{id};
  std::string others;
  for (NodeId other : ids)
    if (other != id) others += (others.empty() ? "" : ", ") + plan_[other].path;
  log_->note(n.log_source, fmt::format("changed: {}; restarting{}", path, others.empty() ? "" : " with " + others));
  std::string why = restart_nodes(std::move(ids), "watch", path, [this, id](const std::string& error) {
    if (!error.empty()) log_->note(nodes_[id].log_source, fmt::format("restart on change: {}", error));
  });
  if (!why.empty()) log_->note(n.log_source, fmt::format("cannot restart on change: {}", why));
}

/// The groups a change may run something in again: those that hold a watched node or
/// what depends on one (`after`, transitively). They are never done, so the run waits
/// for changes; every other group ends when its workers are done, as without watches.
void Supervisor::hold_for_watches() {
  std::vector<NodeId> rerun;
  std::vector<bool> seen(nodes_.size());
  for (const PlanNode& spec : plan_.nodes)
    if (spec.watch && !nodes_[spec.id].removed) rerun.push_back(spec.id);
  for (std::size_t i = 0; i < rerun.size(); ++i)
    for (NodeId m : subtree(rerun[i]))
      for (NodeId dep : nodes_[m].dependents)
        if (!seen[dep]) {
          seen[dep] = true;
          rerun.push_back(dep);
        }
  held_for_watches_.assign(nodes_.size(), false);
  for (NodeId id : rerun)
    for (std::optional<NodeId> at = id; at; at = plan_[*at].parent) held_for_watches_[*at] = true;
}

bool Supervisor::held_for_watches(NodeId id) const {
  return id < held_for_watches_.size() && held_for_watches_[id];
}

/// ID and the nodes that depend on it (`after`, transitively, on it, on anything in it,
/// or on a group around it: a node after `web` waits for every copy of a replicated `web`,
/// so a copy's restart is its too), but those that wait for their first start (they
/// start after it anyway) and those stopped from the control socket. None of them inside
/// another.
std::vector<NodeId> Supervisor::with_dependents(NodeId id) const {
  std::vector<NodeId> out{id};
  auto covered = [&](NodeId m) {
    return std::any_of(out.begin(), out.end(), [&](NodeId o) { return o == m || plan_.is_ancestor(o, m); });
  };
  auto add_dependents_of = [&](NodeId m) {
    for (NodeId dep : nodes_[m].dependents) {
      const Node& d = nodes_[dep];
      if (covered(dep) || d.state == State::pending || d.state == State::awaiting_tty || held_by_control(dep)) continue;
      out.push_back(dep);
    }
  };
  for (std::size_t i = 0; i < out.size(); ++i) {
    for (NodeId m : subtree(out[i])) add_dependents_of(m);
    for (std::optional<NodeId> up = plan_[out[i]].parent; up; up = plan_[*up].parent) add_dependents_of(*up);
  }
  std::erase_if(out, [&](NodeId m) {
    return std::any_of(out.begin(), out.end(), [&](NodeId o) { return o != m && plan_.is_ancestor(o, m); });
  });
  return out;
}

/// Whether an action under way (a restart, a stop, a start) concerns ID or a node
/// around it.
bool Supervisor::busy(NodeId id) const {
  auto near = [&](NodeId m) { return m == id || plan_.is_ancestor(m, id) || plan_.is_ancestor(id, m); };
  for (const ControlAction& action : actions_) {
    if (std::any_of(action.nodes.begin(), action.nodes.end(), near)) return true;
    if (std::any_of(action.starts.begin(), action.starts.end(), near)) return true;
  }
  return false;
}

/// Changes kept while their node was being restarted: each restarts it once more.
void Supervisor::consider_watch_pending() {
  for (Node& n : nodes_) {
    NodeId id = n.spec->id;
    if (n.watch_pending.empty() || busy(id)) continue;
    on_watch_change(id, std::exchange(n.watch_pending, ""));
  }
}

std::string Supervisor::restart_nodes(std::vector<NodeId> ids, std::string cause, std::string path,
                                      std::function<void(std::string error)> done) {
  if (std::string why = refusal(control::Verb::restart, ids, ids, 0); !why.empty()) return why;
  stop_for_control(ids, Hold::restarting);
  std::vector<NodeId> starts = ids;
  actions_.push_back({control::Verb::restart, std::move(ids), std::move(starts), false, std::move(done),
                      std::move(cause), std::move(path)});
  after_change();
  return "";
}

}  // namespace treerun
