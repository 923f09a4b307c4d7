#include "control/claim.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "base/units.h"
#include "control/client.h"
#include "control/folder.h"

namespace treerun::control {
namespace {

constexpr int kBacklog = 128;
/// How long a claim waits for the holder of its name to say who it is.
constexpr int kHolderTimeoutMs = 2000;

sockaddr_un address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

/// Binds FD to PATH, the file made for this user only (0700 under a 0077 umask: the
/// folder is 0700 already, and the socket stays private if the folder's mode is loosened).
bool bind_private(int fd, const std::string& path) {
  sockaddr_un addr = address(path);
  mode_t old = ::umask(0077);
  int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int err = errno;
  ::umask(old);
  errno = err;
  return rc == 0;
}

/// Who holds NAME, as the user needs to hear it: its pid, spec and uptime if it answers.
std::string holder(const std::string& path, const std::string& name) {
  int err = 0;
  Client client = Client::connect(path, err);
  pid_t pid = client.valid() ? client.peer_pid() : 0;
  std::string why, who = pid > 0 ? fmt::format("pid {}", pid) : std::string("a process");
  if (client.valid() && client.send(request_for(Cmd::status), why)) {
    while (auto reply = client.next(why, kHolderTimeoutMs)) {
      if (!is_final(*reply)) continue;
      if (reply->value("ok", false) && reply->contains("run") && (*reply)["run"].is_object()) {
        try {
          RunStatus s = status_from((*reply)["run"]);
          auto up = std::chrono::duration_cast<Millis>(std::chrono::duration<double>(s.uptime));
          who = fmt::format("treerun pid {} (spec {}, up {})", s.pid, s.spec,
                            format_duration(std::chrono::duration_cast<std::chrono::seconds>(up)));
        } catch (const std::exception&) {
        }
      }
      break;
    }
  }
  return fmt::format("a run named '{}' is live: {} holds {}; give this one another name (--name), "
                     "or end that one (treerun down -r {})",
                     name, who, path, name);
}

}  // namespace

SocketClaim::SocketClaim(SocketClaim&& o) noexcept
    : listener_(std::move(o.listener_)),
      path_(std::exchange(o.path_, {})),
      name_(std::exchange(o.name_, {})),
      companion_(std::exchange(o.companion_, {})),
      dev_(o.dev_),
      ino_(o.ino_) {}

SocketClaim& SocketClaim::operator=(SocketClaim&& o) noexcept {
  if (this != &o) {
    release();
    listener_ = std::move(o.listener_);
    path_ = std::exchange(o.path_, {});
    name_ = std::exchange(o.name_, {});
    companion_ = std::exchange(o.companion_, {});
    dev_ = o.dev_;
    ino_ = o.ino_;
  }
  return *this;
}

void SocketClaim::release() {
  listener_.reset();
  if (!companion_.empty()) ::unlink(std::exchange(companion_, {}).c_str());
  if (path_.empty()) return;
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) ::unlink(path_.c_str());
  path_.clear();
}

Liveness probe_socket(const std::string& path, int& err) {
  Client client = Client::connect(path, err);
  if (client.valid() || err == EAGAIN) return Liveness::live;
  if (err == ENOENT) return Liveness::gone;
  if (err == ECONNREFUSED) return Liveness::stale;
  return Liveness::unknown;
}

namespace {

/// A run that is gone (SIGKILLed) left SOCKET, and maybe its RUN.log: both go.
bool remove_leftovers(const std::string& socket) {
  std::string log = socket.substr(0, socket.size() - std::string_view(".sock").size()) + ".log";
  ::unlink(log.c_str());
  return ::unlink(socket.c_str()) == 0 || errno == ENOENT;
}

}  // namespace

bool remove_stale(const std::string& folder, const std::string& path) {
  FolderLock lock(folder);
  int err = 0;
  if (!lock.held() || probe_socket(path, err) != Liveness::stale) return false;
  return remove_leftovers(path);
}

std::optional<SocketClaim> SocketClaim::claim(const std::string& folder, const std::string& name, std::string& why) {
  why = check_folder(folder, true);
  if (!why.empty()) return std::nullopt;
  std::string path = socket_path(folder, name);
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    why = fmt::format("the control socket's path {} is too long for a Unix socket ({} bytes at most): set "
                      "XDG_RUNTIME_DIR or TMPDIR to a shorter folder, or give a shorter --name",
                      path, sizeof(sockaddr_un::sun_path) - 1);
    return std::nullopt;
  }
  bool held = false;
  {
    FolderLock lock(folder);
    if (!lock.held()) {
      why = fmt::format("cannot lock the socket folder {}: {}", folder, std::strerror(errno));
      return std::nullopt;
    }
    // Twice at most: a stale socket is removed once, then the name is free.
    for (int attempt = 0; attempt < 2 && !held; ++attempt) {
      UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
      if (fd && bind_private(fd.get(), path)) {
        struct stat st {};
        if (::listen(fd.get(), kBacklog) != 0 || ::lstat(path.c_str(), &st) != 0) {
          why = fmt::format("cannot listen on {}: {}", path, std::strerror(errno));
          ::unlink(path.c_str());
          return std::nullopt;
        }
        SocketClaim c;
        c.listener_ = std::move(fd);
        c.path_ = path;
        c.name_ = name;
        c.dev_ = st.st_dev;
        c.ino_ = st.st_ino;
        return c;
      }
      if (!fd || errno != EADDRINUSE) {
        why = fmt::format("cannot make the control socket {}: {}", path, std::strerror(errno));
        return std::nullopt;
      }
      int err = 0;
      Liveness l = probe_socket(path, err);
      if (l == Liveness::live) held = true;
      else if (l == Liveness::stale) remove_leftovers(path);  // a run that is gone left them
      else if (l == Liveness::unknown) {
        why = fmt::format("cannot tell whether a run holds {}: {}", path, std::strerror(err));
        return std::nullopt;
      }
    }
  }  // the lock goes before we ask the holder: it is not needed for that
  why = held ? holder(path, name) : fmt::format("cannot claim {}: it keeps coming back", path);
  return std::nullopt;
}

}  // namespace treerun::control
