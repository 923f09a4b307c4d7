// The order nodes start in, and its reverse, for `treerun tree`.
#pragma once

#include "plan/plan.h"

namespace treerun {

/// Fills plan.start_order (parents before children, targets of `after` before their
/// dependents, spec order otherwise) and plan.stop_order (its reverse).
void order_plan(Plan& plan);

}  // namespace treerun
