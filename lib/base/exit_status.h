// A process's end, typed: exited with a code, or killed by a signal.
#pragma once

#include <string>

namespace treerun {

struct ExitStatus {
  enum class Kind { exited, signaled };
  Kind kind = Kind::exited;
  int value = 0;  // the exit code, or the signal number

  static ExitStatus from_wait(int wstatus);
  static ExitStatus exited(int code) { return {Kind::exited, code}; }
  static ExitStatus signaled(int sig) { return {Kind::signaled, sig}; }

  bool success() const { return kind == Kind::exited && value == 0; }
  bool by_signal(int sig) const { return kind == Kind::signaled && value == sig; }
  /// The shell's view: the code, or 128 + the signal.
  int shell_code() const { return kind == Kind::exited ? value : 128 + value; }
  /// "exit 3", "SIGKILL".
  std::string describe() const;
};

}  // namespace treerun
