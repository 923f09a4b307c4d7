#include "plan/select.h"

#include <algorithm>

#include "plan/order.h"
#include "plan/streams.h"
#include "plan/workers.h"
#include "spec/diagnostics.h"

namespace treerun {
namespace {

/// Which nodes the part keeps: a closure over what each kept node needs.
class Closure {
 public:
  explicit Closure(const Plan& plan)
      : plan_(plan), kept_(plan.nodes.size(), false), whole_(plan.nodes.size(), false) {}

  /// ID with everything inside it.
  void want_whole(NodeId id) {
    if (whole_[id]) return;
    whole_[id] = true;
    keep(id);
    for (NodeId c : plan_[id].children) want_whole(c);
  }

  std::vector<bool> run() {
    while (!todo_.empty()) {
      NodeId id = todo_.back();
      todo_.pop_back();
      const PlanNode& n = plan_[id];
      for (auto p = n.parent; p; p = plan_[*p].parent) keep(*p);  // the groups that hold it
      for (NodeId t : n.after) want_whole(t);
      // A consumer without its producer would read nothing: a stream is a need too.
      for (const SourceRef& s : n.stdin_spec.from) want_whole(s.node);
    }
    return std::move(kept_);
  }

 private:
  void keep(NodeId id) {
    if (kept_[id]) return;
    kept_[id] = true;
    todo_.push_back(id);
  }

  const Plan& plan_;
  std::vector<bool> kept_;   // in the part
  std::vector<bool> whole_;  // in it with all its descendants
  std::vector<NodeId> todo_;
};

/// PLAN with only the KEPT nodes, renumbered in their order (parents stay before
/// their children), and what derives from the tree derived again.
Plan cut(const Plan& plan, const std::vector<bool>& kept) {
  std::vector<NodeId> new_id(plan.nodes.size(), 0);
  Plan out;
  out.name = plan.name;
  out.spec_file = plan.spec_file;
  out.timeout = plan.timeout;
  out.logs = plan.logs;
  for (const PlanNode& n : plan.nodes)
    if (kept[n.id]) new_id[n.id] = out.nodes.size(), out.nodes.push_back(n);
  auto remap = [&](std::vector<NodeId>& ids) {
    std::erase_if(ids, [&](NodeId id) { return !kept[id]; });
    for (NodeId& id : ids) id = new_id[id];
  };
  for (PlanNode& n : out.nodes) {
    n.id = new_id[n.id];
    if (n.parent) n.parent = new_id[*n.parent];
    remap(n.children);
    remap(n.after);  // all kept: the closure took them
    remap(n.after_exited);
    for (SourceRef& s : n.stdin_spec.from) s.node = new_id[s.node];
  }
  derive_workers(out);
  wire_streams(out);
  order_plan(out);
  return out;
}

/// The path of the one node named NAME, or "".
std::string only_path_named(const Plan& plan, std::string_view name) {
  std::string found;
  if (name.empty()) return found;
  for (const PlanNode& n : plan.nodes)
    if (n.id != 0 && n.name == name) {
      if (!found.empty()) return "";
      found = n.path;
    }
  return found;
}

/// Why PATH names no node of PLAN, with the likeliest meaning: the nearest path, or
/// the one node whose name is PATH or near it; else the top-level nodes there are.
std::string unknown(const Plan& plan, const std::string& path) {
  std::string text = "no node `" + shorten(path) + "` in " + plan.spec_file;
  std::vector<std::string_view> words;  // paths and names: `keep` finds pipeline/keep
  for (const PlanNode& n : plan.nodes)
    if (n.id != 0) words.push_back(n.path), words.push_back(n.name);
  std::string_view near = closest(path, words);
  if (!near.empty() && plan.find(std::string(near))) return text + " (did you mean `" + std::string(near) + "`?)";
  if (std::string named = only_path_named(plan, near.empty() ? path : near); !named.empty())
    return text + " (did you mean `" + named + "`?)";
  std::string list;
  for (NodeId c : plan.root().children) list += (list.empty() ? "" : ", ") + plan[c].path;
  return text + "; its top-level nodes: " + shorten(list, 200);
}

}  // namespace

Selection select_nodes(const Plan& plan, const std::vector<std::string>& paths) {
  Selection out;
  Closure closure(plan);
  for (std::string path : paths) {
    if (path.starts_with('/')) path.erase(0, 1);
    while (path.ends_with('/')) path.pop_back();
    auto id = path.empty() ? std::nullopt : plan.find(path);
    if (!id) {
      out.problem = unknown(plan, path);
      return out;
    }
    closure.want_whole(*id);
  }
  out.plan = cut(plan, closure.run());
  return out;
}

}  // namespace treerun
