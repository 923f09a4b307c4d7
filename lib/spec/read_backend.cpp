#include "spec/read_backend.h"

#include "spec/names.h"

namespace treerun {
namespace {

const std::vector<std::string_view> kSlurmKeys = {"nodes", "partition", "time", "args"};

/// A host name as Slurm and DNS spell them: letters, digits, `-`, `_` and `.`.
bool valid_host(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

std::optional<int> whole_number(const std::string& s, int max) {
  if (s.empty() || s.size() > 6 || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  int n = std::stoi(s);
  return n <= max ? std::optional(n) : std::nullopt;
}

void read_slurm(YamlReader& r, const YamlNode& v, const SourcePos& at, RawFile& f) {
  SourcePos p = r.pos(v, at);
  if (!v.IsMap()) {
    r.error(p, "`slurm` must be a mapping ({nodes: N, partition: P, time: 30m, args: [...]}), not " + kind_of(v));
    return;
  }
  SlurmSettings s;
  for (auto& [key, value] : r.entries(v, kSlurmKeys, "`slurm`")) {
    SourcePos vp = r.pos(value, key.pos);
    if (key.value == "nodes") {
      auto text = r.scalar(value, "nodes", key.pos);
      if (!text) continue;
      auto n = whole_number(*text, 100000);
      if (!n || *n < 1) r.error(vp, "`nodes` must be a whole number of hosts, at least 1, not `" + shorten(*text) + "`");
      else s.nodes = *n;
    } else if (key.value == "partition") {
      if (auto text = r.scalar(value, "partition", key.pos)) s.partition = *text;
    } else if (key.value == "time") {
      if (auto d = r.duration(value, "time", key.pos)) s.time = *d;
    } else if (key.value == "args") {
      if (auto list = r.strings(value, "args", key.pos))
        for (const auto& a : *list) s.args.push_back(a.value);
    }
  }
  f.slurm = At<SlurmSettings>{s, p};
}

}  // namespace

void read_backend_key(YamlReader& r, const std::string& key, const YamlNode& v, const SourcePos& at, RawFile& f) {
  if (key == "slurm") return read_slurm(r, v, at, f);
  auto text = r.scalar(v, "backend", at);
  if (!text) return;
  SourcePos p = r.pos(v, at);
  if (*text == "local") f.backend = At<Backend>{Backend::local, p};
  else if (*text == "slurm") f.backend = At<Backend>{Backend::slurm, p};
  else r.error(p, "`backend` must be `local` or `slurm`, not `" + shorten(*text) + "`");
}

void read_on(YamlReader& r, const YamlNode& v, const SourcePos& at, RawNode& n) {
  auto text = r.scalar(v, "on", at);
  if (!text) return;
  SourcePos p = r.pos(v, at);
  if (!valid_host(*text)) {
    r.error(p, "`on` must be a host's index (0, 1, ...) or its name, not `" + shorten(*text) + "`");
    return;
  }
  if (is_host_index(*text) && !host_index(*text)) {
    r.error(p, "`on: " + shorten(*text) + "`: a host's index is at most " + std::to_string(kMaxHostIndex));
    return;
  }
  n.on = At<std::string>{*text, p};
}

bool is_host_index(std::string_view on) {
  return !on.empty() && on.find_first_not_of("0123456789") == std::string_view::npos;
}

std::optional<std::size_t> host_index(std::string_view on) {
  if (!is_host_index(on)) return std::nullopt;
  std::size_t n = 0;
  for (char c : on) {
    n = n * 10 + std::size_t(c - '0');
    if (n > kMaxHostIndex) return std::nullopt;
  }
  return n;
}

}  // namespace treerun
