#include "plan/deadlock.h"

#include <string>
#include <tuple>

#include "base/graph.h"

namespace treerun {
namespace {

/// A node as messages name it, in backquotes.
std::string shown(const PlanNode& n) { return "`" + n.label() + "`"; }

/// The wait-for graph over three events per node: S started (its children may start),
/// R ready, D done. An edge u -> v means u cannot happen before v. A cycle is a deadlock.
class WaitGraph {
 public:
  explicit WaitGraph(const BuiltPlan& b) : b_(b), plan_(b.plan), g_(3 * plan_.nodes.size()) {
    for (const auto& n : plan_.nodes) add_node_edges(n);
  }

  void report(Diagnostics& diags) const {
    for (const auto& comp : cyclic_components(g_)) {
      // A cycle through a start event always has an `after` edge in it. A component
      // without one is streams alone (a reads b, b reads a): coprocesses, not a deadlock.
      std::size_t start = comp.front();
      for (std::size_t v : comp)
        if (v % 3 == 0 && (start % 3 != 0 || v < start)) start = v;
      if (start % 3 != 0) continue;
      auto cycle = cycle_through(g_, start, comp);
      if (!cycle.empty()) describe(cycle, diags);
    }
  }

 private:
  static std::size_t S(NodeId n) { return 3 * n; }
  static std::size_t R(NodeId n) { return 3 * n + 1; }
  static std::size_t D(NodeId n) { return 3 * n + 2; }

  void add_node_edges(const PlanNode& n) {
    NodeId id = n.id;
    if (n.parent) {
      const PlanNode& p = plan_.nodes[*n.parent];
      g_[S(id)].push_back(p.cmd ? R(p.id) : S(p.id));  // children start once the parent is ready
    }
    g_[R(id)].push_back(S(id));
    g_[D(id)].push_back(S(id));
    if (!n.cmd)
      for (NodeId c : n.children) {
        // A group is done when its workers are; with none, ready when its daemons are.
        if (plan_.nodes[c].is_worker) g_[D(id)].push_back(D(c));
        if (!n.is_worker) g_[R(id)].push_back(R(c));
      }
    for (NodeId t : n.after)
      if (!plan_.is_ancestor(t, id) && !plan_.is_ancestor(id, t))
        g_[S(id)].push_back(plan_.nodes[t].is_worker ? D(t) : R(t));
    // A consumer reads EOF only when its producer exits, and no byte before it starts.
    // (A producer is always a process: resolve.cpp refuses a group as a source.)
    if (n.is_worker)
      for (const auto& src : n.stdin_spec.from) {
        const PlanNode& p = plan_.nodes[src.node];
        g_[D(id)].push_back(p.is_worker ? D(p.id) : S(p.id));
      }
    // And the other way: a worker that writes into a stream finishes only once its
    // consumers take what it writes. Under lag: block a consumer that has not started
    // takes nothing, so the worker blocks as soon as the pipe and the buffer are full:
    // a consumer `after` its own producer hangs on any output past that. (Under lag:
    // drop treerun drops what that consumer cannot take, and the producer runs on.)
    for (const auto& src : n.stdin_spec.from) {
      const PlanNode& p = plan_.nodes[src.node];
      if (p.is_worker && n.stdin_spec.lag == Lag::block) g_[D(p.id)].push_back(S(id));
    }
  }

  bool reads_from(const PlanNode& c, NodeId p) const {
    for (const auto& s : c.stdin_spec.from)
      if (s.node == p) return true;
    return false;
  }

  /// Why u's node waits for v's node, if through `after` (with its position) or a stream.
  std::string why(std::size_t u, std::size_t v, SourcePos* after_pos, bool* is_after) const {
    const PlanNode& a = plan_.nodes[u / 3];
    const PlanNode& t = plan_.nodes[v / 3];
    *is_after = false;
    if (u % 3 == 0)
      for (std::size_t i = 0; i < a.after.size(); ++i)
        if (a.after[i] == t.id) {
          *is_after = true;
          *after_pos = b_.where[a.id].after[i];
          return shown(a) + " is after " + shown(t);
        }
    if (u % 3 == 2 && v % 3 == 0 && reads_from(t, a.id) && a.is_worker && t.stdin_spec.lag == Lag::block)
      return shown(a) + " writes into " + shown(t) + "'s stdin, which nothing reads before " + shown(t) +
             " starts: past the pipe's buffer " + shown(a) + " blocks and never exits";
    if (u % 3 == 2 && reads_from(a, t.id))
      return shown(a) + " reads " + shown(t) + "'s output" +
             (v % 3 == 2 ? ", which ends only when it exits" : ", which cannot start before it");
    if (u % 3 == 0) return shown(a) + " starts inside " + shown(t);
    if (u % 3 == 2) return shown(a) + " is done only when " + shown(t) + " is";
    return shown(a) + " is ready only when " + shown(t) + " is";
  }

  void describe(const std::vector<std::size_t>& cycle, Diagnostics& diags) const {
    std::string chain, reasons;
    bool only_after = true;
    SourcePos at;
    for (std::size_t i = 0; i < cycle.size(); ++i) {
      std::size_t u = cycle[i], v = cycle[(i + 1) % cycle.size()];
      if (u / 3 == v / 3) continue;  // a node's own events
      SourcePos p;
      bool is_after = false;
      std::string r = why(u, v, &p, &is_after);
      only_after = only_after && is_after;
      if (is_after && (at.line == 0 || std::tie(p.file, p.line, p.col) < std::tie(at.file, at.line, at.col)))
        at = p;
      reasons += (reasons.empty() ? "" : "; ") + r;
      chain += (chain.empty() ? shown(plan_.nodes[u / 3]) : std::string()) + " -> " + shown(plan_.nodes[v / 3]);
    }
    if (at.line == 0) at = plan_.nodes[cycle.front() / 3].pos;
    // Names without backquotes in the chain read better: "a -> b -> a".
    std::string plain;
    for (char c : chain)
      if (c != '`') plain += c;
    if (only_after) diags.add(at, "`after` cycle: " + plain);
    else diags.add(at, "deadlock: " + plain + " (" + reasons + ")");
  }

  const BuiltPlan& b_;
  const Plan& plan_;
  Graph g_;
};

}  // namespace

void report_deadlocks(const BuiltPlan& built, Diagnostics& diags) { WaitGraph(built).report(diags); }

}  // namespace treerun
