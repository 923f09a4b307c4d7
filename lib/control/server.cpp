#include "control/server.h"

#include <sys/socket.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "control/protocol.h"
#include "control/session.h"
#include "io/outlet.h"

namespace treerun::control {
namespace {

/// The peer's credentials; pid 0 and uid -1 when the kernel does not say.
ucred peer_of(int fd) {
  ucred cred{0, static_cast<uid_t>(-1), static_cast<gid_t>(-1)};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) cred.uid = static_cast<uid_t>(-1);
  return cred;
}

/// Connections taken per turn of the loop.
constexpr int kAcceptBatch = 16;
/// After accept() ran out of descriptors, the next try.
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);

}  // namespace

Server::Server(boost::asio::io_context& io, Target& target, SocketClaim claim, ServerOptions options)
    : io_(io), target_(target), claim_(std::move(claim)), options_(options), acceptor_(io), retry_(io) {
  UniqueFd listener = claim_.take_listener();
  boost::system::error_code ec;
  acceptor_.assign(boost::asio::local::stream_protocol(), listener.get(), ec);
  if (ec) throw std::system_error(ec, "control socket " + claim_.path());
  listener.release();
  end_ = target_.on_end([this](int code) { run_ended(code); });
  accept();
}

Server::~Server() {
  end_.reset();
  for (auto& [raw, session] : sessions_) session->detach();
  sessions_.clear();
  claim_.release();
}

void Server::accept() {
  acceptor_.async_wait(boost::asio::socket_base::wait_read, [this](const boost::system::error_code& ec) {
    if (ec || ended_) return;  // aborted: the acceptor closed
    accept_all();
  });
}

void Server::pause_accepting() {
  // Out of descriptors (EMFILE) or memory: the connection waits in the backlog, and the
  // listener stays readable; waiting on it again now would spin. Try again a bit later.
  retry_.expires_after(kAcceptRetry);
  retry_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !ended_) accept();
  });
}

void Server::accept_all() {
  // accept4, not Asio's accept: the connection is close-on-exec from birth, so no node
  // spawned meanwhile can inherit it. A few per turn, so a flood of connections takes
  // its turn with the run's other events.
  for (int i = 0; i < kAcceptBatch; ++i) {
    UniqueFd fd(::accept4(acceptor_.native_handle(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!fd) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN) return pause_accepting();
      break;  // all taken
    }
    try {
      admit(std::move(fd));
    } catch (const std::exception&) {
      // never an exception into the run's loop; the fd is closed with the UniqueFd
    }
  }
  accept();
}

void Server::admit(UniqueFd fd) {
  ucred peer = peer_of(fd.get());
  if (peer.uid != options_.owner && peer.uid != 0) {
    say(fmt::format("treerun: refused a control connection from uid {} (pid {}): only uid {} may use this run\n",
                    peer.uid, peer.pid, options_.owner));
    return;  // closed without a word: it learns nothing about the run
  }
  if (sessions_.size() >= kMaxClients) {
    // A fresh socket's buffer takes these few bytes at once; if not, it goes unsaid.
    std::string reply = error_reply(fmt::format("too many clients ({} at once): try again later", kMaxClients));
    [[maybe_unused]] ssize_t n = ::send(fd.get(), reply.data(), reply.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    return;
  }
  auto session = std::make_shared<Session>(io_, std::move(fd), Peer{peer.uid, peer.pid}, target_,
                                           [this](Session* s) { sessions_.erase(s); });
  sessions_.emplace(session.get(), session);
  session->start(options_.request_timeout);
}

void Server::run_ended(int code) {
  if (ended_) return;
  ended_ = code;
  boost::system::error_code ec;
  acceptor_.close(ec);
  retry_.cancel();
  claim_.release();  // the name is free again: a new `up` of it may start now
  auto sessions = sessions_;  // a session may close (and leave the map) as it ends
  for (auto& [raw, session] : sessions) session->run_ended(code);
}

void Server::finish(int code, std::chrono::steady_clock::time_point deadline) {
  run_ended(code);
  end_.reset();
  if (io_.stopped()) io_.restart();
  try {
    while (!sessions_.empty() && std::chrono::steady_clock::now() < deadline && io_.run_one_until(deadline) > 0) {
    }
  } catch (const std::exception&) {
    // the run is over; whatever failed now only ends the wait sooner
  }
  for (auto& [raw, session] : sessions_) session->detach();
  sessions_.clear();
  claim_.release();
}

std::size_t Server::waiting() const {
  std::size_t n = 0;
  for (const auto& [raw, session] : sessions_) n += session->waits_for_end();
  return n;
}

void Server::say(const std::string& line) {
  if (!notices_) notices_ = Outlet::inherited(io_, options_.notices, "stderr");
  notices_->write(line);
}

}  // namespace treerun::control
