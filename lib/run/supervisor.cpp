// The Supervisor's frame: set-up as a checklist, the loop, and what probes may ask.
#include "run/supervisor.h"

#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include "proc/signals.h"
#include "run/environment.h"
#include "run/fd_budget.h"

namespace treerun {

Supervisor::Supervisor(Plan plan, const RunOptions& options, boost::asio::io_context& io, Launcher& launcher)
    : running_plan_(std::move(plan)),
      plan_(running_plan_),
      options_(options),
      io_(io),
      launcher_(launcher),
      signals_(io, SIGINT, SIGTERM, SIGHUP),
      run_timer_(io),
      progress_timer_(io),
      sweep_timer_(io),
      nodes_(plan_.nodes.size()),
      base_env_(inherited_env()),
      run_id_(options.run_id.empty() ? make_run_id() : options.run_id) {
  // Before anything is opened or started: a tree that cannot fit fails now, whole.
  if (std::string problem = descriptor_problem(plan_); !problem.empty()) throw std::runtime_error(problem);
  plan_left_.enabled = nodes_left_.enabled = options.process_exits_after;
  open_outputs();
  if (options.process_exits_after) log_->leave_history_to_exit();
  for (const PlanNode& spec : plan_.nodes) {
    Node& n = nodes_[spec.id];
    n.spec = &spec;
    n.log_source = spec.id == 0 ? 0 : log_->add_source(spec.path);
    for (NodeId dep : spec.after) nodes_[dep].dependents.push_back(spec.id);
  }
  open_feeds();
  open_streams();
  open_terminal();
  open_watches();
  launcher_.on_collected([this](bool stray) { on_collected(stray); });
}

Supervisor::~Supervisor() { launcher_.on_collected(nullptr); }

RunResult Supervisor::run() {
  signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (!ec) on_signal(sig);
  });
  // Signals that came while the spec loaded (the caller holds them) arrive now.
  release_stop_signals();
  arm_run_timeout();
  on(0, Event::can_start);
  for (;;) {
    // What a burst of events caused is written together before the loop sleeps, one
    // write per burst; the burst is bounded so a chatty pipe cannot hold it back.
    events_.flush();
    log_->flush();
    if (run_finished_) break;
    try {
      if (!io_.run_one()) break;
      for (int i = 0; i < 64 && !run_finished_ && io_.poll_one(); ++i) {
      }
    } catch (const std::exception& e) {
      // treerun's own fault in a handler: never an unwind with process groups alive,
      // but a clean teardown of the whole tree.
      log_->note(-1, fmt::format("internal error: {}: stopping everything", e.what()));
      if (!first_code_) first_code_ = 125;
      collect_spawns_after_error();
      cancel(0, {"failure", "", true});
    }
  }
  run_finished_ = true;
  watcher_.reset();  // no change matters now
  // What the last turns settled, before the end is told: a run that ended well was up.
  consider_up();
  end_controls();
  int code = signalled_ ? 128 + signalled_ : first_code_.value_or(0);
  finish_outputs(code, std::chrono::duration<double>(Clock::now() - start_).count());
  return RunResult{code, signalled_};
}

void Supervisor::probe_passed(NodeId id) { on(id, Event::probe_passed); }

void Supervisor::probe_failed(NodeId id, std::string why) {
  reason_ = std::move(why);
  on(id, Event::probe_failed);
}

void Supervisor::health_failed(NodeId id, std::string why) {
  reason_ = std::move(why);
  on(id, Event::probe_failed);  // once ready, a failed probe is its health check's
}

void Supervisor::note(NodeId id, const std::function<std::string()>& text, bool verbose_only) {
  if (!verbose_only || options_.verbose > 0) log_->note(nodes_[id].log_source, text());
}

long Supervisor::run_beside(NodeId id, const Command& cmd, std::function<void(ExitStatus)> on_exit, std::string& why) {
  std::error_code ec;
  SpawnResult r;
  try {
    r = launcher_.spawn(request_for(id, cmd), std::move(on_exit), ec);
  } catch (const std::exception& e) {
    why = e.what();
    return -1;
  }
  if (ec) {
    why = ec.message();
    return -1;
  }
  return r.proc.pid;
}

void Supervisor::stop_beside(long handle) {
  pid_t pid = static_cast<pid_t>(handle);
  launcher_.signal({pid, pid}, SIGKILL);
}

Run::Run(Plan plan, const RunOptions& options, boost::asio::io_context& io, Launcher& launcher)
    : supervisor_(std::make_unique<Supervisor>(std::move(plan), options, io, launcher)) {}

Run::~Run() = default;

control::Target& Run::target() { return *supervisor_; }

RunResult Run::run() {
  RunResult result = supervisor_->run();
  // The run is over and `done` is written: a late SIGTERM must not kill us now with
  // another status. Blocked before the signal set goes, which puts the default action
  // back. (The caller unblocks the one signal it re-raises.)
  hold_stop_signals();
  return result;
}

RunResult run_plan(Plan plan, const RunOptions& options, boost::asio::io_context& io, Launcher& launcher) {
  return Run(std::move(plan), options, io, launcher).run();
}

}  // namespace treerun
