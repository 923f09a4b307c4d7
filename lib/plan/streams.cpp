#include "plan/streams.h"

#include <map>

namespace treerun {
namespace {

/// A stream's bytes go to its consumers (and the log); a file or the terminal too
/// would need a tee nobody asked for.
void check_source_output(const BuiltPlan& b, const StreamWiring& w, const OutputSpec& out,
                         Diagnostics& diags) {
  if (out.type == OutputSpec::Type::log) return;
  const PlanNode& p = b.plan.nodes[w.source.node];
  const char* stream = w.source.is_stderr ? "stderr" : "stdout";
  const char* what = out.type == OutputSpec::Type::inherit     ? "inherit"
                     : out.type == OutputSpec::Type::null      ? "null"
                     : out.type == OutputSpec::Type::as_stdout ? "its stdout (`stderr: stdout`)"
                                                               : "a file";
  const NodeWhere& where = b.where[p.id];
  diags.add(w.source.is_stderr ? where.stderr_ : where.stdout_,
            "`" + p.name + "`'s " + stream + " goes to " + what + ", so it cannot also feed `" +
                b.plan.nodes[w.consumers.front()].path + "` (leave `" + stream + "` out or set it to log)");
}

}  // namespace

void wire_streams(Plan& plan) {
  // Ordered by producer, then stdout before stderr; consumers in node order.
  std::map<std::pair<NodeId, bool>, StreamWiring> by_source;
  for (const auto& n : plan.nodes)
    for (const auto& src : n.stdin_spec.from) {
      auto& w = by_source[{src.node, src.is_stderr}];
      w.source = src;
      w.consumers.push_back(n.id);
    }
  plan.streams.clear();
  for (auto& [key, w] : by_source) {
    const PlanNode& p = plan.nodes[w.source.node];
    const OutputSpec& out = w.source.is_stderr ? p.stderr_spec : p.stdout_spec;
    w.to_log = out.type == OutputSpec::Type::log && out.log_explicit;
    bool each_reads_only_this = true;  // and waits for it: lag block
    for (NodeId c : w.consumers)
      each_reads_only_this = each_reads_only_this && plan.nodes[c].stdin_spec.from.size() == 1 &&
                             plan.nodes[c].stdin_spec.lag == Lag::block;
    using Carrier = StreamWiring::Carrier;
    if (!each_reads_only_this) w.carrier = Carrier::relay;
    else if (w.consumers.size() == 1 && !w.to_log) w.carrier = Carrier::pipe;
    else w.carrier = Carrier::splice;
    plan.streams.push_back(std::move(w));
  }
}

void classify_streams(BuiltPlan& b, Diagnostics& diags) {
  wire_streams(b.plan);
  for (const StreamWiring& w : b.plan.streams) {
    const PlanNode& p = b.plan.nodes[w.source.node];
    check_source_output(b, w, w.source.is_stderr ? p.stderr_spec : p.stdout_spec, diags);
  }
}

}  // namespace treerun
