// `health:` (treerun(1), THE SPEC › Nodes): once a node is ready, one check every
// `interval`, none overlapping the last; `failures` failed checks in a row are told to
// the ProbeHost once, with what the last check saw, and again only after a check has
// passed in between. Between checks it is one armed timer: an idle stack with health
// checks uses no CPU.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <string>

#include "probes/probe.h"

namespace treerun {

class HealthMonitor : public std::enable_shared_from_this<HealthMonitor> {
 public:
  /// CWD: the node's folder, for a relative `file:` path.
  HealthMonitor(ProbeHost& host, NodeId id, const HealthCheck& spec, std::string cwd);
  /// The first check comes one interval from now.
  void start();
  /// No more checks, nothing more told; a check under way is stopped.
  void cancel();

 private:
  void arm(std::chrono::steady_clock::time_point at);
  void check();
  void checked(std::string why_not);

  ProbeHost& host_;
  NodeId id_;
  HealthCheck spec_;
  std::shared_ptr<Check> check_;
  boost::asio::steady_timer next_;
  std::chrono::steady_clock::time_point began_{};
  int failed_in_a_row_ = 0;
  bool told_ = false;   // this run of failures was told
  bool active_ = false;
};

}  // namespace treerun
