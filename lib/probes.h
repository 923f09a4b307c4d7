// Readiness probes (`ready:`). Event-driven where the signal is an event (a log line,
// an sd_notify datagram), polled at `interval` only where it must be (tcp, http, exec,
// file). Each probe reports once: ready, or failed (its timeout), to the supervisor.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plan.h"

namespace treerun {

class Supervisor;

class ReadinessProbe : public std::enable_shared_from_this<ReadinessProbe> {
 public:
  ReadinessProbe(Supervisor& sup, NodeId id, const Probe& spec);
  virtual ~ReadinessProbe() = default;

  /// Adds what the node's process needs to its environment (NOTIFY_SOCKET).
  virtual void prepare(std::vector<std::string>& env) { (void)env; }
  /// The node's process has started: begin probing, and start the timeout.
  void start();
  /// The node is going away: stop probing, report nothing.
  virtual void cancel();
  /// A line of the node's output (for `log:`).
  virtual void on_line(std::string_view line) { (void)line; }

 protected:
  virtual void begin() = 0;
  void succeed();
  void fail(std::string reason);
  bool active() const { return active_; }
  /// Why the last check said "not yet", for the timeout's message; "" if unknown.
  virtual std::string last_miss() const { return ""; }

  Supervisor& sup_;
  NodeId id_;
  Probe spec_;

 private:
  boost::asio::steady_timer deadline_;
  bool active_ = false;
};

/// A probe that checks something every `interval` (tcp, http, exec, file).
class PolledProbe : public ReadinessProbe {
 public:
  PolledProbe(Supervisor& sup, NodeId id, const Probe& spec);
  void cancel() override;

 protected:
  void begin() override { attempt(); }
  std::string last_miss() const override { return last_miss_; }
  /// One check; calls done("") on success, done(WHY_NOT) to try again later.
  using Done = std::function<void(std::string why_not)>;
  virtual void check(Done done) = 0;

 private:
  void attempt();
  boost::asio::steady_timer next_;
  std::string last_miss_;
};

std::shared_ptr<ReadinessProbe> make_probe(Supervisor& sup, NodeId id, const Probe& spec);

}  // namespace treerun
