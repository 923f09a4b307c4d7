// What the client commands print: the tables of `ls` and `ps`, and the line an action
// answers with. Pure: text from values, so the layout is tested without a run.
#pragma once

#include <string>
#include <vector>

#include "control/protocol.h"
#include "control/runs.h"

namespace treerun::control {

/// NAME PID UPTIME RUNNING SPEC, a header and one row a run.
std::string runs_table(const std::vector<LiveRun>& runs);
/// The names, one a line (`ls -q`).
std::string names_of(const std::vector<LiveRun>& runs);
/// PATH KIND STATE PID UPTIME RESTARTS EXIT OUTCOME, a header and one row a node.
std::string nodes_table(const std::vector<NodeStatus>& nodes);
/// "stopped web, db", "sent SIGHUP to web": what an action did, once it took effect.
std::string acted_text(Cmd cmd, int signal, const std::vector<std::string>& nodes);
/// Seconds as ps shows them: 42s, 3m07s, 2h05m, 3d04h.
std::string short_duration(double seconds);

}  // namespace treerun::control
