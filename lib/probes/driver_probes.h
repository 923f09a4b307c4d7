// The checks made from treerun itself, wherever the node runs: a line of the node's
// output (`log:`, which passes through treerun on its way to the log stream), a
// connection (`tcp:`) and a GET (`http:`) to the address the spec names.
#pragma once

#include <memory>

#include "probes/probe.h"

namespace treerun {

/// `log: REGEX`: a line of the node's stdout or stderr matches (fed through on_line).
std::shared_ptr<ReadinessProbe> make_log_probe(ProbeHost& host, NodeId id, const Probe& spec);
/// `tcp: HOST:PORT`: a connection is accepted.
std::shared_ptr<ReadinessProbe> make_tcp_probe(ProbeHost& host, NodeId id, const Probe& spec);
/// `http: URL`: a GET answers 2xx.
std::shared_ptr<ReadinessProbe> make_http_probe(ProbeHost& host, NodeId id, const Probe& spec);

}  // namespace treerun
