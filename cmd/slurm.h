// `up` under `backend: slurm` (treerun(1), ACROSS MACHINES): the allocation the plan
// needs, and the note for an `on` the local backend ignores.
#pragma once

#include <optional>
#include <string>

#include "plan/load.h"
#include "plan/plan.h"
#include "proc/slurm_allocation.h"

namespace treerun {

/// A spec `up` may load twice (again once the allocation's hosts are known): standard
/// input is read once and kept.
class SpecSource {
 public:
  explicit SpecSource(std::string spec) : spec_(std::move(spec)) {}
  LoadResult load(const Overrides& overrides);

 private:
  std::string spec_;
  std::optional<std::string> stdin_text_;
};

/// The allocation PLAN runs in: the one treerun is inside, or a new one asked for with
/// the spec's `slurm:` settings and enough hosts for every node's `on`. WHY on failure.
/// GRANTED hears the job id of a new one the moment salloc grants it.
std::optional<AllocationHold> allocate_for(const Plan& plan, const OnGrant& granted, std::string& why);

/// OPTS with the hosts of the allocation treerun is inside (SLURM_JOB_ID and
/// SLURM_JOB_NODELIST set), for `check` and `tree`: an `on` outside it is then an error.
Overrides with_known_hosts(Overrides opts);

/// "treerun: note: ..." on stderr when a node has `on` under the local backend.
void note_ignored_on(const Plan& plan);

}  // namespace treerun
