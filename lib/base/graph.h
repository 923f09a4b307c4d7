// Cycle finding on small directed graphs (adjacency lists), without recursion so a
// hostile spec with a long chain cannot overflow the stack.
#pragma once

#include <cstddef>
#include <vector>

namespace treerun {

using Graph = std::vector<std::vector<std::size_t>>;

/// The strongly connected components with more than one vertex (Tarjan, iterative),
/// each a list of vertices; every one of them holds a cycle.
std::vector<std::vector<std::size_t>> cyclic_components(const Graph& g);

/// A shortest cycle through START using only vertices in COMPONENT: START, v1, ... vk
/// (the edge vk -> START closes it). Empty if there is none.
std::vector<std::size_t> cycle_through(const Graph& g, std::size_t start,
                                       const std::vector<std::size_t>& component);

}  // namespace treerun
