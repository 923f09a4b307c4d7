// Where each node runs (treerun(1), ACROSS MACHINES): its `on` made a host of the
// allocation, `${host:PATH}` replaced by the host of node PATH, and what a backend
// cannot run reported. After resolve.h (it needs what each `${host:PATH}` names).
#pragma once

#include "plan/build.h"
#include "spec/diagnostics.h"

namespace treerun {

void place_hosts(BuiltPlan& built, const Overrides& overrides, Diagnostics& diags);

/// The hosts of the allocation, space-separated: TREERUN_HOSTS.
std::string hosts_text(const Plan& plan);

}  // namespace treerun
