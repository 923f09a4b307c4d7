// RawFile -> Plan: inheritance, path resolution, references, stream wiring, order.
// Pure: reads no file and makes no syscall (spec_read did the reading).
#pragma once

#include <vector>

#include "spec/diagnostics.h"
#include "plan/plan.h"
#include "plan/load.h"
#include "spec/raw.h"

namespace treerun {

/// Where each resolved setting of a node was written, for validate.cpp's messages.
struct NodeWhere {
  SourcePos name;
  std::vector<SourcePos> after;    // parallel to PlanNode::after
  std::vector<SourcePos> sources;  // parallel to PlanNode::stdin_spec.from
  SourcePos stdin_, stdout_, stderr_, tty;
};

struct BuiltPlan {
  Plan plan;
  std::vector<NodeWhere> where;  // parallel to plan.nodes
  bool logs_from_cli = false;    // plan.logs came from --logs
};

/// Builds the plan from MAIN (the spec file read by spec_read), reporting what only the
/// whole tree can tell (missing or duplicate names, dangling references, nodes with
/// nothing to run). FILE_NAME as given by the user; "-" names the plan "stdin".
BuiltPlan build_plan(const RawFile& main, const std::string& file_name, const LoadOptions& options,
                     Diagnostics& diags);

/// Fills plan.streams from the nodes' resolved stdin sources (plan_wiring.cpp).
void wire_streams(BuiltPlan& built, Diagnostics& diags);

/// Fills plan.start_order and plan.stop_order (plan_wiring.cpp).
void order_plan(Plan& plan);

/// The checks that need the built plan: after/ancestor, cycles and deadlocks, stdin
/// inherit twice, stdout inherit vs the log stream, tty vs streams.
void validate_plan(const BuiltPlan& built, Diagnostics& diags);

}  // namespace treerun
