// How a spec names nodes and refers to them: a node's `name`, and a stream source
// ("NAME", "a/b", "/a/b", with an optional ":stderr"). Syntax only: which node a
// reference finds is plan/resolve.h's.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace treerun {

/// `[A-Za-z0-9_.-]+`, but not `.` or `..` (they would read as path steps).
bool valid_node_name(std::string_view name);

/// A stream source as written: "NAME", "a/b", "/a/b", each with an optional ":stderr"
/// or ":stdout". Empty when malformed.
struct SourceText {
  std::string path;  // "/a/b" (from the root) or "a/b" (from the consumer's parent)
  bool is_stderr = false;
};
std::optional<SourceText> parse_source_text(std::string_view text);

}  // namespace treerun
