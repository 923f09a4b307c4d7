#include "plan/plan.h"

#include <algorithm>

namespace treerun {
bool Plan::is_ancestor(NodeId a, NodeId b) const {
  for (auto p = nodes[b].parent; p; p = nodes[*p].parent)
    if (*p == a) return true;
  return false;
}

std::optional<NodeId> Plan::find(const std::string& path) const {
  if (nodes.empty()) return std::nullopt;
  NodeId at = 0;
  std::string_view rest = path;
  while (!rest.empty()) {
    std::string_view step = rest.substr(0, rest.find('/'));
    rest.remove_prefix(std::min(rest.size(), step.size() + 1));
    bool found = false;
    for (NodeId c : nodes[at].children)
      if (nodes[c].name == step) {
        at = c, found = true;
        break;
      }
    if (!found) return std::nullopt;
  }
  return at;
}

const StreamWiring* Plan::stream_of(SourceRef source) const {
  for (const auto& s : streams)
    if (s.source == source) return &s;
  return nullptr;
}

}  // namespace treerun
