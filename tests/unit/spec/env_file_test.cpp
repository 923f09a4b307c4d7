#include <catch.hpp>

#include "spec/env_file.h"

using namespace treerun;

TEST_CASE("env files: comments, export, quotes, last value wins", "[env_file]") {
  Diagnostics d;
  auto env = parse_env_text("# c\n\nA=1\nexport B = two words \nC=\"q\"\nD='s'\nE=\nA=again\nF=a=b\r\n", "x.env", d);
  CHECK(d.empty());
  CHECK((env == EnvList{{"A", "again"}, {"B", "two words"}, {"C", "q"}, {"D", "s"}, {"E", ""}, {"F", "a=b"}}));
}

TEST_CASE("env files: a UTF-8 byte-order mark is not part of the first key", "[env_file]") {
  Diagnostics d;
  auto env = parse_env_text("\xEF\xBB\xBF" "A=1\nB=2\n", "x.env", d);
  CHECK(d.empty());
  CHECK((env == EnvList{{"A", "1"}, {"B", "2"}}));
  parse_env_text("\xEF\xBB\xBF" "1A=1\n", "x.env", d);  // still a bad name, at column 1
  REQUIRE(d.size() == 1);
  CHECK(d.sorted()[0].str() == "x.env:1:1: bad variable name `1A`");
}

TEST_CASE("env files: malformed lines point at FILE:LINE:COL", "[env_file]") {
  Diagnostics d;
  parse_env_text("OK=1\nnot a pair\n   =x\n1A=2\n", "dir/x.env", d);
  auto all = d.sorted();
  REQUIRE(all.size() == 3);
  CHECK(all[0].str() == "dir/x.env:2:1: expected KEY=VALUE");
  CHECK(all[1].str() == "dir/x.env:3:4: bad variable name ``");
  CHECK(all[2].str() == "dir/x.env:4:1: bad variable name `1A`");
}

TEST_CASE("env_merge keeps the first position and the last value", "[env_file]") {
  EnvList env{{"A", "1"}, {"B", "2"}};
  env_merge(env, {{"B", "3"}, {"C", "4"}, {"A", "5"}});
  CHECK((env == EnvList{{"A", "5"}, {"B", "3"}, {"C", "4"}}));
}
