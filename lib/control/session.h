// One client of the control socket, in the run's loop: it reads one request (at most
// kMaxRequest bytes, within the request timeout), carries it out through the Target,
// and writes the replies as the client takes them. Nothing it does waits: replies wait
// in a queue of at most kMaxUnread bytes, and a client that lets it fill is cut off
// (closed, its subscriptions ended) rather than ever slowing the run.
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
  std::size_t pending() const { return out_.size() + (inflight_.size() - inflight_sent_); }

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
  /// Queues MESSAGE (whole), or cuts the client off when it would pass kMaxUnread.
  void send(std::string_view message);
  /// Queues the last message; the session closes once it is written.
  void send_final(std::string_view message);
  /// A stream's history, gathered while the Target hands it over: the newest
  /// kMaxUnread bytes are kept, and the number left out is said before them.
  void keep_history(std::string message);
  void send_history();
  void pump();
  void on_written(const boost::system::error_code& ec, std::size_t n);
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

  // Replies: inflight_ is being written (Asio reads it until the write completes, so
  // it never changes meanwhile), out_ waits for the next write.
  std::string inflight_, out_;
  std::size_t inflight_sent_ = 0;
  bool writing_ = false;
  bool pump_posted_ = false;  // a pump() is posted: what send() adds goes with it
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
