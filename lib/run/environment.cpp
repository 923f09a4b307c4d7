#include "run/environment.h"

#include <sys/random.h>

#include <chrono>
#include <cstring>
#include <fmt/format.h>

#include "plan/hosts.h"

extern char** environ;

namespace treerun {

std::string make_run_id() {
  unsigned char bytes[8] = {};
  if (getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    std::memcpy(bytes, &now, sizeof bytes);
  }
  std::string id;
  for (unsigned char b : bytes) id += fmt::format("{:02x}", b);
  return id;
}

std::vector<std::string> inherited_env() {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    if (kv.starts_with("TREERUN_NODE=") || kv.starts_with("TREERUN_RUN_ID=") || kv.starts_with("NOTIFY_SOCKET=") ||
        kv.starts_with("TREERUN_HOST=") || kv.starts_with("TREERUN_HOSTS="))
      continue;
    out.emplace_back(kv);
  }
  return out;
}

std::vector<std::string> node_env(const Plan& plan, NodeId id, const std::vector<std::string>& base,
                                  const std::string& run_id) {
  const PlanNode& spec = plan[id];
  std::vector<std::string> env = base;
  auto set = [&env](const std::string& key, const std::string& value) {
    std::string prefix = key + "=";
    for (auto& kv : env)
      if (kv.starts_with(prefix)) {
        kv = prefix + value;
        return;
      }
    env.push_back(prefix + value);
  };
  for (const auto& [key, value] : spec.env) set(key, value);
  set("TREERUN_NODE", spec.path);
  set("TREERUN_RUN_ID", run_id);
  set("TREERUN_HOST", spec.host);
  set("TREERUN_HOSTS", hosts_text(plan));
  return env;
}

}  // namespace treerun
