// A command as the spec gives it: a shell string or an argv. Vocabulary for every layer.
#pragma once

#include <string>
#include <vector>

namespace treerun {

/// A command: a shell string (`/bin/sh -c TEXT`) or an argv looked up in PATH.
struct Command {
  bool shell = false;
  std::vector<std::string> argv;  // shell: {TEXT}; otherwise argv[0] is the program
  /// What a person would type; for messages and `treerun tree`.
  std::string display() const;
};

/// Quotes WORD for a POSIX shell when it needs it, so what `display()` prints can be pasted.
std::string shell_quote(const std::string& word);

}  // namespace treerun
