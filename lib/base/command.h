// A command as the spec gives it: a shell string or an argv. Vocabulary for every layer.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace treerun {

/// A command: a shell string (`/bin/sh -c TEXT`) or an argv looked up in PATH.
struct Command {
  bool shell = false;
  std::vector<std::string> argv;  // shell: {TEXT}; otherwise argv[0] is the program
  /// What a person would type, and what runs: `yes`, or `sh -c 'yes | cat'` for a
  /// shell string. For messages and `treerun tree`; it can be pasted into a shell.
  std::string display() const;
};

/// Quotes WORD for a POSIX shell when it needs it, so what `display()` prints can be pasted.
std::string shell_quote(const std::string& word);

/// The argv that `/bin/sh -c TEXT` would run, when TEXT is one simple command of plain
/// words, split as the shell splits them (single and double quotes and backslashes
/// honoured): then running the argv directly is exactly what the shell would do, minus
/// the shell. Empty when the shell could do anything else: any operator, redirection,
/// expansion, glob, comment, tilde, brace, newline or control character, an assignment
/// or `=` in the first word, a reserved word or a shell builtin as the command, or a
/// quote left open. Conservative on purpose: what it refuses still runs, by the shell.
std::optional<std::vector<std::string>> split_plain_command(std::string_view text);

/// A string `cmd:`: the argv of split_plain_command() when it has one, else the shell.
Command command_from_string(std::string text);

}  // namespace treerun
