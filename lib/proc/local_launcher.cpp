#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <boost/asio/post.hpp>

#include "proc/local_launcher.h"

namespace treerun {
namespace {

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

/// A spawner's clone refused CLONE_PARENT (EINVAL: a container's init, say): treerun
/// starts the child itself.
bool refused_parent(const ChildStarted& started) { return started.pid < 0 && started.clone_errno == EINVAL; }

ChildSpec child_spec(const SpawnRequest& req) {
  ChildSpec s;
  if (req.cmd.shell) s.argv = {"sh", "-c", req.cmd.argv.front()};
  else s.argv = req.cmd.argv;
  s.script_fallback = !req.cmd.shell;
  s.candidates = path_candidates(req.cmd, req.env);
  s.env = req.env;
  s.cwd = req.cwd;
  s.tty_fd = req.tty_fd;
  return s;
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
  // After the list of signals to reset, which the spawner keeps a copy of.
  // Two take turns: one starts a process while the other waits for its child's exec
  // (500 nodes on 2 cores: 0.28 s, against 0.34 s with one).
  int spawners = 2;
  if (const char* n = std::getenv("TREERUN_SPAWNERS")) spawners = std::clamp(std::atoi(n), 0, 8);
  if (std::getenv("TREERUN_NO_SPAWNER")) spawners = 0;
  for (int i = 0; i < spawners; ++i) spawners_.emplace_back(non_default_signals_);
}

/// The helpers are told to go all at once, then reaped (the members' destructors): they
/// exit side by side, not one after the other at the end of every run.
LocalLauncher::~LocalLauncher() {
  for (Spawner& spawner : spawners_) spawner.hang_up();
  guardian_.let_go();
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

ChildSpec LocalLauncher::child_spec_for(const SpawnRequest& req) const {
  ChildSpec spec = child_spec(req);
  spec.fds[0] = req.stdin_fd >= 0 ? req.stdin_fd : dev_null_read_.get();
  spec.fds[1] = req.stdout_fd >= 0 ? req.stdout_fd : dev_null_write_.get();
  spec.fds[2] = req.stderr_fd >= 0 ? req.stderr_fd : dev_null_write_.get();
  spec.nofile = children_nofile_;
  return spec;
}

ChildStarted LocalLauncher::start_in_process(const ChildSpec& spec) {
  return start_child(spec, {getpid(), &non_default_signals_, false});
}

/// Through the spawner when there is one (a child that copies its few descriptors, not
/// ours): sent now, answered at collect. In process otherwise, or if it refuses
/// CLONE_PARENT.
Launcher::Ticket LocalLauncher::submit(const SpawnRequest& req, ExitHandler on_exit) {
  InFlight f;
  f.spec = child_spec_for(req);
  f.on_exit = std::move(on_exit);
  f.beside = req.beside.has_value();
  for (std::size_t tried = 0; tried < spawners_.size() && !f.via; ++tried) {
    Spawner& spawner = spawners_[next_spawner_++ % spawners_.size()];
    if (std::optional<Spawner::Ticket> ticket = spawner.send(f.spec)) f.via = &spawner, f.ticket = *ticket;
  }
  if (!f.via) f.started = start_in_process(f.spec);
  in_flight_.emplace(submitted_, std::move(f));
  return submitted_++;
}

SpawnResult LocalLauncher::collect(Ticket ticket, std::error_code& ec) {
  auto node = in_flight_.extract(ticket);
  InFlight& f = node.mapped();
  if (!f.via) return finish(f.started, f, ec);
  std::optional<ChildStarted> started = f.via->receive(f.ticket);
  if (!started) started = start_elsewhere(f.spec, f.via);  // a lost spawner never took it
  else if (refused_parent(*started)) started = start_in_process(f.spec);
  return finish(*started, f, ec);
}

/// Through another spawner than LOST, or in process once none is left.
ChildStarted LocalLauncher::start_elsewhere(const ChildSpec& spec, const Spawner* lost) {
  for (Spawner& spawner : spawners_) {
    if (&spawner == lost) continue;
    std::optional<ChildStarted> started = spawner.start(spec);
    if (started && !refused_parent(*started)) return *started;
  }
  return start_in_process(spec);
}

SpawnResult LocalLauncher::finish(const ChildStarted& started, InFlight& f, std::error_code& ec) {
  SpawnResult result;
  if (started.pid < 0) {
    ec.assign(started.clone_errno, std::system_category());
    return result;
  }
  // The child did both itself before exec; again here, as the parent that we are.
  // Blocked signals: a background group's tcsetpgrp would raise SIGTTOU.
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &old);
  setpgid(started.pid, started.pid);  // EACCES after the child's exec is fine: it did it itself
  if (f.spec.tty_fd >= 0) tcsetpgrp(f.spec.tty_fd, started.pid);
  sigprocmask(SIG_SETMASK, &old, nullptr);
  ec.clear();
  result.proc = {started.pid, started.pid};
  if (started.error != 0) {
    result.exec_error.assign(started.error, std::system_category());
    result.failed_step = started.step.empty() ? "exec" : started.step;
  }
  // Registered before the loop runs again: SIGCHLD is handled in a later turn, so no
  // exit is missed.
  reaper_.watch(result.proc.pid, std::move(f.on_exit));
  // A node's group is forgotten once found empty. A helper beside a node (a stop
  // command, an exec check) never is, so its group number would go stale and be reused:
  // helpers are not insured by group, only by pdeathsig and the run id (guardian.h).
  if (!f.beside) guardian_.watch(result.proc.pgid);
  return result;
}

SpawnResult LocalLauncher::spawn(const SpawnRequest& req, ExitHandler on_exit, std::error_code& ec) {
  return collect(submit(req, std::move(on_exit)), ec);
}

void LocalLauncher::signal(const ProcHandle& p, int sig) {
  if (p.pgid > 1) ::kill(-p.pgid, sig);  // ESRCH: the group is gone, which is what we wanted
}

bool LocalLauncher::exited(const ProcHandle& p) {
  return p.pid > 0 && uncollected_exit(P_PID, static_cast<id_t>(p.pid)) == p.pid;
}

/// Any zombie among our children (a node's, or the guardian's or a spawner's), and the
/// caller looks at each.
bool LocalLauncher::any_exited() { return uncollected_exit(P_ALL) != 0; }

/// The pgid cannot name another group while one of ours is in it, and once it is found
/// empty the caller forgets it and never signals it again.
bool LocalLauncher::group_alive(const ProcHandle& p) {
  return p.pgid > 1 && !(::kill(-p.pgid, 0) != 0 && errno == ESRCH);
}

void LocalLauncher::forget(const ProcHandle& p) { guardian_.unwatch(p.pgid); }

/// Our own children from the kernel's list, less the guardian and the spawner: once every node is
/// collected, any left are escaped processes that came back to us as subreaper.
std::vector<pid_t> LocalLauncher::strays() {
  std::vector<pid_t> out;
  std::ifstream in("/proc/self/task/" + std::to_string(::getpid()) + "/children");
  pid_t pid;
  auto ours = [&](pid_t p) {
    return p == guardian_.pid() ||
           std::any_of(spawners_.begin(), spawners_.end(), [p](const Spawner& s) { return s.pid() == p; });
  };
  while (in >> pid)
    if (!ours(pid)) out.push_back(pid);
  return out;
}

void LocalLauncher::signal_stray(pid_t pid, int sig) { ::kill(pid, sig); }

void LocalLauncher::on_collected(std::function<void(bool stray)> hook) { reaper_.after_reap(std::move(hook)); }

}  // namespace treerun
