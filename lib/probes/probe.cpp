#include "probes/probe.h"

#include <pcre2.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/datagram_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>

#include "base/units.h"

namespace treerun {
namespace asio = boost::asio;
using boost::system::error_code;

ReadinessProbe::ReadinessProbe(ProbeHost& host, NodeId id, const Probe& spec)
    : run_(host), id_(id), spec_(spec), deadline_(host.io()) {}

void ReadinessProbe::start() {
  active_ = true;
  deadline_.expires_after(spec_.timeout);
  deadline_.async_wait([self = weak_from_this()](const error_code& ec) {
    auto p = self.lock();
    if (ec || !p || !p->active_) return;
    std::string miss = p->last_miss();
    p->fail(fmt::format("not ready within {}: readiness probe timed out{}", format_duration(p->spec_.timeout),
                        miss.empty() ? "" : " (last check: " + miss + ")"));
  });
  begin();
}

void ReadinessProbe::cancel() {
  active_ = false;
  deadline_.cancel();
}

void ReadinessProbe::succeed() {
  if (!active_) return;
  cancel();
  run_.probe_passed(id_);
}

void ReadinessProbe::fail(std::string reason) {
  if (!active_) return;
  cancel();
  run_.probe_failed(id_, std::move(reason));
}

PolledProbe::PolledProbe(ProbeHost& host, NodeId id, const Probe& spec) : ReadinessProbe(host, id, spec), next_(host.io()) {}

void PolledProbe::cancel() {
  ReadinessProbe::cancel();
  next_.cancel();
}

void PolledProbe::attempt() {
  if (!active()) return;
  auto started = std::chrono::steady_clock::now();
  check([self = std::static_pointer_cast<PolledProbe>(shared_from_this()), started](std::string why_not) {
    if (!self->active()) return;
    if (why_not.empty()) return self->succeed();
    if (why_not != self->last_miss_) self->run_.note(self->id_, [&] { return "not ready yet: " + why_not; }, true);
    self->last_miss_ = std::move(why_not);
    // The next check is due one interval after this one began, not after it ended.
    self->next_.expires_at(started + self->spec_.interval);
    self->next_.async_wait([self](const error_code& ec) {
      if (!ec) self->attempt();
    });
  });
}

namespace {

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

class FileProbe final : public PolledProbe {
 public:
  FileProbe(ProbeHost& host, NodeId id, const Probe& spec, std::string cwd)
      : PolledProbe(host, id, spec), cwd_(std::move(cwd)) {}

 protected:
  void check(Done done) override {
    std::string path = spec_.arg;
    if (!path.starts_with('/')) path = cwd_ + "/" + path;
    done(::access(path.c_str(), F_OK) == 0 ? "" : fmt::format("{}: {}", path, std::strerror(errno)));
  }

 private:
  std::string cwd_;
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
  TcpProbe(ProbeHost& run, NodeId id, const Probe& spec, std::string tcp_host, std::string port)
      : PolledProbe(run, id, spec), host_(std::move(tcp_host)), port_(std::move(port)) {}

 protected:
  void check(Done done) override {
    auto socket = std::make_shared<asio::ip::tcp::socket>(run_.io());
    auto guard = std::make_shared<asio::steady_timer>(run_.io(), spec_.interval);
    guard->async_wait([socket](const error_code& ec) {
      if (!ec) socket->close();
    });
    error_code ec;
    asio::ip::tcp::resolver resolver(run_.io());
    auto endpoints = resolver.resolve(host_, port_, asio::ip::resolver_base::numeric_service, ec);
    if (ec) return done(fmt::format("cannot resolve {}: {}", host_, ec.message()));
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
      return fmt::format("{} {}:{}: no answer within {}", step, host_, port_, format_duration(spec_.interval));
    return fmt::format("{} {}:{}: {}", step, host_, port_, ec.message());
  }

  std::string host_, port_;
};

/// `http: URL`: a GET that answers 2xx.
class HttpProbe final : public TcpProbe {
 public:
  HttpProbe(ProbeHost& run, NodeId id, const Probe& spec, std::string tcp_host, std::string port, std::string target)
      : TcpProbe(run, id, spec, std::move(tcp_host), std::move(port)), target_(std::move(target)) {}

 protected:
  void connected(std::shared_ptr<asio::ip::tcp::socket> socket, std::shared_ptr<asio::steady_timer> guard,
                 Done done) override {
    auto request = std::make_shared<std::string>(
        fmt::format("GET {} HTTP/1.0\r\nHost: {}\r\nUser-Agent: treerun\r\nConnection: close\r\n\r\n", target_, host_));
    auto self = std::static_pointer_cast<HttpProbe>(shared_from_this());
    asio::async_write(*socket, asio::buffer(*request), [self, socket, guard, request, done](const error_code& ec,
                                                                                           std::size_t) {
      if (ec) {
        guard->cancel();
        return done(self->miss("send to", ec));
      }
      auto buf = std::make_shared<asio::streambuf>(4096);
      asio::async_read_until(*socket, *buf, "\r\n", [self, socket, guard, buf, done](const error_code& ec, std::size_t) {
        guard->cancel();
        std::string line(asio::buffers_begin(buf->data()), asio::buffers_end(buf->data()));
        socket->close();
        if (ec) return done(self->miss("read from", ec));
        line = line.substr(0, line.find("\r\n"));
        auto space = line.find(' ');  // "HTTP/1.x 2xx ..."
        bool ok = space != std::string::npos && line.size() > space + 1 && line[space + 1] == '2';
        done(ok ? "" : fmt::format("{} answered \"{}\"", self->target_, line.substr(0, 200)));
      });
    });
  }

 private:
  std::string target_;
};

/// `exec: CMD`: exits 0. One at a time per node: the next check starts an interval
/// after this one began, or when it ends if it takes longer. The probe's timeout bounds
/// it (cancel() kills a check still running).
class ExecProbe final : public PolledProbe {
 public:
  using PolledProbe::PolledProbe;
  void cancel() override {
    PolledProbe::cancel();
    if (running_ >= 0) run_.stop_beside(running_);
  }

 protected:
  void check(Done done) override {
    std::string why;
    running_ = run_.run_beside(id_, Command{true, {spec_.arg}}, [this, self = shared_from_this(), done](ExitStatus st) {
      running_ = -1;
      done(st.success() ? "" : fmt::format("`{}` {}", spec_.arg, st.describe()));
    }, why);
    if (running_ < 0) done("cannot start the check: " + why);
  }

 private:
  long running_ = -1;
};

/// `notify: true`: the sd_notify protocol. Each such node gets its own datagram socket
/// in a private directory, so a datagram's sender is known without credentials.
class NotifyProbe final : public ReadinessProbe {
 public:
  NotifyProbe(ProbeHost& host, NodeId id, const Probe& spec) : ReadinessProbe(host, id, spec), socket_(host.io()) {}
  ~NotifyProbe() override {
    error_code ec;
    socket_.close(ec);
    if (!path_.empty()) ::unlink(path_.c_str());
    if (!dir_.empty()) ::rmdir(dir_.c_str());
  }
  void prepare(std::vector<std::string>& env) override {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/treerun-XXXXXX";
    if (!::mkdtemp(templ.data())) return;
    dir_ = templ;
    path_ = dir_ + "/notify";
    error_code ec;
    socket_.open(asio::local::datagram_protocol(), ec);
    if (!ec) socket_.bind(asio::local::datagram_protocol::endpoint(path_), ec);
    if (ec) return;
    env.push_back("NOTIFY_SOCKET=" + path_);
    receive();
  }
  void cancel() override {
    ReadinessProbe::cancel();
    error_code ec;
    socket_.close(ec);
  }

 protected:
  void begin() override {
    if (ready_seen_) succeed();
  }

 private:
  void receive() {
    socket_.async_receive(asio::buffer(buf_), [this, self = shared_from_this()](const error_code& ec, std::size_t n) {
      if (ec) return;
      handle(std::string_view(buf_.data(), n));
      receive();
    });
  }
  void handle(std::string_view msg) {
    while (!msg.empty()) {
      auto nl = msg.find('\n');
      std::string_view line = msg.substr(0, nl);
      if (line == "READY=1") {
        ready_seen_ = true;
        succeed();
      } else if (line.starts_with("STATUS=")) {
        run_.note(id_, [&] { return fmt::format("status: {}", line.substr(7)); }, false);
      }
      if (nl == std::string_view::npos) break;
      msg.remove_prefix(nl + 1);
    }
  }

  asio::local::datagram_protocol::socket socket_;
  std::array<char, 4096> buf_{};
  std::string dir_, path_;
  bool ready_seen_ = false;
};

std::shared_ptr<ReadinessProbe> make_http(ProbeHost& run, NodeId id, const Probe& spec) {
  std::string_view url = spec.arg;
  if (url.starts_with("http://")) url.remove_prefix(7);
  auto slash = url.find('/');
  std::string target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  auto [host, port] = split_host_port(url.substr(0, slash));
  return std::make_shared<HttpProbe>(run, id, spec, host, port, target);
}

}  // namespace

std::shared_ptr<ReadinessProbe> make_probe(ProbeHost& host, NodeId id, const Probe& spec, std::string cwd) {
  switch (spec.type) {
    case Probe::Type::none: return nullptr;
    case Probe::Type::log: return std::make_shared<LogProbe>(host, id, spec);
    case Probe::Type::file: return std::make_shared<FileProbe>(host, id, spec, std::move(cwd));
    case Probe::Type::tcp: {
      auto [h, port] = split_host_port(spec.arg);
      return std::make_shared<TcpProbe>(host, id, spec, h, port);
    }
    case Probe::Type::http: return make_http(host, id, spec);
    case Probe::Type::exec: return std::make_shared<ExecProbe>(host, id, spec);
    case Probe::Type::notify: return std::make_shared<NotifyProbe>(host, id, spec);
  }
  return nullptr;
}

}  // namespace treerun
