#include "spec/file_read.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace treerun {
namespace {

std::string too_big(std::size_t max) {
  return "larger than " + std::to_string(max >> 20) + " MiB";
}

/// Reads FD to EOF, up to MAX + 1 bytes so we can tell "too big" from "exactly MAX".
FileText read_fd(int fd, std::size_t max) {
  FileText out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      out.error = std::strerror(errno);
      return out;
    }
    if (n == 0) break;
    out.text.append(buf, std::size_t(n));
    if (out.text.size() > max) {
      out.text.clear();
      out.error = too_big(max);
      return out;
    }
  }
  out.ok = true;
  return out;
}

}  // namespace

FileText read_regular_file(const std::string& path, std::size_t max) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise block until a writer came.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return {false, {}, std::strerror(errno)};
  struct stat st {};
  FileText out;
  if (::fstat(fd, &st) != 0) out.error = std::strerror(errno);
  else if (S_ISDIR(st.st_mode)) out.error = "is a directory";
  else if (!S_ISREG(st.st_mode)) out.error = "not a regular file";
  else if (std::size_t(st.st_size) > max) out.error = too_big(max);
  else out = read_fd(fd, max);  // a file that grows while we read is still capped
  ::close(fd);
  return out;
}

FileText read_stdin(std::size_t max) { return read_fd(STDIN_FILENO, max); }

std::string folder_problem(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::strerror(errno);
  if (!S_ISDIR(st.st_mode)) return std::strerror(ENOTDIR);
  if (::access(path.c_str(), X_OK) != 0) return std::strerror(errno);
  return "";
}

}  // namespace treerun
