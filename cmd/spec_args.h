// What `up`, `check` and `tree` take besides their flags: the SPEC and NODE words, and
// the environment `${...}` sees.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "plan/load.h"
#include "plan/select.h"

namespace treerun {

struct SpecWords {
  std::string spec;
  std::vector<std::string> nodes;  // empty: all of them
};

/// WORDS as `SPEC [NODE...]` (treerun(1), SYNOPSIS): the first is SPEC when it is `-`,
/// names an existing file, or ends in .yaml/.yml; otherwise it and the rest are NODEs
/// and SPEC is treerun.yaml in the current folder. Empty, said on stderr, when there is
/// no SPEC and no treerun.yaml.
std::optional<SpecWords> spec_and_nodes(const std::vector<std::string>& words);

/// treerun's own environment, for `${...}`.
EnvList own_environment();

/// PLAN cut to NODES (all of it when there is none); empty, said on stderr, when one
/// names no node.
std::optional<Plan> selected(Plan plan, const std::vector<std::string>& nodes);

}  // namespace treerun
