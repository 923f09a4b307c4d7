#include "control/folder.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace treerun::control {
namespace {

constexpr std::size_t kMaxName = 64;

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '-';
}

bool alnum(char c) { return name_char(c) && c != '_' && c != '.' && c != '-'; }

std::string nonempty_env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : std::string();
}

std::string mode_text(mode_t mode) { return fmt::format("{:04o}", mode & 07777); }

}  // namespace

std::string socket_folder() {
  if (std::string xdg = nonempty_env("XDG_RUNTIME_DIR"); !xdg.empty()) return xdg + "/treerun";
  std::string tmp = nonempty_env("TMPDIR");
  return fmt::format("{}/treerun-{}", tmp.empty() ? "/tmp" : tmp, geteuid());
}

std::string check_folder(const std::string& folder, bool create) {
  struct stat st {};
  if (::lstat(folder.c_str(), &st) != 0) {
    if (errno != ENOENT) return fmt::format("cannot use the socket folder {}: {}", folder, std::strerror(errno));
    if (!create) return "";
    if (::mkdir(folder.c_str(), 0700) != 0 && errno != EEXIST)
      return fmt::format("cannot make the socket folder {}: {}", folder, std::strerror(errno));
    if (::lstat(folder.c_str(), &st) != 0)
      return fmt::format("cannot use the socket folder {}: {}", folder, std::strerror(errno));
  }
  if (S_ISLNK(st.st_mode))
    return fmt::format("the socket folder {} is a symbolic link: refusing it (remove it)", folder);
  if (!S_ISDIR(st.st_mode)) return fmt::format("the socket folder {} is not a folder: refusing it", folder);
  if (st.st_uid != ::geteuid())
    return fmt::format("the socket folder {} belongs to uid {}, not to this user (uid {}): refusing it", folder,
                       st.st_uid, ::geteuid());
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    return fmt::format("the socket folder {} can be written by others (mode {}): refusing it (chmod 700 it)", folder,
                       mode_text(st.st_mode));
  return "";
}

std::string check_run_name(std::string_view name) {
  if (name.empty()) return "a run's name cannot be empty";
  if (name.size() > kMaxName) return fmt::format("a run's name is at most {} characters", kMaxName);
  if (!alnum(name.front())) return fmt::format("a run's name starts with a letter or a digit: '{}'", name);
  for (char c : name)
    if (!name_char(c)) return fmt::format("a run's name holds letters, digits, _ . - only: '{}'", name);
  return "";
}

std::string run_name_from(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (out.empty() && !alnum(c)) continue;  // "_x", ".x" -> "x"
    out += name_char(c) ? c : '_';
  }
  if (out.empty()) return "run";
  return out.substr(0, kMaxName);
}

std::string socket_path(const std::string& folder, std::string_view name) {
  return fmt::format("{}/{}.sock", folder, name);
}

std::string run_log_path(const std::string& folder, std::string_view name) {
  return fmt::format("{}/{}.log", folder, name);
}

std::string run_of_socket(std::string_view file) {
  constexpr std::string_view ext = ".sock";
  if (file.size() <= ext.size() || !file.ends_with(ext)) return "";
  std::string_view name = file.substr(0, file.size() - ext.size());
  return check_run_name(name).empty() ? std::string(name) : "";
}

FolderLock::FolderLock(const std::string& folder)
    : fd_(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) {
  if (!fd_) return;
  while (::flock(fd_.get(), LOCK_EX) != 0)
    if (errno != EINTR) {
      fd_.reset();
      return;
    }
}

}  // namespace treerun::control
