#include "proc/child.h"

#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>

namespace treerun {
namespace {

/// Everything the child needs, prepared by the parent: the child shares our memory and
/// may only make async-signal-safe calls, so it must not allocate, format, or look up.
struct ChildPlan {
  const ChildSpec* spec = nullptr;
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::vector<char*> sh_argv;  // {"sh", <the file>, args...}: for a script without a shebang
  pid_t parent = 0;
  const std::vector<int>* reset_signals = nullptr;
  // Written by the child; read by the parent once the clone returns.
  volatile int error = 0;
  const char* volatile step = nullptr;
};

/// 127 only for a command that is not there; anything else that stops it (a missing
/// `cwd` included) is a command that could not be executed, 126.
[[noreturn]] void child_fail(ChildPlan& p, const char* step, int err) {
  p.error = err;
  p.step = step;
  bool not_found = std::strcmp(step, "exec") == 0 && (err == ENOENT || err == ENOTDIR);
  _exit(not_found ? 127 : 126);
}

/// Runs in the child. Async-signal-safe calls only, and never returns.
[[noreturn]] void child_main(ChildPlan& p) {
  const ChildSpec& s = *p.spec;
  // Own process group, so a terminal's ctrl-c reaches treerun alone and a stop can
  // address the node's whole group. The parent sets it too, against the race.
  setpgid(0, 0);
  // With every signal still blocked (inherited from the parent), SIGTTOU cannot stop
  // us while we, a background group, take the terminal. Done here as well as in the
  // parent so that neither order of scheduling runs the child in the background.
  if (s.tty_fd >= 0) tcsetpgrp(s.tty_fd, getpid());
  // If treerun is SIGKILLed, its children die with it. The check closes the window
  // where the parent died before the prctl.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != p.parent) _exit(126);
  for (int target = 0; target < 3; ++target) {
    int fd = s.fds[target];
    if (fd == target) continue;  // inherited as is (not close-on-exec)
    if (dup2(fd, target) < 0) child_fail(p, "dup2", errno);
  }
  if (!s.cwd.empty() && chdir(s.cwd.c_str()) != 0) child_fail(p, "chdir", errno);
  // The raw syscall: setrlimit is not on the async-signal-safe list.
  if (s.nofile) syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &*s.nofile, nullptr);
  // Handlers we installed reset themselves at exec, but ignored signals stay ignored:
  // give the child default dispositions for all that treerun does not leave default.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig : *p.reset_signals) sigaction(sig, &dfl, nullptr);
  sigset_t empty;
  sigemptyset(&empty);
  sigprocmask(SIG_SETMASK, &empty, nullptr);
  int err = ENOENT;
  for (const auto& candidate : s.candidates) {
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

int child_entry(void* plan) { child_main(*static_cast<ChildPlan*>(plan)); }

void build_arrays(const ChildSpec& s, ChildPlan& p) {
  for (const auto& a : s.argv) p.argv.push_back(const_cast<char*>(a.c_str()));
  p.argv.push_back(nullptr);
  if (s.script_fallback) {
    static char sh[] = "sh";
    p.sh_argv = {sh, nullptr};
    p.sh_argv.insert(p.sh_argv.end(), p.argv.begin() + 1, p.argv.end());  // args and the null
  }
  for (const auto& e : s.env) p.envp.push_back(const_cast<char*>(e.c_str()));
  p.envp.push_back(nullptr);
}

/// The child's stack: it runs on its own while we wait (CLONE_VFORK), makes a few
/// calls, never recurses. Made once; one child at a time uses it.
char* child_stack_top() {
  constexpr std::size_t kSize = 256 * 1024;
  static std::unique_ptr<char[]> stack(new char[kSize]);
  auto top = reinterpret_cast<std::uintptr_t>(stack.get() + kSize);
  return reinterpret_cast<char*>(top & ~std::uintptr_t{63});
}

}  // namespace

ChildStarted start_child(const ChildSpec& spec, const ChildContext& context) {
  ChildPlan p;
  p.spec = &spec;
  p.parent = context.parent;
  p.reset_signals = context.reset_signals;
  build_arrays(spec, p);
  char* stack = child_stack_top();
  // CLONE_VM | CLONE_VFORK: no page-table copy, and we resume once it has exec'd.
  // CLONE_PARENT: the child's parent is ours (its exit signal too), not us.
  int flags = CLONE_VM | CLONE_VFORK | SIGCHLD | (context.as_sibling ? CLONE_PARENT : 0);
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &old);
  pid_t pid = clone(child_entry, stack, flags, &p);
  int saved = errno;
  sigprocmask(SIG_SETMASK, &old, nullptr);
  ChildStarted out;
  out.pid = pid;
  if (pid < 0) {
    out.clone_errno = saved;
    return out;
  }
  if (p.error != 0) {
    out.error = p.error;
    out.step = p.step ? p.step : "exec";
  }
  return out;
}

}  // namespace treerun
