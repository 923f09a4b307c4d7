#include "plan/merge.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>

namespace treerun {
namespace {

/// A stream as it can be compared across plans: the ids are RUNNING's.
std::string wiring(const Plan& plan, const StreamWiring& s) {
  std::vector<std::string> consumers;
  for (NodeId c : s.consumers) consumers.push_back(plan[c].path);
  std::sort(consumers.begin(), consumers.end());
  return fmt::format("{}{} → {}{}", plan[s.source.node].path, s.source.is_stderr ? ":stderr" : "",
                     fmt::join(consumers, ", "), s.to_log ? " (and the log)" : "");
}

std::string stream_refusal(const Plan& before, const Plan& after) {
  std::vector<std::string> old_streams, new_streams;
  for (const StreamWiring& s : before.streams) old_streams.push_back(wiring(before, s));
  for (const StreamWiring& s : after.streams) new_streams.push_back(wiring(after, s));
  std::sort(old_streams.begin(), old_streams.end());
  std::sort(new_streams.begin(), new_streams.end());
  for (const std::string& s : old_streams)
    if (!std::binary_search(new_streams.begin(), new_streams.end(), s))
      return fmt::format("the stream {} is gone or wired otherwise, and streams are made when the run starts: "
                         "stop the run and start it again", s);
  for (const std::string& s : new_streams)
    if (!std::binary_search(old_streams.begin(), old_streams.end(), s))
      return fmt::format("the stream {} is new, and streams are made when the run starts: stop the run and "
                         "start it again", s);
  return "";
}

std::vector<std::string> run_notes(const Plan& running, const Plan& fresh) {
  std::vector<std::string> notes;
  auto note = [&](bool differs, const char* what) {
    if (differs) notes.push_back(fmt::format("the run's {} changed: it applies from the next `up`", what));
  };
  note(running.name != fresh.name, "name");
  note(running.timeout != fresh.timeout, "timeout");
  note(running.logs.type != fresh.logs.type || running.logs.path != fresh.logs.path, "logs");
  note(running.backend != fresh.backend, "backend");
  return notes;
}

}  // namespace

PlanMerge merge_plans(const Plan& running, const std::vector<NodeId>& old_ids, const Plan& old_fresh,
                      const Plan& fresh, const PlanDiff& diff) {
  PlanMerge m;
  std::map<std::string, NodeId> by_path;  // the live nodes of RUNNING
  for (const PlanNode& n : old_fresh.nodes) by_path[n.path] = old_ids.at(n.id);
  NodeId next = running.nodes.size();
  for (const PlanNode& n : fresh.nodes) {
    auto it = by_path.find(n.path);
    m.ids.push_back(it != by_path.end() ? it->second : next++);
  }
  auto id = [&](NodeId fresh_id) { return m.ids.at(fresh_id); };

  m.plan = fresh;
  m.plan.nodes = running.nodes;  // tombstones stay; every live node is replaced below
  m.plan.nodes.resize(next);
  for (PlanNode n : fresh.nodes) {
    n.id = id(n.id);
    if (n.parent) n.parent = id(*n.parent);
    for (NodeId& c : n.children) c = id(c);
    for (NodeId& a : n.after) a = id(a);
    for (SourceRef& s : n.stdin_spec.from) s.node = id(s.node);
    m.plan.nodes[n.id] = std::move(n);
  }
  for (NodeId& n : m.plan.start_order) n = id(n);
  for (NodeId& n : m.plan.stop_order) n = id(n);
  for (StreamWiring& s : m.plan.streams) {
    s.source.node = id(s.source.node);
    for (NodeId& c : s.consumers) c = id(c);
  }
  m.plan.name = running.name;
  m.plan.timeout = running.timeout;
  m.plan.logs = running.logs;
  m.plan.backend = running.backend;
  m.plan.slurm = running.slurm;
  m.plan.hosts = running.hosts;

  for (const std::string& path : diff.removed) m.removed.push_back(by_path.at(path));
  for (const std::string& path : diff.added) m.added.push_back(id(*fresh.find(path)));
  for (const std::string& path : diff.changed)
    if (!path.empty()) m.changed.push_back(id(*fresh.find(path)));  // the root is the run: see notes
  m.refusal = stream_refusal(running, m.plan);
  m.notes = run_notes(running, fresh);
  return m;
}

}  // namespace treerun
