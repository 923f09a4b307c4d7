// probes/: readiness probes (`ready:`, treerun(1), THE SPEC › Nodes). A probe decides
// when a node's process counts as ready, and tells its ProbeHost once: passed, or failed
// (its timeout). Everything a probe needs from the run goes through ProbeHost, so
// probes/ includes only plan/, spec/ and base/, and never the supervisor (run/).
//
// The files follow where a check runs: this one holds the probe's life (ProbeHost,
// Check, ReadinessProbe, PolledProbe); driver_probes.h the checks made from treerun
// itself (log, tcp), http_check.h the http and https GET; node_probes.h those made
// beside the node (exec, file); notify_probe.h sd_notify, which works only for a local
// process; make_probe.h picks one for a node's `ready:`; health.h repeats a check once
// the node is ready (`health:`). Event-driven where the signal is an event (a log line, an
// sd_notify datagram), polled at `interval` only where it must be (tcp, http, exec,
// file).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/exit_status.h"
#include "plan/plan.h"

namespace treerun {

/// What a probe may ask of the run, and nothing else: probes never see the supervisor.
class ProbeHost {
 public:
  virtual boost::asio::io_context& io() = 0;
  virtual void probe_passed(NodeId id) = 0;
  virtual void probe_failed(NodeId id, std::string why) = 0;
  /// One of treerun's own lines about ID; VERBOSE_ONLY: only `-v` shows it, and TEXT is
  /// made only then.
  virtual void note(NodeId id, const std::function<std::string()>& text, bool verbose_only) = 0;
  /// Runs CMD beside ID's process, with its environment and folder; ON_EXIT when it ends.
  /// Returns a handle for stop_beside, or -1 with the reason in WHY.
  virtual long run_beside(NodeId id, const Command& cmd, std::function<void(ExitStatus)> on_exit,
                          std::string& why) = 0;
  /// Kills what run_beside started (and its group), if it still runs.
  virtual void stop_beside(long handle) = 0;
  /// ID's `health` check failed its `failures` times in a row; WHY says what the last
  /// check saw. Told once per run of failures.
  virtual void health_failed(NodeId id, std::string why) = 0;

 protected:
  ~ProbeHost() = default;
};

/// One look at whether a node answers (a connection, a GET, a command, a file): a
/// readiness probe repeats it until it passes, a health monitor (health.h) every
/// interval. One implementation per kind serves both.
class Check : public std::enable_shared_from_this<Check> {
 public:
  virtual ~Check() = default;
  /// DONE("") when the check passed, DONE(WHY_NOT) when not; once. The caller ignores a
  /// DONE that comes after it stopped caring.
  using Done = std::function<void(std::string why_not)>;
  virtual void run(Done done) = 0;
  /// A check under way stops now (a command is killed); its DONE may still come.
  virtual void cancel() {}
  /// Before the node's process starts, for a readiness probe: why its checks could not
  /// tell it from something else ("" if they can).
  virtual std::string before_start() { return ""; }
};

class ReadinessProbe : public std::enable_shared_from_this<ReadinessProbe> {
 public:
  ReadinessProbe(ProbeHost& host, NodeId id, const Probe& spec);
  virtual ~ReadinessProbe() = default;

  /// Before the spawn: adds what the node's process needs to its environment
  /// (NOTIFY_SOCKET), and checks what can be checked before it runs. Returns why the
  /// node cannot start with this probe (it is then not spawned), or "".
  virtual std::string prepare(std::vector<std::string>& env) {
    (void)env;
    return "";
  }
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

  ProbeHost& host_;
  NodeId id_;
  Probe spec_;

 private:
  boost::asio::steady_timer deadline_;
  bool active_ = false;
};

/// A probe that checks something every `interval` (tcp, http, exec, file) until a
/// check passes.
class PolledProbe final : public ReadinessProbe {
 public:
  PolledProbe(ProbeHost& host, NodeId id, const Probe& spec, std::shared_ptr<Check> check);
  std::string prepare(std::vector<std::string>& env) override;
  void cancel() override;

 protected:
  void begin() override { attempt(); }
  std::string last_miss() const override { return last_miss_; }

 private:
  void attempt();
  std::shared_ptr<Check> check_;
  boost::asio::steady_timer next_;
  std::string last_miss_;
};

}  // namespace treerun
