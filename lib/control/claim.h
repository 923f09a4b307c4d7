// A run's claim on its name: the control socket NAME.sock, bound and listening, before
// anything of the run starts (contract 6.1). A live run of the same name keeps it (the
// claim fails and says which process holds it); a socket whose run is gone is replaced.
// The claim owns the socket's path: it is removed when the claim goes, however `up`
// ends; a run that is SIGKILLed leaves it, and the next claim or `ls` replaces it.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "base/fd.h"

namespace treerun::control {

class SocketClaim {
 public:
  SocketClaim() = default;
  SocketClaim(SocketClaim&& other) noexcept;
  SocketClaim& operator=(SocketClaim&& other) noexcept;
  SocketClaim(const SocketClaim&) = delete;
  SocketClaim& operator=(const SocketClaim&) = delete;
  ~SocketClaim() { release(); }

  /// Claims NAME in FOLDER (made and checked as folder.h says). Nothing (and WHY, for
  /// the user) when it cannot: a live run holds the name, the folder is refused, the
  /// path is too long for a socket.
  static std::optional<SocketClaim> claim(const std::string& folder, const std::string& name, std::string& why);

  /// The listening socket (close-on-exec, non-blocking); the server takes it.
  UniqueFd take_listener() { return std::move(listener_); }
  const std::string& path() const { return path_; }
  const std::string& name() const { return name_; }
  /// Removes the socket file, if it is still the one this claim bound (a later run of
  /// the same name may have replaced it after this one was taken for dead).
  void release();
  /// A file that goes with the socket (a detached run's RUN.log): removed by release(),
  /// so that a client told the run has ended finds neither (contract 6.3).
  void remove_with_socket(std::string path) { companion_ = std::move(path); }

 private:
  UniqueFd listener_;
  std::string path_, name_, companion_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

/// Whether a socket file at PATH has a live run behind it, and if not, why.
enum class Liveness { live, gone, stale, unknown };
/// Tries a connection: live (it was taken, or the backlog is full), gone (no file),
/// stale (nobody listens: ECONNREFUSED), unknown (another error, in ERR).
Liveness probe_socket(const std::string& path, int& err);

/// Removes the stale socket at PATH in FOLDER, if it still is stale once the folder is
/// locked. True when it is gone.
bool remove_stale(const std::string& folder, const std::string& path);

}  // namespace treerun::control
