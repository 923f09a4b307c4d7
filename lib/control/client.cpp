#include "control/client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace treerun::control {
namespace {

/// A reply line longer than this is no reply of ours (ps of 10 000 nodes is ~2 MiB).
constexpr std::size_t kMaxReply = 64 * 1024 * 1024;

using SteadyClock = std::chrono::steady_clock;

/// Milliseconds left until DEADLINE for poll(); -1 without one.
int left_ms(std::optional<SteadyClock::time_point> deadline) {
  if (!deadline) return -1;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - SteadyClock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

/// Waits until FD has EVENTS; false on timeout (errno ETIMEDOUT) or error.
bool wait_for(int fd, short events, std::optional<SteadyClock::time_point> deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, left_ms(deadline));
    if (n > 0) return true;
    if (n == 0) {
      errno = ETIMEDOUT;
      return false;
    }
    if (errno != EINTR) return false;
  }
}

}  // namespace

Client Client::connect(const std::string& path, int& err) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    err = ENAMETOOLONG;
    return {};
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  // Non-blocking: a run whose backlog is full (stopped, or swamped) says EAGAIN at once
  // instead of holding the CLI in connect().
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) {
    err = errno;
    return {};
  }
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    err = errno;
    return {};
  }
  err = 0;
  return Client(std::move(fd));
}

bool Client::send(const Request& request, std::string& why) {
  std::string line = request_line(request);
  std::string_view rest = line;
  while (!rest.empty()) {
    ssize_t n = ::send(fd_.get(), rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n > 0) {
      rest.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EAGAIN) {
      if (!wait_for(fd_.get(), POLLOUT, SteadyClock::now() + std::chrono::seconds(10))) {
        why = fmt::format("cannot send the request: {}", std::strerror(errno));
        return false;
      }
    } else if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
      why.clear();  // the run closed on us before it read a thing: the caller says why
      return false;
    } else if (n < 0 && errno != EINTR) {
      why = fmt::format("cannot send the request: {}", std::strerror(errno));
      return false;
    }
  }
  return true;
}

std::optional<nlohmann::ordered_json> Client::next(std::string& why, int timeout_ms) {
  if (!next_line(why, timeout_ms)) return std::nullopt;
  auto message = parse_reply(line_);
  if (message.is_discarded()) {
    why = "the run's reply is not a message of protocol version 1";
    return std::nullopt;
  }
  return message;
}

bool Client::next_line(std::string& why, int timeout_ms) {
  why.clear();
  std::optional<SteadyClock::time_point> deadline;
  if (timeout_ms >= 0) deadline = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
  std::size_t searched = taken_;
  for (;;) {
    if (auto nl = buf_.find('\n', searched); nl != std::string::npos) {
      // Taken, not erased: a read holds a thousand messages, and erasing each moved
      // the rest of the read every time (a quarter of a follower's CPU).
      line_.assign(buf_, taken_, nl - taken_);
      taken_ = nl + 1;
      return true;
    }
    buf_.erase(0, taken_);  // what is left of the last read: part of a message, if any
    taken_ = 0;
    searched = buf_.size();
    if (buf_.size() > kMaxReply) {
      why = "the run's reply is too long";
      return false;
    }
    char chunk[65536];
    ssize_t n = ::read(fd_.get(), chunk, sizeof chunk);
    if (n > 0) {
      buf_.append(chunk, static_cast<std::size_t>(n));
    } else if (n == 0 || errno == ECONNRESET) {
      // ECONNRESET: the run closed while our request was still unread (it refused us,
      // or was cut short); what it sent before came first. Either way, the end.
      if (!buf_.empty())
        why = "the connection ended in the middle of a reply: the run was killed, or this client fell more "
              "than 4 MiB behind and was cut off";
      return false;
    } else if (errno == EAGAIN) {
      if (!wait_for(fd_.get(), POLLIN, deadline)) {
        why = errno == ETIMEDOUT ? fmt::format("the run did not answer within {}s", timeout_ms / 1000.0)
                                 : fmt::format("cannot read the reply: {}", std::strerror(errno));
        return false;
      }
    } else if (errno != EINTR) {
      why = fmt::format("cannot read the reply: {}", std::strerror(errno));
      return false;
    }
  }
}

pid_t Client::peer_pid() const {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd_.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return 0;
  return cred.pid;
}

nlohmann::ordered_json ask(const std::string& path, const Request& request, int timeout_ms, std::string& why) {
  int err = 0;
  Client client = Client::connect(path, err);
  if (!client.valid()) {
    why = std::strerror(err);
    return nlohmann::ordered_json(nlohmann::ordered_json::value_t::discarded);
  }
  if (!client.send(request, why)) {
    if (why.empty()) why = "the run closed the connection without an answer";
    return nlohmann::ordered_json(nlohmann::ordered_json::value_t::discarded);
  }
  auto deadline = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
  while (auto message = client.next(why, left_ms(deadline)))
    if (is_final(*message)) return *message;
  if (why.empty()) why = "the run closed the connection without an answer";
  return nlohmann::ordered_json(nlohmann::ordered_json::value_t::discarded);
}

}  // namespace treerun::control
