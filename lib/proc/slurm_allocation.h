// The Slurm allocation a run's steps live in (treerun(1), ACROSS MACHINES): the one
// treerun is inside (SLURM_JOB_ID set, as under sbatch or salloc), left alone at the
// end; or one asked for with `salloc --no-shell`, released at the end, and by the
// guardian if treerun is killed. Made before the run starts, so these calls block.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace treerun {

/// What to ask salloc for; the spec's `slurm:` settings, made plain (proc/ sees base/ only).
struct AllocationRequest {
  int nodes = 1;
  std::string partition;              // "": the cluster's default
  int minutes = 0;                    // 0: the partition's default time limit
  std::vector<std::string> nodelist;  // hosts named by `on`, which the allocation must hold
  std::vector<std::string> args;      // more salloc arguments
  std::string name;                   // the job's name
};

struct SlurmAllocation {
  std::string job;                 // the job id
  std::vector<std::string> hosts;  // in index order
  bool owned = false;              // we asked for it: release it at the end
};

/// `scancel JOB`: an allocation treerun asked for, at the end of the run.
void release_allocation(const SlurmAllocation& allocation);

/// An allocation that is released when this goes, on every path, unless handed over
/// (to the launcher, whose end releases it).
class AllocationHold {
 public:
  explicit AllocationHold(SlurmAllocation a) : a_(std::move(a)) {}
  ~AllocationHold() {
    if (a_) release_allocation(*a_);
  }
  AllocationHold(AllocationHold&& o) noexcept : a_(std::exchange(o.a_, std::nullopt)) {}
  AllocationHold& operator=(AllocationHold&&) = delete;
  AllocationHold(const AllocationHold&) = delete;
  const SlurmAllocation& operator*() const { return *a_; }
  const SlurmAllocation* operator->() const { return &*a_; }

 private:
  std::optional<SlurmAllocation> a_;
};

/// Told the job id the moment salloc grants it, before anything else can fail: the
/// guardian's insurance for a treerun killed now.
using OnGrant = std::function<void(const std::string& job)>;

/// The allocation to run in, or nothing with WHY set (salloc's own words included).
std::optional<AllocationHold> acquire_allocation(const AllocationRequest& request, const OnGrant& granted,
                                                 std::string& why);

/// How long run_captured waits, and who hears each line as it comes.
struct Capture {
  int limit_ms = -1;  // < 0: until it ends; else SIGKILLed then, and the code is -1
  std::function<void(const std::string& line)> on_line;
};

/// Runs ARGV (looked up in PATH) to its end; its stdout and stderr, merged, in OUTPUT.
/// The exit code, or -1 when it could not run, died of a signal or ran past the limit.
int run_captured(const std::vector<std::string>& argv, std::string& output, const Capture& how = {});

/// How long treerun waits for `scancel JOB` at its end: a controller that does not answer
/// must not hang treerun's exit (the allocation then ends at its time limit).
constexpr int kReleaseLimitMs = 10'000;

}  // namespace treerun
