#include "plan/order.h"

#include <functional>
#include <queue>

namespace treerun {

void order_plan(Plan& plan) {
  // Kahn's algorithm over parent -> child and target -> dependent, smallest id first so
  // that, without `after`, the order is the spec's.
  std::size_t n = plan.nodes.size();
  std::vector<std::vector<NodeId>> next(n);
  std::vector<std::size_t> indegree(n, 0);
  auto edge = [&](NodeId from, NodeId to) { next[from].push_back(to), ++indegree[to]; };
  for (const auto& node : plan.nodes) {
    if (node.parent) edge(*node.parent, node.id);
    for (NodeId t : node.after)  // after an ancestor or descendant: reported by validate
      if (!plan.is_ancestor(t, node.id) && !plan.is_ancestor(node.id, t)) edge(t, node.id);
  }
  std::priority_queue<NodeId, std::vector<NodeId>, std::greater<>> ready;
  for (NodeId i = 0; i < n; ++i)
    if (indegree[i] == 0) ready.push(i);
  std::vector<bool> placed(n, false);
  while (!ready.empty()) {
    NodeId id = ready.top();
    ready.pop();
    plan.start_order.push_back(id);
    placed[id] = true;
    for (NodeId t : next[id])
      if (--indegree[t] == 0) ready.push(t);
  }
  for (NodeId i = 0; i < n; ++i)  // a cycle (reported by validate) leaves some out
    if (!placed[i]) plan.start_order.push_back(i);
  plan.stop_order.assign(plan.start_order.rbegin(), plan.start_order.rend());
}

}  // namespace treerun
