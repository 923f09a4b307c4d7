#include "probes/http_check.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <arpa/inet.h>

#include <boost/asio/buffers_iterator.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "probes/driver_probes.h"

namespace treerun {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

using TlsStream = asio::ssl::stream<asio::ip::tcp::socket&>;

bool is_ip_literal(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

class HttpCheck final : public Check {
 public:
  HttpCheck(Endpoint endpoint, const Probe& spec, bool tls, std::string target)
      : endpoint_(std::move(endpoint)), spec_(spec), tls_(tls), target_(std::move(target)) {
    if (!tls) return;
    // One context per check: the system's trust store is read once, not per GET.
    tls_context_ = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    if (spec.insecure) {
      tls_context_->set_verify_mode(asio::ssl::verify_none);
      return;
    }
    error_code ec;
    tls_context_->set_default_verify_paths(ec);
    tls_context_->set_verify_mode(asio::ssl::verify_peer);
  }

  std::string before_start() override { return endpoint_.in_use(); }

  void run(Done done) override {
    auto self = std::static_pointer_cast<HttpCheck>(shared_from_this());
    endpoint_.connect([self, done](Endpoint::Socket socket, Endpoint::Guard guard, std::string why_not) {
      if (!why_not.empty()) {
        guard->cancel();
        socket->close();
        return done(why_not);
      }
      if (!self->tls_) return self->exchange(socket, socket, guard, done);
      self->handshake(socket, guard, done);
    });
  }

 private:
  void handshake(Endpoint::Socket socket, Endpoint::Guard guard, Done done) {
    auto tls = std::make_shared<TlsStream>(*socket, *tls_context_);
    const std::string& host = endpoint_.host();
    // SNI names the host (never an address: RFC 6066); the certificate must name it too.
    if (!is_ip_literal(host)) SSL_set_tlsext_host_name(tls->native_handle(), host.c_str());
    if (!spec_.insecure) tls->set_verify_callback(asio::ssl::host_name_verification(host));
    auto self = std::static_pointer_cast<HttpCheck>(shared_from_this());
    tls->async_handshake(asio::ssl::stream_base::client, [self, socket, tls, guard, done](const error_code& ec) {
      if (ec) {
        guard->cancel();
        std::string why = self->endpoint_.miss("TLS handshake with", ec);
        long verify = SSL_get_verify_result(tls->native_handle());
        // The host name check is ours (the verify callback): OpenSSL only knows it failed.
        if (verify == X509_V_ERR_UNSPECIFIED) why += fmt::format(" (the certificate does not name {})", self->endpoint_.host());
        else if (verify != X509_V_OK) why += fmt::format(" ({})", X509_verify_cert_error_string(verify));
        socket->close();
        return done(why);
      }
      self->exchange(tls, socket, guard, done);
    });
  }

  /// Sends the GET on STREAM and reads the status line.
  template <class Stream>
  void exchange(std::shared_ptr<Stream> stream, Endpoint::Socket socket, Endpoint::Guard guard, Done done) {
    auto request = std::make_shared<std::string>(
        fmt::format("GET {} HTTP/1.0\r\nHost: {}\r\nUser-Agent: treerun\r\nConnection: close\r\n\r\n", target_,
                    endpoint_.host()));
    auto self = std::static_pointer_cast<HttpCheck>(shared_from_this());
    asio::async_write(*stream, asio::buffer(*request), [self, stream, socket, guard, request, done](const error_code& ec,
                                                                                                std::size_t) {
      if (ec) {
        guard->cancel();
        socket->close();
        return done(self->endpoint_.miss("send to", ec));
      }
      auto buf = std::make_shared<asio::streambuf>(kMaxStatusLine);
      asio::async_read_until(*stream, *buf, "\r\n", [self, stream, socket, guard, buf, done](const error_code& ec,
                                                                                           std::size_t) {
        guard->cancel();
        std::string line(asio::buffers_begin(buf->data()), asio::buffers_end(buf->data()));
        socket->close();
        done(self->judge(ec, line));
      });
    });
  }

  std::string judge(const error_code& ec, std::string line) const {
    if (ec == asio::error::not_found)  // the buffer filled before a line ended
      return fmt::format("{} answered a status line longer than {} bytes", target_, kMaxStatusLine);
    if (ec) return endpoint_.miss("read from", ec);
    line = line.substr(0, line.find("\r\n"));
    std::optional<int> status = http_status(line);
    if (status && status_counts(*status, spec_.status)) return "";
    return fmt::format("{} answered \"{}\"{}", target_, line.substr(0, 200), status ? "" : " (not an HTTP status line)");
  }

  Endpoint endpoint_;
  Probe spec_;
  bool tls_;
  std::string target_;
  std::shared_ptr<asio::ssl::context> tls_context_;
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

bool status_counts(int code, const std::vector<StatusRange>& ranges) {
  if (ranges.empty()) return code / 100 == 2;
  for (const StatusRange& r : ranges)
    if (code >= r.lo && code <= r.hi) return true;
  return false;
}

std::shared_ptr<Check> make_http_check(ProbeHost& host, const Probe& spec, Millis limit) {
  std::string_view url = spec.arg;
  bool tls = url.starts_with("https://");
  url.remove_prefix(url.find("://") == std::string_view::npos ? 0 : url.find("://") + 3);
  auto slash = url.find('/');
  std::string target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  auto [name, port] = split_host_port(url.substr(0, slash), tls ? "443" : "80");
  return std::make_shared<HttpCheck>(Endpoint(host.io(), name, port, limit), spec, tls, target);
}

}  // namespace treerun
