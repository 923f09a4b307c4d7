// Nodes as Slurm job steps (treerun(1), ACROSS MACHINES): each spawn is a local
// `srun --jobid=J --overlap -N1 -n1 -w HOST` started by the local launcher (its own
// process group, so a terminal's ctrl-c never reaches srun, whose own ctrl-c handling
// kills without grace; a parent-death signal, so a SIGKILLed treerun takes its steps
// with it), with the node's stdio as srun's: srun forwards them, and the stream and
// log machinery reads srun's pipes as it reads a local process's.
//
// A stop is `scancel --ctld -s SIG J.STEP`: a signal to srun would not be forwarded as
// it (SIGTERM to srun is SIGKILL to the step). The step id comes from srun's prolog, a
// tiny script that runs on this host once the step exists and writes "SRUN_PID
// J.STEP" into a FIFO this launcher reads on the loop; a signal asked for before that
// waits for it. srun returns the task's status (128+N for a death by signal N), which
// this launcher turns back into "killed by signal N".
//
// A step whose readers have all gone is not told by srun (its SIGPIPE stays pending on
// its I/O thread and the step runs on): this launcher watches srun's stdout pipe for
// the error event that says so, and sends the step SIGPIPE itself, as a shell's
// producer would get it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "proc/local_launcher.h"
#include "proc/slurm_allocation.h"

namespace treerun {

class SlurmLauncher final : public Launcher {
 public:
  /// Forks the guardian and makes the step channel, before there is an allocation to
  /// leak: acquire_allocation then tells release_on_death the job the moment it is
  /// granted, and adopt() hands the allocation over once the plan is placed.
  SlurmLauncher(boost::asio::io_context& io, const std::string& run_id);
  ~SlurmLauncher() override;
  SlurmLauncher(const SlurmLauncher&) = delete;
  SlurmLauncher& operator=(const SlurmLauncher&) = delete;

  /// Should treerun be killed, the guardian runs `scancel JOB`.
  void release_on_death(const std::string& job);
  /// Where the steps run; released at this launcher's end if treerun asked for it.
  /// Before the first spawn.
  void adopt(AllocationHold allocation) { allocation_.emplace(std::move(allocation)); }

  SpawnResult spawn(const SpawnRequest& request, ExitHandler on_exit, std::error_code& ec) override;
  void signal(const ProcHandle& p, int sig) override;
  bool exited(const ProcHandle& p) override { return local_.exited(p); }
  bool any_exited() override { return local_.any_exited(); }
  /// Once srun is collected, its step is over: what srun leaves in its group is a
  /// zombie child of its own, which comes back to treerun as a stray and is reaped.
  bool group_alive(const ProcHandle& p) override { return steps_.contains(p.pid) && local_.group_alive(p); }
  void forget(const ProcHandle& p) override;  // its step was dropped when srun was collected
  std::vector<pid_t> strays() override;
  void signal_stray(pid_t pid, int sig) override { local_.signal_stray(pid, sig); }
  void on_collected(std::function<void(bool stray)> hook) override { local_.on_collected(std::move(hook)); }
  bool backend_line(std::string_view line) const override;

 private:
  struct Step {
    std::string id;           // "J.S", once the prolog told it
    std::vector<int> queued;  // signals asked for before that
    /// A copy of srun's stdout when it is a pipe: its error event says every reader
    /// is gone (see watch_readers). Closed with the step: it holds the pipe open.
    std::shared_ptr<boost::asio::posix::stream_descriptor> out;
  };

  Command srun_command(const SpawnRequest& request) const;
  void make_step_channel();
  void read_step_ids();
  void on_step_id(pid_t srun, const std::string& id);
  void scancel(const std::string& step, int sig);
  void watch_readers(pid_t srun, int stdout_fd);
  void signal_step(Step& step, int sig);
  void end_helpers();
  const SlurmAllocation& allocation() const { return **allocation_; }

  LocalLauncher local_;
  std::optional<AllocationHold> allocation_;
  std::string dir_;     // private: the prolog and its FIFO
  std::string prolog_;
  boost::asio::posix::stream_descriptor fifo_;
  UniqueFd fifo_writer_;  // held so that the FIFO never reads EOF between sruns
  std::string pending_;   // a part of a line read from the FIFO
  char buf_[4096];
  std::map<pid_t, Step> steps_;  // by srun's pid
  std::set<pid_t> helpers_;      // scancel processes: not strays
};

}  // namespace treerun
