#include "spec/names.h"

namespace treerun {

bool valid_node_name(std::string_view s) {
  if (s.empty() || s == "." || s == "..") return false;
  for (char c : s)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '.' || c == '-'))
      return false;
  return true;
}

std::optional<SourceText> parse_source_text(std::string_view text) {
  SourceText out;
  if (auto colon = text.find(':'); colon != std::string_view::npos) {
    std::string_view stream = text.substr(colon + 1);
    if (stream != "stderr" && stream != "stdout") return std::nullopt;
    out.is_stderr = stream == "stderr";
    text = text.substr(0, colon);
  }
  out.path = std::string(text);
  if (!text.empty() && text.front() == '/') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  while (true) {
    auto slash = text.find('/');
    if (!valid_node_name(text.substr(0, slash))) return std::nullopt;
    if (slash == std::string_view::npos) return out;
    text.remove_prefix(slash + 1);
  }
}

}  // namespace treerun
