// `treerun tree --json` and `treerun check --json`: the plan and the problems as JSON,
// for editors and tools. The schema is treerun(1)'s (COMMANDS › tree, check).
#pragma once

#include <string>
#include <vector>

#include "plan/plan.h"
#include "spec/diagnostics.h"

namespace treerun {

/// The plan as one JSON object: its name, spec file, timeout and log target; every
/// node but the root (path, kind, command, `after` with what each waits for, probe,
/// stop sequence, stdio, settings, children); the start and stop order; the streams
/// with their carriers. Durations are seconds. Ends with a newline.
std::string render_plan_json(const Plan& plan);

/// Node N as render_plan_json() shows it, but without its `children`, on one line: all
/// that is its own (what a reload compares, plan/diff.h).
std::string render_own_json(const Plan& plan, const PlanNode& n);

/// Stream W as an item of render_plan_json()'s `streams`, on one line.
std::string render_stream_json(const Plan& plan, const StreamWiring& w);

/// `{"ok": OK, "problems": [{"file", "line", "col", "message"}]}`; line and col are
/// 1-based, null where the position is unknown. Ends with a newline.
std::string render_problems_json(bool ok, const std::vector<Diagnostic>& problems);

}  // namespace treerun
