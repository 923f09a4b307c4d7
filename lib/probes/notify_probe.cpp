#include "probes/notify_probe.h"

#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <boost/asio/local/datagram_protocol.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <string>
#include <string_view>

namespace treerun {
namespace {

using Datagram = boost::asio::local::datagram_protocol;
using boost::system::error_code;

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
  /// The socket is made before the spawn. If it cannot be (TMPDIR missing, a path too
  /// long for sun_path), the node cannot start, and says why: waiting out the whole
  /// timeout for a READY=1 that cannot come would say nothing.
  std::string prepare(std::vector<std::string>& env) override {
    const char* tmp = std::getenv("TMPDIR");
    std::string base = tmp && *tmp ? tmp : "/tmp";
    std::string templ = base + "/treerun-XXXXXX";
    if (!::mkdtemp(templ.data())) {
      return fmt::format("cannot make the notify socket's folder in {}: {}", base, std::strerror(errno));
    }
    dir_ = templ;
    path_ = dir_ + "/notify";
    if (path_.size() >= sizeof(sockaddr_un{}.sun_path)) {
      return fmt::format("the notify socket's path {} is too long for a unix socket (set TMPDIR shorter)", path_);
    }
    error_code ec;
    socket_.open(Datagram(), ec);
    if (!ec) socket_.bind(Datagram::endpoint(path_), ec);
    if (ec) return fmt::format("cannot bind the notify socket {}: {}", path_, ec.message());
    env.push_back("NOTIFY_SOCKET=" + path_);
    receive();
    return "";
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
    socket_.async_receive(boost::asio::buffer(buf_), [this, self = shared_from_this()](const error_code& ec, std::size_t n) {
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
        host_.note(id_, [&] { return fmt::format("status: {}", line.substr(7)); }, false);
      }
      if (nl == std::string_view::npos) break;
      msg.remove_prefix(nl + 1);
    }
  }

  Datagram::socket socket_;
  std::array<char, 4096> buf_{};
  std::string dir_, path_;
  bool ready_seen_ = false;
};

}  // namespace

std::shared_ptr<ReadinessProbe> make_notify_probe(ProbeHost& host, NodeId id, const Probe& spec) {
  return std::make_shared<NotifyProbe>(host, id, spec);
}

}  // namespace treerun
