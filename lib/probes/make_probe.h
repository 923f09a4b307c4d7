// The probe for a node's `ready:`, of whichever kind it names.
#pragma once

#include <memory>
#include <string>

#include "probes/probe.h"

namespace treerun {

/// The probe SPEC asks for, reporting to HOST about node ID; CWD is the node's folder
/// (for a relative `file:` path). Null for `none`: started means ready.
std::shared_ptr<ReadinessProbe> make_probe(ProbeHost& host, NodeId id, const Probe& spec, std::string cwd);

}  // namespace treerun
