#include "control/print.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "base/units.h"

namespace treerun::control {
namespace {

using Row = std::vector<std::string>;

/// ROWS (the first is the header) as columns as wide as their widest cell, two spaces
/// apart; the last column is not padded.
std::string table(const std::vector<Row>& rows) {
  std::vector<std::size_t> width;
  for (const Row& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], row[i].size());
    }
  std::string out;
  for (const Row& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      bool last = i + 1 == row.size();
      out += last ? row[i] : fmt::format("{:<{}}  ", row[i], width[i]);
    }
    out += '\n';
  }
  return out;
}

std::string list(const std::vector<std::string>& nodes) {
  std::string out;
  for (const std::string& n : nodes) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

std::string short_duration(double seconds) {
  long s = std::lround(std::max(0.0, seconds));
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h{:02}m", s / 3600, s % 3600 / 60);
  return fmt::format("{}d{:02}h", s / 86400, s % 86400 / 3600);
}

std::string runs_table(const std::vector<LiveRun>& runs) {
  std::vector<Row> rows{{"NAME", "PID", "UPTIME", "RUNNING", "SPEC"}};
  for (const LiveRun& r : runs) {
    if (r.status)
      rows.push_back({r.name, std::to_string(r.status->pid), short_duration(r.status->uptime),
                      std::to_string(r.status->running), r.status->spec});
    else
      rows.push_back({r.name, "?", "?", "?", "(" + r.problem + ")"});
  }
  return table(rows);
}

std::string names_of(const std::vector<LiveRun>& runs) {
  std::string out;
  for (const LiveRun& r : runs) out += r.name + '\n';
  return out;
}

std::string nodes_table(const std::vector<NodeStatus>& nodes) {
  std::vector<Row> rows{{"PATH", "KIND", "STATE", "PID", "UPTIME", "RESTARTS", "EXIT", "OUTCOME"}};
  for (const NodeStatus& n : nodes) {
    std::string exit = n.signal ? *n.signal : n.code ? std::to_string(*n.code) : "-";
    rows.push_back({n.path, n.kind, n.state, n.pid ? std::to_string(*n.pid) : "-",
                    n.uptime ? short_duration(*n.uptime) : "-", std::to_string(n.restarts), exit,
                    n.outcome.value_or("-")});
  }
  // A HOST column after STATE under a backend of several hosts (the pid is srun's, on this one).
  bool hosts = std::any_of(nodes.begin(), nodes.end(), [](const NodeStatus& n) { return n.host.has_value(); });
  if (hosts) {
    rows[0].insert(rows[0].begin() + 3, "HOST");
    for (std::size_t i = 0; i < nodes.size(); ++i) rows[i + 1].insert(rows[i + 1].begin() + 3, nodes[i].host.value_or("-"));
  }
  return table(rows);
}

std::string acted_text(Cmd cmd, int signal, const std::vector<std::string>& nodes) {
  switch (cmd) {
    case Cmd::stop: return "stopped " + list(nodes);
    case Cmd::start: return "started " + list(nodes);
    case Cmd::restart: return "restarted " + list(nodes);
    case Cmd::signal: return fmt::format("sent {} to {}", signal_name(signal), list(nodes));
    default: return "done";
  }
}

}  // namespace treerun::control
