// The summary `up` prints at the end (treerun(1), SEMANTICS › Summary): each node's outcome, status, run
// time and how it was stopped; then each failure with the last lines of its output.
#include <fmt/format.h>

#include "base/units.h"
#include "run/supervisor.h"

namespace treerun {
namespace {

constexpr std::size_t kTailLines = 5;

/// The node's row: its outcome, or where it stands if it has none yet.
std::string outcome_of(const Node& n) {
  if (n.outcome == Outcome::none) return n.run.proc.pid > 0 ? "running" : "not started";
  return name(n.outcome);
}

/// Ignored: the failure was recorded and its policy was `ignore`.
bool ignored(const Node& n) { return !n.failure_reason.empty() && n.spec->on_failure == OnFailure::ignore; }

/// What the summary adds to a failure: whether its policy let the run carry on.
const char* carried(const Node& n) {
  if (ignored(n)) return " (ignored)";
  return n.spec->on_failure == OnFailure::continue_ ? " (on_failure: continue)" : "";
}

std::string seconds(Clock::duration d) {
  return fmt::format("{:.2f}s", std::chrono::duration<double>(d).count());
}

std::vector<std::string> last_lines(const std::string& tail) {
  std::vector<std::string> lines;
  std::size_t end = tail.size();
  if (end && tail[end - 1] == '\n') --end;
  while (end > 0 && lines.size() < kTailLines) {
    std::size_t start = tail.rfind('\n', end - 1);
    start = start == std::string::npos ? 0 : start + 1;
    lines.insert(lines.begin(), tail.substr(start, end - start));
    end = start ? start - 1 : 0;
  }
  return lines;
}

}  // namespace

std::string Supervisor::summary_table() const {
  std::string out = "\nsummary:\n";
  std::size_t width = 4;
  for (const Node& n : nodes_) width = std::max(width, n.spec->path.size());
  out += fmt::format("  {:<{}}  {:<16} {:<10} {:>8}  {}\n", "NODE", width, "OUTCOME", "STATUS", "TIME", "STOP");
  for (const Node& n : nodes_) {
    if (n.spec->id == 0 || n.spec->is_group() || n.removed) continue;
    const Incarnation& p = n.run;
    std::string status = p.status ? p.status->describe() : "-";
    std::string time = p.status ? seconds(p.ended - p.started) : "-";
    std::string stop;
    // A stop sent after the leader's exit addressed what it left: no time to show.
    if (p.stop_step_at_exit >= 0 && p.status)
      stop = fmt::format("{}, took {}", p.stop_how, seconds(p.ended - p.stop_sent_at));
    else if (p.stop_sent())
      stop = p.stop_how + " to what it left";
    out += fmt::format("  {:<{}}  {:<16} {:<10} {:>8}  {}\n", n.spec->path, width, outcome_of(n), status, time, stop);
  }
  return out;
}

/// Each failure with its last lines, what `lag: drop` lost, what was skipped and why.
std::string Supervisor::summary_failures() const {
  std::string out;
  for (const Node& n : nodes_) {
    if (n.failure_reason.empty() || (n.spec->is_group() && n.spec->id != 0)) continue;
    if (n.spec->id == 0) continue;
    if (out.empty()) out += "failures:\n";
    out += fmt::format("  {}: {}{}\n", n.spec->path, n.failure_reason, carried(n));
    for (const auto& line : last_lines(n.tail))
      if (!launcher_.backend_line(line)) out += fmt::format("    | {}\n", line);
  }
  for (const Node& n : nodes_)
    for (const auto& [source, dropped] : n.lag_dropped)
      out += fmt::format("  {}: lost {} bytes of {} (lag: drop)\n", n.spec->path, dropped, source);
  for (const Node& n : nodes_)
    if (n.outcome == Outcome::not_started && n.failure_reason.empty() && !n.skip_reason.empty() &&
        n.skip_reason != "not started: cancelled")
      out += fmt::format("  {}: {}\n", n.spec->path, n.skip_reason);
  return out;
}

/// The summary at the end; under --quiet only the failures, if any, on stderr: a quiet
/// run that fails still says why.
void Supervisor::print_summary(int code, double duration) {
  std::string failures = summary_failures();
  if (options_.quiet) {
    if (failures.empty()) return;
    std::string out = failures + fmt::format("exit code {}\n", code);
    stderr_->append(out);
    to_console(out);  // what `down` prints remotely
    return;
  }
  std::string out = summary_table() + failures + fmt::format("exit code {} after {:.2f}s\n", code, duration);
  // The summary is treerun's own: never on a stdout that carries a node's raw data.
  bool to_stdout = options_.logs.type == LogTarget::Type::stdout_;
  for (const PlanNode& spec : plan_.nodes)
    if (spec.stdout_spec.type == OutputSpec::Type::inherit) to_stdout = false;
  // Written as the output takes it (a stalled or broken one drops it, counted).
  (to_stdout ? stdout_ : stderr_)->append(out);
  to_console(out);  // what `down` prints remotely
}

}  // namespace treerun
