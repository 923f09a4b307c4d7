#include "proc/reaper.h"

#include <sys/prctl.h>
#include <sys/wait.h>

#include <cerrno>

namespace treerun {

Reaper::Reaper(boost::asio::io_context& io) : sigchld_(io, SIGCHLD) {
  // Descendants that outlive their parents come to us, not to init, so that no orphan
  // outlives the run. The second argument must be non-zero (tini learned this).
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  arm();
}

void Reaper::arm() {
  sigchld_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    reap();
    arm();
  });
}

void Reaper::watch(pid_t pid, Handler handler) { handlers_.emplace(pid, std::move(handler)); }

pid_t uncollected_exit(idtype_t which, id_t id) {
  siginfo_t info{};
  while (::waitid(which, id, &info, WEXITED | WNOHANG | WNOWAIT) < 0)
    if (errno != EINTR) return 0;  // ECHILD: no such child (collected already), or none at all
  return info.si_pid;
}

void Reaper::reap() {
  bool stray = false;
  for (;;) {
    int wstatus = 0;
    pid_t pid = ::waitpid(-1, &wstatus, WNOHANG);
    if (pid < 0 && errno == EINTR) continue;
    if (pid <= 0) break;  // 0: nothing more has exited; ECHILD: no children at all
    ExitStatus status = ExitStatus::from_wait(wstatus);
    auto it = handlers_.find(pid);
    if (it == handlers_.end()) {
      stray = true;
      continue;
    }
    Handler handler = std::move(it->second);
    handlers_.erase(it);
    handler(status);
  }
  if (after_) after_(stray);
}

}  // namespace treerun
