// `up -d` (contract 6.3; treerun(1), DETACHED RUNS): the run goes on in a background
// process of its own, and the command returns once the tree is up. The foreground and
// the background are one fork apart and talk over a socketpair in the control protocol's
// words: the background forwards its console ({"v":1,"text":...}: what a failure says,
// the summary) until the tree is up, then says {"v":1,"ok":true}. The foreground prints
// the text as it comes; on "ok" it says how to follow the run and exits 0; when the
// channel ends without it, the run has ended before it was up, and the foreground exits
// with the run's own exit code (its child's status).
//
// The order in the background, and why:
//   fork        while treerun has no thread (fork copies only the calling one), before
//               the launcher forks its guardian: the guardian must watch the process
//               that lives, the background one.
//   setsid      its own session: no controlling terminal, no ctrl-c or SIGHUP of the
//               terminal the run was started from.
//   claim       the control socket, by the process that serves it (cmd/, after this).
//   redirect    stdin from /dev/null, stdout and stderr to the run's log file (after the
//               claim: a name held by a live run must not truncate that run's log).
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <memory>
#include <optional>
#include <string>

#include "base/fd.h"
#include "control/target.h"

namespace treerun {
class Outlet;
}

namespace treerun::control {

/// What the foreground says once the run is up.
struct DetachedRun {
  std::string name;      // the run's name
  std::string log_path;  // where its stdout and stderr go
};

/// Forks the background process. In the foreground: waits until RUN is up or has ended,
/// says so, and returns the exit code for `up -d` (0 up; else the run's own; 125 when the
/// fork failed). In the background: returns nothing, in a new session, with CHANNEL the
/// background's end of the socketpair (for UpReport). A stop signal the foreground gets
/// while it waits (ctrl-c) is passed on: the run is cancelled and its teardown reported.
std::optional<int> detach(const DetachedRun& run, UniqueFd& channel);

/// In the background, once the socket is claimed: stdin from /dev/null, stdout and
/// stderr to LOG_PATH (truncated, or appended to when APPEND), made 0600 if new. False,
/// and WHY, when the log cannot be opened (stderr is still the foreground's then).
bool redirect_to_log(const std::string& log_path, bool append, std::string& why);

/// The background's report to the foreground: the run's console until the tree is up,
/// then "ok". It never blocks the run's loop; a foreground that is gone is no failure.
class UpReport {
 public:
  UpReport(boost::asio::io_context& io, UniqueFd channel, Target& target);
  ~UpReport();
  UpReport(const UpReport&) = delete;
  UpReport& operator=(const UpReport&) = delete;

  /// The tree is up (RunOptions::on_up): "ok", and the console is no longer forwarded.
  void up();

 private:
  std::shared_ptr<Outlet> out_;
  Subscription console_;
};

}  // namespace treerun::control
