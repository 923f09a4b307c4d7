#include "plan/diff.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "plan/render_json.h"

namespace treerun {
namespace {

using json = nlohmann::json;

/// Each node's own settings by path, as one comparable JSON value. `tree --json` is the
/// one place that names every setting of a node: a setting added there is compared here.
std::map<std::string, json> own_settings(const Plan& plan) {
  json whole = json::parse(render_plan_json(plan), nullptr, false);
  std::map<std::string, json> out;
  if (whole.is_discarded()) return out;
  for (json& n : whole["nodes"]) {
    std::string path = n["path"];
    n.erase("children");
    out[path] = std::move(n);
  }
  for (const PlanNode& n : plan.nodes) {
    if (n.id == 0 || n.is_group()) continue;
    json& j = out[n.path];
    j["env"] = n.env;
  }
  // The streams a node is an end of are its own: a new consumer changes its source.
  for (const json& s : whole["streams"]) {
    std::string source = s["source"];  // PATH or PATH:stderr; a name has no `:`
    out[source.substr(0, source.find(':'))]["streams"].push_back(s);
    for (const json& c : s["consumers"]) out[c.get<std::string>()]["streams"].push_back(s);
  }
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

PlanDiff diff_plans(const Plan& old_plan, const Plan& new_plan) {
  std::map<std::string, json> before = own_settings(old_plan), after = own_settings(new_plan);
  PlanDiff d;
  for (const auto& [path, settings] : before) {
    auto it = after.find(path);
    if (it == after.end()) d.removed.push_back(path);
    else if (it->second != settings) d.changed.push_back(path);
  }
  for (const auto& [path, settings] : after)
    if (!before.contains(path)) d.added.push_back(path);
  d.removed = in_order(std::move(d.removed), old_plan);
  d.added = in_order(std::move(d.added), new_plan);
  d.changed = in_order(std::move(d.changed), new_plan);
  return d;
}

}  // namespace treerun
