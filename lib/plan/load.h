// Loading a spec: YAML file -> validated Plan, or every problem with its position.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plan/build.h"
#include "plan/plan.h"
#include "spec/diagnostics.h"

namespace treerun {

struct LoadResult {
  std::optional<Plan> plan;          // empty if there is any problem
  std::vector<Diagnostic> problems;  // in order of appearance (file, line, column)
  bool ok() const { return plan.has_value() && problems.empty(); }
};

/// Loads SPEC_PATH ("-": standard input, whose relative paths resolve against the
/// current directory). Never throws.
LoadResult load_plan(const std::string& spec_path, const Overrides& overrides = {});

/// Loads TEXT as if read from FILE_NAME, resolving relative paths against BASE_DIR.
/// FILE_NAME "-" names the plan "stdin". For tests and the fuzzer.
LoadResult load_plan_from_string(std::string_view text, const std::string& file_name,
                                 const std::string& base_dir, const Overrides& overrides = {});

}  // namespace treerun
