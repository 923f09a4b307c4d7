#include "spec/yaml_tree.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <istream>
#include <streambuf>
#include <unordered_map>

namespace treerun {

YAML::NodeType::value YamlNode::Type() const {
  return tree_ ? tree_->nodes_[index_].type : YAML::NodeType::Null;
}

const std::string& YamlNode::Scalar() const {
  static const std::string none;
  return tree_ ? tree_->nodes_[index_].scalar : none;
}

const std::string& YamlNode::Tag() const {
  static const std::string none;
  return tree_ ? tree_->tags_[tree_->nodes_[index_].tag] : none;
}

YAML::Mark YamlNode::Mark() const {
  if (!tree_) return YAML::Mark::null_mark();
  const YamlTree::Node& n = tree_->nodes_[index_];
  YAML::Mark m;
  m.line = n.line;
  m.column = n.column;
  m.pos = n.pos;
  return m;
}

std::size_t YamlNode::size() const {
  if (!tree_) return 0;
  const YamlTree::Node& n = tree_->nodes_[index_];
  return n.type == YAML::NodeType::Map ? n.count / 2 : n.count;
}

YamlNode::iterator YamlNode::begin() const {
  if (!tree_) return {nullptr, nullptr, false};
  const YamlTree::Node& n = tree_->nodes_[index_];
  return {tree_, tree_->kids_.data() + n.first, n.type == YAML::NodeType::Map};
}

YamlNode::iterator YamlNode::end() const {
  if (!tree_) return {nullptr, nullptr, false};
  const YamlTree::Node& n = tree_->nodes_[index_];
  return {tree_, tree_->kids_.data() + n.first + n.count, n.type == YAML::NodeType::Map};
}

YamlEntry YamlNode::iterator::operator*() const {
  YamlEntry e;
  if (pairs_) {
    e.first = {tree_, at_[0]};
    e.second = {tree_, at_[1]};
  } else {
    static_cast<YamlNode&>(e) = {tree_, at_[0]};
  }
  return e;
}

YamlNode::iterator::Arrow YamlNode::iterator::operator->() const { return {**this}; }

/// yaml-cpp's events into a YamlTree, as its NodeBuilder makes YAML::Nodes of them: a
/// node takes the event's mark and tag, an alias is the anchored node itself.
class YamlTreeBuilder : public YAML::EventHandler {
 public:
  explicit YamlTreeBuilder(YamlTree& tree) : t_(tree) {}

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    done(open(mark, anchor, YAML::NodeType::Null, {}));
  }
  void OnAlias(const YAML::Mark&, YAML::anchor_t anchor) override { done(anchors_.at(anchor)); }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    std::uint32_t i = open(mark, anchor, YAML::NodeType::Scalar, tag);
    t_.nodes_[i].scalar = value;
    done(i);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    start(open(mark, anchor, YAML::NodeType::Sequence, tag));
  }
  void OnSequenceEnd() override { finish(); }
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    start(open(mark, anchor, YAML::NodeType::Map, tag));
  }
  void OnMapEnd() override { finish(); }

 private:
  std::uint32_t open(const YAML::Mark& mark, YAML::anchor_t anchor, YAML::NodeType::value type,
                     const std::string& tag) {
    auto i = static_cast<std::uint32_t>(t_.nodes_.size());
    YamlTree::Node& n = t_.nodes_.emplace_back();
    n.pos = mark.pos;
    n.line = mark.line;
    n.column = mark.column;
    n.type = type;
    if (!tag.empty()) n.tag = intern(tag);
    if (anchor) {  // yaml-cpp numbers anchors from 1, in order
      if (anchors_.size() <= anchor) anchors_.resize(anchor + 1);
      anchors_[anchor] = i;
    }
    return i;
  }

  std::uint32_t intern(const std::string& tag) {
    if (t_.tags_[last_tag_] == tag) return last_tag_;  // "?" after "?": most of them
    auto [it, fresh] = tags_.try_emplace(tag, static_cast<std::uint32_t>(t_.tags_.size()));
    if (fresh) t_.tags_.push_back(tag);
    return last_tag_ = it->second;
  }

  /// A collection opens: its children gather on PENDING_ until it ends.
  void start(std::uint32_t i) { open_.push_back({i, pending_.size()}); }

  void finish() {
    auto [i, from] = open_.back();
    open_.pop_back();
    YamlTree::Node& n = t_.nodes_[i];
    n.first = static_cast<std::uint32_t>(t_.kids_.size());
    n.count = static_cast<std::uint32_t>(pending_.size() - from);
    t_.kids_.insert(t_.kids_.end(), pending_.begin() + std::ptrdiff_t(from), pending_.end());
    pending_.resize(from);
    done(i);
  }

  /// Node I is complete: a child of the open collection, or the root.
  void done(std::uint32_t i) {
    if (open_.empty()) t_.root_ = {&t_, i};
    else pending_.push_back(i);
  }

  YamlTree& t_;
  std::vector<std::uint32_t> anchors_;
  std::unordered_map<std::string, std::uint32_t> tags_;
  std::uint32_t last_tag_ = 0;
  std::vector<std::pair<std::uint32_t, std::size_t>> open_;  // collection, where its children start
  std::vector<std::uint32_t> pending_;
};

namespace {

/// TEXT as an istream, without a copy.
class ViewBuf : public std::streambuf {
 public:
  explicit ViewBuf(std::string_view text) {
    char* p = const_cast<char*>(text.data());
    setg(p, p, p + text.size());
  }
};

}  // namespace

std::unique_ptr<YamlTree> YamlTree::parse(std::string_view text) {
  auto tree = std::make_unique<YamlTree>();
  tree->nodes_.reserve(text.size() / 8);  // about one node for each 8 bytes of a spec
  ViewBuf buf(text);
  std::istream in(&buf);
  YAML::Parser parser(in);
  YamlTreeBuilder builder(*tree);
  parser.HandleNextDocument(builder);  // the first document only, as YAML::Load
  return tree;
}

}  // namespace treerun
