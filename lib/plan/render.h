// The text of `treerun tree`: the plan as a person reads it.
#pragma once

#include <string>

#include "plan/plan.h"

namespace treerun {

/// The tree (kinds, commands, settings), the start order with its `after` edges, the
/// stop order, the stream wiring and each process's stop sequence. COLOR adds ANSI
/// bold and dim; without it the text has no escape sequence.
std::string render_plan(const Plan& plan, bool color);

}  // namespace treerun
