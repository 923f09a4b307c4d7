// The checks made beside the node, where its process runs: `exec:` runs its command
// there (ProbeHost::run_beside, with the node's environment and folder); `file:` looks
// for a path relative to the node's folder. The file check is made by treerun itself
// (access(2)), which is the node's machine as long as the node runs locally.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "probes/probe.h"

namespace treerun {

/// `exec: CMD`: the shell command exits 0. LIMIT: a check still running after it is
/// killed and fails (health); none: it runs until it ends or the probe is cancelled.
std::shared_ptr<Check> make_exec_check(ProbeHost& host, NodeId id, const Probe& spec, std::optional<Millis> limit);
/// `file: PATH`: PATH exists; a relative PATH is taken from CWD, the node's folder.
std::shared_ptr<Check> make_file_check(const Probe& spec, std::string cwd);

}  // namespace treerun
