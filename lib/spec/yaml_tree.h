// A YAML document as a compact tree, built from libyaml's parser events.
//
// yaml-cpp's YAML::Load builds a graph of reference-counted nodes, each with its own
// allocations: for a spec of 100 000 nodes that alone took about 2 s and hundreds of
// megabytes, and yaml-cpp's scanner alone was then half the time of `check`. libyaml,
// Debian's standard C parser, scans several times faster; this keeps what the spec
// readers look at (type, text, tag, position, children) in a few flat vectors. It
// answers as YAML::Node does for what they ask (same marks, same tags, an alias is the
// node it names, duplicate keys kept in order), so every diagnostic keeps its words and
// its position: a unit test compares the two parsers node by node. yaml-cpp's header
// types (NodeType, Mark) remain its vocabulary.
#pragma once

#include <yaml-cpp/mark.h>
#include <yaml-cpp/node/type.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace treerun {

class YamlTree;
struct YamlEntry;

/// A node of a YamlTree (or none: null, no position); a cheap handle, valid as long
/// as its tree.
class YamlNode {
 public:
  YamlNode() = default;
  YamlNode(const YamlTree* tree, std::uint32_t index) : tree_(tree), index_(index) {}

  YAML::NodeType::value Type() const;
  bool IsNull() const { return Type() == YAML::NodeType::Null; }
  bool IsScalar() const { return Type() == YAML::NodeType::Scalar; }
  bool IsSequence() const { return Type() == YAML::NodeType::Sequence; }
  bool IsMap() const { return Type() == YAML::NodeType::Map; }
  /// The text of a scalar; "" for anything else.
  const std::string& Scalar() const;
  /// "?" for a plain scalar, "!" for a quoted or block one, the tag when one is written.
  const std::string& Tag() const;
  /// Where the node starts (0-based); YAML::Mark::null_mark() for no node.
  YAML::Mark Mark() const;
  /// Items of a list, pairs of a mapping; 0 otherwise.
  std::size_t size() const;

  /// Over a list: each item (an entry that is the item). Over a mapping: each pair,
  /// as `it->first` and `it->second`, in the order written (duplicates kept).
  class iterator {
   public:
    iterator(const YamlTree* tree, const std::uint32_t* at, bool pairs) : tree_(tree), at_(at), pairs_(pairs) {}
    YamlEntry operator*() const;
    struct Arrow;
    Arrow operator->() const;
    iterator& operator++() {
      at_ += pairs_ ? 2 : 1;
      return *this;
    }
    bool operator==(const iterator& o) const { return at_ == o.at_; }

   private:
    const YamlTree* tree_;
    const std::uint32_t* at_;
    bool pairs_;
  };
  iterator begin() const;
  iterator end() const;

 private:
  const YamlTree* tree_ = nullptr;
  std::uint32_t index_ = 0;
};

/// What iterating yields: for a list, the item itself; for a mapping, a pair.
struct YamlEntry : YamlNode {
  YamlNode first, second;
};

struct YamlNode::iterator::Arrow {
  YamlEntry entry;
  const YamlEntry* operator->() const { return &entry; }
};

/// Bad YAML: where (0-based, as YAML::Mark) and libyaml's words for it, with the
/// context it gives ("... (while parsing a flow sequence that starts at line 1, column 4)").
struct YamlSyntaxError : std::runtime_error {
  YamlSyntaxError(int line_, int column_, const std::string& problem_)
      : std::runtime_error(problem_), line(line_), column(column_), problem(problem_) {}
  int line, column;
  std::string problem;  // libyaml's problem text alone, to pick a hint by
};

/// One parsed document.
class YamlTree {
 public:
  /// The first document of TEXT (a null root when there is none). Throws
  /// YamlSyntaxError on bad YAML, and on an alias of no anchor.
  static std::unique_ptr<YamlTree> parse(std::string_view text);

  YamlNode root() const { return root_; }

 private:
  friend class YamlNode;
  friend class YamlTreeBuilder;
  struct Node {
    std::string scalar;
    int pos = 0, line = 0, column = 0;  // as YAML::Mark's
    std::uint32_t first = 0, count = 0;  // children: kids_[first, first + count)
    std::uint32_t tag = 0;               // into tags_
    YAML::NodeType::value type = YAML::NodeType::Null;
  };
  std::vector<Node> nodes_;
  std::vector<std::uint32_t> kids_;     // a mapping's are key, value, key, value ...
  std::vector<std::string> tags_{""};  // each distinct once: "", "?", "!", ...
  YamlNode root_;
};

}  // namespace treerun
