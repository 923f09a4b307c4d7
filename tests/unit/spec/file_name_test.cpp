// FileName: a spec file's name, kept once however many positions carry it.
#include <catch.hpp>
#include <sstream>
#include <string>
#include <tuple>

#include "spec/settings.h"

using namespace treerun;

TEST_CASE("file name: the same name is one copy, however it is made", "[spec][position]") {
  std::string long_name = "/tmp/treerun-bench-abcdefgh/scale1000.yaml";  // past a string's inline buffer
  FileName a(long_name), b{std::string_view(long_name)}, c(long_name.c_str());
  CHECK(&a.str() == &b.str());
  CHECK(&a.str() == &c.str());
  CHECK(a == b);
  CHECK(a == long_name);
  CHECK(a == "/tmp/treerun-bench-abcdefgh/scale1000.yaml");
  SourcePos p{long_name, 3, 7};
  SourcePos q = p;  // a copy shares the name
  CHECK(&q.file.str() == &a.str());
}

TEST_CASE("file name: names compare and print as the strings they are", "[spec][position]") {
  FileName a("a.yaml"), b("b.yaml"), none;
  CHECK(none.empty());
  CHECK(none == FileName(""));
  CHECK(none.str().empty());
  CHECK_FALSE(a == b);
  CHECK(a < b);
  int late = 9, early = 1;  // as diagnostics sort: by file, then line
  CHECK(std::tie(a, late) < std::tie(b, early));
  CHECK(a + ":3" == "a.yaml:3");
  std::ostringstream out;
  out << b;
  CHECK(out.str() == "b.yaml");
  const std::string& as_string = a;
  CHECK(as_string == "a.yaml");
}
