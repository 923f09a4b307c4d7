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

std::pair<std::string, std::string> split_host_port(std::string_view hp) {
  auto colon = hp.rfind(':');
  if (colon == std::string_view::npos) return {std::string(hp), "80"};
  std::string host(hp.substr(0, colon));
  if (host.size() > 1 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return {host, std::string(hp.substr(colon + 1))};
}

/// A connection attempt, bounded by the interval; the socket is closed either way.
class TcpProbe : public PolledProbe {
 public:
  TcpProbe(ProbeHost& host, NodeId id, const Probe& spec, std::string tcp_host, std::string port)
      : PolledProbe(host, id, spec), tcp_host_(std::move(tcp_host)), port_(std::move(port)) {}

  /// Someone else already answering on the port would pass the probe for the node,
  /// and its dependents would run against the wrong server.
  std::string prepare(std::vector<std::string>&) override {
    if (!accepts_connections(tcp_host_, port_)) return "";
    return fmt::format("{}:{} already accepts connections before it started", tcp_host_, port_);
  }

 protected:
  void check(Done done) override {
    auto socket = std::make_shared<asio::ip::tcp::socket>(host_.io());
    auto guard = std::make_shared<asio::steady_timer>(host_.io(), spec_.interval);
    guard->async_wait([socket](const error_code& ec) {
      if (!ec) socket->close();
    });
    error_code ec;
    asio::ip::tcp::resolver resolver(host_.io());
    auto endpoints = resolver.resolve(tcp_host_, port_, asio::ip::resolver_base::numeric_service, ec);
    if (ec) return done(fmt::format("cannot resolve {}: {}", tcp_host_, ec.message()));
    asio::async_connect(*socket, endpoints,
                        [this, self = shared_from_this(), socket, guard, done](const error_code& ec,
                                                                              const asio::ip::tcp::endpoint&) {
                          if (ec) {
                            guard->cancel();
                            return done(miss("connect", ec));
                          }
                          connected(socket, guard, done);
                        });
  }
  virtual void connected(std::shared_ptr<asio::ip::tcp::socket> socket, std::shared_ptr<asio::steady_timer> guard,
                         Done done) {
    guard->cancel();
    socket->close();
    done("");
  }
  /// A failed step of a check, in words; a step cut short by the interval says so.
  std::string miss(std::string_view step, const error_code& ec) const {
    if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor)
      return fmt::format("{} {}:{}: no answer within {}", step, tcp_host_, port_, format_duration(spec_.interval));
    return fmt::format("{} {}:{}: {}", step, tcp_host_, port_, ec.message());
  }

  std::string tcp_host_, port_;
};

/// `http: URL`: a GET that answers 2xx.
class HttpProbe final : public TcpProbe {
 public:
  HttpProbe(ProbeHost& host, NodeId id, const Probe& spec, std::string tcp_host, std::string port, std::string target)
      : TcpProbe(host, id, spec, std::move(tcp_host), std::move(port)), target_(std::move(target)) {}

 protected:
  void connected(std::shared_ptr<asio::ip::tcp::socket> socket, std::shared_ptr<asio::steady_timer> guard,
                 Done done) override {
    auto request = std::make_shared<std::string>(
        fmt::format("GET {} HTTP/1.0\r\nHost: {}\r\nUser-Agent: treerun\r\nConnection: close\r\n\r\n", target_, tcp_host_));
    auto self = std::static_pointer_cast<HttpProbe>(shared_from_this());
    asio::async_write(*socket, asio::buffer(*request), [self, socket, guard, request, done](const error_code& ec,
                                                                                           std::size_t) {
      if (ec) {
        guard->cancel();
        return done(self->miss("send to", ec));
      }
      auto buf = std::make_shared<asio::streambuf>(kMaxStatusLine);
      asio::async_read_until(*socket, *buf, "\r\n", [self, socket, guard, buf, done](const error_code& ec, std::size_t) {
        guard->cancel();
        std::string line(asio::buffers_begin(buf->data()), asio::buffers_end(buf->data()));
        socket->close();
        if (ec == asio::error::not_found)  // the buffer filled before a line ended
          return done(fmt::format("{} answered a status line longer than {} bytes", self->target_, kMaxStatusLine));
        if (ec) return done(self->miss("read from", ec));
        line = line.substr(0, line.find("\r\n"));
        std::optional<int> status = http_status(line);
        if (status && *status / 100 == 2) return done("");
        done(fmt::format("{} answered \"{}\"{}", self->target_, line.substr(0, 200),
                         status ? "" : " (not an HTTP status line)"));
      });
    });
  }

 private:
  std::string target_;
};

}  // namespace

std::optional<int> http_status(std::string_view line) {
  // "HTTP/" DIGIT "." DIGIT SP 3DIGIT [SP reason] (RFC 9112, 4); HTTP/2-style "HTTP/2 200" too.
  if (!line.starts_with("HTTP/")) return std::nullopt;
  auto space = line.find(' ');
  if (space == std::string_view::npos || line.size() < space + 4) return std::nullopt;
  std::string_view code = line.substr(space + 1, 3);
  for (char c : code)
    if (c < '0' || c > '9') return std::nullopt;
  if (line.size() > space + 4 && line[space + 4] != ' ') return std::nullopt;
  return (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
}

std::shared_ptr<ReadinessProbe> make_log_probe(ProbeHost& host, NodeId id, const Probe& spec) {
  return std::make_shared<LogProbe>(host, id, spec);
}

std::shared_ptr<ReadinessProbe> make_tcp_probe(ProbeHost& host, NodeId id, const Probe& spec) {
  auto [tcp_host, port] = split_host_port(spec.arg);
  return std::make_shared<TcpProbe>(host, id, spec, tcp_host, port);
}

std::shared_ptr<ReadinessProbe> make_http_probe(ProbeHost& host, NodeId id, const Probe& spec) {
  std::string_view url = spec.arg;
  if (url.starts_with("http://")) url.remove_prefix(7);
  auto slash = url.find('/');
  std::string target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  auto [tcp_host, port] = split_host_port(url.substr(0, slash));
  return std::make_shared<HttpProbe>(host, id, spec, tcp_host, port, target);
}

}  // namespace treerun
