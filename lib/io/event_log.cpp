#include "io/event_log.h"

#include <fmt/format.h>

#include "base/units.h"

namespace treerun {

std::string json_string(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) out += fmt::format("\\u{:04x}", c);
        else out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

namespace {
constexpr std::size_t kFlushAt = 4096;

/// The root's path is empty; the log names it "/".
std::string node_field(std::string_view node) { return ",\"node\":" + json_string(node.empty() ? "/" : node); }
}  // namespace

/// One whole line to the outlet: kept or dropped whole, written at flush().
void EventLog::write(std::string_view event, const std::string& fields) {
  if (!out_ && !tap_) return;
  double t = std::chrono::duration<double>(Clock::now() - start_).count();
  line_.clear();
  fmt::format_to(std::back_inserter(line_), "{{\"t\":{:.6f},\"event\":\"{}\"{}}}", t, event, fields);
  if (tap_) tap_(line_);
  if (!out_) return;
  line_ += '\n';
  out_->append(line_);
  // A burst (a large start-up) is written as it goes, a page at a time, not only at
  // the end of the loop's turn: whoever follows the log sees it happen.
  if (out_->pending() >= kFlushAt) out_->flush();
}

void EventLog::flush() {
  if (out_) out_->flush();
}

void EventLog::spawn(std::string_view node, int pid, int pgid, std::string_view host) {
  std::string fields = node_field(node) + fmt::format(",\"pid\":{},\"pgid\":{}", pid, pgid);
  if (!host.empty()) fields += ",\"host\":" + json_string(host);
  write("spawn", fields);
}

void EventLog::ready(std::string_view node) { write("ready", node_field(node)); }

void EventLog::stop(std::string_view node, std::string_view how) {
  write("stop", node_field(node) + ",\"how\":" + json_string(how));
}

void EventLog::kill(std::string_view node) { write("kill", node_field(node)); }

void EventLog::exit(std::string_view node, int pid, std::optional<int> code, std::optional<int> signal,
                    std::string_view outcome) {
  // pid 0: no process ever existed (fork itself failed); the node still gets its exit.
  std::string fields = node_field(node) + ",\"pid\":" + (pid > 0 ? std::to_string(pid) : std::string("null"));
  fields += ",\"code\":" + (code ? std::to_string(*code) : std::string("null"));
  fields += ",\"signal\":" + (signal ? json_string(signal_name(*signal)) : std::string("null"));
  fields += ",\"outcome\":" + json_string(outcome);
  write("exit", fields);
}

void EventLog::cancel(std::string_view node, std::string_view cause, std::string_view by) {
  std::string fields = node_field(node) + ",\"cause\":" + json_string(cause);
  if (!by.empty()) fields += ",\"by\":" + json_string(by);
  write("cancel", fields);
}

void EventLog::lag(std::string_view node, std::string_view source, unsigned long long dropped_bytes) {
  write("lag", node_field(node) + ",\"source\":" + json_string(source) +
                   fmt::format(",\"dropped_bytes\":{}", dropped_bytes));
}

void EventLog::restart(std::string_view node, int attempt, std::string_view cause, std::string_view path,
                       std::string_view reason) {
  std::string fields = node_field(node) + fmt::format(",\"attempt\":{},\"cause\":", attempt) + json_string(cause);
  if (!path.empty()) fields += ",\"path\":" + json_string(path);
  if (!reason.empty()) fields += ",\"reason\":" + json_string(reason);
  write("restart", fields);
}

void EventLog::control(std::string_view cmd, const std::vector<std::string>& nodes, std::optional<int> sig, long uid,
                       long pid) {
  std::string fields = ",\"cmd\":" + json_string(cmd) + ",\"nodes\":[";
  for (std::size_t i = 0; i < nodes.size(); ++i) fields += (i ? "," : "") + json_string(nodes[i]);
  fields += ']';
  if (sig) fields += ",\"signal\":" + json_string(signal_name(*sig));
  fields += fmt::format(",\"uid\":{},\"pid\":{}", uid, pid);
  write("control", fields);
}

void EventLog::done(int code, double duration, const Dropped& dropped) {
  std::string fields = fmt::format(",\"code\":{},\"duration\":{:.6f}", code, duration);
  if (!dropped.empty()) {
    fields += ",\"output_dropped\":{";
    for (std::size_t i = 0; i < dropped.size(); ++i)
      fields += fmt::format("{}{}:{}", i ? "," : "", json_string(dropped[i].first), dropped[i].second);
    fields += '}';
  }
  write("done", fields);
}

}  // namespace treerun
