// The keys of a spec that say where its processes run (treerun(1), ACROSS MACHINES):
// `backend` and `slurm` at the top level, `on` on a node.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "spec/raw.h"
#include "spec/yaml_reader.h"

namespace treerun {

/// `backend: local|slurm`, or `slurm: {nodes, partition, time, args}`.
void read_backend_key(YamlReader& r, const std::string& key, const YAML::Node& v, const SourcePos& at, RawFile& f);
/// `on: HOST`: an index into the allocation's hosts (0, 1, ...) or a host name.
void read_on(YamlReader& r, const YAML::Node& v, const SourcePos& at, RawNode& n);

}  // namespace treerun
