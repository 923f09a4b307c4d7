// What a node's process finds in its environment: treerun's own, less what treerun
// sets per node, plus the node's `env`, TREERUN_NODE and TREERUN_RUN_ID.
#pragma once

#include <string>
#include <vector>

#include "plan/plan.h"

namespace treerun {

/// 16 hex digits, random: names this run to its nodes (and, later, its control socket).
std::string make_run_id();
/// treerun's environment, minus the variables it sets per node: a nested treerun must
/// not pass its own on.
std::vector<std::string> inherited_env();
/// The complete environment of ID's process.
std::vector<std::string> node_env(const Plan& plan, NodeId id, const std::vector<std::string>& base,
                                  const std::string& run_id);

}  // namespace treerun
