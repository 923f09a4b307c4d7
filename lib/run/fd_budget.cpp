#include "run/fd_budget.h"

#include <dirent.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <numeric>
#include <vector>

#include <fmt/format.h>

namespace treerun {
namespace {

/// Short-lived descriptors beside those counted: probes' sockets and pipes, control
/// clients, the pipes of a stop command, a file output between its open and the spawn.
constexpr std::size_t kTransient = 32;

std::size_t open_now() {
  std::size_t n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return 16;  // no /proc: what a run opens before its nodes, about
  while (dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n - 1;  // less the one reading the folder
}

bool is_stream_source(const Plan& plan, NodeId id, bool is_stderr) {
  return plan.stream_of({id, is_stderr}) != nullptr;
}

/// The read ends treerun holds for a node's outputs (start.cpp's wire_stdio): one pipe
/// for both when both go to the log, one terminal for a pty node.
std::size_t node_descriptors(const Plan& plan, const PlanNode& n) {
  if (n.is_group()) return 0;
  if (n.pty) return 1;
  bool out_log = n.stdout_spec.type == OutputSpec::Type::log && !is_stream_source(plan, n.id, false);
  bool err_log = n.stderr_spec.type == OutputSpec::Type::log && !is_stream_source(plan, n.id, true);
  bool merged = n.stderr_spec.type == OutputSpec::Type::as_stdout || (out_log && err_log);
  return (out_log ? 1 : 0) + (err_log && !merged ? 1 : 0);
}

/// What treerun holds for a node from its spawn's submit to its collect: the child's
/// ends of its log pipes, or its terminal, and the output files it opened.
std::size_t child_ends(const Plan& plan, const PlanNode& n) {
  if (n.is_group()) return 0;
  std::size_t files = (n.stdout_spec.type == OutputSpec::Type::file ? 1 : 0) +
                      (n.stderr_spec.type == OutputSpec::Type::file ? 1 : 0);
  return node_descriptors(plan, n) + (n.pty ? 0 : files);
}

/// A round of starts (kStartBatch spawns) holds its nodes' child ends at once: the most
/// that any kStartBatch of NODES hold.
template <typename Nodes>
std::size_t round_descriptors(const Plan& plan, const Nodes& nodes) {
  std::vector<std::size_t> ends;
  for (const PlanNode& n : nodes) ends.push_back(child_ends(plan, n));
  std::size_t k = std::min<std::size_t>(ends.size(), kStartBatch);
  std::partial_sort(ends.begin(), ends.begin() + static_cast<std::ptrdiff_t>(k), ends.end(), std::greater<>());
  return std::accumulate(ends.begin(), ends.begin() + static_cast<std::ptrdiff_t>(k), std::size_t{0});
}

/// A stream's pipe, and for a fan-out or a relay one more pipe per consumer and the log copy's.
std::size_t stream_descriptors(const StreamWiring& s) {
  if (s.carrier == StreamWiring::Carrier::pipe) return 2;
  return 2 + 2 * s.consumers.size() + (s.to_log ? 2 : 0);
}

/// NEEDED beside this process's limits.
DescriptorBudget with_limits(std::size_t needed) {
  DescriptorBudget b;
  b.needed = needed;
  struct rlimit lim {};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  b.limit = lim.rlim_cur == RLIM_INFINITY ? SIZE_MAX : static_cast<std::size_t>(lim.rlim_cur);
  b.hard = lim.rlim_max == RLIM_INFINITY ? SIZE_MAX : static_cast<std::size_t>(lim.rlim_max);
  return b;
}

std::string problem(const DescriptorBudget& b, const std::string& what) {
  if (b.needed <= b.limit) return "";
  return fmt::format(
      "{}: {} up to {} open files in treerun (a log pipe per node, the streams' pipes, "
      "and its own), more than its limit of {} (RLIMIT_NOFILE; hard limit {}): raise the hard limit "
      "(ulimit -Hn, LimitNOFILE=), or send outputs that need no pipe (`null`, a file)",
      std::strerror(EMFILE), what, b.needed, b.limit, b.hard);
}

}  // namespace

DescriptorBudget descriptor_budget(const Plan& plan) {
  std::size_t needed = open_now() + kTransient + round_descriptors(plan, plan.nodes);
  for (const PlanNode& n : plan.nodes) needed += node_descriptors(plan, n);
  for (const StreamWiring& s : plan.streams) needed += stream_descriptors(s);
  return with_limits(needed);
}

std::string descriptor_problem(const Plan& plan) {
  return problem(descriptor_budget(plan), fmt::format("{} nodes need", plan.nodes.size() - 1));
}

std::string descriptor_problem_adding(const Plan& plan, std::span<const NodeId> added) {
  // What runs holds its descriptors now; what a reload restarts gives its own back first.
  std::size_t needed = open_now() + kTransient;
  std::vector<bool> is_added(plan.nodes.size());
  std::vector<std::reference_wrapper<const PlanNode>> nodes;
  for (NodeId id : added) {
    is_added[id] = true;
    needed += node_descriptors(plan, plan[id]);
    nodes.emplace_back(plan[id]);
  }
  needed += round_descriptors(plan, nodes);
  for (const StreamWiring& s : plan.streams)
    if (is_added[s.source.node]) needed += stream_descriptors(s);
  return problem(with_limits(needed),
                 fmt::format("the {} node{} it adds need, with what runs now,", added.size(), added.size() == 1 ? "" : "s"));
}

}  // namespace treerun
