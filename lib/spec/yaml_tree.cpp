#include "spec/yaml_tree.h"

#include <yaml.h>

#include <algorithm>
#include <cstdio>
#include <unordered_map>

#include "spec/file_read.h"

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

namespace {

/// libyaml counts a mark's column in characters; yaml-cpp, and RawText::at()'s offsets
/// into a value, in bytes. Only a text with bytes past ASCII tells them apart. Marks
/// come mostly in order, so a conversion goes on from the last one: a long line (a
/// one-line JSON spec) is walked once, not once per node on it.
class ByteColumns {
 public:
  explicit ByteColumns(std::string_view text) : text_(text) {
    bool ascii = std::all_of(text.begin(), text.end(), [](char c) { return (c & 0x80) == 0; });
    if (ascii) return;
    starts_.push_back(text.starts_with(kUtf8Bom) ? kUtf8Bom.size() : 0);
    for (std::size_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n') starts_.push_back(i + 1);
    at_ = starts_[0];
  }

  /// The byte column of the COLUMN-th character of line LINE (0-based both).
  int operator()(std::size_t line, std::size_t column) const {
    if (starts_.empty() || line >= starts_.size()) return int(column);
    if (line != line_ || column < column_) {
      line_ = line;
      column_ = 0;
      at_ = starts_[line];
    }
    for (; column_ < column && at_ < text_.size() && text_[at_] != '\n'; ++column_) {
      ++at_;
      while (at_ < text_.size() && (text_[at_] & 0xC0) == 0x80) ++at_;  // continuation bytes
    }
    return int(at_ - starts_[line]);
  }

 private:
  std::string_view text_;
  std::vector<std::size_t> starts_;  // where each line starts; none for ASCII text
  mutable std::size_t line_ = 0, column_ = 0, at_ = 0;  // the last conversion: line, character, byte
};

}  // namespace

/// libyaml's events into a YamlTree, as yaml-cpp's NodeBuilder makes YAML::Nodes of
/// them: a node takes the event's mark and tag, a plain `~`/`null`/empty scalar with no
/// tag is null, an alias is the anchored node itself (the last one of its name so far).
class YamlTreeBuilder {
 public:
  YamlTreeBuilder(YamlTree& tree, const ByteColumns& columns) : t_(tree), columns_(columns) {}

  /// Takes one event; false once the first document is complete.
  bool take(const yaml_event_t& e) {
    switch (e.type) {
      case YAML_SCALAR_EVENT: scalar(e); return true;
      case YAML_SEQUENCE_START_EVENT:
        start(open(e.start_mark, e.data.sequence_start.anchor, YAML::NodeType::Sequence,
                   e.data.sequence_start.tag, false));
        return true;
      case YAML_MAPPING_START_EVENT:
        start(open(e.start_mark, e.data.mapping_start.anchor, YAML::NodeType::Map,
                   e.data.mapping_start.tag, false));
        return true;
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT: finish(); return true;
      case YAML_ALIAS_EVENT: alias(e); return true;
      case YAML_DOCUMENT_END_EVENT:
      case YAML_STREAM_END_EVENT: return false;  // the first document only, as YAML::Load
      default: return true;                      // stream and document starts
    }
  }

 private:
  static std::string_view text(const yaml_char_t* s) {
    return s ? std::string_view(reinterpret_cast<const char*>(s)) : std::string_view();
  }

  /// yaml-cpp's IsNullString.
  static bool null_word(std::string_view s) {
    return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
  }

  void scalar(const yaml_event_t& e) {
    const auto& s = e.data.scalar;
    std::string_view value(reinterpret_cast<const char*>(s.value), s.length);
    bool plain = s.style == YAML_PLAIN_SCALAR_STYLE;
    if (!s.tag && plain && null_word(value)) {
      done(open(e.start_mark, s.anchor, YAML::NodeType::Null, nullptr, plain));
      return;
    }
    std::uint32_t i = open(e.start_mark, s.anchor, YAML::NodeType::Scalar, s.tag, plain);
    t_.nodes_[i].scalar.assign(value);
    done(i);
  }

  void alias(const yaml_event_t& e) {
    auto it = anchors_.find(std::string(text(e.data.alias.anchor)));
    if (it == anchors_.end())
      throw YamlSyntaxError(int(e.start_mark.line), columns_(e.start_mark.line, e.start_mark.column),
                            "the alias `*" + std::string(text(e.data.alias.anchor)) + "` names no anchor before it");
    done(it->second);
  }

  /// A new node. Untagged, yaml-cpp tags a plain scalar or a collection `?`, any other
  /// scalar `!`; a null has no tag.
  std::uint32_t open(const yaml_mark_t& mark, const yaml_char_t* anchor, YAML::NodeType::value type,
                     const yaml_char_t* tag, bool plain) {
    auto i = static_cast<std::uint32_t>(t_.nodes_.size());
    YamlTree::Node& n = t_.nodes_.emplace_back();
    n.pos = int(mark.index);
    n.line = int(mark.line);
    n.column = columns_(mark.line, mark.column);
    n.type = type;
    if (tag) n.tag = intern(text(tag));
    else if (type != YAML::NodeType::Null) n.tag = intern(plain || type != YAML::NodeType::Scalar ? "?" : "!");
    if (anchor) anchors_.insert_or_assign(std::string(text(anchor)), i);
    return i;
  }

  std::uint32_t intern(std::string_view tag) {
    if (t_.tags_[last_tag_] == tag) return last_tag_;  // "?" after "?": most of them
    auto [it, fresh] = tags_.try_emplace(std::string(tag), static_cast<std::uint32_t>(t_.tags_.size()));
    if (fresh) t_.tags_.emplace_back(tag);
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
  const ByteColumns& columns_;
  std::unordered_map<std::string, std::uint32_t> anchors_;
  std::unordered_map<std::string, std::uint32_t> tags_;
  std::uint32_t last_tag_ = 0;
  std::vector<std::pair<std::uint32_t, std::size_t>> open_;  // collection, where its children start
  std::vector<std::uint32_t> pending_;
};

namespace {

/// A libyaml parser, freed on every way out.
struct Parser {
  yaml_parser_t p;
  Parser() { yaml_parser_initialize(&p); }
  ~Parser() { yaml_parser_delete(&p); }
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;
};

struct Event {
  yaml_event_t e{};
  ~Event() { yaml_event_delete(&e); }
};

/// Line and column (0-based, in bytes, past a byte order mark) of byte OFFSET of TEXT.
std::pair<int, int> line_column(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::string_view before = text.substr(0, offset);
  std::size_t nl = before.rfind('\n');
  int line = int(std::count(before.begin(), before.end(), '\n'));
  if (nl != std::string_view::npos) return {line, int(offset - nl - 1)};
  std::size_t bom = text.starts_with(kUtf8Bom) ? kUtf8Bom.size() : 0;
  return {line, int(offset - std::min(offset, bom))};
}

/// libyaml (YAML 1.1) also ends a line at a lone CR, NEL, LS and PS; YAML 1.2, yaml-cpp
/// and every position we give count LF (CRLF) only. A spec with one of them is refused
/// where it is, not read with every later position (and a comment's end) moved.
void refuse_other_line_breaks(std::string_view text) {
  auto refuse = [&](std::size_t at, const char* what) {
    auto [line, column] = line_column(text, at);
    throw YamlSyntaxError(line, column,
                          std::string(what) + " is a line break to a YAML 1.1 reader and not to others: "
                                              "a spec may not hold one (in a double-quoted string, write it escaped)");
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '\r' && (i + 1 == text.size() || text[i + 1] != '\n')) refuse(i, "a carriage return without a line feed");
    if (c == 0xC2 && text.substr(i, 2) == "\xC2\x85") refuse(i, "U+0085 (NEXT LINE)");
    if (c == 0xE2 && text.substr(i, 3) == "\xE2\x80\xA8") refuse(i, "U+2028 (LINE SEPARATOR)");
    if (c == 0xE2 && text.substr(i, 3) == "\xE2\x80\xA9") refuse(i, "U+2029 (PARAGRAPH SEPARATOR)");
  }
}

/// What libyaml says went wrong in P, where.
YamlSyntaxError parse_error(const yaml_parser_t& p, std::string_view text, const ByteColumns& columns) {
  std::string problem = p.problem ? p.problem : "cannot parse";
  if (p.error == YAML_READER_ERROR) {  // bytes that are not text: marks are not kept
    auto [line, column] = line_column(text, p.problem_offset);
    if (p.problem_value >= 0) {
      char hex[16];
      std::snprintf(hex, sizeof hex, " (0x%X; ", unsigned(p.problem_value));
      problem += hex + std::string("a spec is UTF-8 text)");
    }
    return {line, column, problem};
  }
  std::string message = problem;
  // The context says where the construct the problem is in started ("while parsing a
  // flow sequence" and where); at the problem's own place it adds nothing.
  const yaml_mark_t &c = p.context_mark, &at = p.problem_mark;
  if (p.context && (c.line != at.line || c.column != at.column))
    message += std::string(" (") + p.context + " that starts at line " + std::to_string(c.line + 1) +
               ", column " + std::to_string(columns(c.line, c.column) + 1) + ")";
  YamlSyntaxError e(int(p.problem_mark.line), columns(p.problem_mark.line, p.problem_mark.column), message);
  e.problem = problem;
  return e;
}

}  // namespace

std::unique_ptr<YamlTree> YamlTree::parse(std::string_view text) {
  auto tree = std::make_unique<YamlTree>();
  // Room for one node per 5 bytes, more than a flow-style spec of short words has (one
  // per 5.5 bytes): growing would copy a million nodes; pages never touched cost nothing.
  tree->nodes_.reserve(text.size() / 5 + 1);
  tree->kids_.reserve(text.size() / 5 + 1);
  refuse_other_line_breaks(text);
  Parser parser;
  yaml_parser_set_input_string(&parser.p, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  ByteColumns columns(text);
  YamlTreeBuilder builder(*tree, columns);
  for (;;) {
    Event ev;
    if (!yaml_parser_parse(&parser.p, &ev.e)) {
      ev.e.type = YAML_NO_EVENT;  // nothing to free
      throw parse_error(parser.p, text, columns);
    }
    if (!builder.take(ev.e)) break;
  }
  return tree;
}

}  // namespace treerun
