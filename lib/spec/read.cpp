#include "spec/read.h"

#include <filesystem>

#include "spec/file_read.h"
#include "spec/names.h"
#include "spec/read_backend.h"
#include "spec/read_settings.h"
#include "spec/yaml_guard.h"
#include "spec/yaml_tree.h"

namespace treerun {
namespace fs = std::filesystem;

namespace {

const std::vector<std::string_view> kTopKeys = {"name",   "timeout", "grace",    "stop_signal", "logs",
                                                "env",    "env_file", "cwd",     "children", "backend", "slurm"};

const std::vector<std::string_view> kNodeKeys = {
    "name",  "cmd",         "children", "include",    "daemon",  "after",    "ready",
    "timeout", "grace",     "stop_signal", "stop",    "on_failure", "restart", "env",
    "env_file", "cwd",      "stdin",    "stdout",     "stderr",  "tty",      "pty",     "replicas",
    "on",       "watch",    "health"};


std::vector<RawNode> read_children(YamlReader& r, const YamlNode& v, const SourcePos& at,
                                   ReadContext& ctx, int depth);

void read_name(YamlReader& r, const YamlNode& v, const SourcePos& at, RawNode& n) {
  n.name_written = v.IsScalar() ? v.Scalar() : "";
  auto s = r.scalar(v, "name", at);
  if (!s) return;
  SourcePos p = r.pos(v, at);
  if (!valid_node_name(*s)) {
    r.error(p, "bad name `" + shorten(*s) + "`: use letters, digits, `_`, `.` and `-`");
    return;
  }
  n.name = At<std::string>{*s, p};
}

/// `include: PATH`: that file's children become this node's children.
void read_include(YamlReader& r, const YamlNode& v, const SourcePos& at, RawNode& n,
                  ReadContext& ctx, int depth) {
  auto s = r.scalar(v, "include", at);
  if (!s) return;
  SourcePos p = r.pos(v, at);
  n.include_pos = p;
  std::string abs = r.absolute(*s);
  std::error_code ec;
  std::string canonical = fs::weakly_canonical(abs, ec).string();
  if (ec) canonical = abs;
  std::string shown = display_path(r.file(), *s);
  for (const auto& c : ctx.chain)
    if (c == canonical) {
      std::string loop;
      for (const auto& name : ctx.chain_names) loop += name + " -> ";
      r.error(p, "include loop: " + loop + shown);
      return;
    }
  if (++ctx.budget.files > kMaxIncludes) {
    // Two includes of a file that includes two of the next... grow exponentially.
    ctx.budget.exhausted = true;
    r.error(p, "the spec is too large: more than " + std::to_string(kMaxIncludes) + " included files");
    return;
  }
  if (int(ctx.chain.size()) >= kMaxIncludeDepth) {
    r.error(p, "includes nest deeper than " + std::to_string(kMaxIncludeDepth) + " files");
    return;
  }
  FileText f = read_regular_file(abs);
  if (f.ok && (ctx.budget.bytes += f.text.size()) > kMaxTotalBytes) f = {false, {}, "over the size budget of all spec files"};
  if (!f.ok) {
    r.error(p, "cannot read include `" + shorten(*s) + "`: " + f.error);
    return;
  }
  n.include = read_spec_text(f.text, shown, fs::path(abs).parent_path().string(), canonical, ctx,
                             depth);
}

/// `replicas: N`, a whole number from 1 to kMaxReplicas.
void read_replicas(YamlReader& r, const YamlNode& v, const SourcePos& at, RawNode& n) {
  auto s = r.scalar(v, "replicas", at);
  if (!s) return;
  SourcePos p = r.pos(v, at);
  bool digits = !s->empty() && s->size() <= 4 && s->find_first_not_of("0123456789") == std::string::npos;
  int count = digits ? std::stoi(*s) : 0;
  if (count < 1 || count > kMaxReplicas)
    r.error(p, "`replicas` must be a whole number from 1 to " + std::to_string(kMaxReplicas) + ", not `" +
                   shorten(*s) + "`");
  else n.replicas = At<int>{count, p};
}

/// `after: [db, {tests: exited}]`: names or paths, each alone or `{NAME: exited}`.
std::vector<RawAfter> read_after(YamlReader& r, const YamlNode& v, const SourcePos& at) {
  std::vector<RawAfter> out;
  SourcePos p = r.pos(v, at);
  if (v.IsScalar()) {
    if (auto s = r.scalar(v, "after", at)) out.push_back({*s, p});
    return out;
  }
  if (!v.IsSequence()) {
    if (r.spend(p)) r.error(p, "`after` must be a name or a list of names, not " + kind_of(v));
    return out;
  }
  for (const auto& item : v) {
    SourcePos ip = r.pos(item, p);
    if (r.budget().exhausted) break;
    if (!item.IsMap()) {
      if (auto s = r.scalar(item, "after", ip)) out.push_back({*s, ip});
      continue;
    }
    auto it = item.begin();
    bool one = item.size() == 1 && it->first.IsScalar() && it->second.IsScalar();
    if (!one || it->second.Scalar() != "exited") {
      if (r.spend(ip))
        r.error(ip, "an `after` entry is a name or {NAME: exited}, not " +
                        (one ? "{" + shorten(it->first.Scalar()) + ": " + shorten(it->second.Scalar()) + "}" : kind_of(item)));
      continue;
    }
    out.push_back({it->first.Scalar(), r.pos(it->first, ip), true});
  }
  return out;
}

/// Keys that shape the tree: name, cmd, children, include, daemon, after, tty, pty, replicas.
bool read_structure_key(YamlReader& r, const std::string& key, const YamlNode& v,
                        const SourcePos& at, RawNode& n, ReadContext& ctx, int depth) {
  if (key == "name") read_name(r, v, at, n);
  else if (key == "cmd") {
    n.cmd_given = true;
    if (auto c = r.command(v, "cmd", at)) {
      n.cmd = At<Command>{*c, r.pos(v, at)};
      // A list's items may hold `${...}`; a string is its shell's to expand.
      if (v.IsSequence()) n.cmd_args = r.texts(v, "cmd", at).value_or(std::vector<RawText>{});
    }
  } else if (key == "children") {
    n.has_children = true;
    n.children = read_children(r, v, at, ctx, depth + 1);
  } else if (key == "include") read_include(r, v, at, n, ctx, depth + 1);
  else if (key == "daemon") {
    if (auto b = r.boolean(v, "daemon", at)) n.daemon = At<bool>{*b, r.pos(v, at)};
  } else if (key == "tty") {
    if (auto b = r.boolean(v, "tty", at)) n.tty = At<bool>{*b, r.pos(v, at)};
  } else if (key == "pty") {
    if (auto b = r.boolean(v, "pty", at)) n.pty = At<bool>{*b, r.pos(v, at)};
  } else if (key == "after") {
    n.after = read_after(r, v, at);
  } else if (key == "replicas") read_replicas(r, v, at, n);
  else if (key == "on") read_on(r, v, at, n);
  else return false;
  return true;
}

/// Reads V into N, a fresh node already in its list (a RawNode is big: not moved).
void read_node(YamlReader& r, const YamlNode& v, ReadContext& ctx, int depth, RawNode& n) {
  n.pos = r.pos(v);
  n.dir = n.defaults.dir = r.dir();
  n.defaults.file = r.file();
  if (!v.IsMap()) {
    if (r.spend(n.pos)) r.error(n.pos, "a node must be a mapping (name: ..., cmd: ...), not " + kind_of(v));
    return;
  }
  if (++ctx.budget.nodes > kMaxNodes && !ctx.budget.exhausted) {
    ctx.budget.exhausted = true;
    r.error(n.pos, "the spec is too large: more than " + std::to_string(kMaxNodes) + " nodes");
  }
  if (depth > kMaxTreeDepth) {
    // Stop reading: deeper is either absurd or an alias that contains itself.
    ctx.budget.exhausted = true;
    r.error(n.pos, "nodes nest deeper than " + std::to_string(kMaxTreeDepth) + " levels");
    return;
  }
  std::size_t before = r.diags().size();
  auto entries = r.entries(v, kNodeKeys, "a node");
  n.unknown_keys = r.diags().size() != before;
  for (auto& [key, value] : entries) {
    if (ctx.budget.exhausted) break;
    if (read_structure_key(r, key.value, value, key.pos, n, ctx, depth)) continue;
    if (read_default_key(r, key.value, value, key.pos, n.defaults)) continue;
    read_behaviour_key(r, key.value, value, key.pos, n);
  }
  if (!n.name_written && !ctx.budget.exhausted) r.error(n.pos, "a node needs a `name`");
}

std::vector<RawNode> read_children(YamlReader& r, const YamlNode& v, const SourcePos& at,
                                   ReadContext& ctx, int depth) {
  std::vector<RawNode> out;
  SourcePos p = r.pos(v, at);
  if (!v.IsSequence()) {
    if (r.spend(p)) r.error(p, "`children` must be a list of nodes, not " + kind_of(v));
    return out;
  }
  // A RawNode is big: no copies as the list grows. Within the node budget in all: a
  // long list that holds itself through an alias would otherwise reserve at every level.
  if (ctx.budget.reserved + v.size() <= kMaxNodes) {
    ctx.budget.reserved += v.size();
    out.reserve(v.size());
  }
  for (const auto& item : v) {
    if (ctx.budget.exhausted) break;
    read_node(r, item, ctx, depth, out.emplace_back());
  }
  return out;
}

void read_top_key(YamlReader& r, const std::string& key, const YamlNode& v, const SourcePos& at,
                  RawFile& f, ReadContext& ctx, int depth) {
  if (read_default_key(r, key, v, at, f.defaults)) return;
  SourcePos p = r.pos(v, at);
  if (key == "name") {
    if (auto s = r.scalar(v, "name", at)) {
      if (valid_node_name(*s)) f.name = At<std::string>{*s, p};
      else r.error(p, "bad name `" + shorten(*s) + "`: use letters, digits, `_`, `.` and `-`");
    }
  } else if (key == "timeout") {
    if (auto d = r.duration(v, "timeout", at)) f.timeout = At<Millis>{*d, p};
  } else if (key == "logs") {
    if (auto t = read_log_target(r, v, at)) f.logs = At<LogTarget>{*t, p};
  } else if (key == "backend" || key == "slurm") {
    read_backend_key(r, key, v, at, f);
  } else if (key == "children") {
    f.children_pos = at;
    f.children = read_children(r, v, at, ctx, depth);
    if (f.children.empty() && v.IsSequence()) r.error(at, "a spec has at least one node");
  }
}

void read_document(YamlReader& r, const YamlNode& doc, RawFile& f, ReadContext& ctx, int depth) {
  SourcePos start{r.file(), 1, 1};
  if (doc.IsNull()) {
    r.error(start, "empty spec: a spec has at least one node");
    return;
  }
  if (!doc.IsMap()) {
    r.error(r.pos(doc, start), "a spec must be a mapping (name:, children:, ...), not " + kind_of(doc));
    return;
  }
  bool has_children = false;
  for (auto& [key, value] : r.entries(doc, kTopKeys, "the spec's top level")) {
    if (ctx.budget.exhausted) break;
    has_children = has_children || key.value == "children";
    read_top_key(r, key.value, value, key.pos, f, ctx, depth);
  }
  if (!has_children && !ctx.budget.exhausted)
    r.error(start, "a spec has at least one node: `children` is missing");
}

/// Line LINENO (1-based) of TEXT, without its newline; empty past the end.
std::string_view line_of(std::string_view text, int lineno) {
  for (int i = 1; i < lineno; ++i) {
    std::size_t nl = text.find('\n');
    if (nl == std::string_view::npos) return {};
    text.remove_prefix(nl + 1);
  }
  return text.substr(0, text.find('\n'));
}

/// What libyaml's words leave out, for the mistakes people make most: a tab in the
/// indentation, and a plain value holding `: ` (`cmd: echo a: b`).
std::string yaml_error_hint(std::string_view text, int lineno, const std::string& msg) {
  std::string_view line = line_of(text, lineno);
  std::size_t indent = line.find_first_not_of(" \t");
  if (line.substr(0, indent).find('\t') != std::string_view::npos || msg.find("tab") != std::string::npos)
    return " (YAML forbids tabs for indentation: indent with spaces)";
  if (msg != "mapping values are not allowed in this context") return "";
  // KEY: VALUE where VALUE holds ": ": suggest the quoted value.
  std::size_t colon = line.find(": ", indent == std::string_view::npos ? 0 : indent);
  if (colon == std::string_view::npos) return " (quote a value that holds `: `)";
  std::string_view key = line.substr(indent, colon - indent), value = line.substr(colon + 2);
  if (key.rfind("- ", 0) == 0) key.remove_prefix(2);
  if (value.find('"') != std::string_view::npos || value.find('\\') != std::string_view::npos ||
      value.size() > 60 || key.size() > 30)
    return " (quote a value that holds `: `)";
  return " (quote a value that holds `: `, as in `" + std::string(key) + ": \"" + std::string(value) + "\"`)";
}

/// Whether LINE is a YAML document marker, `---` or `...`, alone or before a space.
bool is_marker(std::string_view line, std::string_view marker) {
  return line.substr(0, 3) == marker &&
         (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r');
}

/// The line where a second YAML document starts in TEXT, or 0. YamlTree::parse reads
/// the first and drops the rest without a word (its LoadAll can take gigabytes on
/// junk). A `---` or `...` at column 0 is always a marker in YAML, so lines tell: a
/// `---` after the document's content or after another `---`, or content after `...`.
int second_document_line(std::string_view text) {
  bool content = false, opened = false, ended = false;
  int lineno = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++lineno;
    std::size_t first = line.find_first_not_of(" \t\r");
    if (is_marker(line, "---")) {
      if (content || opened || ended) return lineno;
      opened = true;
      std::size_t rest = line.find_first_not_of(" \t\r", 3);
      content = rest != std::string_view::npos && line[rest] != '#';  // `--- {a: 1}`
    } else if (is_marker(line, "...")) {
      ended = true;
    } else if (first == std::string_view::npos || line[first] == '#' || (line[0] == '%' && !content)) {
      continue;  // blank, a comment, a directive (%YAML) before the document
    } else if (ended) {
      return lineno;  // a bare document after `...`
    } else {
      content = true;
    }
  }
  return 0;
}

}  // namespace

std::shared_ptr<RawFile> read_spec_text(std::string_view text, const std::string& file,
                                        const std::string& dir, const std::string& canonical,
                                        ReadContext& ctx, int depth) {
  auto f = std::make_shared<RawFile>();
  f->file = file;
  f->dir = dir;
  f->children_pos = {file, 1, 1};
  if (auto d = check_yaml_depth(text, file)) {
    ctx.diags.add(d->pos, d->message);
    return f;
  }
  std::unique_ptr<YamlTree> tree;
  try {
    tree = YamlTree::parse(text);  // the first document only
  } catch (const YamlSyntaxError& e) {
    SourcePos p{file, e.line + 1, e.column + 1};
    ctx.diags.add(p, "bad YAML: " + std::string(e.what()) + yaml_error_hint(text, p.line, e.problem));
    return f;
  } catch (const std::exception& e) {
    ctx.diags.add({file, 0, 0}, std::string("bad YAML: ") + e.what());
    return f;
  }
  if (int line = second_document_line(text)) {
    ctx.diags.add({file, line, 1}, "a second YAML document: a spec is one document (put another spec in a file of its own)");
    return f;
  }
  ctx.chain.push_back(canonical);
  ctx.chain_names.push_back(file);
  f->defaults.file = file;
  f->defaults.dir = dir;
  YamlReader r(file, dir, ctx.diags, ctx.budget);
  try {
    read_document(r, tree->root(), *f, ctx, depth);
  } catch (const std::exception& e) {
    // A reader may throw on some malformed node we did not foresee; say so, do not crash.
    ctx.diags.add({file, 0, 0}, std::string("cannot read the spec: ") + e.what());
  }
  ctx.chain.pop_back();
  ctx.chain_names.pop_back();
  return f;
}

}  // namespace treerun
