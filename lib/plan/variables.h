// `${...}` in a node's values (treerun(1), THE SPEC › Variables): spec/expand.h's
// syntax over the environment the node inherits: what the spec gives it (its parents'
// env_file and env, its own, `--env-file` below them all), its TREERUN_* variables,
// then treerun's own environment.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "plan/plan.h"
#include "spec/diagnostics.h"
#include "spec/env_file.h"
#include "spec/raw.h"

namespace treerun {

/// A `${host:PATH}`, for resolve.h to check that PATH names a node.
struct HostRef {
  NodeId from;       // the node it was written in (a replicated node's group)
  std::string path;  // as written
  SourcePos pos;     // of its `$`
  std::optional<NodeId> node;  // what PATH names, once resolve.h found it
};

/// What `${host:PATH}` leaves in a value until plan/hosts.h knows the host: the index
/// of its HostRef between two kHostMark bytes (a control byte no spec text holds).
inline constexpr char kHostMark = '\x1d';

/// treerun's own environment, as expansion sees it: without the variables treerun sets
/// per node (an outer treerun's TREERUN_NODE is not this node's).
class OuterEnv {
 public:
  explicit OuterEnv(const EnvList& environment);
  std::optional<std::string> get(std::string_view name) const;

 private:
  std::unordered_map<std::string, std::string> vars_;
};

/// The variables one place of the spec sees.
class VarScope {
 public:
  /// ENV: what the spec gives (it must outlive the scope); NODE_PATH: TREERUN_NODE, ""
  /// at the top level (where it is not set).
  VarScope(const EnvList& env, const OuterEnv& outer, std::string node_path)
      : env_(env), outer_(outer), node_path_(std::move(node_path)) {}
  std::optional<std::string> get(std::string_view name) const;

 private:
  const EnvList& env_;
  const OuterEnv& outer_;
  std::string node_path_;
  mutable std::optional<std::unordered_map<std::string_view, std::string_view>> index_;  // made on first use
};

/// Expands TEXT in SCOPE. Each problem is reported at its `$`; each `${host:PATH}` is
/// added to HOSTS, as written in node FROM, and becomes "localhost", or with
/// MARK_HOSTS a mark for plan/hosts.h to replace. Empty when there was a problem.
std::optional<std::string> expand_text(const RawText& text, const VarScope& scope, Diagnostics& diags,
                                       std::vector<HostRef>& hosts, NodeId from, bool mark_hosts = false);

}  // namespace treerun
