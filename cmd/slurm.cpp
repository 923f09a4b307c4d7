#include "slurm.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "spec/file_read.h"
#include "spec/read_backend.h"

namespace treerun {

LoadResult SpecSource::load(const Overrides& overrides) {
  if (spec_ != "-") return load_plan(spec_, overrides);
  if (!stdin_text_) {
    FileText f = read_stdin();
    if (!f.ok) {
      LoadResult r;
      r.problems.push_back({{"-", 0, 0}, "cannot read the spec from standard input: " + f.error});
      return r;
    }
    stdin_text_ = std::move(f.text);
  }
  std::error_code ec;
  std::string cwd = std::filesystem::current_path(ec).string();
  return load_plan_from_string(*stdin_text_, "-", ec ? "/" : cwd, overrides);
}

std::optional<AllocationHold> allocate_for(const Plan& plan, const OnGrant& granted, std::string& why) {
  AllocationRequest r;
  int needed = 1;
  for (const PlanNode& n : plan.nodes) {
    if (!n.cmd) continue;
    if (is_host_index(n.on)) needed = std::max(needed, int(host_index(n.on).value_or(0)) + 1);  // in range: read_on
    else if (std::find(r.nodelist.begin(), r.nodelist.end(), n.on) == r.nodelist.end()) r.nodelist.push_back(n.on);
  }
  r.nodes = plan.slurm.nodes > 0 ? plan.slurm.nodes : std::max<int>(needed, int(r.nodelist.size()));
  r.partition = plan.slurm.partition;
  if (plan.slurm.time) r.minutes = int((plan.slurm.time->count() + 59'999) / 60'000);
  r.args = plan.slurm.args;
  r.name = "treerun:" + plan.name;
  return acquire_allocation(r, granted, why);
}

Overrides with_known_hosts(Overrides opts) {
  const char* job = std::getenv("SLURM_JOB_ID");
  if (!job || !*job) return opts;  // acquire_allocation would ask for one
  std::string why;
  if (auto inside = acquire_allocation({}, nullptr, why)) opts.hosts = (*inside)->hosts;  // not owned: no release
  return opts;
}

void note_ignored_on(const Plan& plan) {
  if (plan.backend != Backend::local) return;
  for (const PlanNode& n : plan.nodes)
    if (n.on_pos.line > 0) {
      std::cerr << n.on_pos.file << ":" << n.on_pos.line << ":" << n.on_pos.col
                << ": note: `on` is ignored under the local backend (`backend: slurm` or `up --backend slurm` uses it)\n";
      return;
    }
}

}  // namespace treerun
