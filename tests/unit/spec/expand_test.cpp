#include <catch.hpp>

#include <map>

#include "spec/expand.h"

using namespace treerun;

namespace {

const std::map<std::string, std::string, std::less<>> kEnv = {{"HOME", "/home/u"}, {"EMPTY", ""}, {"PORT", "8080"}};

std::optional<std::string> lookup(std::string_view name) {
  auto it = kEnv.find(name);
  return it == kEnv.end() ? std::nullopt : std::optional(it->second);
}

Expansion expand(std::string_view text) { return expand_variables(text, lookup); }

/// The one problem of expanding TEXT: its offset and message.
std::pair<std::size_t, std::string> only_problem(std::string_view text) {
  Expansion e = expand(text);
  REQUIRE(e.problems.size() == 1);
  return {e.problems[0].offset, e.problems[0].message};
}

}  // namespace

TEST_CASE("variables: ${VAR} and a text without references", "[expand]") {
  CHECK(expand("${HOME}/src").text == "/home/u/src");
  CHECK(expand("a${PORT}b${PORT}").text == "a8080b8080");
  CHECK(expand("${EMPTY}").text == "");
  CHECK(expand("plain $HOME, $$ and $").text == "plain $HOME, $$ and $");
  CHECK(expand("").problems.empty());
}

TEST_CASE("variables: defaults for unset or empty, :? messages", "[expand]") {
  CHECK(expand("${NOPE:-9000}").text == "9000");
  CHECK(expand("${EMPTY:-x}").text == "x");
  CHECK(expand("${PORT:-9000}").text == "8080");
  CHECK(expand("${NOPE:-}").text == "");
  CHECK(expand("${NOPE:-${HOME}/x}").text == "/home/u/x");  // nested
  CHECK(expand("${PORT:-${NOPE}}").problems.empty());        // an unused default is not looked at
  CHECK(expand("${PORT:?set PORT}").text == "8080");
  CHECK(only_problem("at ${NOPE:?set NOPE to a port}") ==
        std::pair<std::size_t, std::string>{3, "set NOPE to a port (`NOPE` is not set)"});
  CHECK(only_problem("${EMPTY:?}").second == "`EMPTY` is empty");
}

TEST_CASE("variables: $${ is a literal ${", "[expand]") {
  CHECK(expand("$${HOME}").text == "${HOME}");
  CHECK(expand("$$${HOME}").text == "$${HOME}");  // read from the left: `$`, then `$${`
  CHECK(expand("${NOPE:-$${x}}").text == "${x}");
  CHECK(expand("${NOPE:-a}b}").text == "ab}");
}

TEST_CASE("variables: an unset variable is a problem at its `$`", "[expand]") {
  auto [offset, message] = only_problem("run ${NOPE} now");
  CHECK(offset == 4);
  CHECK(message.find("`NOPE` is not set") != std::string::npos);
  CHECK(message.find("${NOPE:-default}") != std::string::npos);
  Expansion e = expand("${A} ${HOME} ${B}");
  REQUIRE(e.problems.size() == 2);  // every one, not only the first
  CHECK(e.problems[1].offset == 13);
  CHECK(e.text == " /home/u ");
}

TEST_CASE("variables: malformed references", "[expand]") {
  CHECK(only_problem("x ${HOME").first == 2);
  CHECK(only_problem("x ${HOME").second.find("without its `}`") != std::string::npos);
  CHECK(only_problem("${}").second.find("bad variable reference") != std::string::npos);
  CHECK(only_problem("${1X}").second.find("not first a digit") != std::string::npos);
  CHECK(only_problem("${A B}").second.find("after the name comes") != std::string::npos);
  CHECK(only_problem("${HOME:+x}").second.find("after the name comes") != std::string::npos);
  CHECK(only_problem("${host:}").second.find("name a node") != std::string::npos);
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "${N:-";
  deep += "x" + std::string(40, '}');
  CHECK(only_problem(deep).second.find("nest deeper") != std::string::npos);
}

TEST_CASE("variables: ${host:PATH} is localhost, and the path is kept to check", "[expand]") {
  Expansion e = expand("redis://${host:db}:6379 ${host:/g/api}");
  CHECK(e.text == "redis://localhost:6379 localhost");
  REQUIRE(e.hosts.size() == 2);
  CHECK(e.hosts[0].path == "db");
  CHECK(e.hosts[0].offset == 8);
  CHECK(e.hosts[1].path == "/g/api");
  CHECK(expand("${host:-h}").text == "h");  // a variable named host, with a default
}
