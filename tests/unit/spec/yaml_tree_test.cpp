// YamlTree (spec/yaml_tree.h) answers as yaml-cpp's YAML::Load would: every spec
// diagnostic's words and position depend on it. Compared node by node with YAML::Load.
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
void same(const YamlNode& a, const YAML::Node& b, int depth = 40) {
  REQUIRE(a.Type() == b.Type());
  CHECK(a.Scalar() == b.Scalar());
  CHECK(a.Tag() == b.Tag());
  CHECK(a.Mark().line == b.Mark().line);
  CHECK(a.Mark().column == b.Mark().column);
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
       })
    same_as_load(text);
}

TEST_CASE("yaml tree: bad YAML throws what YAML::Load throws, at the same mark", "[spec][yaml_tree]") {
  for (const char* text : {"a: [1, 2\n", "a: b: c\n", "x: *nope\n", "\t- a\n", "{a: 1\n"}) {
    INFO(text);
    int tree_line = -2, load_line = -3;
    std::string tree_msg, load_msg;
    try {
      YamlTree::parse(text);
    } catch (const YAML::Exception& e) {
      tree_line = e.mark.line, tree_msg = e.msg;
    }
    try {
      YAML::Load(text);
    } catch (const YAML::Exception& e) {
      load_line = e.mark.line, load_msg = e.msg;
    }
    CHECK(tree_line == load_line);
    CHECK(tree_msg == load_msg);
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
