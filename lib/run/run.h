// The run layer, run/: the supervisor that runs a Plan as a tree of nurseries on one
// thread, driven by events on one Asio loop. It sees every layer below it (probes,
// plan, spec, proc, io, base) and nothing includes it but cmd/ (and later control/).
// This header is all cmd/ needs: what to run, how, and how it ended.
//
// Reading order: run.h (what runs) → plan/plan.h (what it runs) → run/node.h and
// run/table.cpp (what happens to a node) → proc/launcher.h (how a process comes and
// goes) → the file of whatever you change: start.cpp, exit.cpp, stop.cpp, failure.cpp,
// shutdown.cpp, streams.cpp, outputs.cpp, summary.cpp.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "control/target.h"

#include "plan/plan.h"
#include "proc/launcher.h"

namespace treerun {

/// The run's spec read again as `up` read it (its --env-file files, NODE selection,
/// backend and hosts), for `treerun reload`: the plan, or the problems.
struct ReloadedSpec {
  std::optional<Plan> plan;
  std::vector<std::string> problems;  // FILE:LINE:COL: message
};

struct RunOptions {
  LogTarget logs;
  bool color = false;
  bool timestamps = false;
  bool quiet = false;
  int verbose = 0;  // 1: -v, treerun's details; 2: -vv, every state change of every node
  std::string events_path;
  std::string run_id;  // TREERUN_RUN_ID of every node; made here when empty
  std::string name;    // the run's name (contract 6.1), for `ls`
  std::string spec_path;  // the spec file's absolute path, "-" for standard input
  /// Called once, on the loop, when the tree is up (contract 6.3, `up -d`): every
  /// daemon ready (or stopped from the control socket) and every other node started.
  /// Not for a run that failed or is being cancelled by then; a run that ends well
  /// before its check came (every worker done at once) is told at its end, before
  /// control::Target::on_end.
  std::function<void()> on_up;
  /// Reads the spec again (`reload`); empty when it cannot be (standard input).
  std::function<ReloadedSpec()> reload_spec;
  /// The process exits once the run is over (`up`): the tree's memory is left to the
  /// exit, not freed node by node (base/left_to_exit.h).
  bool process_exits_after = false;
};

/// How a run ended: an exit code, or a signal treerun should die by.
struct RunResult {
  int code = 0;
  int signal = 0;  // > 0: re-raise it after cleaning up
};

/// Runs PLAN to the end on IO, with LAUNCHER for every process. The caller holds the
/// stop signals blocked (proc/signals.h); the run takes them as events, then blocks them
/// again. Never throws for what a node does; only for treerun's own failures before
/// anything started (reported as 125 by the caller). The run keeps PLAN: move it in.
RunResult run_plan(Plan plan, const RunOptions& options, boost::asio::io_context& io, Launcher& launcher);

class Supervisor;

/// A run for a caller that also serves its control socket: make it, hand target() to
/// the server (control/), then run(). run_plan() is this without a server.
class Run {
 public:
  Run(Plan plan, const RunOptions& options, boost::asio::io_context& io, Launcher& launcher);
  ~Run();
  /// Valid until the Run is destroyed; after run() it answers from the ended run.
  control::Target& target();
  /// As run_plan(); once it returns, the loop has stopped and `done` is written.
  RunResult run();

 private:
  std::unique_ptr<Supervisor> supervisor_;
};

}  // namespace treerun
