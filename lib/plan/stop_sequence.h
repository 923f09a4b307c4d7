// A process's stop sequence as data: what stopping it does, step by step. Built once
// here, printed by `treerun tree` and executed by the runtime, so the two cannot
// disagree. See treerun(1), SEMANTICS › Stopping.
#pragma once

#include <optional>
#include <vector>

#include "base/command.h"
#include "base/units.h"

namespace treerun {

/// One step of a node's stop: act, then wait up to `wait` for the group to be gone.
struct StopStep {
  enum class Kind { signal, command, kill };
  Kind kind = Kind::signal;
  /// kind signal: the signal. kind command: the signal sent instead when the command
  /// cannot run, and to what a dead leader left in its group.
  int sig = 15;
  Millis wait{0};  // kill: none, the last step waits as long as it takes
};

/// The steps for a process: its STOP command if it has one, else STOP_SIGNAL; then
/// wait up to GRACE; then SIGKILL. (SIGCONT after a signal is the runtime's mechanism,
/// not a step.)
std::vector<StopStep> make_stop_sequence(const std::optional<Command>& stop, int stop_signal, Millis grace);

}  // namespace treerun
