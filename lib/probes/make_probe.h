// The probe for a node's `ready:`, and the check for its `health:`, of whichever kind
// they name.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "probes/probe.h"

namespace treerun {

/// The probe SPEC asks for, reporting to HOST about node ID; CWD is the node's folder
/// (for a relative `file:` path). Null for `none`: started means ready.
std::shared_ptr<ReadinessProbe> make_probe(ProbeHost& host, NodeId id, const Probe& spec, std::string cwd);

/// One check of SPEC (tcp, http, exec or file). LIMIT bounds each check: a readiness
/// probe's is its interval for a connection and none for a command (its deadline
/// bounds it); a health check's is its `timeout`.
std::shared_ptr<Check> make_check(ProbeHost& host, NodeId id, const Probe& spec, std::string cwd,
                                  std::optional<Millis> limit);

}  // namespace treerun
