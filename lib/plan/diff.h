// What `treerun reload` changes (treerun(1), THE DEVELOPMENT LOOP › Reload): the plan a
// run was started with against the plan of its spec as it reads now, node by node (by
// path). Pure: two plans in, three lists of paths out.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "plan/plan.h"

namespace treerun {

struct PlanDiff {
  std::vector<std::string> removed;  // in the old plan only: to stop
  std::vector<std::string> added;    // in the new plan only: to start, in its start order
  std::vector<std::string> changed;  // in both, with own settings that differ: to restart
  bool empty() const { return removed.empty() && added.empty() && changed.empty(); }
};

/// Each node's own settings (as diff_plans() below says), by path, as text that differs
/// when they do. A run keeps its last plan's, so a reload renders only the new plan.
struct OwnSettings {
  std::map<std::string, std::string> by_path;
};
OwnSettings own_settings(const Plan& plan);

/// OLD_PLAN against NEW_PLAN. A node has changed when anything of its own differs: all
/// that `tree --json` shows of it but its children (command, kind, `after`, probe, stop
/// sequence, stdio, timeout, policies, tty, replicas, cwd, watch, ...), its environment,
/// or the streams it is an end of (a consumer added to a source changes the source). A
/// group's environment and cwd are only what its children inherit: they change those.
/// Lists are in the new plan's start order (removed: the old plan's), parents first.
PlanDiff diff_plans(const Plan& old_plan, const Plan& new_plan);
/// The same, with the own_settings() of each already at hand.
PlanDiff diff_plans(const Plan& old_plan, const OwnSettings& old_settings, const Plan& new_plan,
                    const OwnSettings& new_settings);

}  // namespace treerun
