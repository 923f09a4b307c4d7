// The checks that need the whole, resolved plan. See plan_build.h.
#include <map>
#include <tuple>
#include <string>

#include "base/graph.h"
#include "plan/build.h"

namespace treerun {
namespace {

std::string shown(const PlanNode& n) { return "`" + (n.path.empty() ? "/" : n.path) + "`"; }

/// `after` an ancestor or a descendant waits for itself: the ancestor is done or ready
/// only through this node, and a descendant starts only once this node has.
void check_lineage(const BuiltPlan& b, Diagnostics& diags) {
  const Plan& plan = b.plan;
  for (const auto& n : plan.nodes)
    for (std::size_t i = 0; i < n.after.size(); ++i) {
      const PlanNode& t = plan.nodes[n.after[i]];
      if (plan.is_ancestor(t.id, n.id))
        diags.add(b.where[n.id].after[i], shown(n) + " is after " + shown(t) +
                                              ", which contains it: it would wait for itself");
      else if (plan.is_ancestor(n.id, t.id))
        diags.add(b.where[n.id].after[i], shown(n) + " is after " + shown(t) +
                                              ", which is inside it and starts only after it");
    }
}

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

  bool is_worker_process(const PlanNode& n) const { return n.cmd && !n.daemon; }

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
    if (n.is_worker)
      for (const auto& src : n.stdin_spec.from) {
        const PlanNode& p = plan_.nodes[src.node];
        g_[D(id)].push_back(is_worker_process(p) ? D(p.id) : S(p.id));
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

void check_inherit(const BuiltPlan& b, Diagnostics& diags) {
  const PlanNode* first = nullptr;
  for (const auto& n : b.plan.nodes) {
    if (n.stdin_spec.type == StdinSpec::Type::inherit) {
      if (!first) first = &n;
      else diags.add(b.where[n.id].stdin_, "only one node can read treerun's stdin, and " + shown(*first) +
                                               " (line " + std::to_string(b.where[first->id].stdin_.line) +
                                               ") already does");
    }
    if (n.stdout_spec.type == OutputSpec::Type::inherit && b.plan.logs.type == LogTarget::Type::stdout_)
      diags.add(b.where[n.id].stdout_,
                shown(n) + " has `stdout: inherit`, but the log stream goes to stdout too: set `logs: stderr`" +
                    (b.logs_from_cli ? " (or `--logs stderr`)" : ""));
  }
}

/// A tty node holds the terminal: its input and output are the terminal's, not a stream's.
void check_tty(const BuiltPlan& b, Diagnostics& diags) {
  for (const auto& n : b.plan.nodes) {
    if (!n.tty) continue;
    if (!n.stdin_spec.from.empty())
      diags.add(b.where[n.id].tty, shown(n) + " has `tty: true`: it reads the terminal, not a stream (`stdin`)");
    for (bool err : {false, true})
      if (const auto* w = b.plan.stream_of({n.id, err}))
        diags.add(b.where[n.id].tty, shown(n) + " has `tty: true`: its output goes to the terminal, so it cannot feed " +
                                         shown(b.plan.nodes[w->consumers.front()]));
  }
}

/// A `log:` probe reads the lines treerun reads. A node whose stdout and stderr both go
/// elsewhere (null, a file, inherit, the terminal, only into a stream) would wait for
/// its timeout and fail, whatever it printed.
void check_log_probe(const BuiltPlan& b, Diagnostics& diags) {
  for (const auto& n : b.plan.nodes) {
    if (n.ready.type != Probe::Type::log) continue;
    auto read_by_treerun = [&](const OutputSpec& out, bool is_stderr) {
      if (n.tty || out.type != OutputSpec::Type::log) return false;
      const StreamWiring* w = b.plan.stream_of({n.id, is_stderr});
      return !w || w->to_log;
    };
    if (read_by_treerun(n.stdout_spec, false) || read_by_treerun(n.stderr_spec, true)) continue;
    diags.add(n.ready.pos, shown(n) + "'s `log:` probe can never match: neither its stdout nor its stderr " +
                               (n.tty ? "reaches treerun (`tty: true`)" : "goes to the log (set one to `log`)"));
  }
}

}  // namespace

void validate_plan(const BuiltPlan& built, Diagnostics& diags) {
  check_lineage(built, diags);
  WaitGraph(built).report(diags);
  check_inherit(built, diags);
  check_tty(built, diags);
  check_log_probe(built, diags);
}

}  // namespace treerun
