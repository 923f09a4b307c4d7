#include "plan/resolve.h"

#include <algorithm>
#include <unordered_map>

#include "spec/names.h"

namespace treerun {
namespace {

class Resolver {
 public:
  Resolver(BuiltPlan& built, Diagnostics& diags) : built_(built), nodes_(built.plan.nodes), diags_(diags) {
    // Of siblings with one name (a duplicate, reported by build_plan) the first is
    // the one a reference finds.
    for (NodeId id = 1; id < nodes_.size(); ++id)
      if (built_.raw[id]->name) by_path_.emplace(nodes_[id].path, id);
  }

  void run() {
    for (NodeId id = 1; id < nodes_.size(); ++id) {
      // A replica's `after` and `stdin` are its group's (which reports a stdin).
      if (is_replica(id)) continue;
      const RawNode& raw = *built_.raw[id];
      resolve_after(id, raw);
      if (raw.stdin_ && raw.stdin_->type == StdinSpec::Type::sources && !nodes_[id].is_replica_group())
        resolve_sources(id, raw);
    }
    for (HostRef& h : built_.hosts)
      if (!(h.node = find(h.from, h.path))) diags_.add(h.pos, "`${host:" + shorten(h.path) + "}`: " + missing(h.from, h.path));
  }

 private:
  bool is_replica(NodeId id) const { return nodes_[*nodes_[id].parent].is_replica_group(); }

  /// The node whose children a relative reference written in FROM names: FROM's
  /// parent (its siblings), or the root for what is written at the top level.
  NodeId base_of(NodeId from) const { return from == 0 ? 0 : *nodes_[from].parent; }

  /// A reference as written in node FROM: "/a/b" from the root, else from FROM's parent.
  std::optional<NodeId> find(NodeId from, const std::string& ref) const {
    std::string key;
    if (!ref.empty() && ref.front() == '/') {
      key = ref.substr(1);
    } else {
      const std::string& base = nodes_[base_of(from)].path;
      key = base.empty() ? ref : base + "/" + ref;
    }
    auto it = by_path_.find(key);
    return it == by_path_.end() ? std::nullopt : std::optional(it->second);
  }

  /// Why REF names nothing, with the likeliest meaning: a node that REF names from
  /// elsewhere in the tree (`db` from inside a group, where `/db` is at the root), else
  /// a name one edit or two away (never FROM itself).
  std::string missing(NodeId from, const std::string& ref) const {
    bool absolute = !ref.empty() && ref.front() == '/';
    std::string text = absolute ? "no node at `" + shorten(ref) + "`"
                       : from == 0 ? "no node `" + shorten(ref) + "` at the top level"
                                   : "no node `" + shorten(ref) + "` next to `" + nodes_[from].name + "`";
    if (nodes_.size() > 10'000) return text;  // a hint is not worth a quadratic check
    std::string tail = absolute ? ref.substr(1) : ref;
    std::vector<std::string> elsewhere;
    for (const auto& n : nodes_)
      if (n.id != 0 && n.id != from && !n.name.empty() &&
          (n.path == tail || (n.path.size() > tail.size() && n.path.ends_with("/" + tail))))
        elsewhere.push_back("`/" + n.path + "`");
    if (elsewhere.size() == 1) return text + " (" + elsewhere[0] + " exists: use " + elsewhere[0] + ")";
    if (elsewhere.size() > 1) {
      std::string list = elsewhere[0] + ", " + elsewhere[1] + (elsewhere.size() > 2 ? ", ..." : "");
      return text + " (" + list + " exist: use one of them)";
    }
    std::vector<std::string> paths;  // candidates, spelt as REF would be
    if (absolute) {
      for (const auto& n : nodes_)
        if (n.id != 0 && n.id != from) paths.push_back("/" + n.path);
    } else if (ref.find('/') == std::string::npos) {
      for (NodeId c : nodes_[base_of(from)].children)
        if (c != from) paths.push_back(nodes_[c].name);
    }
    std::string hint = did_you_mean(ref, std::vector<std::string_view>(paths.begin(), paths.end()));
    if (hint.empty() && !absolute) hint = " (use /a/b for a path from the root)";
    return text + hint;
  }

  /// Whether REF, from FROM, names a sibling whose own `name` was refused (and
  /// reported there): saying that REF names nothing would report it twice. (A source
  /// cannot: a bad name is no source syntax, which spec/read_stdio.cpp reports.)
  bool names_a_bad_sibling(NodeId from, const std::string& ref) const {
    for (NodeId c : nodes_[base_of(from)].children) {
      const RawNode* raw = built_.raw[c];
      if (!raw->name && raw->name_written && *raw->name_written == ref) return true;
    }
    return false;
  }

  void resolve_after(NodeId id, const RawNode& raw) {
    PlanNode& n = nodes_[id];
    for (const auto& a : raw.after) {
      auto target = find(id, a.value);
      if (!target) {
        if (!names_a_bad_sibling(id, a.value)) diags_.add(a.pos, "`after`: " + missing(id, a.value));
      } else if (*target == id) diags_.add(a.pos, "`" + n.name + "` is after itself");
      else if (std::find(n.after.begin(), n.after.end(), *target) == n.after.end()) {
        n.after.push_back(*target);
        if (a.exited) n.after_exited.push_back(*target);
        built_.where[id].after.push_back(a.pos);
      }
    }
  }

  void resolve_sources(NodeId id, const RawNode& raw) {
    for (const auto& s : raw.stdin_->from) {
      auto text = parse_source_text(s.value);
      if (!text) continue;  // reported by spec/read_stdio.cpp
      auto target = find(id, text->path);
      PlanNode& n = nodes_[id];
      SourceRef ref{target.value_or(0), text->is_stderr};
      if (!target) diags_.add(s.pos, "`stdin`: " + missing(id, text->path));
      else if (*target == id) diags_.add(s.pos, "`" + n.name + "` reads its own output");
      else if (nodes_[*target].is_replica_group()) add_replicas_as_sources(id, *target, text->is_stderr, s);
      else if (nodes_[*target].is_group())
        diags_.add(s.pos, "`" + shorten(text->path) + "` is a group: it has no output to read (name one of its nodes)");
      else if (std::find(n.stdin_spec.from.begin(), n.stdin_spec.from.end(), ref) != n.stdin_spec.from.end())
        diags_.add(s.pos, "`stdin` names `" + shorten(s.value) + "` twice");
      else {
        n.stdin_spec.from.push_back(ref);
        built_.where[id].sources.push_back(s.pos);
      }
    }
  }

  /// A replicated source is its copies' outputs, merged line by line.
  void add_replicas_as_sources(NodeId id, NodeId group, bool is_stderr, const At<std::string>& written) {
    PlanNode& n = nodes_[id];
    for (NodeId copy : nodes_[group].children) {
      SourceRef ref{copy, is_stderr};
      if (std::find(n.stdin_spec.from.begin(), n.stdin_spec.from.end(), ref) != n.stdin_spec.from.end()) {
        diags_.add(written.pos, "`stdin` names `" + shorten(written.value) + "` twice");
        return;
      }
      n.stdin_spec.from.push_back(ref);
      built_.where[id].sources.push_back(written.pos);
    }
  }

  BuiltPlan& built_;
  std::vector<PlanNode>& nodes_;
  Diagnostics& diags_;
  std::unordered_map<std::string, NodeId> by_path_;
};

}  // namespace

void resolve_references(BuiltPlan& built, Diagnostics& diags) { Resolver(built, diags).run(); }

}  // namespace treerun
