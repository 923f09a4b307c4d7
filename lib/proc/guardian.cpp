#include "proc/guardian.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <set>

namespace treerun {
namespace {

constexpr int kGoodbye = 0;

[[noreturn]] void watcher(int fd) {
  // Its own process group and deaf to the polite signals: a ctrl-c or a kill of
  // treerun's group must not take the watcher with it.
  setpgid(0, 0);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE}) signal(sig, SIG_IGN);
  if (fd != 3) {
    dup2(fd, 3);
    fd = 3;
  }
  close_range(4, ~0U, 0);
  for (int std = 0; std < 3; ++std) close(std);  // holds nobody's terminal or pipe open
  std::set<int> groups;
  int record = 0;
  for (;;) {
    ssize_t n = read(fd, &record, sizeof record);
    if (n < 0 && errno == EINTR) continue;
    if (n != sizeof record) break;  // EOF: treerun is gone
    if (record == kGoodbye) _exit(0);
    if (record > 0) groups.insert(record);
    else groups.erase(-record);
  }
  for (int pgid : groups) kill(-pgid, SIGKILL);
  _exit(0);
}

}  // namespace

Guardian::Guardian() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return;  // no guardian: pdeathsig still covers children
  pid_t pid = fork();  // treerun is still single-threaded here
  if (pid == 0) {
    close(fds[1]);
    watcher(fds[0]);
  }
  close(fds[0]);
  if (pid < 0) {
    close(fds[1]);
    return;
  }
  pid_ = pid;
  pipe_.reset(fds[1]);
}

Guardian::~Guardian() {
  if (!pipe_) return;
  send(kGoodbye);
  pipe_.reset();
  while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

void Guardian::send(int record) {
  if (!pipe_) return;
  // 4 bytes: one atomic pipe write. The watcher reads as fast as we spawn.
  while (write(pipe_.get(), &record, sizeof record) < 0 && errno == EINTR) {
  }
}

}  // namespace treerun
