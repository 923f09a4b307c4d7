#include "base/graph.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <unordered_map>
#include <utility>

namespace treerun {

std::vector<std::vector<std::size_t>> cyclic_components(const Graph& g) {
  constexpr std::size_t none = std::numeric_limits<std::size_t>::max();
  std::size_t n = g.size(), counter = 0;
  std::vector<std::size_t> index(n, none), low(n, 0), stack;
  std::vector<bool> on_stack(n, false);
  std::vector<std::pair<std::size_t, std::size_t>> calls;  // vertex, next edge to follow
  std::vector<std::vector<std::size_t>> out;
  auto visit = [&](std::size_t v) {
    index[v] = low[v] = counter++;
    stack.push_back(v);
    on_stack[v] = true;
    calls.push_back({v, 0});
  };
  for (std::size_t s = 0; s < n; ++s) {
    if (index[s] != none) continue;
    visit(s);
    while (!calls.empty()) {
      std::size_t v = calls.back().first;
      if (calls.back().second < g[v].size()) {
        std::size_t w = g[v][calls.back().second++];
        if (index[w] == none) visit(w);
        else if (on_stack[w]) low[v] = std::min(low[v], index[w]);
        continue;
      }
      calls.pop_back();
      if (!calls.empty()) low[calls.back().first] = std::min(low[calls.back().first], low[v]);
      if (low[v] != index[v]) continue;
      std::vector<std::size_t> comp;
      std::size_t w;
      do {
        w = stack.back();
        stack.pop_back();
        on_stack[w] = false;
        comp.push_back(w);
      } while (w != v);
      if (comp.size() > 1) out.push_back(std::move(comp));
    }
  }
  return out;
}

std::vector<std::size_t> cycle_through(const Graph& g, std::size_t start,
                                       const std::vector<std::size_t>& component) {
  std::unordered_map<std::size_t, std::size_t> parent;  // also "inside the component"
  for (std::size_t v : component) parent.emplace(v, v);
  std::unordered_map<std::size_t, bool> seen;
  std::deque<std::size_t> queue{start};
  seen[start] = true;
  while (!queue.empty()) {
    std::size_t v = queue.front();
    queue.pop_front();
    for (std::size_t w : g[v]) {
      if (!parent.count(w)) continue;
      if (w == start) {
        std::vector<std::size_t> path{v};
        while (path.back() != start) path.push_back(parent[path.back()]);
        std::reverse(path.begin(), path.end());
        return path;
      }
      if (seen[w]) continue;
      seen[w] = true;
      parent[w] = v;
      queue.push_back(w);
    }
  }
  return {};
}

}  // namespace treerun
