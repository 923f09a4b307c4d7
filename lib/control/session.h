// One client of the control socket, in the run's loop: it reads one request (at most
// kMaxRequest bytes, within the request timeout), carries it out through the Target,
// and writes the replies as the client takes them. Nothing it does waits: replies are
// offered to the socket as they are queued (every kWriteAt bytes, and at the end of
// the loop's turn), and what the socket refuses waits in a queue of at most kMaxUnread
// bytes; a client that lets it fill is cut off (closed, its subscriptions ended) rather
// than ever slowing the run. So the bound measures the client, not how much one turn
// of the loop produced: a client that reads as fast as a burst comes is never cut off.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <array>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/fd.h"
#include "base/units.h"
#include "control/protocol.h"
#include "control/target.h"

namespace treerun::control {

class Session : public std::enable_shared_from_this<Session> {
 public:
  /// FD: the accepted connection (close-on-exec, non-blocking), from PEER. CLOSED is
  /// called once, on the loop, after the session has closed.
  Session(boost::asio::io_context& io, UniqueFd fd, Peer peer, Target& target,
          std::function<void(Session*)> closed);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// Starts reading the request; past TIMEOUT without one, the client is refused.
  void start(Millis timeout);
  /// The run has ended with CODE: a stream or a wait ends with it, an action still
  /// under way is told, a request still to come is refused.
  void run_ended(int code);
  /// Closes at once and ends the subscriptions, without calling CLOSED (the server is
  /// going and the Target may be going after it).
  void detach();
  /// Nothing waits to be written.
  bool flushed() const { return pending() == 0; }
  /// It follows a stream or waits for the run's end (logs -f, events -f, wait, down).
  bool waits_for_end() const { return waits_end_ && !final_sent_ && !closed_; }

 private:
  std::size_t pending() const { return out_.size() - out_sent_; }

  // reading the request
  void read();
  void on_read(const boost::system::error_code& ec, std::size_t n);
  void on_eof();
  void handle(std::string_view line);
  void refuse(std::string_view why);

  // the commands
  void dispatch(const Request& r);
  void stream_logs(const Request& r);
  void stream_events(const Request& r);
  void act(const Request& r);
  void down();
  void reload();
  void acted(const std::string& error);
  bool nodes_known(const std::vector<std::string>& nodes);
  /// Follows a stream until the run ends (or answers at once if it has).
  void await_end();

  // writing
  /// Queues MESSAGE (whole), or cuts the client off when it would pass kMaxUnread
  /// with what the socket refuses now.
  void send(std::string_view message);
  /// Queues the last message; the session closes once it is written.
  void send_final(std::string_view message);
  /// A stream's history, gathered while the Target hands it over: the newest
  /// kMaxUnread bytes are kept, and the number left out is said before them.
  void keep_history(std::string message);
  void send_history();
  /// Writes what the socket takes now, without waiting; the rest is written once the
  /// socket has room (wait_for_room).
  void write_now();
  void wait_for_room();
  /// A write at the end of this turn of the loop, for what is queued below kWriteAt.
  void write_later();
  void close();

  boost::asio::io_context& io_;
  boost::asio::local::stream_protocol::socket socket_;
  boost::asio::steady_timer timer_;
  Peer peer_;
  Target& target_;
  std::function<void(Session*)> closed_callback_;

  std::array<char, 16 * 1024> read_buf_{};
  std::string request_;  // the request line so far
  bool request_seen_ = false;
  std::size_t ignored_ = 0;  // bytes after the request

  // Replies: out_ from out_sent_ on is what the socket has not taken yet. Every write
  // is a non-blocking send() here, never an Asio async write, so a write can be tried
  // at any time (mid-turn) without two of them interleaving.
  std::string out_;
  std::size_t out_sent_ = 0;
  std::size_t refused_ = 0;         // pending() when the last write left off
  bool write_posted_ = false;       // a write_now() is posted for the end of the turn
  bool awaiting_room_ = false;      // the socket was full: an async_wait for room is under way
  bool final_sent_ = false;
  bool closed_ = false;

  bool gathering_ = false;  // the Target is handing over a history
  std::deque<std::string> history_;
  std::size_t history_bytes_ = 0, history_skipped_ = 0;

  Cmd cmd_ = Cmd::status;
  bool waits_end_ = false;  // logs -f, events -f, wait, down
  bool acting_ = false;     // an action's DONE is still to come
  std::optional<int> ended_;
  Subscription stream_, console_;
};

}  // namespace treerun::control
