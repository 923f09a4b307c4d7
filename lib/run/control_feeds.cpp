// What the control socket reads of a run as it goes (contract 6.2; treerun(1), A
// RUNNING TREE): each node's last lines and the event log, kept in bounded memory and
// then followed; treerun's own console (what `down` prints remotely); the run's end.
// And RunOptions::on_up, for `up -d`.
//
// The log stream keeps each node's last lines (io/log_stream.h) and the event log hands
// every event to a tap (io/event_log.h), whether or not they are written anywhere, so
// `treerun logs` works with `--logs none` too. A node's line costs its copy into its
// history; the log stream taps its lines only while some client follows them.
#include <fmt/format.h>

#include <algorithm>

#include "run/supervisor.h"

namespace treerun {

/// The histories and taps, once the log stream has every node's source.
void Supervisor::open_feeds() {
  source_node_.assign(log_->sources(), 0);
  for (const Node& n : nodes_) source_node_[static_cast<std::size_t>(n.log_source)] = n.spec->id;
  log_->set_tap([this](int source, std::string_view line, bool note) { on_log_line(source, line, note); });
  events_.set_tap([this](std::string_view event) {
    event_history_.push(event, ++events_seen_);
    event_followers_.tell(event, events_seen_);
  });
}

void Supervisor::on_log_line(int source, std::string_view line, bool note) {
  std::size_t at = source < 0 ? 0 : static_cast<std::size_t>(source);
  if (log_followers_.empty()) log_->tap_lines(false);  // the last follower has gone
  else log_followers_.tell(at, line, log_->last_seq());
  if (note && !console_followers_.empty()) {
    console_text_.assign(line);
    console_text_ += '\n';
    to_console(console_text_);
  }
}

void Supervisor::to_console(std::string_view text) { console_followers_.tell(text); }

void Supervisor::flush_outputs_now() {
  events_.flush();
  log_->flush();
}

/// Lines about the run itself (source 0) are named "/", as the root is in the event log.
control::Subscription Supervisor::logs(const std::vector<std::string>& paths, std::size_t n, bool follow,
                                       std::function<void(std::string_view, std::string_view, std::uint64_t)> line) {
  std::vector<bool> wanted(log_->sources(), paths.empty());
  for (const std::string& path : paths)
    if (auto id = find_node(path))
      for (NodeId m : subtree(*id)) wanted[static_cast<std::size_t>(nodes_[m].log_source)] = true;
  auto label = [this](std::size_t source) -> std::string_view {
    return source == 0 ? std::string_view("/") : std::string_view(plan_[source_node_[source]].path);
  };
  // The last N of each, in the order they came.
  struct Pick {
    std::uint64_t seq;
    std::size_t source, index;
  };
  std::vector<Pick> picks;
  for (std::size_t s = 0; s < wanted.size(); ++s) {
    if (!wanted[s]) continue;
    const LineRing& ring = log_->history(static_cast<int>(s));
    for (std::size_t i = ring.size() > n ? ring.size() - n : 0; i < ring.size(); ++i)
      picks.push_back({ring.seq(i), s, i});
  }
  std::sort(picks.begin(), picks.end(), [](const Pick& a, const Pick& b) { return a.seq < b.seq; });
  for (const Pick& p : picks) line(label(p.source), log_->history(static_cast<int>(p.source)).line(p.index), p.seq);
  if (!follow || end_code_) return {};
  log_->tap_lines(true);
  // A source a `reload` adds later is beyond WANTED: followed when every node is.
  return log_followers_.add([wanted = std::move(wanted), all = paths.empty(), label, line = std::move(line)](
                                std::size_t source, std::string_view text, std::uint64_t seq) {
    if (source < wanted.size() ? wanted[source] : all) line(label(source), text, seq);
  });
}

control::Subscription Supervisor::events(bool follow, std::function<void(std::string_view json, std::uint64_t seq)> event) {
  for (std::size_t i = 0; i < event_history_.size(); ++i) event(event_history_.line(i), event_history_.seq(i));
  if (!follow || end_code_) return {};
  return event_followers_.add(std::move(event));
}

control::Subscription Supervisor::console(std::function<void(std::string_view text)> text) {
  if (end_code_) return {};
  return console_followers_.add(std::move(text));
}

/// Told at once when the run has already ended.
control::Subscription Supervisor::on_end(std::function<void(int code)> ended) {
  if (end_code_) {
    ended(*end_code_);
    return {};
  }
  return end_followers_.add(std::move(ended));
}

/// After `done`: the run's end is told, once, and every follower is let go.
void Supervisor::end_feeds(int code) {
  end_code_ = code;
  end_followers_.tell(code);
  log_followers_.clear();
  event_followers_.clear();
  console_followers_.clear();
  end_followers_.clear();
}

/// Every daemon ready and every other node started (contract 6.3). A node stopped from
/// the control socket counts as up: someone chose it.
bool Supervisor::tree_up() const {
  if (first_code_ || signalled_ || down_) return false;
  if (nodes_[0].cancelled && nodes_[0].cancelled->cause != "done") return false;
  for (const Node& n : nodes_) {
    if (n.is_group() || n.held != Hold::none) continue;
    bool up = n.spec->daemon ? n.run.was_ready || n.done()
                             : n.state != State::pending && n.state != State::awaiting_tty;
    if (!up) return false;
  }
  return true;
}

void Supervisor::consider_up() {
  if (up_told_ || !options_.on_up || !tree_up()) return;
  up_told_ = true;
  flush_outputs_now();  // `up -d` returns: what led there is in the event log
  options_.on_up();
}

}  // namespace treerun
