#include "probes/node_probes.h"

#include <unistd.h>

#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <utility>

#include "base/units.h"

namespace treerun {
namespace {

/// `exec: CMD`: exits 0. One at a time per node: its owner starts the next one only
/// after this one ended. cancel() kills a check still running.
class ExecCheck final : public Check {
 public:
  ExecCheck(ProbeHost& host, NodeId id, const Probe& spec, std::optional<Millis> limit)
      : host_(host), id_(id), cmd_(spec.arg), limit_(limit), timer_(host.io()) {}

  void run(Done done) override {
    std::string why;
    auto self = std::static_pointer_cast<ExecCheck>(shared_from_this());
    timed_out_ = false;
    running_ = host_.run_beside(id_, Command{true, {cmd_}}, [self, done](ExitStatus st) {
      self->running_ = -1;
      self->timer_.cancel();
      if (self->timed_out_) return done(fmt::format("`{}` did not finish within {}", self->cmd_, format_duration(*self->limit_)));
      done(st.success() ? "" : fmt::format("`{}` {}", self->cmd_, st.describe()));
    }, why);
    if (running_ < 0) return done("cannot start the check: " + why);
    if (!limit_) return;
    // Past the limit it is killed: its exit, then collected, reports the timeout.
    timer_.expires_after(*limit_);
    timer_.async_wait([self](const boost::system::error_code& ec) {
      if (ec || self->running_ < 0) return;
      self->timed_out_ = true;
      self->host_.stop_beside(self->running_);
    });
  }
  void cancel() override {
    timer_.cancel();
    if (running_ >= 0) host_.stop_beside(running_);
  }

 private:
  ProbeHost& host_;
  NodeId id_;
  std::string cmd_;
  std::optional<Millis> limit_;
  boost::asio::steady_timer timer_;
  long running_ = -1;
  bool timed_out_ = false;
};

class FileCheck final : public Check {
 public:
  FileCheck(std::string path, std::string cwd) : path_(std::move(path)) {
    if (!path_.starts_with('/')) path_ = cwd + "/" + path_;
  }
  void run(Done done) override {
    done(::access(path_.c_str(), F_OK) == 0 ? "" : fmt::format("{}: {}", path_, std::strerror(errno)));
  }

 private:
  std::string path_;
};

}  // namespace

std::shared_ptr<Check> make_exec_check(ProbeHost& host, NodeId id, const Probe& spec, std::optional<Millis> limit) {
  return std::make_shared<ExecCheck>(host, id, spec, limit);
}

std::shared_ptr<Check> make_file_check(const Probe& spec, std::string cwd) {
  return std::make_shared<FileCheck>(spec.arg, std::move(cwd));
}

}  // namespace treerun
