#include "probes/driver_probes.h"

#include <netdb.h>
#include <pcre2.h>
#include <poll.h>
#include <sys/socket.h>

#include <boost/asio/buffers_iterator.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>
#include <string_view>
#include <utility>

#include "base/fd.h"
#include "base/units.h"

namespace treerun {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

/// Whether HOST:PORT accepts a TCP connection now. Bounded (100 ms per address), so a
/// firewalled host cannot hold the loop up; loopback answers at once.
bool accepts_connections(const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0) return false;
  bool accepted = false;
  for (addrinfo* ai = found; ai && !accepted; ai = ai->ai_next) {
    UniqueFd s(::socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!s) continue;
    if (::connect(s.get(), ai->ai_addr, ai->ai_addrlen) == 0) {
      accepted = true;
    } else if (errno == EINPROGRESS) {
      pollfd p{s.get(), POLLOUT, 0};
      int err = 0;
      socklen_t len = sizeof err;
      accepted = ::poll(&p, 1, 100) == 1 && ::getsockopt(s.get(), SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
    }
  }
  freeaddrinfo(found);
  return accepted;
}

/// `log: REGEX`: a line of the node's stdout or stderr matches. PCRE2, with a match
/// limit, so a long line or a pathological pattern cannot stall the loop.
class LogProbe final : public ReadinessProbe {
 public:
  LogProbe(ProbeHost& host, NodeId id, const Probe& spec) : ReadinessProbe(host, id, spec) {
    int err = 0;
    PCRE2_SIZE offset = 0;
    code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(spec.arg.data()), spec.arg.size(), 0, &err, &offset, nullptr);
    if (code_) match_ = pcre2_match_data_create_from_pattern(code_, nullptr);
    context_ = pcre2_match_context_create(nullptr);
    pcre2_set_match_limit(context_, 1'000'000);
  }
  ~LogProbe() override {
    pcre2_match_data_free(match_);
    pcre2_code_free(code_);
    pcre2_match_context_free(context_);
  }
  void on_line(std::string_view line) override {
    if (!active() || !code_) return;
    int rc = pcre2_match(code_, reinterpret_cast<PCRE2_SPTR>(line.data()), line.size(), 0, 0, match_, context_);
    if (rc >= 0) succeed();
  }

 protected:
  void begin() override {}

 private:
  pcre2_code* code_ = nullptr;
  pcre2_match_data* match_ = nullptr;
  pcre2_match_context* context_ = nullptr;
};

/// A connection attempt, bounded by LIMIT; the socket is closed either way.
class TcpCheck final : public Check {
 public:
  TcpCheck(ProbeHost& host, std::string tcp_host, std::string port, Millis limit)
      : endpoint_(host.io(), std::move(tcp_host), std::move(port), limit) {}

  /// Someone else already answering on the port would pass the probe for the node,
  /// and its dependents would run against the wrong server.
  std::string before_start() override { return endpoint_.in_use(); }

  void run(Done done) override {
    endpoint_.connect([self = shared_from_this(), done](Endpoint::Socket socket, Endpoint::Guard guard, std::string why_not) {
      guard->cancel();
      socket->close();
      done(why_not);
    });
  }

 private:
  Endpoint endpoint_;
};

}  // namespace

std::shared_ptr<ReadinessProbe> make_log_probe(ProbeHost& host, NodeId id, const Probe& spec) {
  return std::make_shared<LogProbe>(host, id, spec);
}

std::shared_ptr<Check> make_tcp_check(ProbeHost& host, const Probe& spec, Millis limit) {
  auto [tcp_host, port] = split_host_port(spec.arg, "80");
  return std::make_shared<TcpCheck>(host, tcp_host, port, limit);
}

Endpoint::Endpoint(asio::io_context& io, std::string host, std::string port, Millis limit)
    : io_(io), host_(std::move(host)), port_(std::move(port)), limit_(limit) {}

void Endpoint::connect(Connected then) {
  auto socket = std::make_shared<asio::ip::tcp::socket>(io_);
  auto guard = std::make_shared<asio::steady_timer>(io_, limit_);
  guard->async_wait([socket](const error_code& ec) {
    if (!ec) socket->close();
  });
  error_code ec;
  asio::ip::tcp::resolver resolver(io_);
  auto endpoints = resolver.resolve(host_, port_, asio::ip::resolver_base::numeric_service, ec);
  if (ec) return then(socket, guard, fmt::format("cannot resolve {}: {}", host_, ec.message()));
  asio::async_connect(*socket, endpoints,
                      [this, socket, guard, then](const error_code& ec, const asio::ip::tcp::endpoint&) {
                        then(socket, guard, ec ? miss("connect", ec) : "");
                      });
}

std::string Endpoint::in_use() const {
  if (!accepts_connections(host_, port_)) return "";
  return fmt::format("{}:{} already accepts connections before it started", host_, port_);
}

std::string Endpoint::miss(std::string_view step, const boost::system::error_code& ec) const {
  if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor)
    return fmt::format("{} {}:{}: no answer within {}", step, host_, port_, format_duration(limit_));
  return fmt::format("{} {}:{}: {}", step, host_, port_, ec.message());
}

std::pair<std::string, std::string> split_host_port(std::string_view hp, std::string_view default_port) {
  auto colon = hp.rfind(':');
  if (colon == std::string_view::npos || hp.ends_with(']')) {
    std::string host(hp);
    if (host.size() > 1 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    return {host, std::string(default_port)};
  }
  std::string host(hp.substr(0, colon));
  if (host.size() > 1 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return {host, std::string(hp.substr(colon + 1))};
}

}  // namespace treerun
