#include "spec/env_file.h"

#include <unordered_map>

#include "spec/file_read.h"
#include "spec/yaml_reader.h"

namespace treerun {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view trim(std::string_view s, std::size_t* lead = nullptr) {
  std::size_t b = 0;
  while (b < s.size() && is_space(s[b])) ++b;
  std::size_t e = s.size();
  while (e > b && is_space(s[e - 1])) --e;
  if (lead) *lead = b;
  return s.substr(b, e - b);
}

}  // namespace

bool valid_env_key(std::string_view key) {
  if (key.empty() || (key[0] >= '0' && key[0] <= '9')) return false;
  for (char c : key)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

void env_merge(EnvList& into, const EnvList& over) {
  if (over.empty()) return;
  // An index, so a hostile env of a million keys merges in linear time.
  // Reserving first keeps the keys in place, so the views in the index stay valid.
  into.reserve(into.size() + over.size());
  std::unordered_map<std::string_view, std::size_t> at;
  for (std::size_t i = 0; i < into.size(); ++i) at[into[i].first] = i;
  for (const auto& [key, value] : over) {
    auto it = at.find(key);
    if (it != at.end()) {
      into[it->second].second = value;
    } else {
      into.emplace_back(key, value);
      at[into.back().first] = into.size() - 1;
    }
  }
}

EnvList parse_env_text(std::string_view text, const std::string& file, Diagnostics& diags) {
  if (text.starts_with(kUtf8Bom)) text.remove_prefix(kUtf8Bom.size());
  EnvList line_env;
  int lineno = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++lineno;
    std::size_t lead = 0;
    std::string_view line = trim(raw, &lead);
    if (line.empty() || line.front() == '#') continue;
    if (line.substr(0, 7) == "export ") {
      line = trim(line.substr(7), nullptr);
      lead = std::size_t(line.data() - raw.data());
    }
    std::size_t eq = line.find('=');
    std::string_view key = eq == std::string_view::npos ? line : trim(line.substr(0, eq));
    if (eq == std::string_view::npos || !valid_env_key(key)) {
      std::string what = eq == std::string_view::npos ? "expected KEY=VALUE"
                                                      : "bad variable name `" + std::string(key) + "`";
      diags.add({file, lineno, int(lead) + 1}, what);
      continue;
    }
    std::string_view value = trim(line.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    line_env.emplace_back(std::string(key), std::string(value));
  }
  EnvList out;
  env_merge(out, line_env);  // a key set twice keeps its last value
  return out;
}

EnvList read_env_file(const std::string& abs_path, const std::string& shown, const std::string& what,
                      const SourcePos& at, Diagnostics& diags, std::size_t& bytes) {
  FileText f = read_regular_file(abs_path);
  if (f.ok && (bytes += f.text.size()) > kMaxTotalBytes) f = {false, {}, "over the size budget of all spec files"};
  if (!f.ok) {
    diags.add(at, "cannot read " + what + ": " + f.error);
    return {};
  }
  return parse_env_text(f.text, shown, diags);
}

}  // namespace treerun
