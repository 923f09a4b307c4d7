// A node's probes: `ready` (when it counts as ready) and `health` (whether it still
// answers once it is). One reader for both: the same kinds, targets and HTTP options.
#pragma once

#include <string>

#include "spec/raw.h"
#include "spec/yaml_reader.h"

namespace treerun {

/// `ready: {KIND: TARGET, timeout, interval, status, insecure}`.
void read_ready(YamlReader& r, const YamlNode& v, const SourcePos& at, RawNode& n);

/// `health: {KIND: TARGET, interval, timeout, failures, status, insecure}`: a tcp, http,
/// exec or file probe; interval 10s, a check's timeout the interval, 3 failures.
void read_health(YamlReader& r, const YamlNode& v, const SourcePos& at, RawNode& n);

/// Why TEXT cannot be the target of a probe of type TYPE (tcp: HOST:PORT, http: a URL),
/// or "". For a target written with `${...}`, plan/ asks once it is expanded.
std::string probe_target_problem(Probe::Type type, const std::string& text);

}  // namespace treerun
