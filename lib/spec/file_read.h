// Reading spec and env files: regular files only, and never more than a cap.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace treerun {

/// A spec, an included spec or an env_file is never bigger than this.
inline constexpr std::size_t kMaxSpecBytes = std::size_t(16) << 20;

/// A UTF-8 byte order mark (Windows editors write one): no part of a spec's first
/// key or an env file's, and in no column.
inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

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
