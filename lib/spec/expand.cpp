#include "spec/expand.h"

#include "spec/diagnostics.h"
#include "spec/env_file.h"

namespace treerun {
namespace {

/// Deeper nesting of defaults is no spec a person writes; the cap keeps a hostile one
/// from taking the stack.
constexpr int kMaxNesting = 16;

bool is_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

class Expander {
 public:
  Expander(std::string_view text, const VarLookup& lookup, const HostText& host_text, Expansion& out)
      : text_(text), lookup_(lookup), host_text_(host_text), out_(out) {}

  /// TEXT[BEGIN, END) with its references replaced.
  std::string range(std::size_t begin, std::size_t end, int depth) {
    std::string result;
    std::size_t i = begin;
    while (i < end) {
      std::size_t dollar = text_.find('$', i);
      if (dollar >= end) dollar = end;
      result.append(text_.substr(i, dollar - i));
      if (dollar == end) break;
      if (text_.substr(dollar, 3) == "$${" && dollar + 3 <= end) {  // a literal `${`
        result += "${";
        i = dollar + 3;
      } else if (text_.substr(dollar, 2) == "${" && dollar + 2 <= end) {
        std::size_t close = closing_brace(dollar + 2, end);
        if (close == std::string_view::npos) {
          problem(dollar, "`${` without its `}` (write `$${` for a literal `${`)");
          break;
        }
        result += reference(dollar, close, depth);
        i = close + 1;
      } else {
        result += '$';
        i = dollar + 1;
      }
    }
    return result;
  }

 private:
  /// The `}` that closes a reference whose body starts at FROM, past nested ones.
  std::size_t closing_brace(std::size_t from, std::size_t end) const {
    int open = 0;
    for (std::size_t j = from; j < end; ++j) {
      if (text_.substr(j, 3) == "$${") j += 2;
      else if (text_.substr(j, 2) == "${") ++open, ++j;
      else if (text_[j] == '}' && open-- == 0) return j;
    }
    return std::string_view::npos;
  }

  /// The value of the reference `${...}` from AT (its `$`) to CLOSE (its `}`).
  std::string reference(std::size_t at, std::size_t close, int depth) {
    std::size_t name_begin = at + 2, name_end = name_begin;
    while (name_end < close && is_name_char(text_[name_end])) ++name_end;
    std::string_view name = text_.substr(name_begin, name_end - name_begin);
    std::string_view rest = text_.substr(name_end, close - name_end);
    std::string shown = "`" + shorten(text_.substr(at, close + 1 - at), 40) + "`";
    if (name == "host" && rest.starts_with(':') && !rest.starts_with(":-") && !rest.starts_with(":?"))
      return host(at, rest.substr(1), shown);
    if (name.empty() || !valid_env_key(name)) {
      problem(at, "bad variable reference " + shown + ": a name is letters, digits and `_`, not first a digit");
      return "";
    }
    if (!rest.empty() && !rest.starts_with(":-") && !rest.starts_with(":?")) {
      problem(at, "bad variable reference " + shown + ": after the name comes `}`, `:-default` or `:?message`");
      return "";
    }
    std::optional<std::string> value = lookup_(name);
    bool unset_or_empty = !value || value->empty();
    if (rest.empty()) {
      if (!value) problem(at, "`" + std::string(name) + "` is not set (set it, or give a default: `${" +
                                   std::string(name) + ":-default}`)");
      return value.value_or("");
    }
    if (!unset_or_empty) return *value;
    if (depth >= kMaxNesting) {
      problem(at, "variable references nest deeper than " + std::to_string(kMaxNesting) + " levels");
      return "";
    }
    std::string word = range(name_end + 2, close, depth + 1);
    if (rest.starts_with(":-")) return word;
    std::string why = "`" + std::string(name) + "` is " + (value ? "empty" : "not set");
    problem(at, word.empty() ? why : word + " (" + why + ")");
    return "";
  }

  std::string host(std::size_t at, std::string_view path, const std::string& shown) {
    if (path.empty()) {
      problem(at, "bad host reference " + shown + ": name a node, as in `${host:db}`");
      return "";
    }
    out_.hosts.push_back({at, std::string(path)});
    return host_text_ ? host_text_(path) : std::string(kLocalHost);
  }

  void problem(std::size_t at, std::string message) { out_.problems.push_back({at, std::move(message)}); }

  std::string_view text_;
  const VarLookup& lookup_;
  const HostText& host_text_;
  Expansion& out_;
};

}  // namespace

Expansion expand_variables(std::string_view text, const VarLookup& lookup, const HostText& host_text) {
  Expansion out;
  if (!has_variables(text)) {
    out.text = std::string(text);
    return out;
  }
  out.text = Expander(text, lookup, host_text, out).range(0, text.size(), 0);
  return out;
}

}  // namespace treerun
