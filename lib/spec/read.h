// YAML text -> RawFile: every key read, typed and positioned; includes and env files
// read too. Nothing is resolved across nodes here (see plan_build.h).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "spec/diagnostics.h"
#include "spec/raw.h"
#include "spec/yaml_reader.h"

namespace treerun {

inline constexpr int kMaxIncludeDepth = 32;
inline constexpr int kMaxTreeDepth = 256;

/// What one load shares across the files it reads.
struct ReadContext {
  Diagnostics& diags;
  ReadBudget budget;
  std::vector<std::string> chain;        // canonical paths of the files being read, outermost first
  std::vector<std::string> chain_names;  // the same, as shown in messages
};

/// Reads TEXT as the spec file FILE (as shown in messages), whose relative paths resolve
/// against DIR. CANONICAL identifies the file for include-loop detection ("" for stdin).
/// DEPTH is the node depth of this file's children in the whole tree.
/// Never throws; problems go to CTX.diags (the result may be partial).
std::shared_ptr<RawFile> read_spec_text(std::string_view text, const std::string& file,
                                        const std::string& dir, const std::string& canonical,
                                        ReadContext& ctx, int depth);

/// `[A-Za-z0-9_.-]+`, but not `.` or `..` (they would read as path steps).
bool valid_node_name(std::string_view name);

/// A stream source as written: "NAME", "a/b", "/a/b", each with an optional ":stderr"
/// or ":stdout". Empty when malformed.
struct SourceText {
  std::string path;  // "/a/b" (from the root) or "a/b" (from the consumer's parent)
  bool is_stderr = false;
};
std::optional<SourceText> parse_source_text(std::string_view text);

/// FILE named by PATH as written in FROM_FILE, for messages: "configs/include/db.yaml".
std::string display_path(const std::string& from_file, const std::string& path);

}  // namespace treerun
