#include "proc/pty.h"

#include <fcntl.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>

namespace treerun {
namespace {

std::error_code last_error() { return {errno, std::system_category()}; }

}  // namespace

PtyPair open_pty(const winsize& size, std::error_code& ec) {
  ec.clear();
  PtyPair p;
  p.master = UniqueFd(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  std::array<char, 64> name{};
  if (!p.master || ::grantpt(p.master.get()) != 0 || ::unlockpt(p.master.get()) != 0 ||
      ::ptsname_r(p.master.get(), name.data(), name.size()) != 0) {
    ec = last_error();
    return {};
  }
  p.slave = UniqueFd(::open(name.data(), O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!p.slave) {
    ec = last_error();
    return {};
  }
  termios modes{};
  if (::tcgetattr(p.slave.get(), &modes) == 0) {
    modes.c_oflag &= ~static_cast<tcflag_t>(ONLCR);
    modes.c_lflag &= ~static_cast<tcflag_t>(ECHO);  // nothing types into it; stdin is elsewhere
    ::tcsetattr(p.slave.get(), TCSANOW, &modes);
  }
  ::ioctl(p.master.get(), TIOCSWINSZ, &size);
  return p;
}

winsize pty_window_size() {
  winsize size{};
  for (int fd : {STDOUT_FILENO, STDERR_FILENO, STDIN_FILENO})
    if (::ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0 && size.ws_row > 0) return size;
  size = winsize{};
  size.ws_row = 24;
  size.ws_col = 80;
  return size;
}

}  // namespace treerun
