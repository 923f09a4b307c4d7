// What the control socket's acting commands do (contract 6.2; treerun(1), SEMANTICS ›
// Steering a running tree): stop, start, restart, signal, down. Each goes through the table: a `stop` is a
// cancel that spares the stopped nodes' dependents, a `start` is the start_asked event,
// a `restart` both, one after the other; `down` is the cancel of the whole run that one
// ctrl-c would be. What is left on a node between a stop and a start is its Hold.
//
// Each command is checked whole before anything is done (a request the run cannot carry
// out changes nothing), written to the event log (`control`) and the log stream (naming
// the client), and answered once it has taken effect: the nodes stopped, or started and
// ready. Pending answers are looked at after each change, in a later turn of the loop.
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/post.hpp>

#include "base/units.h"
#include "run/supervisor.h"

namespace treerun {
namespace {

const char* verb_name(control::Verb verb) {
  switch (verb) {
    case control::Verb::stop: return "stop";
    case control::Verb::start: return "start";
    case control::Verb::restart: return "restart";
    case control::Verb::signal: return "signal";
    case control::Verb::down: return "down";
  }
  return "?";
}

/// Being stopped, whatever by: between its cancel and its end.
bool stopping(const Node& n) { return n.cancelled && !n.done(); }

}  // namespace

void Supervisor::act(control::Verb verb, const std::vector<std::string>& paths, int sig, control::Peer peer,
                     std::function<void(std::string)> answer) {
  // What the action wrote (its `control` event, a spawn, an exit) goes out before its
  // answer: the loop writes a burst's events together at its end, and a client that
  // reads the event log once answered must find them there.
  auto done = [this, answer = std::move(answer)](std::string why) {
    flush_outputs_now();
    answer(std::move(why));
  };
  if (std::string unknown = check_nodes(paths); !unknown.empty()) return done(unknown);
  std::vector<NodeId> ids;
  for (const std::string& path : paths) ids.push_back(*find_node(path));
  // A node named twice, or inside another one named: the outer one decides.
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::erase_if(ids, [&](NodeId id) {
    return std::any_of(ids.begin(), ids.end(), [&](NodeId other) { return plan_.is_ancestor(other, id); });
  });

  if (run_finished_) return done(verb == control::Verb::down ? "" : "the run has ended");
  tell_control(verb, ids, sig, peer);
  if (verb == control::Verb::down) {
    down(peer);
    return done("");
  }
  std::vector<NodeId> starts = verb == control::Verb::start     ? what_to_start(ids)
                               : verb == control::Verb::restart ? ids
                                                                : std::vector<NodeId>{};
  if (std::string why = refusal(verb, ids, starts, sig); !why.empty()) {
    log_->note(-1, fmt::format("{} refused: {}", verb_name(verb), why));
    return done(why);
  }
  switch (verb) {
    case control::Verb::signal: return done(send_signal(ids, sig));
    case control::Verb::stop: stop_for_control(ids, Hold::stopped); break;
    case control::Verb::restart: stop_for_control(ids, Hold::restarting); break;
    case control::Verb::start:
      // A node that a `stop` is still taking down starts once it has stopped.
      for (NodeId id : starts)
        if (nodes_[id].held != Hold::none) nodes_[id].held = Hold::restarting;
      break;
    case control::Verb::down: break;
  }
  actions_.push_back({verb, std::move(ids), std::move(starts), false, std::move(done), "control", ""});
  after_change();
}

/// Where a `start` of IDS goes: a node that runs passes it on to what was stopped inside
/// it (a group that runs starts its stopped children); any other node named gets it.
/// What runs already, or waits for its first start, is left as it is.
std::vector<NodeId> Supervisor::what_to_start(const std::vector<NodeId>& ids) const {
  std::vector<NodeId> starts;
  auto collect = [&](auto& self, NodeId id, bool named) -> void {
    const Node& n = nodes_[id];
    bool runs = n.held == Hold::none && !n.cancelled && (n.state == State::ready || n.state == State::starting);
    if (!runs) {
      if (named || n.held != Hold::none) starts.push_back(id);
      return;
    }
    for (NodeId child : plan_[id].children) self(self, child, false);
  };
  for (NodeId id : ids) collect(collect, id, true);
  return starts;
}

/// The `control` event, and a line in the log stream for each node (for the run, for
/// `down`) that names who asked.
void Supervisor::tell_control(control::Verb verb, const std::vector<NodeId>& ids, int sig, control::Peer peer) {
  std::vector<std::string> paths;
  for (NodeId id : ids) paths.push_back(plan_[id].path);
  bool signal = verb == control::Verb::signal;
  events_.control(verb_name(verb), paths, signal ? std::optional<int>(sig) : std::nullopt, peer.uid, peer.pid);
  std::string what = signal ? signal_name(sig) : verb_name(verb);
  std::string line = fmt::format("{}, asked on the control socket by uid {}, pid {}", what, peer.uid, peer.pid);
  if (ids.empty()) log_->note(-1, line);
  for (NodeId id : ids) log_->note(nodes_[id].log_source, line);
}

/// Why VERB cannot be carried out on IDS (STARTS: where its start goes) now, or "".
std::string Supervisor::refusal(control::Verb verb, const std::vector<NodeId>& ids,
                                const std::vector<NodeId>& starts, int sig) const {
  if (run_finished_ || nodes_[0].done()) return "the run has ended";
  if (nodes_[0].cancelled) return "the run is ending";
  if (ids.empty()) return fmt::format("{} needs at least one node", verb_name(verb));
  switch (verb) {
    case control::Verb::signal: {
      if (sig <= 0 || sig >= NSIG) return fmt::format("no signal {}", sig);
      for (NodeId id : ids) {
        bool running = false;
        for (NodeId m : subtree(id)) running = running || nodes_[m].has_processes();
        if (!running) return fmt::format("{} is not running", plan_[id].path);
      }
      return "";
    }
    case control::Verb::start: return start_refusal(starts, false);
    case control::Verb::restart: return start_refusal(starts, true);
    case control::Verb::stop:
    case control::Verb::down: return "";
  }
  return "";
}

/// Why IDS cannot be started (AGAIN: after their stop, as `restart` does).
std::string Supervisor::start_refusal(const std::vector<NodeId>& ids, bool again) const {
  if (nodes_[0].cancelled) return "the run is ending";
  for (NodeId id : ids) {
    const Node& n = nodes_[id];
    const PlanNode& spec = plan_[id];
    if (stopping(n) && n.held == Hold::none && !n.restart_wanted)
      return fmt::format("{} is being stopped ({})", spec.path, n.cancelled->cause);
    if (std::string why = dependency_refusal(id, ids); !why.empty()) return why;
    // A node waiting for its first start has its streams and a nursery coming.
    bool fresh_start = again || n.done() || n.held != Hold::none || n.cancelled;
    if (!fresh_start) continue;
    if (std::string why = stream_refusal(id); !why.empty()) return why;
    const Node& parent = nodes_[*spec.parent];
    if (parent.state != State::ready) {
      const PlanNode& p = plan_[*spec.parent];
      if (parent.held != Hold::none || (parent.done() && parent.cancelled))
        return fmt::format("{} is in {}, which is stopped: start {}", spec.path, p.path, p.path);
      if (parent.done()) return fmt::format("{} is in {}, which has finished: start {}", spec.path, p.path, p.path);
      return fmt::format("{} is in {}, which is not running", spec.path, p.path);
    }
  }
  return "";
}

/// A stream that crosses the edge of ID's subtree lost its pipe when the node first
/// ended: only a restart of a group that holds both ends makes it anew.
std::string Supervisor::stream_refusal(NodeId id) const {
  auto inside = [&](NodeId m) { return m == id || plan_.is_ancestor(id, m); };
  for (const StreamWiring& s : plan_.streams) {
    if (stream_within(s, id)) continue;
    bool touches = inside(s.source.node);
    for (NodeId c : s.consumers) touches = touches || inside(c);
    if (!touches) continue;
    NodeId common = *plan_[id].parent;
    while (common != 0 && !stream_within(s, common)) common = *plan_[common].parent;
    std::string to;
    for (NodeId c : s.consumers) to += (to.empty() ? "" : ", ") + plan_[c].path;
    std::string source = plan_[s.source.node].path + (s.source.is_stderr ? ":stderr" : "");
    if (common == 0)
      return fmt::format("{} is on the stream {} → {}, whose pipe cannot be made again while the run goes on",
                         plan_[id].path, source, to);
    return fmt::format("{} is on the stream {} → {}, whose pipe cannot be made again for it alone: restart {} "
                       "as a whole", plan_[id].path, source, to, plan_[common].path);
  }
  return "";
}

/// What ID's subtree waits for outside IDS and will not come: one stopped from the
/// control socket (it would wait for ever), or one that did not succeed (it would be
/// skipped, and a skipped worker is a failure).
std::string Supervisor::dependency_refusal(NodeId id, const std::vector<NodeId>& ids) const {
  auto started = [&](NodeId m) {
    return std::any_of(ids.begin(), ids.end(), [&](NodeId s) { return m == s || plan_.is_ancestor(s, m); });
  };
  for (NodeId m : subtree(id))
    for (NodeId dep : plan_[m].after) {
      if (started(dep)) continue;
      if (held_by_control(dep))
        return fmt::format("{} waits for {}, which is stopped: start it too", plan_[m].path, plan_[dep].path);
      if (dependency_lost(dep, plan_[m].waits_for_exit(dep)))
        return fmt::format("{} waits for {}, which did not succeed", plan_[m].path, plan_[dep].path);
    }
  return "";
}

/// Cancels IDS and what is inside them (children first, one stop each, grace, SIGKILL),
/// sparing their dependents; HOLD says what follows.
void Supervisor::stop_for_control(const std::vector<NodeId>& ids, Hold hold) {
  std::vector<NodeId> going;
  for (NodeId id : ids) {
    Node& n = nodes_[id];
    // A node already stopped or finished stays as it is, unless it is to start again.
    if (n.done() && hold == Hold::stopped) continue;
    n.held = hold;
    if (!n.done()) going.push_back(id);
  }
  Cancel c{"stop", "", false};
  c.spare_dependents = true;
  cancel(going, c);
}

/// SIG to the process group of each node (of each node inside a group) that runs.
std::string Supervisor::send_signal(const std::vector<NodeId>& ids, int sig) {
  for (NodeId id : ids)
    for (NodeId m : subtree(id))
      if (nodes_[m].has_processes() && !nodes_[m].is_group()) launcher_.signal(nodes_[m].run.proc, sig);
  return "";
}

/// The whole run is cancelled as one ctrl-c would, with `down` as its cause. A second
/// `down`, or one during the teardown, finds it under way: nothing more is done.
void Supervisor::down(control::Peer) {
  if (nodes_[0].cancelled) {
    log_->note(-1, "already stopping");
    return;
  }
  down_ = true;
  log_->note(-1, fmt::format("stopping gracefully ({})", how_to_force(0)));
  cancel(0, {"down", "", true});
  arm_progress();
}

void Supervisor::after_change() {
  if (check_posted_ || (actions_.empty() && (up_told_ || !options_.on_up))) return;
  check_posted_ = true;
  boost::asio::post(io_, [this] {
    check_posted_ = false;
    if (!run_finished_) check_controls();  // once it has, end_controls() answers
  });
}

/// Answers the actions that have taken effect, in the order they came; then on_up.
void Supervisor::check_controls() {
  for (auto it = actions_.begin(); it != actions_.end();) {
    std::optional<std::string> result = progress(*it);
    if (!result) {
      ++it;
      continue;
    }
    auto done = std::move(it->done);
    it = actions_.erase(it);
    done(std::move(*result));  // it may act again: the list takes it at its end
  }
  if (watching_) consider_watch_pending();  // a change that came during the action
  consider_reload();                         // one that waited for the actions to end
  consider_up();
}

/// A start that will not come: IDS stay stopped, and their groups may be done now.
void Supervisor::keep_stopped(const std::vector<NodeId>& ids) {
  for (NodeId id : ids)
    if (nodes_[id].held == Hold::restarting) {
      nodes_[id].held = Hold::stopped;
      consider_settled(*plan_[id].parent);
    }
}

/// The run is over: what has not taken effect by now never will.
void Supervisor::end_controls() {
  for (ControlAction& action : std::exchange(actions_, {})) {
    bool done = true;
    for (NodeId id : action.verb == control::Verb::stop ? action.nodes : action.starts) {
      if (action.verb == control::Verb::stop) done = done && nodes_[id].done();
      else done = done && action.starting && start_outcome(id) == "";
    }
    action.done(done ? "" : "the run has ended");
  }
}

/// Where ACTION stands: nothing yet, or its answer ("" or why not).
std::optional<std::string> Supervisor::progress(ControlAction& action) {
  if (action.verb == control::Verb::stop) {
    // Stopped (or started again since by someone else: the stop took effect before).
    for (NodeId id : action.nodes)
      if (!nodes_[id].done() && nodes_[id].held != Hold::none) return std::nullopt;
    return "";
  }
  if (!action.starting) {
    // What a stop was taking down is down.
    for (NodeId id : action.starts)
      if (!nodes_[id].done() && nodes_[id].held != Hold::none) return std::nullopt;
    // A `stop` that came meanwhile wins: the last word is the client's latest.
    std::string why;
    for (NodeId id : action.starts)
      if (why.empty() && nodes_[id].held == Hold::stopped) why = fmt::format("{} was stopped meanwhile", plan_[id].path);
    if (why.empty()) why = start_refusal(action.starts, false);
    if (!why.empty()) {
      keep_stopped(action.starts);
      return why;
    }
    action.starting = true;
    for (NodeId id : action.starts) {
      nodes_[id].restart_cause = action.cause;
      nodes_[id].restart_path = action.path;
      on(id, Event::start_asked);
      nodes_[id].restart_cause = "control";
      nodes_[id].restart_path.clear();
    }
  }
  bool waiting = false;
  for (NodeId id : action.starts) {
    std::optional<std::string> outcome = start_outcome(id);
    if (!outcome) waiting = true;
    else if (!outcome->empty()) return outcome;
  }
  if (waiting) return nodes_[0].cancelled ? std::optional<std::string>("the run is ending") : std::nullopt;
  return "";
}

/// Whether ID and everything in it has started and is ready: nothing yet, "", or why
/// some of it could not.
std::optional<std::string> Supervisor::start_outcome(NodeId id) const {
  bool waiting = false;
  for (NodeId m : subtree(id)) {
    const Node& n = nodes_[m];
    if (n.is_group() || n.run.was_ready) continue;
    if (!n.failure_reason.empty()) return fmt::format("{}: {}", n.spec->path, n.failure_reason);
    if (n.done()) {
      std::string why = !n.skip_reason.empty()  ? n.skip_reason
                        : n.run.status          ? fmt::format("exited: {}", n.run.status->describe())
                                                : std::string("stopped");
      return fmt::format("{}: {}", n.spec->path, why);
    }
    waiting = true;
  }
  if (waiting) return std::nullopt;
  return "";
}

}  // namespace treerun
