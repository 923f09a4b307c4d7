// This user's live runs, as the socket folder shows them: what `ls` lists and how the
// client commands find their run (-r RUN, or the only one). Sockets of runs that are
// gone (a SIGKILLed treerun) are removed on the way.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "control/target.h"

namespace treerun::control {

struct LiveRun {
  std::string name;
  std::string socket;
  std::optional<RunStatus> status;  // nothing when it did not answer `status`
  std::string problem;              // then: why
};

/// The live runs in FOLDER, sorted by name, each asked for its status (TIMEOUT_MS
/// each). A folder that does not exist holds none.
std::vector<LiveRun> live_runs(const std::string& folder, int timeout_ms);

/// The run a client command talks to: NAME's when given, else the only live one. WHY
/// says what is wrong otherwise (no such run; none; several, listed).
std::optional<LiveRun> find_run(const std::string& folder, const std::string& name, int timeout_ms,
                                std::string& why);

}  // namespace treerun::control
