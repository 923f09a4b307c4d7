#include <catch.hpp>

#include "spec/yaml_guard.h"

using namespace treerun;

TEST_CASE("depth scan: ordinary specs pass", "[yaml_guard]") {
  CHECK_FALSE(check_yaml_depth("a: [1, {b: [2, 3]}]\nc:\n  - d: e\n    f: |\n      [[[[[[\n", "x", 5));
  CHECK_FALSE(check_yaml_depth("a: \"[[[[[[[[\"\nb: '{{{{{{{'\nc: echo [[[[[[[[ # [[[[[\n", "x", 3));
}

TEST_CASE("depth scan: flow, block and dash nesting past the cap", "[yaml_guard]") {
  auto flow = check_yaml_depth("a: [[[[[[]]]]]]", "x", 4);
  REQUIRE(flow);
  CHECK(flow->str() == "x:1:7: the spec nests deeper than 4 levels");
  CHECK(check_yaml_depth("- - - - - - x", "x", 4));
  CHECK(check_yaml_depth("a:\n b:\n  c:\n   d:\n    e:\n     f: 1\n", "x", 4));
  CHECK_FALSE(check_yaml_depth("a:\n b:\n  c: 1\nd:\n e: 1\n", "x", 4));
  // A multi-line quoted scalar hides brackets until it closes.
  CHECK_FALSE(check_yaml_depth("a: \"[[[[[[\n  [[[[[[\"\nb: 1\n", "x", 4));
}
