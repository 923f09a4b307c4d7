// The control socket's server, in the run's one Asio loop (contract 6.1). It takes the
// listening socket of a SocketClaim, serves each client of this user (or root) as a
// Session, at most kMaxClients at once, and never waits for any of them. Another uid's
// connection is closed without an answer, and a line on treerun's stderr names it.
//
// Its life: made on Run::target() before Run::run(); when the run ends (Target::on_end)
// it stops listening, removes the socket, and ends every stream with the run's code;
// finish(), after run() has returned, gives the last replies a short deadline to go out,
// then closes everything. It must go before the Run whose Target it holds.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/units.h"
#include "control/claim.h"
#include "control/target.h"

namespace treerun {
class Outlet;
}

namespace treerun::control {

class Session;

struct ServerOptions {
  /// Who may use the socket, besides root: the run's own user.
  uid_t owner = ::geteuid();
  /// Where refused connections are said: treerun's stderr (an Outlet of its own, so a
  /// stalled stderr never blocks the loop).
  int notices = STDERR_FILENO;
  /// A client that sends no whole request within this is refused.
  Millis request_timeout = std::chrono::seconds(10);
};

class Server {
 public:
  Server(boost::asio::io_context& io, Target& target, SocketClaim claim, ServerOptions options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// After Run::run(): ends what the run's end has not ended yet (CODE: the run's exit
  /// code, for `wait` and `down`), lets queued replies go out until DEADLINE, then
  /// closes every connection and removes the socket.
  void finish(int code, std::chrono::steady_clock::time_point deadline);

  /// Clients served now.
  std::size_t clients() const { return sessions_.size(); }
  /// Of those, the ones that wait for the run's end (wait, down, logs -f, events -f).
  std::size_t waiting() const;
  const std::string& path() const { return claim_.path(); }

 private:
  void accept();
  void accept_all();
  void pause_accepting();
  void admit(UniqueFd fd);
  void run_ended(int code);
  void say(const std::string& line);

  boost::asio::io_context& io_;
  Target& target_;
  SocketClaim claim_;
  ServerOptions options_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  boost::asio::steady_timer retry_;
  std::unordered_map<Session*, std::shared_ptr<Session>> sessions_;
  std::optional<int> ended_;
  Subscription end_;
  std::shared_ptr<Outlet> notices_;
};

}  // namespace treerun::control
