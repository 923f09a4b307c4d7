// YamlTree (spec/yaml_tree.h, read with libyaml) answers as yaml-cpp's YAML::Load
// would: every spec diagnostic's words and position depend on it. Two independent
// parsers compared node by node.
#include <yaml-cpp/yaml.h>

#include <catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "spec/yaml_tree.h"

using namespace treerun;

namespace {

/// Whether A (YamlTree) and B (yaml-cpp) agree on type, text, tag, position and
/// children, down to DEPTH levels (an alias may contain itself).
/// The one difference: an empty value (a null) is where its `:` ends for libyaml, at
/// the next token for yaml-cpp; the test below pins ours.
void same(const YamlNode& a, const YAML::Node& b, int depth = 40) {
  REQUIRE(a.Type() == b.Type());
  CHECK(a.Scalar() == b.Scalar());
  CHECK(a.Tag() == b.Tag());
  if (!a.IsNull()) {
    CHECK(a.Mark().line == b.Mark().line);
    CHECK(a.Mark().column == b.Mark().column);
  }
  CHECK(a.Mark().is_null() == b.Mark().is_null());
  REQUIRE(a.size() == b.size());
  if (depth == 0) return;
  auto ia = a.begin();
  for (auto ib = b.begin(); ib != b.end(); ++ib, ++ia) {
    if (a.IsMap()) {
      same(ia->first, ib->first, depth - 1);
      same(ia->second, ib->second, depth - 1);
    } else {
      same(*ia, *ib, depth - 1);
    }
  }
  CHECK(ia == a.end());
}

void same_as_load(const std::string& text) {
  INFO(text);
  auto tree = YamlTree::parse(text);
  same(tree->root(), YAML::Load(text));
}

}  // namespace

TEST_CASE("yaml tree: scalars, lists, mappings, tags and positions as YAML::Load", "[spec][yaml_tree]") {
  for (const char* text : {
           "", "# only a comment\n", "---\n", "a\n", "~\n", "[a, 'b', \"c\", ~, null, !tag d]\n",
           "name: x\nchildren:\n  - {name: a, cmd: [sleep, \"1\"]}\n  - name: b\n    cmd: |\n      echo hi\n",
           "a: 1\na: 2\n",                                   // duplicates kept, in order
           "a:\nb: \n? c\n",                                 // empty values: nulls with marks
           "x: &x {k: v}\ny: *x\nz: {<<: *x, k: w}\n",      // anchors, aliases, merge keys
           "s: &s [1, *s]\n",                                // an alias of what contains it
           "a: &a 1\nb: &a 2\nc: *a\n",                      // an anchor named again
           "k: !!str 1\nl: !custom [1]\nm: >\n  folded\n",  // tags
           "first\n---\nsecond\n",                           // the first document only
           "a: [\xc3\xa9t\xc3\xa9, x]\nb: \"\\u00e9\"\n",           // columns past non-ASCII text
           "{a: \xc3\xa9, b: [\xc3\xa9, \xc3\xa9\xc3\xa9, x], c: \xc3\xbc}\n",  // many on one line
       })
    same_as_load(text);
}

TEST_CASE("yaml tree: an empty value is where its `:` ends", "[spec][yaml_tree]") {
  auto tree = YamlTree::parse("a:\nb: \nc: ~\n");
  std::vector<std::pair<int, int>> at;
  for (const auto& kv : tree->root()) {
    CHECK(kv.second.IsNull());
    at.emplace_back(kv.second.Mark().line, kv.second.Mark().column);
  }
  CHECK(at == std::vector<std::pair<int, int>>{{0, 2}, {1, 2}, {2, 3}});
}

TEST_CASE("yaml tree: bad YAML throws, where libyaml stopped, as YAML::Load does", "[spec][yaml_tree]") {
  struct Bad {
    const char* text;
    int line, column;  // 0-based
    const char* message;
  };
  for (const Bad& bad : {
           Bad{"a: [1, 2\n", 1, 0, "did not find expected ',' or ']' (while parsing a flow sequence that starts at line 1, column 4)"},
           Bad{"a: b: c\n", 0, 4, "mapping values are not allowed in this context"},
           Bad{"\xc3\xa9: b: c\n", 0, 5, "mapping values are not allowed in this context"},  // bytes
           Bad{"\xc3\xa9: [b\n", 1, 0, "did not find expected ',' or ']' (while parsing a flow sequence that starts at line 1, column 5)"},
           Bad{"x: *nope\n", 0, 3, "the alias `*nope` names no anchor before it"},
           Bad{"\t- a\n", 0, 0, "found character that cannot start any token"},
           Bad{"{a: 1\n", 1, 0, "did not find expected ',' or '}' (while parsing a flow mapping that starts at line 1, column 1)"},
           Bad{"a: \"\xc3\x28\"\n", 0, 5, "invalid trailing UTF-8 octet (0x28; a spec is UTF-8 text)"},
       }) {
    INFO(bad.text);
    bool threw = false;
    try {
      YamlTree::parse(bad.text);
    } catch (const YamlSyntaxError& e) {
      threw = true;
      CHECK(e.line == bad.line);
      CHECK(e.column == bad.column);
      CHECK(std::string(e.what()) == bad.message);
    }
    CHECK(threw);
    if (std::string(bad.text).find('\xc3') == std::string::npos)  // yaml-cpp takes any byte
      CHECK_THROWS_AS(YAML::Load(bad.text), YAML::Exception);
  }
}

TEST_CASE("yaml tree: a byte order mark is in no column", "[spec][yaml_tree]") {
  for (const char* text : {"a: [x, y]\n", "\xc3\xa9: [x, y]\n"}) {
    INFO(text);
    auto plain = YamlTree::parse(text);
    auto marked = YamlTree::parse("\xEF\xBB\xBF" + std::string(text));
    same(marked->root(), YAML::Load(text));
    CHECK(marked->root().begin()->second.Mark().column == plain->root().begin()->second.Mark().column);
  }
  try {
    YamlTree::parse("\xEF\xBB\xBF" "a: \"\xc3\x28\"\n");
    FAIL("not refused");
  } catch (const YamlSyntaxError& e) {
    CHECK(e.column == 5);
  }
}

TEST_CASE("yaml tree: a long line past non-ASCII text is walked once", "[spec][yaml_tree][hostile]") {
  // A one-line spec (JSON from a program) with one `é`: each node's column was found by
  // walking the line from its start, hours for a line of a few MiB.
  std::string text = "{a: \xc3\xa9, b: [";
  for (int i = 0; i < 200'000; ++i) text += "1,";
  text += "1], c: last}\n";
  auto start = std::chrono::steady_clock::now();
  auto tree = YamlTree::parse(text);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));  // was minutes
  YamlNode last;
  for (const auto& kv : tree->root()) last = kv.second;
  CHECK(last.Scalar() == "last");
  CHECK(std::size_t(last.Mark().column) == text.size() - std::string("last}\n").size());
}

TEST_CASE("yaml tree: a line break other than LF (CRLF) is refused where it is", "[spec][yaml_tree]") {
  struct Bad {
    std::string text;
    int line, column;  // 0-based, in bytes
    const char* what;
  };
  for (const Bad& bad : {
           Bad{"a: 1\rb: 2\n", 0, 4, "a carriage return without a line feed"},
           Bad{"a: 1\nb: \"x\xC2\x85y\"\n", 1, 5, "U+0085 (NEXT LINE)"},
           Bad{"# note\xE2\x80\xA8" "bogus: 1\n", 0, 6, "U+2028 (LINE SEPARATOR)"},
           Bad{"\xc3\xa9: \xE2\x80\xA9\n", 0, 4, "U+2029 (PARAGRAPH SEPARATOR)"},
       }) {
    INFO(bad.text);
    try {
      YamlTree::parse(bad.text);
      FAIL("not refused");
    } catch (const YamlSyntaxError& e) {
      CHECK(e.line == bad.line);
      CHECK(e.column == bad.column);
      CHECK(std::string(e.what()).starts_with(bad.what));
    }
  }
  // Windows line ends are line ends.
  same_as_load("a: 1\r\nb: [\xc3\xa9, x]\r\n");
}

TEST_CASE("yaml tree: every spec of the fuzz corpus and the examples as YAML::Load", "[spec][yaml_tree][fuzz]") {
  namespace fs = std::filesystem;
  int files = 0;
  for (const char* sub : {"tests/fuzz/corpus", "configs"}) {
    fs::path dir = fs::path(TREERUN_SOURCE_DIR) / sub;
    if (!fs::is_directory(dir)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (!entry.is_regular_file() || entry.path().extension() != ".yaml") continue;
      std::ifstream in(entry.path());
      std::stringstream text;
      text << in.rdbuf();
      INFO(entry.path());
      same_as_load(text.str());
      ++files;
    }
  }
  CHECK(files >= 10);
}
