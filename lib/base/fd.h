// RAII for file descriptors: every fd treerun opens is owned by exactly one UniqueFd.
// And the few plain acts on an fd that several layers need.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <string_view>
#include <system_error>
#include <utility>

namespace treerun {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

/// A pipe with both ends close-on-exec from birth (pipe2, not pipe + fcntl: a
/// concurrent spawn could otherwise inherit the ends in between).
inline Pipe make_pipe(std::error_code& ec) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    ec.assign(errno, std::system_category());
    return {};
  }
  ec.clear();
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

/// /proc/sys/fs/pipe-max-size's default: the largest pipe an unprivileged process gets.
constexpr int kLargestUnprivilegedPipe = 1 << 20;

/// Gives PIPE about BYTES of room (rounded up to a power of two by the kernel); falls
/// back to the unprivileged maximum, then to what it has. Returns its size.
inline int size_pipe(int pipe, std::size_t bytes) {
  int want = static_cast<int>(std::min<std::size_t>(bytes, INT_MAX));
  if (::fcntl(pipe, F_SETPIPE_SZ, want) < 0) ::fcntl(pipe, F_SETPIPE_SZ, std::min(want, kLargestUnprivilegedPipe));
  return ::fcntl(pipe, F_GETPIPE_SZ);
}

/// For fds treerun reads or writes itself after a readiness event: a spurious wake-up
/// must give EAGAIN, not block the loop. Only our end changes: a pipe's two ends are
/// separate open files, so the process at the other end is unaffected.
inline void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

/// Whether fds A and B are the same file (device and inode): `>f 2>&1`, one terminal.
inline bool same_file(int a, int b) {
  struct stat sa {}, sb {};
  return a >= 0 && b >= 0 && ::fstat(a, &sa) == 0 && ::fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

/// Whether bytes or EOF wait on FD right now.
inline bool fd_readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP));
}

/// Writes all of DATA to a blocking FD, going on after EINTR. False on any other
/// error (EPIPE: the reader is gone), with errno saying which.
inline bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace treerun
