// How each stream that feeds a stdin travels: a kernel pipe, tee/splice, or a relay
// through treerun. Decided here, once, from the plan; the runtime only opens what
// this chose. See treerun(1), SEMANTICS › Streams.
#pragma once

#include "plan/build.h"
#include "spec/diagnostics.h"

namespace treerun {

/// Fills plan.streams from the nodes' resolved stdin sources: one StreamWiring per
/// source, with its consumers, its log copy and its carrier. Reports a source whose
/// output the spec sends elsewhere (inherit, null, a file).
void classify_streams(BuiltPlan& built, Diagnostics& diags);

/// The same for a plan already checked (select.h's part of one): sets plan.streams.
void wire_streams(Plan& plan);

}  // namespace treerun
