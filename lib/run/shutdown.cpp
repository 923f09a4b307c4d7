// The run as a whole comes down: a stop signal to treerun (one cancels the tree, a
// second forces), the run's timeout, progress lines while the stop takes long, and the
// final sweep of processes that escaped their node's group.
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/units.h"
#include "run/supervisor.h"

namespace treerun {
namespace {

const char* cause_of(int sig) {
  switch (sig) {
    case SIGINT: return "sigint";
    case SIGTERM: return "sigterm";
    case SIGHUP: return "sighup";
    default: return "signal";
  }
}

}  // namespace

/// What forces the stop from here: a ctrl-c reaches treerun only while no node holds
/// the terminal.
std::string Supervisor::how_to_force(int sig) const {
  for (const Node& n : nodes_)
    if (n.run.holds_terminal)
      return fmt::format("{} holds the terminal: quit it to go on, or `kill -INT {}` to force", n.spec->path,
                         ::getpid());
  if (sigints_ > 0) return sig == SIGINT && signalled_ == SIGINT ? "ctrl-c again to force" : "SIGINT again to force";
  // After `down`, the next ctrl-c forces: the down was the first.
  if (down_) return fmt::format("ctrl-c in its terminal or `kill -INT {}` forces", ::getpid());
  return "two SIGINTs force";
}

void Supervisor::arm_run_timeout() {
  if (!plan_.timeout) return;
  run_timer_.expires_after(*plan_.timeout);
  run_timer_.async_wait([this](const boost::system::error_code& ec) {
    // A run already on its way down (its work done, a failure, a signal) is not timed
    // out by its own teardown, which its graces bound.
    if (ec || run_finished_ || nodes_[0].cancelled) return;
    log_->note(-1, fmt::format("the run's timeout ({}) is up: stopping everything", format_duration(*plan_.timeout)));
    if (!first_code_) first_code_ = 124;
    cancel(0, {"timeout", "", true});
  });
}

void Supervisor::on_signal(int sig) {
  signals_.async_wait([this](const boost::system::error_code& ec, int next) {
    if (!ec) on_signal(next);
  });
  // The run is over and only its last output is being written: a signal now means
  // "do not wait for the reader", not another stop.
  if (run_finished_) {
    outputs_abandoned_ = true;
    return;
  }
  // Only a second SIGINT forces: a closing terminal sends SIGHUP twice, and a service
  // manager may repeat its SIGTERM; neither may take the graces away. A `down` was the
  // first: a ctrl-c after it forces. A signal after a `down` is what the run ends by
  // (a calling shell sees it), as if it had come first.
  if (sig == SIGINT && (sigints_++ > 0 || down_)) {
    if (!signalled_) signalled_ = sig;
    return force_all();
  }
  if (signalled_ || down_) {
    if (!signalled_) signalled_ = sig;
    log_->note(-1, fmt::format("{}: already stopping gracefully ({})", signal_name(sig), how_to_force(sig)));
    return;
  }
  signalled_ = sig;
  log_->note(-1, fmt::format("{}: stopping gracefully ({})", signal_name(sig), how_to_force(sig)));
  cancel(0, {cause_of(sig), "", true});
  arm_progress();
}

void Supervisor::force_all() {
  if (forced_) return;
  forced_ = true;
  log_->note(-1, "forced stop: killing everything that is left");
  cancel(0, {"sigint", "", false});
  for (const PlanNode& spec : plan_.nodes) on(spec.id, Event::force);
  for (pid_t pid : launcher_.strays()) launcher_.signal_stray(pid, SIGKILL);
}

void Supervisor::arm_progress() {
  progress_timer_.expires_after(std::chrono::seconds(1));
  progress_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) report_progress();
  });
}

/// While the stop takes more than a second: who we still wait for, and when each
/// will be killed.
void Supervisor::report_progress() {
  if (run_finished_) return;
  std::string waiting;
  auto now = Clock::now();
  for (const Node& n : nodes_) {
    if (!n.has_processes() || !n.run.stop_sent()) continue;
    if (!waiting.empty()) waiting += ", ";
    if (n.run.holds_terminal) waiting += n.spec->path + " (holds the terminal)";
    else if (n.run.stop_step == static_cast<int>(n.spec->stop_sequence.size()) - 1) waiting += n.spec->path + " (killed)";
    else {
      Millis wait = n.spec->stop_sequence[n.run.stop_step].wait;
      auto left = std::chrono::duration<double>(n.run.stop_sent_at + wait - now).count();
      waiting += fmt::format("{} (SIGKILL in {:.1f}s)", n.spec->path, std::max(0.0, left));
    }
  }
  if (!waiting.empty()) log_->note(-1, "waiting for " + waiting);
  arm_progress();
}

/// The last step: descendants that escaped their node's process group (double forks,
/// setsid) came back to us; they get the root's stop signal, its grace, then SIGKILL.
void Supervisor::sweep_strays() {
  std::size_t count = launcher_.strays().size();
  if (count == 0) {
    run_finished_ = true;
    return;
  }
  sweeping_ = true;
  log_->note(-1, fmt::format("stopping {} orphaned process(es)", count));
  sweep_timer_.expires_after(plan_.root().grace);
  sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    strays_killed_ = true;
    for (pid_t pid : launcher_.strays()) launcher_.signal_stray(pid, SIGKILL);
  });
  continue_sweep();
}

/// Strays of strays come back to us too, and a probe's or a stop command's process may
/// still be on its way out: the sweep goes on until we have no child at all.
void Supervisor::continue_sweep() {
  if (!sweeping_) return;
  std::vector<pid_t> left = launcher_.strays();
  for (pid_t pid : left)
    if (std::find(strays_.begin(), strays_.end(), pid) == strays_.end()) {
      // Each stray gets the root's stop once (SIGKILL once the grace is over).
      launcher_.signal_stray(pid, strays_killed_ || forced_ ? SIGKILL : plan_.root().stop_signal);
      launcher_.signal_stray(pid, SIGCONT);
    }
  strays_ = std::move(left);
  if (strays_.empty()) run_finished_ = true;
}

}  // namespace treerun
