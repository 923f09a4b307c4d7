#include "base/command.h"

#include <algorithm>
#include <iterator>

namespace treerun {

std::string shell_quote(const std::string& word) {
  if (!word.empty() &&
      word.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.,/:=+@%") ==
          std::string::npos)
    return word;
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string Command::display() const {
  if (shell) return argv.empty() ? std::string() : "sh -c " + shell_quote(argv.front());
  std::string out;
  for (const auto& a : argv) out += (out.empty() ? "" : " ") + shell_quote(a);
  return out;
}

namespace {

/// A byte the shell takes as itself outside quotes, wherever it is in a word. Anything
/// else (operators, `$`, globs, `#`, `~`, braces, `!`, `^`, control bytes) means the
/// shell may do something a split cannot. `=` is handled by the caller: an assignment
/// in the first word, a plain byte after it.
bool plain_byte(unsigned char c) {
  if (c >= 0x80) return true;  // UTF-8: the shell compares bytes, and these are none of its
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-_.,/:@+%").find(char(c)) != std::string_view::npos;
}

/// A byte allowed inside quotes: any but a control byte (a newline, say), tab aside.
bool quotable_byte(unsigned char c) { return c >= 0x20 ? c != 0x7f : c == '\t'; }

/// Words that, as the command, are not a program in PATH: the reserved words, and the
/// builtins of dash (and the usual ones of other shells). Some builtins have a program
/// of the same name that differs (dash's `echo` reads backslash escapes, /bin/echo does
/// not), so they all stay the shell's.
bool shell_word(std::string_view w) {
  static constexpr std::string_view kWords[] = {
      // reserved words (POSIX, then bash and ksh)
      "!", "{", "}", "case", "do", "done", "elif", "else", "esac", "fi", "for", "if", "in", "then",
      "until", "while", "[[", "]]", "function", "select", "time", "coproc",
      // builtins
      ".", ":", "[", "alias", "bg", "break", "builtin", "cd", "chdir", "command", "continue",
      "declare", "echo", "eval", "exec", "exit", "export", "false", "fc", "fg", "getopts", "hash",
      "jobs", "kill", "let", "local", "printf", "pwd", "read", "readonly", "return", "set",
      "shift", "source", "test", "times", "trap", "true", "type", "typeset", "ulimit", "umask",
      "unalias", "unset", "wait"};
  return std::find(std::begin(kWords), std::end(kWords), w) != std::end(kWords);
}

}  // namespace

std::optional<std::vector<std::string>> split_plain_command(std::string_view text) {
  std::vector<std::string> argv;
  std::string word;
  bool in_word = false;  // a word has begun (even an empty one: `''`)
  std::size_t i = 0;
  auto end_word = [&] {
    if (in_word) argv.push_back(std::move(word));
    word.clear();
    in_word = false;
  };
  while (i < text.size()) {
    unsigned char c = text[i];
    if (c == ' ' || c == '\t') {
      end_word();
      ++i;
    } else if (c == '\'') {
      std::size_t close = text.find('\'', i + 1);
      if (close == std::string_view::npos) return std::nullopt;  // the shell's syntax error
      for (std::size_t k = i + 1; k < close; ++k)
        if (!quotable_byte(text[k])) return std::nullopt;
      word.append(text.substr(i + 1, close - i - 1));
      in_word = true;
      i = close + 1;
    } else if (c == '"') {
      // Inside double quotes `$` and backquotes expand; a backslash quotes only $ ` " \.
      ++i;
      for (;; ++i) {
        if (i >= text.size()) return std::nullopt;
        unsigned char d = text[i];
        if (d == '"') break;
        if (d == '$' || d == '`' || !quotable_byte(d)) return std::nullopt;
        if (d == '\\') {
          if (i + 1 >= text.size()) return std::nullopt;
          char e = text[i + 1];
          if (e == '$' || e == '`' || e == '"' || e == '\\') ++i;
          else if (!quotable_byte(e)) return std::nullopt;
        }
        word += text[i];
      }
      in_word = true;
      ++i;
    } else if (c == '\\') {
      // Outside quotes a backslash makes the next byte itself; at the end, or before a
      // newline (a line continuation), the shell does something else.
      if (i + 1 >= text.size() || !quotable_byte(text[i + 1])) return std::nullopt;
      word += text[i + 1];
      in_word = true;
      i += 2;
    } else if (plain_byte(c) || (c == '=' && !argv.empty())) {
      word += char(c);
      in_word = true;
      ++i;
    } else {
      return std::nullopt;
    }
  }
  end_word();
  if (argv.empty() || argv.front().empty() || shell_word(argv.front())) return std::nullopt;
  // A quoted `=` in the first word is no assignment, but it is rare enough to leave to
  // the shell, which reads the raw text the same way.
  if (argv.front().find('=') != std::string::npos) return std::nullopt;
  return argv;
}

Command command_from_string(std::string text) {
  Command c;
  if (auto argv = split_plain_command(text)) {
    c.argv = std::move(*argv);
    return c;
  }
  c.shell = true;
  c.argv = {std::move(text)};
  return c;
}

}  // namespace treerun
