// What one load shares across the spec files it reads, and how it names them: the
// part of reading that read.cpp (files, includes, the tree) and read_settings.cpp
// (env files among the defaults) both need.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "spec/diagnostics.h"
#include "spec/yaml_reader.h"

namespace treerun {

/// What one load shares across the files it reads.
struct ReadContext {
  Diagnostics& diags;
  ReadBudget budget;
  std::vector<std::string> chain;        // canonical paths of the files being read, outermost first
  std::vector<std::string> chain_names;  // the same, as shown in messages
};

/// FILE named by PATH as written in FROM_FILE, for messages: "configs/include/db.yaml".
inline std::string display_path(const std::string& from_file, const std::string& path) {
  namespace fs = std::filesystem;
  if (fs::path(path).is_absolute() || from_file == "-") return path;
  return (fs::path(from_file).parent_path() / path).lexically_normal().string();
}

}  // namespace treerun
