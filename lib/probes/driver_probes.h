// The checks made from treerun itself, wherever the node runs: a line of the node's
// output (`log:`, which passes through treerun on its way to the log stream) and a
// connection (`tcp:`) to the address the spec names. http_check.h builds the GET on
// the same Endpoint.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "probes/probe.h"

namespace treerun {

/// `log: REGEX`: a line of the node's stdout or stderr matches (fed through on_line).
std::shared_ptr<ReadinessProbe> make_log_probe(ProbeHost& host, NodeId id, const Probe& spec);
/// `tcp: HOST:PORT`: a connection is accepted within LIMIT.
std::shared_ptr<Check> make_tcp_check(ProbeHost& host, const Probe& spec, Millis limit);

/// HOST:PORT as a check connects to it: resolved at each check (numeric ports), each
/// connection and what follows it bounded by LIMIT, when its guard closes the socket.
class Endpoint {
 public:
  using Socket = std::shared_ptr<boost::asio::ip::tcp::socket>;
  using Guard = std::shared_ptr<boost::asio::steady_timer>;
  /// WHY_NOT is "" once connected; the guard is still armed: cancel it when done.
  using Connected = std::function<void(Socket socket, Guard guard, std::string why_not)>;

  Endpoint(boost::asio::io_context& io, std::string host, std::string port, Millis limit);
  void connect(Connected then);
  /// Why a readiness check could not tell the node from something already there, or "".
  std::string in_use() const;
  /// A failed STEP of a check, in words; one cut short by the limit says so.
  std::string miss(std::string_view step, const boost::system::error_code& ec) const;
  const std::string& host() const { return host_; }

 private:
  boost::asio::io_context& io_;
  std::string host_, port_;
  Millis limit_;
};

/// "host:port" or "[v6]:port" → host and port; DEFAULT_PORT when none is written.
std::pair<std::string, std::string> split_host_port(std::string_view hp, std::string_view default_port);

}  // namespace treerun
