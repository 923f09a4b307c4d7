// `reload` (treerun(1), THE DEVELOPMENT LOOP › Reload): the run's spec read again, as
// `up` read it, and only the difference applied, through the control socket's own
// machinery (control_act.cpp):
//   1. checked whole first: a spec with problems, a stream that would have to be made
//      anew, or a restart the run could not carry out changes nothing;
//   2. the removed nodes are stopped as `stop` stops them (4.3, their dependents spared);
//   3. the new plan is merged over the running one (plan/merge.h: every node that goes
//      on keeps its NodeId); the removed become tombstones that no command sees;
//   4. the changed nodes that run are restarted with their dependents (as a watch
//      restart: `restart` events with cause `reload`), the added start in order.
// One reload at a time: one asked while another, or any stop, start or restart, is under
// way waits for it, then reads the spec as it is then.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <memory>
#include <boost/asio/post.hpp>

#include "plan/diff.h"
#include "run/fd_budget.h"
#include "run/supervisor.h"

namespace treerun {
namespace {

// Both take the plan the ids belong to: an added node's id is only in the merged plan
// until the merge is in force.

std::vector<std::string> paths_of(const Plan& plan, const std::vector<NodeId>& ids) {
  std::vector<std::string> out;
  for (NodeId id : ids) out.push_back(plan[id].path);
  return out;
}

/// IDS without those inside another of them.
std::vector<NodeId> outermost(const Plan& plan, std::vector<NodeId> ids) {
  std::erase_if(ids, [&](NodeId m) {
    return std::any_of(ids.begin(), ids.end(), [&](NodeId o) { return o != m && plan.is_ancestor(o, m); });
  });
  return ids;
}

}  // namespace

void Supervisor::reload(control::Peer peer, std::function<void(control::ReloadResult)> done) {
  // What the reload wrote goes out before its answer, as an action's does (act()).
  reloads_.push_back({peer, [this, done = std::move(done)](control::ReloadResult result) {
                        flush_outputs_now();
                        done(std::move(result));
                      }});
  consider_reload();
}

/// Begins the next reload once nothing else is under way.
void Supervisor::consider_reload() {
  if (job_ || reloads_.empty() || !actions_.empty()) return;
  PendingReload request = std::move(reloads_.front());
  reloads_.pop_front();
  begin_reload(std::move(request));
}

void Supervisor::begin_reload(PendingReload request) {
  control::ReloadResult result;
  auto refuse = [&](std::string why) {
    events_.control("reload", {}, std::nullopt, request.peer.uid, request.peer.pid);
    log_->note(-1, fmt::format("reload refused: {}", why));
    result.error = std::move(why);
    request.done(std::move(result));
    consider_reload();
  };
  if (run_finished_ || nodes_[0].done() || nodes_[0].cancelled) return refuse("the run is ending");
  if (!options_.reload_spec)
    return refuse("the spec was read from standard input: it cannot be read again (start the run from a file)");
  ReloadedSpec spec;
  try {
    spec = options_.reload_spec();
  } catch (const std::exception& e) {
    spec.problems.push_back(e.what());
  }
  if (!spec.plan) {
    result.problems = spec.problems;
    return refuse(fmt::format("the spec has {} problem{}; nothing changed", spec.problems.size(),
                              spec.problems.size() == 1 ? "" : "s"));
  }
  // The last plan's settings are kept: only the new one is rendered.
  const Plan& last = fresh_plan();
  if (!fresh_settings_) fresh_settings_ = own_settings(last);
  OwnSettings settings = own_settings(*spec.plan);
  PlanDiff diff = diff_plans(last, *fresh_settings_, *spec.plan, settings);
  if (fresh_ids_.empty())  // no reload yet: the ids are plan_'s own
    for (const PlanNode& node : plan_.nodes) fresh_ids_.push_back(node.id);
  auto merge = std::make_shared<PlanMerge>(merge_plans(plan_, fresh_ids_, last, *spec.plan, diff));
  if (std::string why = reload_refusal(*merge); !why.empty()) return refuse(why);

  // Told before it is carried out, as the other acting commands are.
  std::vector<NodeId> restarts = reload_restarts(merge->changed);
  result.stopped = paths_of(merge->plan, merge->removed);
  result.started = paths_of(merge->plan, merge->added);
  result.restarted = paths_of(plan_, restarts);  // before the merge: the cascade may grow after it
  result.notes = merge->notes;
  std::vector<std::string> all = result.stopped;
  all.insert(all.end(), result.started.begin(), result.started.end());
  all.insert(all.end(), result.restarted.begin(), result.restarted.end());
  events_.control("reload", all, std::nullopt, request.peer.uid, request.peer.pid);
  log_->note(-1, fmt::format("reload, asked on the control socket by uid {}, pid {}: {}", request.peer.uid,
                             request.peer.pid,
                             diff.empty() ? std::string("nothing changed")
                                          : fmt::format("stop [{}], start [{}], restart [{}]",
                                                        fmt::join(result.stopped, " "), fmt::join(result.started, " "),
                                                        fmt::join(result.restarted, " "))));
  for (const std::string& note : merge->notes) log_->note(-1, "reload: " + note);
  if (diff.empty()) {
    fresh_ = std::move(*spec.plan);  // a root-level edit only: noted, not applied
    fresh_settings_ = std::move(settings);
    request.done(std::move(result));
    return consider_reload();
  }

  std::vector<NodeId> stops = outermost(plan_, merge->removed);
  job_ = ReloadJob{std::move(request), std::move(result), merge, std::make_shared<Plan>(std::move(*spec.plan)),
                   std::move(settings), 0};
  if (stops.empty()) return reload_stopped("");
  stop_for_control(stops, Hold::stopped);
  actions_.push_back({control::Verb::stop, stops, {}, false, [this](std::string error) { reload_stopped(error); },
                      "reload", ""});
  after_change();
}

/// The removed nodes are down: the merge, then the restarts and the starts.
void Supervisor::reload_stopped(const std::string& error) {
  if (!error.empty() || run_finished_ || nodes_[0].cancelled)
    return end_reload(error.empty() ? "the run is ending" : error);
  ReloadJob& job = *job_;
  apply_merge(*job.merge, std::move(*job.fresh));
  fresh_settings_ = std::move(job.fresh_settings);
  std::vector<NodeId> restarts = reload_restarts(job.merge->changed);
  job.result.restarted = paths_of(plan_, restarts);
  auto part_done = [this](const std::string& e) { reload_part_done(e); };
  if (!restarts.empty()) {
    ++job.waiting;
    if (std::string why = restart_nodes(restarts, "reload", "", part_done); !why.empty()) {
      --job.waiting;
      job.result.error = "restart: " + why;
    }
  }
  std::vector<NodeId> added = outermost(plan_, job.merge->added);
  if (!added.empty()) {
    ++job.waiting;
    actions_.push_back({control::Verb::start, added, added, true, part_done, "reload", ""});
    after_change();
  }
  // What waited for a removed node now waits for what the spec says.
  for (const PlanNode& spec : plan_.nodes)
    if (!nodes_[spec.id].removed && nodes_[spec.id].state == State::pending && spec.id != 0) consider_start(spec.id);
  if (job.waiting == 0) end_reload(job.result.error);
}

void Supervisor::reload_part_done(const std::string& error) {
  if (!job_) return;
  if (!error.empty() && job_->result.error.empty()) job_->result.error = error;
  if (--job_->waiting <= 0) end_reload(job_->result.error);
}

void Supervisor::end_reload(const std::string& error) {
  ReloadJob job = std::move(*job_);
  job_.reset();
  job.result.error = error;
  if (!error.empty()) log_->note(-1, fmt::format("reload: {}", error));
  job.request.done(std::move(job.result));
  boost::asio::post(io_, [this] {
    if (!run_finished_) consider_reload();
  });
}

/// Why the reload M cannot be carried out now, or "": checked whole, before anything.
std::string Supervisor::reload_refusal(const PlanMerge& m) const {
  if (!m.refusal.empty()) return m.refusal;
  std::vector<NodeId> restarts = reload_restarts(m.changed);
  for (NodeId id : restarts)
    if (std::string why = stream_refusal(id); !why.empty()) return why;
  if (std::string why = start_refusal(restarts, true); !why.empty()) return why;
  if (std::string why = descriptor_problem_adding(m.plan, m.added); !why.empty()) return why;
  // An added node goes into a group that runs (or one added with it).
  for (NodeId id : outermost(m.plan, m.added)) {
    NodeId parent = *m.plan[id].parent;
    if (parent < nodes_.size() && nodes_[parent].state != State::ready)
      return fmt::format("{} would go into {}, which is not running", m.plan[id].path, m.plan[parent].path);
  }
  return "";
}

/// What a reload restarts for CHANGED: each that runs (or starts), with what depends on
/// it; one that waits, has finished or is stopped takes its new settings at its next
/// start. None inside another.
std::vector<NodeId> Supervisor::reload_restarts(const std::vector<NodeId>& changed) const {
  std::vector<NodeId> out;
  for (NodeId id : changed) {
    if (id >= nodes_.size() || nodes_[id].removed) continue;
    const Node& n = nodes_[id];
    bool runs = !n.cancelled && n.held == Hold::none && (n.state == State::ready || n.state == State::starting);
    if (!runs) continue;
    for (NodeId m : with_dependents(id))
      if (std::find(out.begin(), out.end(), m) == out.end()) out.push_back(m);
  }
  return outermost(plan_, std::move(out));
}

/// The merged plan in force: every node points at its new settings, the new ones get a
/// log source, the removed are tombstones, `after` and watches are made again.
void Supervisor::apply_merge(PlanMerge& m, Plan fresh) {
  retired_ = std::move(running_plan_);  // its nodes stay where they are (a vector's move)
  running_plan_ = std::move(m.plan);
  fresh_ = std::move(fresh);
  fresh_ids_ = m.ids;
  std::size_t before = nodes_.size();
  nodes_.resize(plan_.nodes.size());
  for (NodeId id : m.removed)
    for (NodeId inner : subtree(id)) nodes_[inner].removed = true;
  for (const PlanNode& spec : plan_.nodes) {
    Node& n = nodes_[spec.id];
    n.spec = &spec;
    n.dependents.clear();
    if (spec.id >= before) {
      n.log_source = log_->add_source(spec.path);
      source_node_.resize(std::max(source_node_.size(), static_cast<std::size_t>(n.log_source) + 1), 0);
      source_node_[static_cast<std::size_t>(n.log_source)] = spec.id;
    }
  }
  for (const PlanNode& spec : plan_.nodes)
    if (!nodes_[spec.id].removed)
      for (NodeId dep : spec.after) nodes_[dep].dependents.push_back(spec.id);
  std::vector<NodeId> rewatched = m.changed;
  rewatched.insert(rewatched.end(), m.added.begin(), m.added.end());
  rewatched.insert(rewatched.end(), m.removed.begin(), m.removed.end());
  rewatch(rewatched);
}

/// The watches of IDS as the plan in force says (none for a removed node).
void Supervisor::rewatch(const std::vector<NodeId>& ids) {
  watching_ = false;
  for (const PlanNode& spec : plan_.nodes) watching_ = watching_ || (spec.watch && !nodes_[spec.id].removed);
  hold_for_watches();
  if (!watching_ && !watcher_) return;
  if (!watcher_) return open_watches();
  for (NodeId id : ids) {
    watcher_->forget(id);
    const PlanNode& spec = plan_[id];
    for (const OutputSpec* out : {&spec.stdout_spec, &spec.stderr_spec})
      if (out->type == OutputSpec::Type::file) watcher_->ignore_file(out->path);
    if (spec.watch && !nodes_[id].removed)
      watcher_->watch(id, {spec.watch->paths, spec.watch->ignore, spec.watch->debounce});
  }
}

}  // namespace treerun
