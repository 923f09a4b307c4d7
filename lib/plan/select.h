// `up SPEC NODE...` and `tree SPEC NODE...` (treerun(1), A PART OF THE TREE): a plan
// cut down to the named nodes, what they need, and the groups that hold them. A pure
// transform of a checked plan, so the supervisor runs the part as any plan.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "plan/plan.h"

namespace treerun {

struct Selection {
  std::optional<Plan> plan;  // empty when a path names no node
  std::string problem;       // then: which, with a did-you-mean or the paths there are
};

/// The part of PLAN that PATHS ("a/b", "/a/b") name: each named node with everything
/// inside it; what they wait for through `after`, and the producers of the streams
/// they read, each whole as well, transitively; and the groups that hold them all
/// (with their own `after` and streams). Every other node is left out, and derived
/// settings (workers, setup steps, carriers, order) are those of the part.
Selection select_nodes(const Plan& plan, const std::vector<std::string>& paths);

}  // namespace treerun
