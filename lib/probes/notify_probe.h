// `notify: true`: the sd_notify protocol (treerun(1), ENVIRONMENT › NOTIFY_SOCKET). The
// node's process sends datagrams to a unix socket that treerun binds under $TMPDIR, so
// this probe works only for a process on treerun's own machine.
#pragma once

#include <memory>

#include "probes/probe.h"

namespace treerun {

/// Ready on `READY=1`; each `STATUS=` is shown as one of treerun's lines about the node.
std::shared_ptr<ReadinessProbe> make_notify_probe(ProbeHost& host, NodeId id, const Probe& spec);

}  // namespace treerun
