// The checks made from treerun itself, wherever the node runs: a line of the node's
// output (`log:`, which passes through treerun on its way to the log stream), a
// connection (`tcp:`) and a GET (`http:`) to the address the spec names.
#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "probes/probe.h"

namespace treerun {

/// `log: REGEX`: a line of the node's stdout or stderr matches (fed through on_line).
std::shared_ptr<ReadinessProbe> make_log_probe(ProbeHost& host, NodeId id, const Probe& spec);
/// `tcp: HOST:PORT`: a connection is accepted.
std::shared_ptr<ReadinessProbe> make_tcp_probe(ProbeHost& host, NodeId id, const Probe& spec);
/// `http: URL`: a GET answers 2xx.
std::shared_ptr<ReadinessProbe> make_http_probe(ProbeHost& host, NodeId id, const Probe& spec);

/// The status code of an HTTP status line ("HTTP/1.1 200 OK"): three digits after the
/// version and one space, then a space or the end. Anything else is no status.
std::optional<int> http_status(std::string_view line);

/// The longest status line an `http:` probe reads before it gives up on the answer.
constexpr std::size_t kMaxStatusLine = 4096;

}  // namespace treerun
