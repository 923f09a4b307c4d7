#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <boost/asio/post.hpp>

#include "proc/local_launcher.h"

namespace treerun {
namespace {

/// Everything the child needs, prepared by the parent: between vfork and exec the
/// child shares our memory and may only make async-signal-safe calls, so it must not
/// allocate, format, or look anything up.
struct ChildPlan {
  std::vector<std::string> candidates;  // paths to try, in PATH order
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::vector<char*> sh_argv;  // {"sh", <the file>, args...}: for a script without a shebang
  const char* cwd = nullptr;
  int fds[3] = {-1, -1, -1};
  int tty_fd = -1;
  pid_t parent = 0;
  const std::vector<int>* reset_signals = nullptr;
  const struct rlimit* nofile = nullptr;  // the descriptor limit to give back, if we raised ours
  // Written by the child; read by the parent once vfork returns.
  volatile int error = 0;
  const char* volatile step = nullptr;
};

std::vector<std::string> path_candidates(const Command& cmd, const std::vector<std::string>& env) {
  if (cmd.shell) return {"/bin/sh"};
  const std::string& prog = cmd.argv.front();
  if (prog.find('/') != std::string::npos) return {prog};
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  for (const auto& kv : env)
    if (kv.rfind("PATH=", 0) == 0) path = kv.substr(5);
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    out.push_back((dir.empty() ? std::string(".") : dir) + "/" + prog);
    start = end + 1;
  }
  return out;
}

/// 127 only for a command that is not there; anything else that stops it (a missing
/// `cwd` included) is a command that could not be executed, 126.
[[noreturn]] void child_fail(ChildPlan& p, const char* step, int err) {
  p.error = err;
  p.step = step;
  bool not_found = std::strcmp(step, "exec") == 0 && (err == ENOENT || err == ENOTDIR);
  _exit(not_found ? 127 : 126);
}

/// Runs in the vfork child. Async-signal-safe calls only, and never returns.
[[noreturn]] __attribute__((noinline)) void child_main(ChildPlan& p) {
  // Own process group, so a terminal's ctrl-c reaches treerun alone and a stop can
  // address the node's whole group. The parent sets it too, against the race.
  setpgid(0, 0);
  // With every signal still blocked (inherited from the parent), SIGTTOU cannot stop
  // us while we, a background group, take the terminal. Done here as well as in the
  // parent so that neither order of scheduling runs the child in the background.
  if (p.tty_fd >= 0) tcsetpgrp(p.tty_fd, getpid());
  // If treerun is SIGKILLed, its children die with it. The check closes the window
  // where the parent died before the prctl.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != p.parent) _exit(126);
  for (int target = 0; target < 3; ++target) {
    int fd = p.fds[target];
    if (fd == target) continue;  // inherited as is (not close-on-exec)
    if (dup2(fd, target) < 0) child_fail(p, "dup2", errno);
  }
  if (p.cwd && chdir(p.cwd) != 0) child_fail(p, "chdir", errno);
  // The raw syscall: setrlimit is not on the async-signal-safe list.
  if (p.nofile) syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, p.nofile, nullptr);
  // Handlers we installed reset themselves at exec, but ignored signals stay ignored:
  // give the child default dispositions for all that treerun does not leave default.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig : *p.reset_signals) sigaction(sig, &dfl, nullptr);
  sigset_t empty;
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, nullptr);
  int err = ENOENT;
  for (const auto& candidate : p.candidates) {
    execve(candidate.c_str(), p.argv.data(), p.envp.data());
    if (errno == ENOEXEC && !p.sh_argv.empty()) {
      // A script without a shebang: the shell runs it, as execvp does. The slot was
      // made by the parent; writing a pointer into it allocates nothing.
      p.sh_argv[1] = const_cast<char*>(candidate.c_str());
      execve("/bin/sh", p.sh_argv.data(), p.envp.data());
    }
    if (errno == EACCES) err = EACCES;  // remember: a later ENOENT must not hide it
    else if (errno != ENOENT && errno != ENOTDIR) { err = errno; break; }
  }
  child_fail(p, "exec", err);
}

void build_arrays(const SpawnRequest& req, std::vector<std::string>& argv_storage, ChildPlan& p) {
  if (req.cmd.shell) argv_storage = {"sh", "-c", req.cmd.argv.front()};
  else argv_storage = req.cmd.argv;
  for (auto& s : argv_storage) p.argv.push_back(s.data());
  p.argv.push_back(nullptr);
  if (!req.cmd.shell) {
    static char sh[] = "sh";
    p.sh_argv = {sh, nullptr};
    p.sh_argv.insert(p.sh_argv.end(), p.argv.begin() + 1, p.argv.end());  // args and the null
  }
  for (const auto& s : req.env) p.envp.push_back(const_cast<char*>(s.c_str()));
  p.envp.push_back(nullptr);
}

}  // namespace

LocalLauncher::LocalLauncher(boost::asio::io_context& io, const std::string& run_id)
    : guardian_(run_id),
      reaper_(io),
      dev_null_read_(::open("/dev/null", O_RDONLY | O_CLOEXEC)),
      dev_null_write_(::open("/dev/null", O_WRONLY | O_CLOEXEC)) {
  note_signal_dispositions();
  raise_fd_limit();
  // The guardian's records of a turn (a stop of thousands of groups) go in one write.
  guardian_.batch_with([&io, alive = std::weak_ptr<int>(alive_), this] {
    boost::asio::post(io, [alive, this] {
      if (alive.lock()) guardian_.flush();
    });
  });
}

/// treerun holds a few descriptors per node (log pipes, stream pipes and stages), so
/// the usual soft limit of 1024 would cap a tree at a few hundred nodes. Ours goes up
/// to the hard limit; children get the soft limit they would have had without us,
/// since a program using select(2) breaks on descriptors above 1024.
void LocalLauncher::raise_fd_limit() {
  constexpr rlim_t kEnough = 1 << 20;
  struct rlimit lim {};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= std::min(lim.rlim_max, kEnough)) return;
  struct rlimit raised = lim;
  raised.rlim_cur = std::min(lim.rlim_max, kEnough);
  if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) children_nofile_ = lim;
}

void LocalLauncher::note_signal_dispositions() {
  non_default_signals_.clear();
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    struct sigaction sa {};
    // The run's own handlers (stop signals, SIGCHLD) are installed after this launcher
    // is made: reset those whatever they are now. A ctrl-c pending in a child that has
    // not left treerun's group yet must not run treerun's handler in the vfork child.
    bool run_catches = sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGCHLD;
    if (run_catches || (sigaction(sig, nullptr, &sa) == 0 && sa.sa_handler != SIG_DFL)) non_default_signals_.push_back(sig);
  }
}

SpawnResult LocalLauncher::start(const SpawnRequest& req, std::error_code& ec) {
  ChildPlan p;
  std::vector<std::string> argv_storage;
  build_arrays(req, argv_storage, p);
  p.candidates = path_candidates(req.cmd, req.env);
  p.cwd = req.cwd.empty() ? nullptr : req.cwd.c_str();
  p.fds[0] = req.stdin_fd >= 0 ? req.stdin_fd : dev_null_read_.get();
  p.fds[1] = req.stdout_fd >= 0 ? req.stdout_fd : dev_null_write_.get();
  p.fds[2] = req.stderr_fd >= 0 ? req.stderr_fd : dev_null_write_.get();
  p.tty_fd = req.tty_fd;
  p.parent = getpid();
  p.reset_signals = &non_default_signals_;
  if (children_nofile_) p.nofile = &*children_nofile_;

  // Block everything across vfork: a handler of ours running in the child would run
  // on our memory. The child unblocks after resetting dispositions.
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &old);
  pid_t pid = vfork();
  if (pid == 0) child_main(p);
  int saved = errno;
  if (pid > 0) {
    setpgid(pid, pid);  // EACCES after the child's exec is fine: it did it itself
    if (req.tty_fd >= 0) tcsetpgrp(req.tty_fd, pid);
  }
  sigprocmask(SIG_SETMASK, &old, nullptr);

  SpawnResult result;
  if (pid < 0) {
    ec.assign(saved, std::system_category());
    return result;
  }
  ec.clear();
  result.proc = {pid, pid};
  if (p.error != 0) {
    result.exec_error.assign(p.error, std::system_category());
    result.failed_step = p.step ? p.step : "exec";
  }
  return result;
}

SpawnResult LocalLauncher::spawn(const SpawnRequest& req, ExitHandler on_exit, std::error_code& ec) {
  SpawnResult r = start(req, ec);
  if (ec) return r;
  // Registered in the same turn of the loop as the spawn: SIGCHLD is handled in a later
  // turn, so no exit is missed.
  reaper_.watch(r.proc.pid, std::move(on_exit));
  // A node's group is forgotten once found empty. A helper beside a node (a stop
  // command, an exec check) never is, so its group number would go stale and be reused:
  // helpers are not insured by group, only by pdeathsig and the run id (guardian.h).
  if (!req.beside) guardian_.watch(r.proc.pgid);
  return r;
}

void LocalLauncher::signal(const ProcHandle& p, int sig) {
  if (p.pgid > 1) ::kill(-p.pgid, sig);  // ESRCH: the group is gone, which is what we wanted
}

/// A look at the zombie without collecting it (WNOWAIT): the reaper still reports it.
bool LocalLauncher::exited(const ProcHandle& p) {
  siginfo_t info{};
  if (p.pid <= 0) return false;
  while (::waitid(P_PID, p.pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0)
    if (errno != EINTR) return false;  // ECHILD: collected already
  return info.si_pid == p.pid;
}

/// The pgid cannot name another group while one of ours is in it, and once it is found
/// empty the caller forgets it and never signals it again.
bool LocalLauncher::group_alive(const ProcHandle& p) {
  return p.pgid > 1 && !(::kill(-p.pgid, 0) != 0 && errno == ESRCH);
}

void LocalLauncher::forget(const ProcHandle& p) { guardian_.unwatch(p.pgid); }

/// Our own children from the kernel's list, less the guardian: once every node is
/// collected, any left are escaped processes that came back to us as subreaper.
std::vector<pid_t> LocalLauncher::strays() {
  std::vector<pid_t> out;
  std::ifstream in("/proc/self/task/" + std::to_string(::getpid()) + "/children");
  pid_t pid;
  while (in >> pid)
    if (pid != guardian_.pid()) out.push_back(pid);
  return out;
}

void LocalLauncher::signal_stray(pid_t pid, int sig) { ::kill(pid, sig); }

void LocalLauncher::on_collected(std::function<void(bool stray)> hook) { reaper_.after_reap(std::move(hook)); }

}  // namespace treerun
