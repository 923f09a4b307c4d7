// YamlTree (spec/yaml_tree.h, read with libyaml) answers as yaml-cpp's YAML::Load
// would: every spec diagnostic's words and position depend on it. Two independent
// parsers compared node by node.
#include <yaml-cpp/yaml.h>

#include <catch.hpp>
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
