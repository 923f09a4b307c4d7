// The value-level parts of reading a spec: defaults, probes, streams, restart policy.
// Split from spec_read.cpp, which handles files and the shape of the tree.
#pragma once

#include <optional>
#include <string>

#include "spec/read.h"

namespace treerun {

/// grace, stop_signal, env, env_file, cwd (at the top or in a node). False: not one of them.
bool read_default_key(YamlReader& r, const std::string& key, const YAML::Node& v,
                      const SourcePos& at, RawDefaults& d, ReadContext& ctx);

/// ready, timeout, stop, on_failure, restart, stdin, stdout, stderr.
void read_behaviour_key(YamlReader& r, const std::string& key, const YAML::Node& v,
                        const SourcePos& at, RawNode& n);

/// `stdin:` in any of its forms; sources are checked for syntax, not resolved.
std::optional<RawStdin> read_stdin_spec(YamlReader& r, const YAML::Node& v, const SourcePos& at);

/// `stdout:` / `stderr:` (KEY names which).
std::optional<At<OutputSpec>> read_output(YamlReader& r, const YAML::Node& v, const SourcePos& at,
                                          const std::string& key);

/// `logs: stdout|stderr|none|PATH`.
std::optional<LogTarget> read_log_target(YamlReader& r, const YAML::Node& v, const SourcePos& at);

}  // namespace treerun
