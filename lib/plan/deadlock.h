// Deadlocks: a set of nodes each waiting for another of them to start, be ready or be
// done, through `after`, parenthood and streams (a consumer waits for its producer to
// end; a producer, for its consumers to start reading). Found as cycles in a wait-for graph
// over three events per node, using the one worker rule of PlanNode::is_worker.
#pragma once

#include "plan/build.h"
#include "spec/diagnostics.h"

namespace treerun {

/// Reports each cycle of waits once, at its earliest `after`: "`after` cycle: a -> b
/// -> a" when it is `after` alone, else "deadlock: ..." with the reason of each step.
/// A cycle of streams alone (a reads b, b reads a) is not one: coprocesses.
void report_deadlocks(const BuiltPlan& built, Diagnostics& diags);

}  // namespace treerun
