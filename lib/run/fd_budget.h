// treerun holds descriptors for what runs (a node's log pipe, its terminal, a stream's
// pipes), and the hard RLIMIT_NOFILE caps them all. A tree that cannot fit is refused
// before anything starts, with the numbers, instead of failing at its N-thousandth node
// minutes into the start.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "plan/plan.h"

namespace treerun {

/// Spawns per turn of the loop: a few milliseconds, so signals and deadlines are heard.
/// A round of them is submitted before the first is collected, so their child ends are
/// open at once (counted below).
constexpr int kStartBatch = 32;

struct DescriptorBudget {
  std::size_t needed = 0;  // what PLAN's nodes and streams may hold at once, and a reserve
  std::size_t limit = 0;   // what this process may have open (RLIMIT_NOFILE, soft, as raised)
  std::size_t hard = 0;    // the hard limit, which only a privileged process can raise
};

/// An upper bound: every node running at once, each of its log pipes open; plus what
/// treerun has open now (its outputs, loop, guardian, spawners), a round of starts' child
/// ends, and room for short-lived ones (probes, control clients).
DescriptorBudget descriptor_budget(const Plan& plan);

/// "" when PLAN fits; otherwise what to say (treerun's own failure, 125).
std::string descriptor_problem(const Plan& plan);

/// "" when a reload that adds ADDED (ids in PLAN, the merged plan) fits beside what is
/// open now; otherwise why the reload is refused.
std::string descriptor_problem_adding(const Plan& plan, std::span<const NodeId> added);

}  // namespace treerun
