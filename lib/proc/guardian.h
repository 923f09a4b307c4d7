// If treerun is SIGKILLed, the parent-death signal takes its children down, but not
// what they started in their process groups (`sh -c 'a | b'`, a server's workers).
// The guardian is a small forked watcher that holds the read end of a pipe and the
// list of live process groups: when the pipe hits EOF without a clean goodbye,
// treerun is dead, and it SIGKILLs every group still on the list, then every process
// whose environment still carries the run's TREERUN_RUN_ID (what left its group).
//
// The watcher is the one process treerun starts without the launcher's spawn (its
// owner, LocalLauncher, forks it first), and the one it waits for outside the Reaper:
// ~Guardian blocks in waitpid on it after the goodbye. Should the watcher die earlier,
// whichever waits first collects it: the Reaper's waitpid(-1), as a stray, or
// ~Guardian's.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "base/fd.h"

namespace treerun {

class Guardian {
 public:
  /// Forks the watcher. Call while treerun is single-threaded (fork copies only the
  /// calling thread). The watcher keeps none of treerun's fds but its pipe, and ignores
  /// the polite signals whatever treerun did with them.
  explicit Guardian(const std::string& run_id = "");
  /// A clean goodbye: the watcher exits without killing anything, and this waits for
  /// it (a blocking waitpid on its pid).
  ~Guardian();
  /// The goodbye alone: the watcher exits while the caller ends its other helpers; the
  /// destructor then only waits for it.
  void let_go();
  Guardian(const Guardian&) = delete;
  Guardian& operator=(const Guardian&) = delete;

  void watch(pid_t pgid) { queue(pgid); }
  void unwatch(pid_t pgid) { queue(-pgid); }
  /// Batches watch/unwatch records: the first one queued calls POST, which must call
  /// flush() later (at the end of the loop's turn), so that a stop of 5 000 groups is
  /// a few writes and wake-ups of the watcher, not 5 000. Without it, each is written
  /// at once. A record in the queue when treerun dies is lost: a group spawned in that
  /// turn still has its leader's parent-death signal and the run id, one being
  /// forgotten is empty already.
  void batch_with(std::function<void()> post) { post_ = std::move(post); }
  /// Writes the queued records, in order.
  void flush();
  /// If treerun dies, the watcher also runs `scancel JOB`: a Slurm allocation that
  /// treerun asked for outlives it otherwise (until its time limit).
  void release_job(int job) {
    send(kJob);
    send(job);
  }
  /// If treerun dies, the watcher also removes PATH (a folder, with what it holds): a
  /// private temp folder that treerun would have removed at its end.
  void remove_on_death(const std::string& path) { send_text(kPath, path); }
  /// If treerun dies, the watcher also runs `scancel STEP` ("J.S"): a step in an
  /// allocation treerun did not ask for may outlive its killed srun.
  void cancel_step_on_death(const std::string& step) { send_text(kStep, step); }
  void forget_step(const std::string& step) { send_text(kStepGone, step); }
  static constexpr int kJob = -0x7fffffff;
  static constexpr int kPath = -0x7ffffffe;      // then the length, then the bytes
  static constexpr int kStep = -0x7ffffffd;      // the same
  static constexpr int kStepGone = -0x7ffffffc;  // the same
  pid_t pid() const { return pid_; }

 private:
  void queue(int record);
  void send(int record);
  void send_text(int kind, const std::string& text);
  void write_all(const void* data, std::size_t size);

  UniqueFd pipe_;
  std::vector<int> queued_;
  std::function<void()> post_;
  pid_t pid_ = -1;
};

}  // namespace treerun
