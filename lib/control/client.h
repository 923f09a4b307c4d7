// The client side of the control protocol: a connection to one run's socket, one
// request, its replies read as they come. Blocking, with an optional deadline per read:
// this is the CLI (`treerun ps`), never the run's loop.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "base/fd.h"
#include "control/protocol.h"

namespace treerun::control {

class Client {
 public:
  /// Connects to the socket at PATH. On failure, an invalid client and ERR (an errno):
  /// ENOENT, no such socket; ECONNREFUSED, nobody listens on it (a run that is gone
  /// left it); EAGAIN, a run that is too busy (or stopped) to take connections;
  /// EACCES, not this user's.
  static Client connect(const std::string& path, int& err);

  Client() = default;
  bool valid() const { return fd_.valid(); }
  /// Sends REQUEST; false (and WHY) when it cannot; WHY empty: the run closed the
  /// connection first (it refused this client).
  bool send(const Request& request, std::string& why);
  /// The next message, or nothing: at the end of the connection (WHY empty), or when it
  /// failed (WHY says how: a timeout after TIMEOUT_MS, a reply that is not JSON...).
  /// TIMEOUT_MS < 0: wait as long as it takes.
  std::optional<nlohmann::ordered_json> next(std::string& why, int timeout_ms = -1);
  /// The same as next(), unparsed: the next reply line is last_line(); false as next()
  /// gives nothing (a line that is not JSON included: parse_reply() says so).
  bool next_line(std::string& why, int timeout_ms = -1);
  /// A whole reply line is already read: next_line() will not wait for the run.
  bool has_line() const { return buf_.find('\n', taken_) != std::string::npos; }
  /// The line the last message of next() came in, as the run wrote it.
  const std::string& last_line() const { return line_; }
  /// The run's pid (SO_PEERCRED), 0 if unknown.
  pid_t peer_pid() const;

 private:
  explicit Client(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
  std::string buf_, line_;
  std::size_t taken_ = 0;  // buf_ before it is messages already returned
};

/// The final reply to one REQUEST sent to the run at PATH, within TIMEOUT_MS: a
/// discarded value (and WHY) when there is none. Stream messages before it are skipped.
nlohmann::ordered_json ask(const std::string& path, const Request& request, int timeout_ms, std::string& why);

}  // namespace treerun::control
