// References between nodes, as written in `after` and in `stdin` sources: "name" (a
// sibling), "a/b" (from the parent) or "/a/b" (from the root). A reference that names
// no node is reported with the nearest name there is.
#pragma once

#include "plan/build.h"
#include "spec/diagnostics.h"

namespace treerun {

/// Fills each node's `after` and `stdin_spec.from` (and their positions in
/// BUILT.where) from BUILT.raw, reporting dangling references, a node after itself or
/// reading itself, a group as a source, and a source named twice.
void resolve_references(BuiltPlan& built, Diagnostics& diags);

}  // namespace treerun
