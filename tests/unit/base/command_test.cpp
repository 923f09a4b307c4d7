// A string `cmd`: plain words run directly, split as the shell splits them; anything
// else stays `/bin/sh -c` (interface.md 3, `cmd`; issue 14, item 3).
#include <stdio.h>
#include <sys/wait.h>

#include <catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/command.h"

using namespace treerun;
using Argv = std::vector<std::string>;

namespace {

/// How /bin/sh itself splits TEXT into words: `set -- TEXT`, then each word with a NUL.
/// (Only for TEXT the splitter accepts: no expansion can happen in it.)
Argv shell_split(const std::string& text) {
  std::string script = "set -- " + text + "; for w in \"$@\"; do printf '%s\\0' \"$w\"; done";
  std::string quoted = "'";
  for (char c : script) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  quoted += "'";
  FILE* f = ::popen(("/bin/sh -c " + quoted).c_str(), "r");
  REQUIRE(f != nullptr);
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = ::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
  REQUIRE(WEXITSTATUS(::pclose(f)) == 0);
  Argv words;
  for (std::size_t start = 0, end; (end = out.find('\0', start)) != std::string::npos; start = end + 1)
    words.push_back(out.substr(start, end - start));
  return words;
}

}  // namespace

TEST_CASE("plain words are split as the shell splits them", "[command]") {
  const std::vector<std::pair<std::string, Argv>> cases = {
      {"yes", {"yes"}},
      {"head -n 1", {"head", "-n", "1"}},
      {"  sleep \t 10  ", {"sleep", "10"}},
      {"grep 'a b' \"c d\"", {"grep", "a b", "c d"}},
      {"grep 'a|b;c&d>e<f(g)$h`i`*?[]#~{}!'", {"grep", "a|b;c&d>e<f(g)$h`i`*?[]#~{}!"}},
      {"awk '{print $1}'", {"awk", "{print $1}"}},
      {"ls a\\ b c\\|d", {"ls", "a b", "c|d"}},
      {"x '' \"\"", {"x", "", ""}},
      {"x a''b \"c\"'d'e", {"x", "ab", "cde"}},
      {"x \"a\\\"b\" \"a\\\\b\" \"a\\b\" \"it's\"", {"x", "a\"b", "a\\b", "a\\b", "it's"}},
      {"redis-server --port=6390 --save ''", {"redis-server", "--port=6390", "--save", ""}},
      {"date +%s", {"date", "+%s"}},
      {"/usr/bin/env -i a=b prog", {"/usr/bin/env", "-i", "a=b", "prog"}},
      {"grep café x,y:z@w", {"grep", "café", "x,y:z@w"}},
  };
  for (const auto& [text, argv] : cases) {
    INFO(text);
    auto got = split_plain_command(text);
    REQUIRE(got.has_value());
    CHECK(*got == argv);
    CHECK(shell_split(text) == argv);  // what dash makes of the same words
  }
}

TEST_CASE("anything a split cannot reproduce exactly stays the shell's", "[command]") {
  for (const char* text : {
           // operators, redirections, subshells, groups
           "yes | cat", "a && b", "a || b", "a; b", "a &", "a > f", "a >> f", "a < f", "a 2>&1",
           "(a)", "{ a; }", "a\nb", "a \\\nb",
           // expansions, globs, comments, tildes, braces
           "echo $HOME", "x \"$HOME\"", "x ${A}", "x `y`", "x \"`y`\"", "x $(y)", "ls *.c", "ls ?",
           "ls [ab]", "ls a]", "a # c", "a#b", "cd ~", "ls ~/x", "ls {a,b}", "a^b", "a\rb", "a\x01",
           // assignments, keywords, builtins
           "FOO=1 env", "=x", "'a=b' c", "if true; then a; fi", "! a", "time a", "while x", "exec a",
           "cd /tmp", "exit 3", "true", "echo hi", "printf x", "kill -TERM 1", "test -f x", ". ./env",
           ": x", "[ -f x ]", "set -e", "export A", "wait", "ulimit -n",
           // quotes left open, a backslash at the end, nothing to run
           "a 'open", "a \"open", "a \\", "''", "'' x", "   ", ""}) {
    INFO(text);
    CHECK_FALSE(split_plain_command(text).has_value());
  }
}

TEST_CASE("a string command runs directly when it is plain, else by the shell", "[command]") {
  Command direct = command_from_string("yes");
  CHECK_FALSE(direct.shell);
  CHECK(direct.argv == Argv{"yes"});
  CHECK(direct.display() == "yes");
  Command shell = command_from_string("yes | cat");
  CHECK(shell.shell);
  CHECK(shell.argv == Argv{"yes | cat"});
  // What runs, and what can be pasted into a shell to run the same.
  CHECK(shell.display() == "sh -c 'yes | cat'");
  CHECK(command_from_string("x \"a'b\" | y").display() == "sh -c 'x \"a'\\''b\" | y'");
  CHECK(command_from_string("grep 'a b' c").display() == "grep 'a b' c");
}
