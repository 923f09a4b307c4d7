#include "plan/workers.h"

#include <vector>

namespace treerun {
namespace {

/// Groups are workers when a child is a worker that is not a setup step. Children come
/// after their parent in `nodes`, so one backward pass propagates up, into groups
/// only: a daemon's own workers do not make it one.
void derive_groups(Plan& plan) {
  for (auto& n : plan.nodes)
    if (n.is_group()) n.is_worker = false;
  for (NodeId id = plan.nodes.size(); id-- > 1;) {
    const PlanNode& n = plan.nodes[id];
    PlanNode& parent = plan.nodes[*n.parent];
    if (n.is_worker && !n.setup_step && parent.is_group()) parent.is_worker = true;
  }
}

}  // namespace

/// A worker that only daemons (or groups of daemons) wait for is a setup step. Setup
/// steps only grow and workers only shrink from one pass to the next, so the loop ends.
void derive_workers(Plan& plan) {
  std::vector<std::vector<NodeId>> dependents(plan.nodes.size());
  for (const PlanNode& n : plan.nodes)
    for (NodeId t : n.after) dependents[t].push_back(n.id);
  for (PlanNode& n : plan.nodes) n.is_worker = n.cmd && !n.daemon, n.setup_step = false;
  for (bool changed = true; changed;) {
    derive_groups(plan);
    changed = false;
    for (PlanNode& n : plan.nodes) {
      if (!n.is_worker || n.setup_step || dependents[n.id].empty()) continue;
      bool only_daemons = true;
      for (NodeId d : dependents[n.id]) only_daemons = only_daemons && !plan.nodes[d].is_worker;
      if (only_daemons) n.setup_step = changed = true;
    }
  }
}

}  // namespace treerun
