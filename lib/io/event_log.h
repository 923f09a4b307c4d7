// The event log (--events FILE): JSON Lines, one object per event, flushed as it
// happens (at the end of each turn of the loop), so a test or a tool can follow a run.
#pragma once

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace treerun {

class EventLog {
 public:
  using Clock = std::chrono::steady_clock;

  explicit EventLog(Clock::time_point start) : start_(start) {}
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  /// Opens PATH for writing (truncated, close-on-exec). Without it, events go nowhere.
  void open(const std::string& path, std::error_code& ec);
  bool enabled() const { return file_ != nullptr; }

  void spawn(std::string_view node, int pid, int pgid);
  void ready(std::string_view node);
  void stop(std::string_view node, std::string_view how);
  void kill(std::string_view node);
  void exit(std::string_view node, int pid, std::optional<int> code, std::optional<int> signal,
            std::string_view outcome);
  void cancel(std::string_view node, std::string_view cause, std::string_view by);
  void lag(std::string_view node, std::string_view source, unsigned long long dropped_bytes);
  void restart(std::string_view node, int attempt);
  void done(int code, double duration);
  /// Events are buffered within one turn of the loop and flushed at its end, so a
  /// reader sees each event as it happens at the cost of one write per turn.
  void flush();

 private:
  void write(std::string_view event, const std::string& fields);

  Clock::time_point start_;
  std::FILE* file_ = nullptr;
};

/// A JSON string literal for S, quotes included.
std::string json_string(std::string_view s);

}  // namespace treerun
