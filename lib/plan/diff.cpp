#include "plan/diff.h"

#include <algorithm>

#include "plan/render_json.h"

namespace treerun {
namespace {

/// ENV as text that differs when any key or value does (each with its length: a value
/// may hold any byte).
std::string env_text(const std::vector<std::pair<std::string, std::string>>& env) {
  std::string out = "env";
  for (const auto& [key, value] : env)
    out += "\n" + std::to_string(key.size()) + ":" + key + std::to_string(value.size()) + ":" + value;
  return out;
}

/// PATHS in the order of ORDER (a plan's start order), those not in it last.
std::vector<std::string> in_order(std::vector<std::string> paths, const Plan& plan) {
  std::map<std::string, std::size_t> rank;
  for (std::size_t i = 0; i < plan.start_order.size(); ++i) rank[plan[plan.start_order[i]].path] = i;
  std::stable_sort(paths.begin(), paths.end(), [&](const std::string& a, const std::string& b) {
    auto ra = rank.find(a), rb = rank.find(b);
    return (ra == rank.end() ? SIZE_MAX : ra->second) < (rb == rank.end() ? SIZE_MAX : rb->second);
  });
  return paths;
}

}  // namespace

OwnSettings own_settings(const Plan& plan) {
  // `tree --json` is the one place that names every setting of a node: a setting added
  // there is compared here.
  std::vector<std::string> text(plan.nodes.size());
  for (const PlanNode& n : plan.nodes) {
    if (n.id == 0) continue;
    text[n.id] = render_own_json(plan, n);
    if (!n.is_group()) text[n.id] += "\n" + env_text(n.env);
  }
  // The streams a node is an end of are its own: a new consumer changes its source.
  for (const StreamWiring& w : plan.streams) {
    std::string s = "\nstream " + render_stream_json(plan, w);
    if (w.source.node != 0) text[w.source.node] += s;
    for (NodeId c : w.consumers)
      if (c != 0) text[c] += s;
  }
  OwnSettings out;
  for (const PlanNode& n : plan.nodes)
    if (n.id != 0) out.by_path.emplace(n.path, std::move(text[n.id]));
  return out;
}

PlanDiff diff_plans(const Plan& old_plan, const OwnSettings& before, const Plan& new_plan,
                    const OwnSettings& after) {
  PlanDiff d;
  for (const auto& [path, settings] : before.by_path) {
    auto it = after.by_path.find(path);
    if (it == after.by_path.end()) d.removed.push_back(path);
    else if (it->second != settings) d.changed.push_back(path);
  }
  for (const auto& [path, settings] : after.by_path)
    if (!before.by_path.contains(path)) d.added.push_back(path);
  d.removed = in_order(std::move(d.removed), old_plan);
  d.added = in_order(std::move(d.added), new_plan);
  d.changed = in_order(std::move(d.changed), new_plan);
  return d;
}

PlanDiff diff_plans(const Plan& old_plan, const Plan& new_plan) {
  return diff_plans(old_plan, own_settings(old_plan), new_plan, own_settings(new_plan));
}

}  // namespace treerun
