// Where a user's runs live (contract 6.1): one folder per user, one socket per run in
// it, named for the run. $XDG_RUNTIME_DIR/treerun/ (systemd's per-user tmpfs, gone at
// logout), else ${TMPDIR:-/tmp}/treerun-UID/. The folder is this user's alone: made
// 0700, and one that another user owns, that others can write, or that is a symbolic
// link is refused, since whoever controls it could swap a run's socket for their own.
#pragma once

#include <string>
#include <string_view>

#include "base/fd.h"

namespace treerun::control {

/// The socket folder's path for this user, from the environment. Nothing is checked.
std::string socket_folder();

/// Checks FOLDER (and, when CREATE, makes it 0700 if it is missing): "" when it is
/// this user's and no one else can write it; else why not, for the user. Not CREATE
/// and missing: "" too (no runs there).
std::string check_folder(const std::string& folder, bool create);

/// "" when NAME may name a run: a letter or digit, then letters, digits, `_`, `.`, `-`,
/// at most 64 in all; else why not.
std::string check_run_name(std::string_view name);
/// TEXT as a run name: characters a name cannot hold become `_` ("my app" -> "my_app"),
/// leading ones go ("_x" -> "x"), and it is cut at 64; "run" when nothing is left.
std::string run_name_from(std::string_view text);

/// FOLDER/NAME.sock, and FOLDER/NAME.log (a detached run's log stream).
std::string socket_path(const std::string& folder, std::string_view name);
std::string run_log_path(const std::string& folder, std::string_view name);
/// The run's name in a socket file's name ("web.sock" -> "web"); "" for other files.
std::string run_of_socket(std::string_view file_name);

/// An exclusive lock on the folder (flock), held while a socket is claimed or a stale
/// one removed: without it, a socket that one run has bound but not yet listens on
/// looks stale to another, which would remove it.
class FolderLock {
 public:
  /// Waits for the lock; an invalid lock (and errno) when FOLDER cannot be opened.
  explicit FolderLock(const std::string& folder);
  bool held() const { return fd_.valid(); }

 private:
  UniqueFd fd_;
};

}  // namespace treerun::control
