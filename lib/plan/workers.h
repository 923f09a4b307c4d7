// Which nodes are workers, and which workers are setup steps: the one rule for `after`
// and for a group being done (treerun(1), SEMANTICS › Nurseries). Needs `after`
// resolved, so it runs after resolve_references.
#pragma once

#include "plan/plan.h"

namespace treerun {

void derive_workers(Plan& plan);

}  // namespace treerun
