#include "plan/variables.h"

#include "spec/expand.h"

namespace treerun {

OuterEnv::OuterEnv(const EnvList& environment) {
  for (const auto& [key, value] : environment)
    if (key != "TREERUN_NODE" && key != "TREERUN_RUN_ID" && key != "NOTIFY_SOCKET") vars_[key] = value;
}

std::optional<std::string> OuterEnv::get(std::string_view name) const {
  auto it = vars_.find(std::string(name));
  return it == vars_.end() ? std::nullopt : std::optional(it->second);
}

std::optional<std::string> VarScope::get(std::string_view name) const {
  if (!index_) {
    index_.emplace();
    index_->reserve(env_.size());
    for (const auto& [key, value] : env_) (*index_)[key] = value;
  }
  if (auto it = index_->find(name); it != index_->end()) return std::string(it->second);
  if (name == "TREERUN_NODE" && !node_path_.empty()) return node_path_;
  return outer_.get(name);
}

std::optional<std::string> expand_text(const RawText& text, const VarScope& scope, Diagnostics& diags,
                                       std::vector<HostRef>& hosts, NodeId from, bool mark_hosts) {
  if (!has_variables(text.value)) return text.value;
  std::size_t next = hosts.size();
  HostText host_text = [&](std::string_view) {
    return std::string(1, kHostMark) + std::to_string(next++) + std::string(1, kHostMark);
  };
  Expansion e = expand_variables(text.value, [&](std::string_view name) { return scope.get(name); },
                                 mark_hosts ? host_text : HostText{});
  for (const auto& h : e.hosts) hosts.push_back({from, h.path, text.at(h.offset), std::nullopt});
  for (const auto& p : e.problems) diags.add(text.at(p.offset), p.message);
  if (!e.problems.empty()) return std::nullopt;
  return std::move(e.text);
}

}  // namespace treerun
