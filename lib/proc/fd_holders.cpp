#include "proc/fd_holders.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string_view>

#include "base/fd.h"

namespace treerun {

ino_t pipe_inode(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) return 0;
  return st.st_ino;
}

namespace {

/// Whether fd NAME of PID (its fdinfo) is open for writing.
bool open_for_writing(pid_t pid, const char* name) {
  std::string path = "/proc/" + std::to_string(pid) + "/fdinfo/" + name;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  char buf[256];
  ssize_t n = fd ? ::read(fd.get(), buf, sizeof buf - 1) : -1;
  if (n <= 0) return false;
  buf[n] = '\0';
  const char* flags = std::strstr(buf, "flags:");
  if (!flags) return false;
  long mode = std::strtol(flags + 6, nullptr, 8) & O_ACCMODE;
  return mode == O_WRONLY || mode == O_RDWR;
}

bool holds_write_end(pid_t pid, const std::string& link_text) {
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());  // O_CLOEXEC, as glibc opens it
  if (!d) return false;             // gone, or not ours to read
  bool found = false;
  char target[64];
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    ssize_t n = ::readlinkat(::dirfd(d), e->d_name, target, sizeof target);
    if (n > 0 && link_text == std::string_view(target, static_cast<std::size_t>(n)) &&
        open_for_writing(pid, e->d_name)) {
      found = true;
      break;
    }
  }
  ::closedir(d);
  return found;
}

std::string command_name(pid_t pid) {
  UniqueFd fd(::open(("/proc/" + std::to_string(pid) + "/comm").c_str(), O_RDONLY | O_CLOEXEC));
  char buf[64];
  ssize_t n = fd ? ::read(fd.get(), buf, sizeof buf) : -1;
  std::string name = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "?";
  if (!name.empty() && name.back() == '\n') name.pop_back();
  return name;
}

}  // namespace

std::vector<PipeHolder> pipe_holders(ino_t inode, const std::vector<pid_t>& pids) {
  std::vector<PipeHolder> out;
  if (inode == 0) return out;
  const std::string link_text = "pipe:[" + std::to_string(inode) + "]";
  for (pid_t pid : pids) {
    if (holds_write_end(pid, link_text)) out.push_back({pid, command_name(pid)});
  }
  return out;
}

}  // namespace treerun
