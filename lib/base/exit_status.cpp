#include "base/exit_status.h"

#include <sys/wait.h>

#include "base/units.h"

namespace treerun {

ExitStatus ExitStatus::from_wait(int wstatus) {
  if (WIFSIGNALED(wstatus)) return signaled(WTERMSIG(wstatus));
  return exited(WEXITSTATUS(wstatus));
}

std::string ExitStatus::describe() const {
  if (kind == Kind::signaled) return signal_name(value);
  return "exit " + std::to_string(value);
}

}  // namespace treerun
