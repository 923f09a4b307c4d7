// The settings of a node (and of a file's top level): defaults that children inherit,
// behaviour keys, probes, restart policy, `logs`. The tree's shape is read.h's;
// `stdin`, `stdout` and `stderr` are read_stdio.h's.
#pragma once

#include <optional>
#include <string>

#include "spec/raw.h"
#include "spec/read_probe.h"
#include "spec/yaml_reader.h"

namespace treerun {

/// grace, stop_signal, env, env_file, cwd (at the top or in a node). False: not one of
/// them. Values that may hold `${...}` (env values, env_file and cwd paths) are kept as
/// written: plan/ expands them, then reads the env files and checks the folder.
bool read_default_key(YamlReader& r, const std::string& key, const YamlNode& v,
                      const SourcePos& at, RawDefaults& d);

/// ready, health, timeout, stop, on_failure, restart, stdin, stdout, stderr.
void read_behaviour_key(YamlReader& r, const std::string& key, const YamlNode& v,
                        const SourcePos& at, RawNode& n);

/// `logs: stdout|stderr|none|PATH`.
std::optional<LogTarget> read_log_target(YamlReader& r, const YamlNode& v, const SourcePos& at);

}  // namespace treerun
