// The event log (--events FILE): JSON Lines, one object per event, flushed as it
// happens (at the end of each turn of the loop), so a test or a tool can follow a run.
// Its file is an Outlet (io/outlet.h): a FIFO that nobody reads never blocks the loop.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/outlet.h"

namespace treerun {

class EventLog {
 public:
  using Clock = std::chrono::steady_clock;

  /// Bytes of output that treerun dropped, by output ("stdout"), for `done`.
  using Dropped = std::vector<std::pair<std::string, unsigned long long>>;

  explicit EventLog(Clock::time_point start) : start_(start) {}
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  /// Where events go (the file, opened truncated). Without it, they go nowhere.
  void set_output(std::shared_ptr<Outlet> out) { out_ = std::move(out); }
  bool enabled() const { return out_ != nullptr; }
  /// Every event as its JSON object (without a newline), whether or not it goes to a
  /// file: the control socket's history and followers read the run through it.
  /// LINE is valid during the call only; the tap must not write events.
  void set_tap(std::function<void(std::string_view line)> tap) { tap_ = std::move(tap); }
  Outlet* outlet() const { return out_.get(); }

  /// HOST: under a multi-machine backend, where it runs ("" locally: no field).
  void spawn(std::string_view node, int pid, int pgid, std::string_view host = {});
  void ready(std::string_view node);
  void stop(std::string_view node, std::string_view how);
  void kill(std::string_view node);
  void exit(std::string_view node, int pid, std::optional<int> code, std::optional<int> signal,
            std::string_view outcome);
  void cancel(std::string_view node, std::string_view cause, std::string_view by);
  void lag(std::string_view node, std::string_view source, unsigned long long dropped_bytes);
  /// CAUSE: failure, control, watch, reload; PATH, for watch: the first changed file;
  /// REASON, for failure: what the failure was (an addition to the contract's fields: an
  /// exit status, a timeout, a health check's last answer).
  void restart(std::string_view node, int attempt, std::string_view cause, std::string_view path = "",
               std::string_view reason = "");
  /// An acting command from the control socket: SIG only for `signal`; UID and PID of
  /// the client.
  void control(std::string_view cmd, const std::vector<std::string>& nodes, std::optional<int> sig, long uid,
               long pid);
  /// DROPPED: only the outputs that lost bytes; none, no field (an extension of the
  /// contract's `done`: `output_dropped`, an object of byte counts).
  void done(int code, double duration, const Dropped& dropped = {});
  /// Events are buffered within one turn of the loop and flushed at its end, so a
  /// reader sees each event as it happens at the cost of one write per turn.
  void flush();

 private:
  // A line is built in place in line_: begin(), its fields, end(). No event allocates
  // (a stop of 5 000 nodes writes 10 000 of them).
  bool wanted() const { return out_ || tap_; }
  void begin(std::string_view event);
  void field(std::string_view key, std::string_view string_value);
  void field(std::string_view key, long long value);
  void field_or_null(std::string_view key, std::optional<std::string_view> string_value);
  void node(std::string_view path);
  void end();

  Clock::time_point start_;
  std::shared_ptr<Outlet> out_;
  std::function<void(std::string_view)> tap_;
  std::string line_;
};

/// Appends S to OUT as a JSON string literal, quotes included.
void append_json_string(std::string& out, std::string_view s);

}  // namespace treerun
