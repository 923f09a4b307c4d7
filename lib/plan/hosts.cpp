#include "plan/hosts.h"

#include <algorithm>

#include "spec/read_backend.h"

namespace treerun {
namespace {

class Placer {
 public:
  Placer(BuiltPlan& built, Diagnostics& diags) : built_(built), plan_(built.plan), diags_(diags) {}

  void run() {
    for (PlanNode& n : plan_.nodes) n.host = host_of(n);
    for (PlanNode& n : plan_.nodes) replace_marks(n);
    if (plan_.backend == Backend::slurm) reject_what_slurm_cannot_run();
  }

 private:
  std::string host_of(const PlanNode& n) {
    if (plan_.backend == Backend::local) return "localhost";
    const std::vector<std::string>& hosts = plan_.hosts;
    if (hosts.empty()) return n.on;  // not known yet: `check`, `tree`
    // Reported once, where it was written: not again on a replica, whose group has it.
    bool own = n.on_pos.line > 0 && !(n.parent && same_pos(n));
    if (is_host_index(n.on)) {
      std::size_t i = host_index(n.on).value_or(hosts.size());  // read_on refused a bigger one
      if (i < hosts.size()) return hosts[i];
      if (own) diags_.add(n.on_pos, "`on: " + n.on + "`: the allocation has " + std::to_string(hosts.size()) +
                                        " host" + (hosts.size() == 1 ? "" : "s") + " (" + hosts_text(plan_) +
                                        "), indexed from 0");
      return hosts.front();
    }
    if (std::find(hosts.begin(), hosts.end(), n.on) != hosts.end()) return n.on;
    if (own) diags_.add(n.on_pos, "`on: " + shorten(n.on) + "` is not a host of the allocation (" + hosts_text(plan_) + ")");
    return hosts.front();
  }

  /// Whether N's `on` was written at its parent's position: a replica has its group's.
  bool same_pos(const PlanNode& n) const {
    const SourcePos& p = plan_.nodes[*n.parent].on_pos;
    return p.line == n.on_pos.line && p.col == n.on_pos.col && p.file == n.on_pos.file;
  }

  void replace_marks(PlanNode& n) {
    if (n.cmd)
      for (std::string& arg : n.cmd->argv) replace(arg);
    for (auto& kv : n.env) replace(kv.second);
    replace(n.ready.arg);
    replace(n.stdout_spec.path);
    replace(n.stderr_spec.path);
    replace(n.cwd);
  }

  /// Each mark (variables.h) becomes the host of the node its `${host:PATH}` named.
  void replace(std::string& text) const {
    std::size_t at;
    while ((at = text.find(kHostMark)) != std::string::npos) {
      std::size_t end = text.find(kHostMark, at + 1);
      if (end == std::string::npos) return;
      std::size_t ref = std::stoul(text.substr(at + 1, end - at - 1));
      std::optional<NodeId> node = ref < built_.hosts.size() ? built_.hosts[ref].node : std::nullopt;
      text.replace(at, end + 1 - at, node ? plan_.nodes[*node].host : std::string());
    }
  }

  void reject_what_slurm_cannot_run() {
    for (const PlanNode& n : plan_.nodes) {
      if (n.ready.type == Probe::Type::notify)
        diags_.add(n.ready.pos, "`notify` probes do not work under `backend: slurm` (the node's "
                                "$NOTIFY_SOCKET would be on another host): use `log`, `tcp`, `http`, `exec` or `file`");
    }
  }

  BuiltPlan& built_;
  Plan& plan_;
  Diagnostics& diags_;
};

}  // namespace

void place_hosts(BuiltPlan& built, const Overrides& overrides, Diagnostics& diags) {
  Plan& plan = built.plan;
  plan.hosts = plan.backend == Backend::local ? std::vector<std::string>{"localhost"} : overrides.hosts;
  Placer(built, diags).run();
}

std::string hosts_text(const Plan& plan) {
  std::string out;
  for (const auto& h : plan.hosts) out += (out.empty() ? "" : " ") + h;
  return out;
}

}  // namespace treerun
