#include <catch.hpp>

#include "io/ansi.h"

using treerun::has_escapes;
using treerun::strip_escapes;

TEST_CASE("strip_escapes removes colours and keeps the text", "[ansi]") {
  CHECK(strip_escapes("\x1b[31mred\x1b[0m plain") == "red plain");
  CHECK(strip_escapes("\x1b[1;38;5;208mbold orange\x1b[m") == "bold orange");
  CHECK(strip_escapes("no escapes here") == "no escapes here");
  CHECK(strip_escapes("") == "");
}

TEST_CASE("strip_escapes removes cursor moves, titles and charset switches", "[ansi]") {
  CHECK(strip_escapes("a\x1b[2Kb\x1b[10;20Hc") == "abc");
  CHECK(strip_escapes("\x1b]0;window title\x07" "after") == "after");
  CHECK(strip_escapes("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\") == "link");
  CHECK(strip_escapes("\x1b(Bascii\x1b=") == "ascii");
  CHECK(strip_escapes("\x1bPdcs string\x1b\\rest") == "rest");
}

TEST_CASE("strip_escapes drops a sequence cut off by the end of the line", "[ansi]") {
  CHECK(strip_escapes("text\x1b[31") == "text");
  CHECK(strip_escapes("text\x1b") == "text");
  CHECK(strip_escapes("text\x1b]0;no end") == "text");
}

TEST_CASE("strip_escapes keeps UTF-8 and other control characters", "[ansi]") {
  CHECK(strip_escapes("h\xc3\xa9llo \x1b[32m\xe2\x9c\x93\x1b[0m\ttab") == "h\xc3\xa9llo \xe2\x9c\x93\ttab");
  CHECK(has_escapes("a\x1b[0m"));
  CHECK_FALSE(has_escapes("plain\ttext"));
}

TEST_CASE("keep_colours keeps colours only, and resets them at the end of the line", "[ansi]") {
  using treerun::keep_colours;
  CHECK(keep_colours("\x1b[31mred\x1b[0m plain") == "\x1b[31mred\x1b[0m plain\x1b[0m");
  CHECK(keep_colours("\x1b[2J\x1b[Hcleared \x1b]0;title\x07" "x") == "cleared x");
  CHECK(keep_colours("\x1b]52;c;Y2xpcA==\x07paste") == "paste");
  CHECK(keep_colours("\x1b[1mbold, never reset") == "\x1b[1mbold, never reset\x1b[0m");
  CHECK(keep_colours("no escapes") == "no escapes");
}

TEST_CASE("a line made only of escapes strips to nothing", "[ansi]") {
  CHECK(strip_escapes("\x1b[0m") == "");
  CHECK(strip_escapes("\x1b[2K\x1b[1G") == "");
}
