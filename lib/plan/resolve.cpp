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
      const RawNode& raw = *built_.raw[id];
      resolve_after(id, raw);
      if (raw.stdin_ && raw.stdin_->type == StdinSpec::Type::sources) resolve_sources(id, raw);
    }
  }

 private:
  /// A reference as written in node FROM: "/a/b" from the root, else from FROM's parent.
  std::optional<NodeId> find(NodeId from, const std::string& ref) const {
    std::string key;
    if (!ref.empty() && ref.front() == '/') {
      key = ref.substr(1);
    } else {
      const std::string& base = nodes_[*nodes_[from].parent].path;
      key = base.empty() ? ref : base + "/" + ref;
    }
    auto it = by_path_.find(key);
    return it == by_path_.end() ? std::nullopt : std::optional(it->second);
  }

  /// Why REF names nothing, with a sibling one edit or two away, or else the path of
  /// a node of that name elsewhere.
  std::string missing(NodeId from, const std::string& ref) const {
    if (!ref.empty() && ref.front() == '/') return "no node at `" + shorten(ref) + "`";
    const PlanNode& parent = nodes_[*nodes_[from].parent];
    std::string hint;
    if (ref.find('/') == std::string::npos && parent.children.size() <= 1000) {
      std::vector<std::string_view> names;
      for (NodeId c : parent.children) names.push_back(nodes_[c].name);
      hint = did_you_mean(ref, names);
    }
    if (hint.empty() && nodes_.size() <= 10'000)  // the same name elsewhere?
      for (const auto& n : nodes_)
        if (n.name == ref && n.id != from) {
          hint = " (did you mean `/" + n.path + "`?)";
          break;
        }
    return "no node `" + shorten(ref) + "` next to `" + nodes_[from].name + "`" +
           (hint.empty() ? " (use /a/b for a path from the root)" : hint);
  }

  void resolve_after(NodeId id, const RawNode& raw) {
    PlanNode& n = nodes_[id];
    for (const auto& a : raw.after) {
      auto target = find(id, a.value);
      if (!target) diags_.add(a.pos, "`after`: " + missing(id, a.value));
      else if (*target == id) diags_.add(a.pos, "`" + n.name + "` is after itself");
      else if (std::find(n.after.begin(), n.after.end(), *target) == n.after.end()) {
        n.after.push_back(*target);
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

  BuiltPlan& built_;
  std::vector<PlanNode>& nodes_;
  Diagnostics& diags_;
  std::unordered_map<std::string, NodeId> by_path_;
};

}  // namespace

void resolve_references(BuiltPlan& built, Diagnostics& diags) { Resolver(built, diags).run(); }

}  // namespace treerun
