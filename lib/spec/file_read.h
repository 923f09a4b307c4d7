// Reading spec and env files: regular files only, and never more than a cap.
#pragma once

#include <cstddef>
#include <string>

namespace treerun {

/// A spec, an included spec or an env_file is never bigger than this.
inline constexpr std::size_t kMaxSpecBytes = std::size_t(16) << 20;

struct FileText {
  bool ok = false;
  std::string text;   // when ok
  std::string error;  // when !ok: "no such file", "is a directory", ...
};

/// Reads PATH, refusing anything but a regular file (a directory, /dev/zero or a FIFO
/// would block or never end) and anything over MAX bytes.
FileText read_regular_file(const std::string& path, std::size_t max = kMaxSpecBytes);

/// Why PATH cannot be a node's working folder ("No such file or directory", "Not a
/// directory", "Permission denied"), or "" when it can. Checked when the spec is
/// loaded, so a typo is a `check` error rather than a node that fails to start.
std::string folder_problem(const std::string& path);

/// Reads standard input to its end, refusing more than MAX bytes.
FileText read_stdin(std::size_t max = kMaxSpecBytes);

}  // namespace treerun
