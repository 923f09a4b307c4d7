// What `treerun reload` runs after the diff (treerun(1), THE DEVELOPMENT LOOP › Reload):
// the spec as it reads now laid over the plan the run is running, so that every node
// that goes on keeps its NodeId (its process, its log source, its place in the
// supervisor's tables). Pure: plans in, a plan out.
#pragma once

#include <string>
#include <vector>

#include "plan/diff.h"
#include "plan/plan.h"

namespace treerun {

struct PlanMerge {
  /// The running plan's ids kept: a node in both takes its new settings under its old
  /// id, a new one is appended, a removed one stays where it was (a tombstone: no longer
  /// among its parent's children, nor in the order or the streams).
  Plan plan;
  std::vector<NodeId> ids;  // by the fresh plan's NodeId: its id in PLAN
  std::vector<NodeId> removed, added, changed;  // ids in PLAN, in the diff's order
  /// Why it cannot be applied while the run goes on ("" when it can): a stream that is
  /// new, gone or wired otherwise (its pipe is made when the run starts).
  std::string refusal;
  /// What is not applied, for the reply: settings of the run as a whole.
  std::vector<std::string> notes;
};

/// FRESH (the spec as it reads now; DIFF = diff_plans(OLD_FRESH, FRESH)) over RUNNING,
/// the plan in force, whose ids of OLD_FRESH's nodes are OLD_IDS. The run's own
/// settings (name, timeout, logs, backend) stay RUNNING's.
PlanMerge merge_plans(const Plan& running, const std::vector<NodeId>& old_ids, const Plan& old_fresh,
                      const Plan& fresh, const PlanDiff& diff);

}  // namespace treerun
