#include "plan/stop_sequence.h"

#include <csignal>

namespace treerun {

std::vector<StopStep> make_stop_sequence(const std::optional<Command>& stop, int stop_signal, Millis grace) {
  StopStep first{stop ? StopStep::Kind::command : StopStep::Kind::signal, stop_signal, grace};
  return {first, StopStep{StopStep::Kind::kill, SIGKILL, Millis{0}}};
}

}  // namespace treerun
