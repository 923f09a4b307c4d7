// Local processes: a vfork-like clone + exec (proc/child.h), each in its own process
// group, with an empty signal mask, default dispositions, a parent-death signal, and
// the guardian as insurance. The clone is made by a spawner (proc/spawner.h), so that
// a spawn does not copy treerun's descriptor table, with treerun still the parent; two
// spawners take turns. To measure: TREERUN_SPAWNERS=N in treerun's environment runs N
// (0 to 8), TREERUN_NO_SPAWNER=1 none (every process made in process).
//
// Why not posix_spawn: between fork and exec the child needs three things no
// posix_spawn attribute gives on Debian 12 — PR_SET_PDEATHSIG with the getppid() check
// that closes its race, a child-only RLIMIT_NOFILE (treerun raises its own), and
// tcsetpgrp for a node that takes the terminal (glibc 2.35's addtcsetpgrp_np is newer
// than Debian 12's). vfork keeps posix_spawn's speed (no page-table copy); the child
// makes only async-signal-safe calls on memory prepared by the parent (ChildPlan).
#pragma once

#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <deque>
#include <map>
#include <memory>
#include <optional>

#include "proc/guardian.h"
#include "proc/launcher.h"
#include "proc/reaper.h"
#include "proc/spawner.h"

namespace treerun {

class LocalLauncher final : public Launcher {
 public:
  /// Forks the guardian first, then takes the signal dispositions children must not
  /// inherit: install treerun's own (proc/signals.h) before constructing this.
  /// RUN_ID: what the run puts in TREERUN_RUN_ID, so that the guardian can find every
  /// process of the run if treerun dies.
  LocalLauncher(boost::asio::io_context& io, const std::string& run_id = "");
  ~LocalLauncher() override;
  LocalLauncher(const LocalLauncher&) = delete;
  LocalLauncher& operator=(const LocalLauncher&) = delete;
  SpawnResult spawn(const SpawnRequest& request, ExitHandler on_exit, std::error_code& ec) override;
  Ticket submit(const SpawnRequest& request, ExitHandler on_exit) override;
  SpawnResult collect(Ticket ticket, std::error_code& ec) override;
  void signal(const ProcHandle& p, int sig) override;
  bool exited(const ProcHandle& p) override;
  bool any_exited() override;
  bool group_alive(const ProcHandle& p) override;
  void forget(const ProcHandle& p) override;
  std::vector<pid_t> strays() override;
  void signal_stray(pid_t pid, int sig) override;
  void on_collected(std::function<void(bool stray)> hook) override;
  /// For a launcher built on this one (the Slurm launcher): the run's insurance.
  Guardian& guardian() { return guardian_; }

 private:
  void raise_fd_limit();
  void note_signal_dispositions();
  /// A spawn between its submit and its collect.
  struct InFlight {
    ChildSpec spec;                           // to start in process, should the spawner refuse it
    Spawner* via = nullptr;                   // sent to a spawner (its ticket); otherwise started:
    Spawner::Ticket ticket = 0;
    ChildStarted started;
    ExitHandler on_exit;
    bool beside = false;
  };
  ChildSpec child_spec_for(const SpawnRequest& req) const;
  ChildStarted start_in_process(const ChildSpec& spec);
  ChildStarted start_elsewhere(const ChildSpec& spec, const Spawner* lost);
  SpawnResult finish(const ChildStarted& started, InFlight& f, std::error_code& ec);

  Guardian guardian_;  // first: it forks before this launcher opens anything
  Reaper reaper_;
  std::vector<int> non_default_signals_;
  std::optional<struct rlimit> children_nofile_;  // set when ours was raised
  UniqueFd dev_null_read_;
  UniqueFd dev_null_write_;
  std::shared_ptr<int> alive_ = std::make_shared<int>();  // for what this posts
  Ticket submitted_ = 0;
  std::map<Ticket, InFlight> in_flight_;
  std::deque<Spawner> spawners_;  // last: forked once the above is known, gone first
  std::size_t next_spawner_ = 0;
};

}  // namespace treerun
