#include "spec/read_stdio.h"

#include "spec/names.h"

namespace treerun {
namespace {

bool read_sources(YamlReader& r, const YamlNode& v, const SourcePos& at, RawStdin& in) {
  auto list = r.strings(v, "stdin", at);
  if (!list) return false;
  if (list->empty()) {
    r.error(r.pos(v, at), "`stdin` lists no source");
    return false;
  }
  bool ok = true;
  for (const auto& s : *list) {
    if (s.value == "inherit" || s.value == "null") {
      r.error(s.pos, "`" + s.value + "` is not a stream source (use `stdin: " + s.value + "` alone)");
      ok = false;
    } else if (!parse_source_text(s.value)) {
      r.error(s.pos, "bad stream source `" + shorten(s.value) +
                         "`: NAME, /PATH/FROM/ROOT, optionally with :stderr");
      ok = false;
    }
  }
  in.type = StdinKind::sources;
  in.from = std::move(*list);
  return ok;
}

bool read_stdin_map(YamlReader& r, const YamlNode& v, const SourcePos& at, RawStdin& in) {
  bool ok = true, has_from = false;
  for (auto& [key, value] : r.entries(v, {"from", "lag", "buffer"}, "`stdin`")) {
    SourcePos p = r.pos(value, key.pos);
    if (key.value == "from") {
      has_from = true;
      ok = read_sources(r, value, key.pos, in) && ok;
    } else if (key.value == "lag") {
      auto s = r.scalar(value, "lag", key.pos);
      if (s && *s == "block") in.lag = Lag::block;
      else if (s && *s == "drop") in.lag = Lag::drop;
      else if (s) r.error(p, "`lag` must be block or drop, not `" + shorten(*s) + "`"), ok = false;
    } else if (auto n = r.size(value, "buffer", key.pos)) {
      if (*n == 0) r.error(p, "`buffer` must be more than 0"), ok = false;
      else in.buffer = *n;
    }
  }
  if (!has_from) r.error(r.pos(v, at), "`stdin` needs `from: SOURCE`"), ok = false;
  return ok;
}

}  // namespace

std::optional<RawStdin> read_stdin_spec(YamlReader& r, const YamlNode& v, const SourcePos& at) {
  RawStdin in;
  in.pos = r.pos(v, at);
  if (v.IsNull() || (v.IsScalar() && v.Scalar() == "null")) return in;
  if (v.IsScalar() && v.Scalar() == "inherit") {
    in.type = StdinKind::inherit;
    return in;
  }
  bool ok = v.IsMap() ? read_stdin_map(r, v, at, in) : read_sources(r, v, at, in);
  return ok ? std::optional(in) : std::nullopt;
}

std::optional<At<OutputSpec>> read_output(YamlReader& r, const YamlNode& v, const SourcePos& at,
                                          const std::string& key, std::optional<RawText>& file) {
  SourcePos p = r.pos(v, at);
  OutputSpec o;
  if (v.IsNull()) {
    o.type = OutputSpec::Type::null;
    return At<OutputSpec>{o, p};
  }
  if (v.IsMap()) {
    bool has_file = false, file_key = false;
    for (auto& [k, value] : r.entries(v, {"file", "append"}, "`" + key + "`")) {
      if (k.value == "file") {
        file_key = true;
        auto s = r.text(value, "file", k.pos);
        if (s && s->value.empty()) r.error(r.pos(value, k.pos), "`file` is empty");
        else if (s) o.path = s->value, file = std::move(*s), has_file = true;
      } else if (auto b = r.boolean(value, "append", k.pos)) {
        o.append = *b;
      }
    }
    if (!file_key) r.error(p, "`" + key + "` needs `file: PATH`");
    if (!has_file) return std::nullopt;
    o.type = OutputSpec::Type::file;
    return At<OutputSpec>{o, p};
  }
  auto s = r.scalar(v, key, at);
  if (!s) return std::nullopt;
  if (*s == "log") o.type = OutputSpec::Type::log, o.log_explicit = true;
  else if (*s == "inherit") o.type = OutputSpec::Type::inherit;
  else if (*s == "null") o.type = OutputSpec::Type::null;
  else if (*s == "stdout" && key == "stderr") o.type = OutputSpec::Type::as_stdout;
  else if (key == "stderr") {
    r.error(p, "`stderr` must be log, inherit, null, stdout or {file: PATH}, not `" + shorten(*s) + "`" +
                   did_you_mean(*s, {"log", "inherit", "null", "stdout"}));
    return std::nullopt;
  } else {
    // `stdout: stderr` reads like `1>&2`, which treerun has no use for: say what there is.
    std::string hint = *s == "stderr" || *s == "stdout"
                           ? " (to send stderr where stdout goes, write `stderr: stdout`)"
                           : did_you_mean(*s, {"log", "inherit", "null"});
    r.error(p, "`stdout` must be log, inherit, null or {file: PATH}, not `" + shorten(*s) + "`" + hint);
    return std::nullopt;
  }
  return At<OutputSpec>{o, p};
}

}  // namespace treerun
