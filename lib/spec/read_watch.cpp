#include "spec/read_watch.h"

namespace treerun {
namespace {

void read_paths(YamlReader& r, const YamlNode& v, const SourcePos& at, RawWatch& w) {
  auto list = r.texts(v, "paths", at);
  if (!list) return;
  for (RawText& t : *list) {
    if (t.value.empty()) r.error(t.pos, "a `watch` path is empty");
    else w.paths.push_back(std::move(t));
  }
}

}  // namespace

void read_watch(YamlReader& r, const YamlNode& v, const SourcePos& at, RawNode& n) {
  SourcePos p = r.pos(v, at);
  RawWatch w;
  w.pos = p;
  std::size_t problems = r.diags().size();
  if (v.IsMap()) {
    for (auto& [key, value] : r.entries(v, {"paths", "ignore", "debounce", "cascade"}, "`watch`")) {
      if (key.value == "paths") read_paths(r, value, key.pos, w);
      else if (key.value == "ignore") {
        if (auto globs = r.strings(value, "ignore", key.pos))
          for (auto& g : *globs) w.ignore.push_back(std::move(g.value));
      } else if (key.value == "debounce") {
        if (auto d = r.duration(value, "debounce", key.pos)) w.debounce = *d;
      } else if (key.value == "cascade") {
        if (auto b = r.boolean(value, "cascade", key.pos)) w.cascade = *b;
      }
    }
  } else if (v.IsScalar() || v.IsSequence()) {
    read_paths(r, v, at, w);
  } else if (r.spend(p)) {
    r.error(p, "`watch` must be a list of paths or a mapping {paths, ignore, debounce, cascade}, not " + kind_of(v));
    return;
  }
  if (w.paths.empty() && r.diags().size() == problems) r.error(p, "`watch` needs at least one path");
  n.watch = std::move(w);
}

}  // namespace treerun
