#include "spec/yaml_reader.h"

#include <filesystem>
#include <set>

#include "base/units.h"

namespace treerun {

std::string kind_of(const YamlNode& v) {
  switch (v.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return "`" + shorten(v.Scalar()) + "`";
    default: return "empty";
  }
}

SourcePos YamlReader::pos(const YamlNode& node, const SourcePos& fallback) const {
  YAML::Mark m = node.Mark();
  if (m.is_null() || m.line < 0) return fallback.line ? fallback : SourcePos{file_, 0, 0};
  return {file_, m.line + 1, m.column + 1};
}

bool YamlReader::spend(const SourcePos& pos) {
  if (budget_.exhausted) return false;
  if (++budget_.values <= kMaxValues) return true;
  budget_.exhausted = true;
  error(pos, "the spec is too large: more than " + std::to_string(kMaxValues) +
                 " values (an alias used too many times?)");
  return false;
}

std::optional<std::string> YamlReader::scalar(const YamlNode& v, std::string_view key,
                                              const SourcePos& at) {
  SourcePos p = pos(v, at);
  if (!spend(p)) return std::nullopt;
  if (!v.IsScalar()) {
    error(p, "`" + std::string(key) + "` must be a string, not " + kind_of(v));
    return std::nullopt;
  }
  // A NUL would silently cut an argv or an environment variable short.
  if (v.Scalar().find('\0') != std::string::npos) {
    error(p, "`" + std::string(key) + "` contains a NUL byte");
    return std::nullopt;
  }
  return v.Scalar();
}

std::optional<bool> YamlReader::boolean(const YamlNode& v, std::string_view key,
                                        const SourcePos& at) {
  SourcePos p = pos(v, at);
  if (v.IsScalar()) {
    const std::string& s = v.Scalar();
    for (const char* t : {"true", "True", "TRUE", "yes", "Yes", "on", "On"})
      if (s == t) return true;
    for (const char* f : {"false", "False", "FALSE", "no", "No", "off", "Off"})
      if (s == f) return false;
  }
  if (!spend(p)) return std::nullopt;
  error(p, "`" + std::string(key) + "` must be true or false, not " + kind_of(v));
  return std::nullopt;
}

namespace {

/// What duration(), size() and signal() share: a scalar read with PARSE (base/units.h),
/// or the problem "`KEY`: " + BAD(TEXT) at the value.
template <class Parse, class Bad>
auto parsed(YamlReader& r, const YamlNode& v, std::string_view key, const SourcePos& at, Parse parse,
            Bad bad) -> decltype(parse(std::string_view{})) {
  auto s = r.scalar(v, key, at);
  if (!s) return std::nullopt;
  if (auto x = parse(*s)) return x;
  r.error(r.pos(v, at), "`" + std::string(key) + "`: " + bad(*s));
  return std::nullopt;
}

char upper(char c) { return (c >= 'a' && c <= 'z') ? char(c - 'a' + 'A') : c; }

/// " (did you mean `SIGTERM`?)" for SIGTERMM, TERMM or sigterm_: the nearest signal
/// name, one edit away (two for names of five letters or more past the SIG).
std::string signal_hint(std::string_view text) {
  std::string word;
  for (char c : text.substr(0, 64)) word += upper(c);
  if (word.rfind("SIG", 0) != 0) word = "SIG" + word;
  std::size_t cap = word.size() >= 8 ? 2 : 1;
  std::string best;
  std::size_t best_d = cap + 1;
  for (const auto& name : signal_names()) {
    std::size_t d = edit_distance(word, name, cap);
    if (d < best_d) best_d = d, best = name;
  }
  return best.empty() ? "" : " (did you mean `" + best + "`?)";
}

/// The keys people bring from docker compose, process-compose and supervisord, and
/// treerun's word for each (a key, or a key and its value).
struct ForeignKey {
  std::string_view key;
  std::string_view ours;
};
constexpr ForeignKey kForeignKeys[] = {
    // docker compose
    {"command", "cmd"}, {"environment", "env"}, {"depends_on", "after"}, {"healthcheck", "ready"},
    {"working_dir", "cwd"}, {"stop_grace_period", "grace"}, {"services", "children"},
    // process-compose
    {"readiness_probe", "ready"}, {"processes", "children"},
    // supervisord
    {"directory", "cwd"}, {"stopwaitsecs", "grace"}, {"autorestart", "on_failure: restart"},
};

}  // namespace

std::string key_hint(std::string_view key, const std::vector<std::string_view>& known) {
  for (const auto& f : kForeignKeys) {
    if (f.key != key) continue;
    std::string_view ours = f.ours.substr(0, f.ours.find(':'));
    for (auto k : known)
      if (k == ours) return " (did you mean `" + std::string(f.ours) + "`?)";
  }
  return did_you_mean(key, known);
}

std::optional<Millis> YamlReader::duration(const YamlNode& v, std::string_view key,
                                           const SourcePos& at) {
  bool too_long = false;
  return parsed(*this, v, key, at, [&](std::string_view s) { return parse_duration(s, &too_long); },
                [&](const std::string& s) {
                  if (too_long)
                    return "`" + shorten(s) + "` is too long: a duration is at most " + std::string(kMaxDurationText);
                  return "bad duration `" + shorten(s) + "` (a number with ms, s, m or h: 250ms, 1.5s, 2m)";
                });
}

std::optional<std::size_t> YamlReader::size(const YamlNode& v, std::string_view key,
                                            const SourcePos& at) {
  return parsed(*this, v, key, at, parse_size, [](const std::string& s) {
    return "bad size `" + shorten(s) + "` (bytes, or a number with KiB, MiB, GiB)";
  });
}

std::optional<int> YamlReader::signal(const YamlNode& v, std::string_view key,
                                      const SourcePos& at) {
  return parsed(*this, v, key, at, parse_signal,
                [](const std::string& s) { return "unknown signal `" + shorten(s) + "`" + signal_hint(s); });
}

std::optional<Command> YamlReader::command(const YamlNode& v, std::string_view key,
                                           const SourcePos& at) {
  SourcePos p = pos(v, at);
  if (v.IsSequence()) {
    Command c;
    for (const auto& item : v) {
      auto s = scalar(item, key, p);
      if (!s) return std::nullopt;
      c.argv.push_back(*s);
    }
    if (c.argv.empty() || c.argv[0].empty()) {
      error(p, "`" + std::string(key) + "` is empty");
      return std::nullopt;
    }
    return c;
  }
  if (!v.IsScalar()) {
    if (spend(p)) error(p, "`" + std::string(key) + "` must be a string or a list, not " + kind_of(v));
    return std::nullopt;
  }
  auto s = scalar(v, key, at);
  if (!s) return std::nullopt;
  if (s->find_first_not_of(" \t\r\n") == std::string::npos) {
    error(p, "`" + std::string(key) + "` is empty");
    return std::nullopt;
  }
  // Plain words run directly, as the shell would run them but with no shell between
  // treerun and the program: dash forks instead of exec'ing, so a signal the program
  // dies of would come back as the shell's exit 128+N. Anything else is the shell's.
  return command_from_string(std::move(*s));
}

std::optional<std::vector<At<std::string>>> YamlReader::strings(const YamlNode& v,
                                                               std::string_view key,
                                                               const SourcePos& at) {
  auto list = texts(v, key, at);
  if (!list) return std::nullopt;
  std::vector<At<std::string>> out;
  for (auto& t : *list) out.push_back({std::move(t.value), t.pos});
  return out;
}

std::optional<RawText> YamlReader::text(const YamlNode& v, std::string_view key, const SourcePos& at) {
  auto s = scalar(v, key, at);
  if (!s) return std::nullopt;
  // YamlTree (as yaml-cpp) tags a plain scalar `?` and a quoted or block one `!`; a block scalar's
  // text starts on the next line.
  int lead = v.Tag() == "!" ? 1 : 0;
  if (lead && s->find('\n') != std::string::npos) lead = -1;
  return RawText{std::move(*s), pos(v, at), lead};
}

std::optional<std::vector<RawText>> YamlReader::texts(const YamlNode& v, std::string_view key,
                                                      const SourcePos& at) {
  std::vector<RawText> out;
  SourcePos p = pos(v, at);
  if (v.IsScalar()) {
    if (auto t = text(v, key, p)) return std::vector<RawText>{std::move(*t)};
    return std::nullopt;
  }
  if (!v.IsSequence()) {
    if (spend(p)) error(p, "`" + std::string(key) + "` must be a string or a list of strings, not " + kind_of(v));
    return std::nullopt;
  }
  bool ok = true;
  for (const auto& item : v) {
    if (auto t = text(item, key, pos(item, p))) out.push_back(std::move(*t));
    else ok = false;
    if (budget_.exhausted) return std::nullopt;
  }
  return ok ? std::optional(std::move(out)) : std::nullopt;
}

std::string YamlReader::absolute(const std::string& path) const {
  std::filesystem::path p(path);
  if (p.is_absolute()) return p.lexically_normal().string();
  return (std::filesystem::path(dir_) / p).lexically_normal().string();
}

std::vector<std::pair<At<std::string>, YamlNode>> YamlReader::entries(
    const YamlNode& m, const std::vector<std::string_view>& known, std::string_view where) {
  std::vector<std::pair<At<std::string>, YamlNode>> out;
  std::set<std::string> seen;
  std::vector<YamlNode> merges;
  for (auto it = m.begin(); it != m.end(); ++it) {
    SourcePos kp = pos(it->first);
    if (!spend(kp)) return {};
    if (!it->first.IsScalar()) {
      error(kp, "a key in " + std::string(where) + " must be a string, not " + kind_of(it->first));
      continue;
    }
    const std::string& key = it->first.Scalar();
    if (key == "<<") {  // a YAML merge key, which the parser leaves to us
      merges.push_back(it->second);
      continue;
    }
    // `x-` keys are ours to ignore, as in docker compose: a place to put anchors.
    if (key.rfind("x-", 0) == 0) continue;
    bool ok = false;
    for (auto k : known) ok = ok || k == key;
    if (!ok) {
      error(kp, "unknown key `" + shorten(key) + "` in " + std::string(where) + key_hint(key, known));
      continue;
    }
    if (!seen.insert(key).second) {
      error(kp, "duplicate key `" + key + "`");
      continue;
    }
    out.push_back({{key, kp}, it->second});
  }
  for (const auto& merge : merges) merge_entries(merge, known, where, seen, out);
  return out;
}

void YamlReader::merge_entries(const YamlNode& v, const std::vector<std::string_view>& known,
                               std::string_view where, std::set<std::string>& seen,
                               std::vector<std::pair<At<std::string>, YamlNode>>& out) {
  std::vector<YamlNode> maps;
  if (v.IsMap()) maps.push_back(v);
  else if (v.IsSequence())
    for (const auto& item : v) maps.push_back(item);
  for (const auto& map : maps) {
    SourcePos mp = pos(map, pos(v));
    if (!spend(mp)) return;
    if (!map.IsMap()) {
      error(mp, "`<<` merges a mapping (or a list of them), not " + kind_of(map));
      continue;
    }
    for (auto it = map.begin(); it != map.end(); ++it) {
      SourcePos kp = pos(it->first, mp);
      if (!spend(kp)) return;
      if (!it->first.IsScalar() || it->first.Scalar() == "<<" || it->first.Scalar().rfind("x-", 0) == 0)
        continue;
      const std::string& key = it->first.Scalar();
      bool ok = false;
      for (auto k : known) ok = ok || k == key;
      if (!ok)
        error(kp, "unknown key `" + shorten(key) + "` in " + std::string(where) + key_hint(key, known));
      else if (seen.insert(key).second)  // keys written in the mapping itself win
        out.push_back({{key, kp}, it->second});
    }
  }
}

}  // namespace treerun
