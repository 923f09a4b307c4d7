// A cheap pre-scan of YAML text, before the parser sees it.
//
// The spec readers walk the parsed tree by recursion (as yaml-cpp, our parser before
// libyaml, parsed): ten thousand nested `[` or indented levels would exhaust the stack. This scan measures nesting without recursion,
// erring on the side of counting too much, and stops at the first level past the cap.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "spec/diagnostics.h"

namespace treerun {

inline constexpr int kMaxYamlDepth = 200;

/// A problem at the first place TEXT nests deeper than MAX_DEPTH levels, if any.
std::optional<Diagnostic> check_yaml_depth(std::string_view text, const std::string& file,
                                           int max_depth = kMaxYamlDepth);

}  // namespace treerun
