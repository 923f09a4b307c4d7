#include "io/event_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
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
/// The root's path is empty; the log names it "/".
std::string node_field(std::string_view node) { return ",\"node\":" + json_string(node.empty() ? "/" : node); }
}  // namespace

EventLog::~EventLog() {
  if (file_) std::fclose(file_);
}

void EventLog::open(const std::string& path, std::error_code& ec) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    ec.assign(errno, std::system_category());
    return;
  }
  file_ = ::fdopen(fd, "w");
  if (!file_) {
    ec.assign(errno, std::system_category());
    ::close(fd);
  }
}

void EventLog::write(std::string_view event, const std::string& fields) {
  if (!file_) return;
  double t = std::chrono::duration<double>(Clock::now() - start_).count();
  fmt::print(file_, "{{\"t\":{:.6f},\"event\":\"{}\"{}}}\n", t, event, fields);
}

void EventLog::flush() {
  if (file_) std::fflush(file_);
}

void EventLog::spawn(std::string_view node, int pid, int pgid) {
  write("spawn", node_field(node) + fmt::format(",\"pid\":{},\"pgid\":{}", pid, pgid));
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

void EventLog::restart(std::string_view node, int attempt) {
  write("restart", node_field(node) + fmt::format(",\"attempt\":{}", attempt));
}

void EventLog::done(int code, double duration) {
  write("done", fmt::format(",\"code\":{},\"duration\":{:.6f}", code, duration));
}

}  // namespace treerun
