#include "io/event_log.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "base/units.h"

namespace treerun {

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  // Names and causes seldom need escaping: what does not is copied whole.
  auto plain = std::find_if(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; });
  out.append(s.begin(), plain);
  s.remove_prefix(static_cast<std::size_t>(plain - s.begin()));
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
        else out += static_cast<char>(c);
    }
  }
  out += '"';
}

namespace {
constexpr std::size_t kFlushAt = 4096;

/// Plain appends, not fmt: its format strings are parsed at each call, which was half
/// the cost of an event.
template <class Integer>
void append_number(std::string& out, Integer value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, end);
}

/// Seconds with six decimals, from microseconds.
void append_seconds(std::string& out, long long us) {
  append_number(out, us / 1'000'000);
  char frac[7] = {'.', '0', '0', '0', '0', '0', '0'};
  for (int i = 6, rest = static_cast<int>(us % 1'000'000); rest > 0; --i, rest /= 10) frac[i] = char('0' + rest % 10);
  out.append(frac, sizeof frac);
}

void append_key(std::string& out, std::string_view key) {
  out += ",\"";
  out += key;
  out += "\":";
}
}  // namespace

void EventLog::begin(std::string_view event) {
  line_.clear();
  line_ += "{\"t\":";
  append_seconds(line_, std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start_).count());
  line_ += ",\"event\":\"";
  line_ += event;
  line_ += '"';
}

void EventLog::field(std::string_view key, std::string_view string_value) {
  append_key(line_, key);
  append_json_string(line_, string_value);
}

void EventLog::field(std::string_view key, long long value) {
  append_key(line_, key);
  append_number(line_, value);
}

void EventLog::field_or_null(std::string_view key, std::optional<std::string_view> string_value) {
  if (string_value) return field(key, *string_value);
  append_key(line_, key);
  line_ += "null";
}

/// The root's path is empty; the log names it "/".
void EventLog::node(std::string_view path) { field("node", path.empty() ? "/" : path); }

/// One whole line to the outlet: kept or dropped whole, written at flush().
void EventLog::end() {
  line_ += '}';
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
  if (!wanted()) return;
  begin("spawn");
  this->node(node);
  field("pid", pid);
  field("pgid", pgid);
  if (!host.empty()) field("host", host);
  end();
}

void EventLog::ready(std::string_view node) {
  if (!wanted()) return;
  begin("ready");
  this->node(node);
  end();
}

void EventLog::stop(std::string_view node, std::string_view how) {
  if (!wanted()) return;
  begin("stop");
  this->node(node);
  field("how", how);
  end();
}

void EventLog::kill(std::string_view node) {
  if (!wanted()) return;
  begin("kill");
  this->node(node);
  end();
}

void EventLog::exit(std::string_view node, int pid, std::optional<int> code, std::optional<int> signal,
                    std::string_view outcome) {
  if (!wanted()) return;
  begin("exit");
  this->node(node);
  // pid 0: no process ever existed (fork itself failed); the node still gets its exit.
  if (pid > 0) field("pid", pid);
  else field_or_null("pid", std::nullopt);
  if (code) field("code", *code);
  else field_or_null("code", std::nullopt);
  std::string name = signal ? signal_name(*signal) : std::string();
  field_or_null("signal", signal ? std::optional<std::string_view>(name) : std::nullopt);
  field("outcome", outcome);
  end();
}

void EventLog::cancel(std::string_view node, std::string_view cause, std::string_view by) {
  if (!wanted()) return;
  begin("cancel");
  this->node(node);
  field("cause", cause);
  if (!by.empty()) field("by", by);
  end();
}

void EventLog::lag(std::string_view node, std::string_view source, unsigned long long dropped_bytes) {
  if (!wanted()) return;
  begin("lag");
  this->node(node);
  field("source", source);
  append_key(line_, "dropped_bytes");
  append_number(line_, dropped_bytes);
  end();
}

void EventLog::restart(std::string_view node, int attempt, std::string_view cause, std::string_view path,
                       std::string_view reason) {
  if (!wanted()) return;
  begin("restart");
  this->node(node);
  field("attempt", attempt);
  field("cause", cause);
  if (!path.empty()) field("path", path);
  if (!reason.empty()) field("reason", reason);
  end();
}

void EventLog::control(std::string_view cmd, const std::vector<std::string>& nodes, std::optional<int> sig, long uid,
                       long pid) {
  if (!wanted()) return;
  begin("control");
  field("cmd", cmd);
  line_ += ",\"nodes\":[";
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (i) line_ += ',';
    append_json_string(line_, nodes[i]);
  }
  line_ += ']';
  if (sig) field("signal", signal_name(*sig));
  field("uid", uid);
  field("pid", pid);
  end();
}

void EventLog::done(int code, double duration, const Dropped& dropped) {
  if (!wanted()) return;
  begin("done");
  field("code", code);
  append_key(line_, "duration");
  append_seconds(line_, std::llround(duration * 1e6));
  if (!dropped.empty()) {
    line_ += ",\"output_dropped\":{";
    for (std::size_t i = 0; i < dropped.size(); ++i) {
      if (i) line_ += ',';
      append_json_string(line_, dropped[i].first);
      line_ += ':';
      append_number(line_, dropped[i].second);
    }
    line_ += '}';
  }
  end();
}

}  // namespace treerun
