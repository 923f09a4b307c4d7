// The checks that need the whole, resolved plan (after build, resolve and streams).
#pragma once

#include "plan/build.h"
#include "spec/diagnostics.h"

namespace treerun {

/// `after` an ancestor or a descendant, cycles and deadlocks (deadlock.h), stdin
/// inherit twice, stdout inherit vs the log stream, tty vs streams, and a `log:`
/// probe on a node none of whose output reaches the log.
void validate_plan(const BuiltPlan& built, Diagnostics& diags);

}  // namespace treerun
