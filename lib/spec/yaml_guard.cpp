#include "spec/yaml_guard.h"

#include <vector>

namespace treerun {
namespace {

/// The scanner's state across lines: just enough YAML to know what is text.
class DepthScanner {
 public:
  DepthScanner(const std::string& file, int max) : file_(file), max_(max) {}

  std::optional<Diagnostic> line(std::string_view s, int lineno) {
    lineno_ = lineno;
    dashes_ = 0;
    int indent = 0;
    while (std::size_t(indent) < s.size() && s[std::size_t(indent)] == ' ') ++indent;
    bool blank = s.find_first_not_of(" \t\r") == std::string_view::npos;
    if (block_scalar_ >= 0) {
      if (blank || indent > block_scalar_) return std::nullopt;  // text, not structure
      block_scalar_ = -1;
    }
    if (blank) return std::nullopt;
    if (quote_ == 0 && flow_ == 0) {
      if (s[std::size_t(indent)] == '#') return std::nullopt;
      while (!indents_.empty() && indents_.back() > indent) indents_.pop_back();
      if (indents_.empty() || indents_.back() < indent) indents_.push_back(indent);
      if (auto d = over(indent)) return d;
    }
    return scan(s, std::size_t(indent));
  }

 private:
  int depth() const { return int(indents_.size()) + dashes_ + flow_; }

  std::optional<Diagnostic> over(int col) {
    if (depth() <= max_) return std::nullopt;
    return Diagnostic{{file_, lineno_, col + 1},
                      "the spec nests deeper than " + std::to_string(max_) + " levels"};
  }

  /// Whether the character before a token makes the token a YAML indicator.
  static bool opens(char prev) {
    return prev == 0 || prev == ':' || prev == '-' || prev == '?' || prev == ',' ||
           prev == '[' || prev == '{';
  }

  std::optional<Diagnostic> scan(std::string_view s, std::size_t from) {
    char prev = quote_ ? 'x' : 0;  // significant character before this one; 0 = line start
    for (std::size_t i = from; i < s.size(); ++i) {
      char c = s[i];
      if (quote_) {
        if (quote_ == '"' && c == '\\') ++i;
        else if (c == quote_ && quote_ == '\'' && i + 1 < s.size() && s[i + 1] == '\'') ++i;
        else if (c == quote_) quote_ = 0, prev = 'x';
        continue;
      }
      if (c == ' ' || c == '\t' || c == '\r') continue;
      bool spaced = i + 1 >= s.size() || s[i + 1] == ' ' || s[i + 1] == '\t';
      if (c == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t')) break;  // comment
      if (opens(prev) && (c == '"' || c == '\'')) {
        quote_ = c;
        continue;
      }
      char sig = 'x';  // what `prev` becomes: an indicator, or 'x' for plain text
      if (c == '[' || c == '{') {
        if (opens(prev) || flow_ > 0) {
          ++flow_;
          sig = c;
          if (auto d = over(int(i))) return d;
        }
      } else if ((c == ']' || c == '}') && flow_ > 0) {
        --flow_;
      } else if (c == ',' && flow_ > 0) {
        sig = c;
      } else if (c == '-' && spaced && flow_ == 0 && (prev == 0 || prev == '-')) {
        ++dashes_;  // "- - - x": each dash is a level
        dash_col_ = int(i);
        sig = c;
        if (auto d = over(int(i))) return d;
      } else if ((c == ':' || c == '?') && spaced) {
        if (c == ':') key_col_ = token_col_;
        sig = c;
      } else if ((c == '|' || c == '>') && flow_ == 0 && opens(prev)) {
        block_scalar_ = prev == ':' ? key_col_ : dash_col_;
        return std::nullopt;
      } else if (opens(prev)) {
        token_col_ = int(i);
      }
      prev = sig;
    }
    return std::nullopt;
  }

  const std::string& file_;
  int max_;
  int lineno_ = 0;
  std::vector<int> indents_;  // block indentation levels open at this line
  int dashes_ = 0;            // "- " indicators at the start of this line
  int flow_ = 0;              // open `[` and `{`
  char quote_ = 0;            // inside a quoted scalar that may span lines
  int block_scalar_ = -1;     // inside `|`/`>` text: lines indented more than this
  int token_col_ = 0, key_col_ = 0, dash_col_ = 0;
};

}  // namespace

std::optional<Diagnostic> check_yaml_depth(std::string_view text, const std::string& file,
                                           int max_depth) {
  DepthScanner scanner(file, max_depth);
  int lineno = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    if (auto d = scanner.line(text.substr(0, nl), ++lineno)) return d;
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return std::nullopt;
}

}  // namespace treerun
