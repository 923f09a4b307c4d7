// The keys of a spec that say where its processes run (treerun(1), ACROSS MACHINES):
// `backend` and `slurm` at the top level, `on` on a node.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "spec/raw.h"
#include "spec/yaml_reader.h"

namespace treerun {

/// `backend: local|slurm`, or `slurm: {nodes, partition, time, args}`.
void read_backend_key(YamlReader& r, const std::string& key, const YamlNode& v, const SourcePos& at, RawFile& f);
/// The one rule for `on` (check, tree, and the allocation's size): all digits is an
/// index into the allocation's hosts, anything else a host's name.
bool is_host_index(std::string_view on);
/// The index ON names, or nothing when it is above kMaxHostIndex (or not an index).
std::optional<std::size_t> host_index(std::string_view on);
/// Far above any cluster's node count: what `salloc -N` could be asked for.
constexpr std::size_t kMaxHostIndex = 999'999;

/// `on: HOST`: an index into the allocation's hosts (0, 1, ...) or a host name.
void read_on(YamlReader& r, const YamlNode& v, const SourcePos& at, RawNode& n);

}  // namespace treerun
