// RawFile -> the tree of a Plan: inheritance of settings, one PlanNode per node, the
// checks a node's own keys can answer, and what follows from the tree's shape alone
// (workers, stop sequences). References between nodes are resolve.h's; stream carriers
// streams.h's; order order.h's. Pure: reads no file and makes no syscall.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "plan/plan.h"
#include "plan/variables.h"
#include "spec/diagnostics.h"
#include "spec/raw.h"

namespace treerun {

/// Command-line settings that replace the spec's top-level ones.
struct Overrides {
  std::optional<Millis> grace;    // --grace: replaces the spec's top-level grace
  std::optional<Millis> timeout;  // --timeout: replaces the spec's top-level timeout
  std::optional<LogTarget> logs;  // --logs: replaces the spec's top-level logs (path absolute)
  /// --env-file FILE...: read in turn (a later one wins), below the spec's own env_file
  /// and env; relative to the current folder.
  std::vector<std::string> env_files;
  /// treerun's own environment, which `${...}` sees below everything else. Empty in
  /// tests that do not give one, so they do not depend on the environment they run in.
  EnvList environment;
  std::optional<Backend> backend;  // --backend: replaces the spec's `backend`
  /// The hosts of the allocation the run has (section 7), in index order; empty when
  /// none is known yet: `on` and `${host:PATH}` are then checked against them.
  std::vector<std::string> hosts;
};

/// Where each resolved setting of a node was written, for the messages of the checks
/// that need the whole plan.
struct NodeWhere {
  SourcePos name;
  std::vector<SourcePos> after;    // parallel to PlanNode::after
  std::vector<SourcePos> sources;  // parallel to PlanNode::stdin_spec.from
  SourcePos stdin_, stdout_, stderr_, tty, pty;
};

struct BuiltPlan {
  Plan plan;
  std::vector<NodeWhere> where;  // parallel to plan.nodes
  bool logs_from_cli = false;    // plan.logs came from --logs
  /// Parallel to plan.nodes, null for the root: each node as read, for resolve.h to
  /// look up its references. They point into the RawFile given to build_plan, which
  /// must outlive them.
  std::vector<const RawNode*> raw;
  /// Every `${host:PATH}`, for resolve.h to check.
  std::vector<HostRef> hosts;
};

/// Builds the tree from MAIN (the spec file spec/read.h read), reporting what a node
/// and its siblings can tell (duplicate names, nodes with nothing to run, keys that
/// need a `cmd`). It expands `${...}`, reads the env files and checks the working
/// folders. A node with `replicas: N` becomes a group of N copies named 0 to N-1.
/// `after` and stream sources are left unresolved. FILE_NAME as given by the user; "-"
/// names the plan "stdin". BYTES_READ: what reading the spec files took of the budget
/// of all files one load reads (spec/yaml_reader.h), which env files count against too.
BuiltPlan build_plan(const RawFile& main, const std::string& file_name, const Overrides& overrides,
                     Diagnostics& diags, std::size_t bytes_read = 0);

}  // namespace treerun
