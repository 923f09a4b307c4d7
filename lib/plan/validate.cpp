#include "plan/validate.h"

#include <string>

#include "plan/deadlock.h"

namespace treerun {
namespace {

/// A node as messages name it, in backquotes.
std::string shown(const PlanNode& n) { return "`" + n.label() + "`"; }

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

/// `{NAME: exited}` waits for a worker's exit: a daemon (or a group of daemons) never
/// exits on its own, so nothing would ever start.
void check_exited(const BuiltPlan& b, Diagnostics& diags) {
  const Plan& plan = b.plan;
  for (const auto& n : plan.nodes)
    for (std::size_t i = 0; i < n.after.size(); ++i) {
      const PlanNode& t = plan.nodes[n.after[i]];
      if (!n.waits_for_exit(t.id) || t.is_worker) continue;
      std::string what = t.is_group() ? "a group of daemons" : "a daemon";
      diags.add(b.where[n.id].after[i], "`{" + t.name + ": exited}`: " + shown(t) + " is " + what +
                                            ", which never exits on its own (use `after: [" + t.name +
                                            "]` to wait for it to be ready)");
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

/// A `pty: true` node's one terminal carries both its outputs to the log stream: it
/// cannot also hold the tty lock, feed a stream, or send an output anywhere else.
void check_pty(const BuiltPlan& b, Diagnostics& diags) {
  for (const auto& n : b.plan.nodes) {
    if (!n.pty) continue;
    const SourcePos& at = b.where[n.id].pty;
    if (n.tty) diags.add(at, shown(n) + " has both `pty: true` and `tty: true`: keep one");
    for (bool err : {false, true})
      if (const auto* w = b.plan.stream_of({n.id, err}))
        diags.add(at, shown(n) + " has `pty: true`: its output is a terminal read into the log, so it cannot feed " +
                          shown(b.plan.nodes[w->consumers.front()]));
    auto elsewhere = [](const OutputSpec& out) {
      return out.type != OutputSpec::Type::log && out.type != OutputSpec::Type::as_stdout;
    };
    if (elsewhere(n.stdout_spec) || elsewhere(n.stderr_spec))
      diags.add(at, shown(n) + " has `pty: true`: its stdout and stderr are the terminal, read into the log; drop its `" +
                        (elsewhere(n.stdout_spec) ? "stdout" : "stderr") + "` setting");
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
  check_exited(built, diags);
  report_deadlocks(built, diags);
  check_inherit(built, diags);
  check_tty(built, diags);
  check_pty(built, diags);
  check_log_probe(built, diags);
}

}  // namespace treerun
