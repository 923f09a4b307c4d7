#include "control/session.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include <boost/asio/post.hpp>
#include <fmt/format.h>

namespace treerun::control {
namespace {

/// Room kept free under kMaxUnread for the messages around a history (skipped, final).
constexpr std::size_t kHistorySlack = 4096;

bool blank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

std::optional<Verb> verb_of(Cmd cmd) {
  switch (cmd) {
    case Cmd::stop: return Verb::stop;
    case Cmd::start: return Verb::start;
    case Cmd::restart: return Verb::restart;
    case Cmd::signal: return Verb::signal;
    case Cmd::down: return Verb::down;
    default: return std::nullopt;
  }
}

/// The message of one log line, made once for every session that follows the stream:
/// the run tells them one after another, so one entry is enough, and with 20 followers
/// the line is quoted once instead of 20 times. Keyed by the whole line, not only its
/// number: numbers start again with each run (unit tests make several in one process).
const std::string& shared_line_message(std::string_view node, std::string_view line, std::uint64_t seq) {
  static std::uint64_t cached_seq = 0;
  static std::string cached_node, cached_line, cached;
  if (seq != cached_seq || node != cached_node || line != cached_line) {
    cached = line_message(node, line, seq);
    cached_seq = seq;
    cached_node.assign(node);
    cached_line.assign(line);
  }
  return cached;
}

}  // namespace

Session::Session(boost::asio::io_context& io, UniqueFd fd, Peer peer, Target& target,
                 std::function<void(Session*)> closed)
    : io_(io), socket_(io), timer_(io), peer_(peer), target_(target), closed_callback_(std::move(closed)) {
  boost::system::error_code ec;
  socket_.assign(boost::asio::local::stream_protocol(), fd.get(), ec);
  if (ec) return;  // the fd closes with the UniqueFd, and start() closes the session
  fd.release();
  // Room for a burst a client reading at full speed has not reached yet; best effort.
  ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_SNDBUF, &kSendBuffer, sizeof kSendBuffer);
}

void Session::start(Millis timeout) {
  if (!socket_.is_open()) return close();
  timer_.expires_after(timeout);
  timer_.async_wait([weak = weak_from_this(), timeout](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->request_seen_ || self->closed_) return;
    self->request_seen_ = true;
    self->refuse(fmt::format("no request within {}", format_duration(timeout)));
  });
  read();
}

// ---- reading the request -----------------------------------------------------------

void Session::read() {
  socket_.async_read_some(boost::asio::buffer(read_buf_),
                          [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                            self->on_read(ec, n);
                          });
}

void Session::on_read(const boost::system::error_code& ec, std::size_t n) {
  if (closed_) return;
  try {
    if (ec) {
      if (ec == boost::asio::error::eof) on_eof();
      else close();
      return;
    }
    std::string_view data(read_buf_.data(), n);
    if (request_seen_) {
      // One request per connection: what follows is ignored, up to a bound.
      ignored_ += n;
      if (ignored_ > kMaxRequest) return close();
    } else {
      std::size_t searched = request_.size();
      request_.append(data);
      if (auto nl = request_.find('\n', searched); nl != std::string::npos) {
        ignored_ = request_.size() - nl - 1;
        std::string line = request_.substr(0, nl);
        request_.clear();
        handle(line);
      } else if (request_.size() > kMaxRequest) {
        request_seen_ = true;
        request_.clear();
        return refuse(fmt::format("request too long: over {} KiB", kMaxRequest / 1024));
      }
    }
    if (!closed_) read();
  } catch (const std::exception&) {
    close();  // never an exception into the run's loop
  }
}

void Session::on_eof() {
  if (!request_seen_) {
    // A last line without its newline is still a request; half of one fails to parse.
    if (blank(request_)) return close();
    std::string line = std::move(request_);
    return handle(line);
  }
  // Only a half-close (shutdown(SHUT_WR)) leaves the client reading: serve it on. A
  // hang-up shows as POLLHUP; then nobody reads what we would write.
  pollfd p{socket_.native_handle(), 0, 0};
  if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR))) close();
}

void Session::handle(std::string_view line) {
  request_seen_ = true;
  timer_.cancel();
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  auto parsed = parse_request(line);
  if (const std::string* why = std::get_if<std::string>(&parsed)) return refuse(*why);
  const Request& r = std::get<Request>(parsed);
  cmd_ = r.cmd;
  if (ended_ && (verb_of(r.cmd) || r.cmd == Cmd::reload) && r.cmd != Cmd::down) return refuse("the run has ended");
  dispatch(r);
}

void Session::refuse(std::string_view why) { send_final(error_reply(why)); }

// ---- the commands ------------------------------------------------------------------

void Session::dispatch(const Request& r) {
  switch (r.cmd) {
    case Cmd::status: return send_final(status_reply(target_.status()));
    case Cmd::ps: return send_final(ps_reply(target_.ps()));
    case Cmd::logs: return stream_logs(r);
    case Cmd::events: return stream_events(r);
    case Cmd::wait: return await_end();
    case Cmd::down: return down();
    case Cmd::reload: return reload();
    default: return act(r);
  }
}

bool Session::nodes_known(const std::vector<std::string>& nodes) {
  std::string why = target_.check_nodes(nodes);
  if (why.empty()) return true;
  refuse(why);
  return false;
}

void Session::stream_logs(const Request& r) {
  if (!r.nodes.empty() && !nodes_known(r.nodes)) return;
  bool follow = r.follow && !ended_;
  gathering_ = true;
  Subscription sub = target_.logs(r.nodes, r.lines, follow, [this](std::string_view node, std::string_view line,
                                                                               std::uint64_t seq) {
    if (closed_ || final_sent_) return;
    if (gathering_) keep_history(line_message(node, line, seq));
    else send(shared_line_message(node, line, seq));
  });
  gathering_ = false;
  send_history();
  if (!follow) return send_final(ok_reply());
  stream_ = std::move(sub);
  await_end();
}

void Session::stream_events(const Request& r) {
  bool follow = r.follow && !ended_;
  gathering_ = true;
  Subscription sub = target_.events(follow, [this](std::string_view event, std::uint64_t seq) {
    if (closed_ || final_sent_) return;
    if (gathering_) keep_history(event_message(event, seq));
    else send(event_message(event, seq));
  });
  gathering_ = false;
  send_history();
  if (!follow) return send_final(ok_reply());
  stream_ = std::move(sub);
  await_end();
}

void Session::await_end() {
  waits_end_ = true;
  if (ended_) send_final(ok_reply(*ended_));
}

void Session::act(const Request& r) {
  if (!nodes_known(r.nodes)) return;
  acting_ = true;
  target_.act(*verb_of(r.cmd), r.nodes, r.signal, peer_, [weak = weak_from_this()](std::string error) {
    if (auto self = weak.lock()) self->acted(error);
  });
}

void Session::down() {
  if (ended_) return send_final(ok_reply(*ended_));
  // What the run's own terminal shows from now on, as `down` prints it.
  console_ = target_.console([this](std::string_view text) {
    if (!closed_ && !final_sent_) send(text_message(text));
  });
  waits_end_ = true;
  acting_ = true;
  target_.act(Verb::down, {}, 0, peer_, [weak = weak_from_this()](std::string error) {
    if (auto self = weak.lock()) self->acted(error);
  });
}

void Session::reload() {
  acting_ = true;
  target_.reload(peer_, [weak = weak_from_this()](control::ReloadResult result) {
    auto self = weak.lock();
    if (!self) return;
    self->acting_ = false;
    if (!self->closed_ && !self->final_sent_) self->send_final(reload_reply(result));
  });
}

void Session::acted(const std::string& error) {
  acting_ = false;
  if (closed_ || final_sent_) return;
  try {
    if (cmd_ == Cmd::down && error.empty()) return;  // it answers when the run has ended
    waits_end_ = false;
    send_final(error.empty() ? ok_reply() : error_reply(error));
  } catch (const std::exception&) {
    close();
  }
}

void Session::run_ended(int code) {
  ended_ = code;
  if (closed_ || final_sent_) return;
  if (!request_seen_) {
    request_seen_ = true;
    timer_.cancel();
    return refuse("the run has ended");
  }
  if (waits_end_) return send_final(ok_reply(code));
  if (acting_) send_final(error_reply("the run ended before this took effect"));
}

// ---- writing -----------------------------------------------------------------------

void Session::send(std::string_view message) {
  if (closed_ || final_sent_) return;
  if (pending() + message.size() > kMaxUnread) {
    write_now();  // what the socket takes now is not unread
    if (closed_) return;
    if (pending() + message.size() > kMaxUnread) return close();  // it does not read: cut it off
  }
  out_.append(message);
  // A burst (a pipe's read is thousands of lines) is offered as it is made, so a
  // client that keeps up reads it meanwhile; below kWriteAt, the write waits for the
  // end of the turn: one write per burst, not one per line per client.
  if (pending() >= refused_ + kWriteAt) write_now();
  else write_later();
}

void Session::send_final(std::string_view message) {
  if (closed_ || final_sent_) return;
  send(message);
  final_sent_ = true;
  if (!closed_ && flushed()) close();
}

void Session::keep_history(std::string message) {
  history_bytes_ += message.size();
  history_.push_back(std::move(message));
  while (history_bytes_ + kHistorySlack > kMaxUnread && !history_.empty()) {
    history_bytes_ -= history_.front().size();
    history_.pop_front();
    ++history_skipped_;
  }
}

void Session::send_history() {
  if (history_skipped_ > 0) send(skipped_message(history_skipped_));
  for (const std::string& message : history_) send(message);
  history_.clear();
  history_bytes_ = history_skipped_ = 0;
}

void Session::write_now() {
  while (!closed_ && pending() > 0) {
    ssize_t n = ::send(socket_.native_handle(), out_.data() + out_sent_, pending(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      out_sent_ += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      wait_for_room();
      break;
    } else if (n < 0 && errno != EINTR) {
      return close();  // the client is gone
    }
  }
  refused_ = pending();
  // Written bytes are dropped once they are most of the buffer: each byte moves once
  // at most, however the socket takes them.
  if (out_sent_ == out_.size()) {
    out_.clear();
    out_sent_ = 0;
  } else if (out_sent_ > kWriteAt && out_sent_ >= out_.size() / 2) {
    out_.erase(0, out_sent_);
    out_sent_ = 0;
  }
  if (final_sent_ && flushed()) close();
}

void Session::wait_for_room() {
  if (awaiting_room_) return;
  awaiting_room_ = true;
  socket_.async_wait(boost::asio::socket_base::wait_write,
                     [self = shared_from_this()](const boost::system::error_code& ec) {
                       self->awaiting_room_ = false;
                       if (self->closed_) return;
                       if (ec) return self->close();
                       self->write_now();
                     });
}

void Session::write_later() {
  if (write_posted_ || awaiting_room_) return;  // a write comes anyway, and takes this along
  write_posted_ = true;
  boost::asio::post(io_, [self = shared_from_this()] {
    self->write_posted_ = false;
    if (!self->closed_ && !self->awaiting_room_) self->write_now();
  });
}

void Session::close() {
  if (closed_) return;
  closed_ = true;
  timer_.cancel();
  boost::system::error_code ec;
  socket_.close(ec);
  // Later, not now: this may run inside a Target callback, whose subscription must not
  // end from within.
  boost::asio::post(io_, [self = shared_from_this()] {
    self->stream_.reset();
    self->console_.reset();
    if (auto closed = std::exchange(self->closed_callback_, nullptr)) closed(self.get());
  });
}

void Session::detach() {
  closed_ = true;
  closed_callback_ = nullptr;
  timer_.cancel();
  boost::system::error_code ec;
  socket_.close(ec);
  stream_.reset();
  console_.reset();
}

}  // namespace treerun::control
