#include "proc/slurm_launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/read.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

extern char** environ;

namespace treerun {
namespace {

/// Runs on the node's host, in front of the node's command: the folder it must start
/// in (slurmstepd would fall back to /tmp without a word to the task), then the
/// command by exec, so that a command that is not there exits 127 and one that cannot
/// run 126, as locally (slurmstepd's own execve failure exits with the errno); the
// chdir failure's reason in the words strerror would use.
constexpr const char* kStepShell =
    "cd -- \"$0\" 2>/dev/null || { if [ ! -e \"$0\" ]; then w='No such file or directory';"
    " elif [ ! -d \"$0\" ]; then w='Not a directory'; else w='Permission denied'; fi;"
    " echo \"cannot chdir to $0: $w\" >&2; exit 126; }; exec \"$@\"";

std::string private_dir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/treerun-slurm-XXXXXX";
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("cannot make a folder for srun's prolog: " + pattern);
  return pattern;
}

/// TEXT as one word of sh, whatever it holds: 'it'\''s'.
std::string shell_quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

/// srun's --prolog runs on this host once the step exists, as srun's child, with
/// SLURM_JOB_ID and SLURM_STEP_ID: one line, atomic (shorter than PIPE_BUF).
void write_prolog(const std::string& path, const std::string& fifo) {
  std::ofstream out(path);
  out << "#!/bin/sh\nprintf '%s %s.%s\\n' \"$PPID\" \"$SLURM_JOB_ID\" \"$SLURM_STEP_ID\" >" << shell_quoted(fifo) << "\n";
  out.close();
  if (!out || ::chmod(path.c_str(), 0700) != 0) throw std::runtime_error("cannot write srun's prolog " + path);
}

/// srun's status is the task's: 128+N is a death by signal N (it has no other way to say it).
ExitStatus from_srun(ExitStatus st) {
  if (st.kind == ExitStatus::Kind::exited && st.value > 128 && st.value < 128 + NSIG)
    return ExitStatus::signaled(st.value - 128);
  return st;
}

bool is_zombie(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
}

}  // namespace

SlurmLauncher::SlurmLauncher(boost::asio::io_context& io, const std::string& run_id)
    : local_(io, run_id), fifo_(io) {
  make_step_channel();
}

SlurmLauncher::~SlurmLauncher() {
  end_helpers();
  // Every step has ended (the run reaped every srun): now the allocation goes.
  allocation_.reset();
  fifo_.close();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void SlurmLauncher::release_on_death(const std::string& job) {
  if (int id = std::atoi(job.c_str()); id > 0) local_.guardian().release_job(id);
}

/// A stop's scancel still on its way when the run ends (slurmctld slow to answer) may
/// finish for a while, then it is ended: nothing of the run outlives treerun, and
/// treerun's end is bounded.
void SlurmLauncher::end_helpers() {
  constexpr int kPatienceMs = 5000;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kPatienceMs);
  for (pid_t pid : helpers_) {
    int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (fd >= 0) {
      pollfd p{fd, POLLIN, 0};
      while (::poll(&p, 1, std::max<int>(0, int(left.count()))) < 0 && errno == EINTR) {
      }
      ::close(fd);
    }
    ::kill(pid, SIGKILL);  // a no-op on one that has ended: it is a zombie until reaped here
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  helpers_.clear();
}

void SlurmLauncher::make_step_channel() {
  dir_ = private_dir();
  local_.guardian().remove_on_death(dir_);  // should treerun be killed
  std::string fifo = dir_ + "/steps";
  prolog_ = dir_ + "/prolog";
  if (::mkfifo(fifo.c_str(), 0600) != 0) throw std::runtime_error("cannot make " + fifo);
  write_prolog(prolog_, fifo);
  int rd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  fifo_writer_.reset(::open(fifo.c_str(), O_WRONLY | O_CLOEXEC));
  if (rd < 0 || !fifo_writer_) throw std::runtime_error("cannot open " + fifo);
  fifo_.assign(rd);
  read_step_ids();
}

void SlurmLauncher::read_step_ids() {
  fifo_.async_read_some(boost::asio::buffer(buf_), [this](const boost::system::error_code& ec, std::size_t n) {
    if (ec) return;  // closed at the end
    pending_.append(buf_, n);
    std::size_t nl;
    while ((nl = pending_.find('\n')) != std::string::npos) {
      std::string line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      std::size_t space = line.find(' ');
      if (space != std::string::npos) on_step_id(std::atoi(line.c_str()), line.substr(space + 1));
    }
    read_step_ids();
  });
}

void SlurmLauncher::on_step_id(pid_t srun, const std::string& id) {
  auto it = steps_.find(srun);
  if (it == steps_.end()) return;
  it->second.id = id;
  local_.guardian().cancel_step_on_death(id);
  std::vector<int> queued = std::move(it->second.queued);
  for (int sig : queued) scancel(id, sig);
}

Command SlurmLauncher::srun_command(const SpawnRequest& req) const {
  Command c;
  std::string host = req.host.empty() || req.host == "localhost" ? allocation().hosts.front() : req.host;
  c.argv = {"srun", "--jobid=" + allocation().job, "--overlap", "-N1", "-n1", "-w", host, "-Q",
            "--job-name=treerun:" + (req.node_path.empty() ? "/" : req.node_path), "--prolog=" + prolog_,
            "--chdir=" + (req.cwd.empty() ? "/" : req.cwd)};
  // A tty node: srun, handed treerun's terminal as its foreground group (the local
  // launcher does that, as for a local tty node), puts it in raw mode and relays it to
  // a pseudo-terminal of the step's own, where the program leads the foreground group.
  // A ctrl-c is then a byte for the remote terminal, never a SIGINT to srun.
  if (req.tty_fd >= 0) c.argv.push_back("--pty");
  c.argv.insert(c.argv.end(), {"/bin/sh", "-c", kStepShell, req.cwd.empty() ? "/" : req.cwd});
  if (req.cmd.shell) c.argv.insert(c.argv.end(), {"/bin/sh", "-c", req.cmd.argv.front()});
  else c.argv.insert(c.argv.end(), req.cmd.argv.begin(), req.cmd.argv.end());
  return c;
}

SpawnResult SlurmLauncher::spawn(const SpawnRequest& req, ExitHandler on_exit, std::error_code& ec) {
  SpawnRequest srun = req;
  srun.cmd = srun_command(req);
  srun.cwd = "/";  // srun's own, here: the step's is --chdir
  auto pid = std::make_shared<pid_t>(-1);  // known once spawn returns; the exit comes later, on the loop
  SpawnResult r = local_.spawn(srun, [this, pid, on_exit = std::move(on_exit)](ExitStatus st) {
    // srun has ended, and with it its step (and the stdout watch)
    if (auto it = steps_.find(*pid); it != steps_.end() && !it->second.id.empty())
      local_.guardian().forget_step(it->second.id);
    steps_.erase(*pid);
    on_exit(from_srun(st));
  }, ec);
  if (!ec && r.proc.pid > 0) {
    steps_[*pid = r.proc.pid] = Step{};
    watch_readers(r.proc.pid, req.stdout_fd);
  }
  return r;
}

/// A pipe's write end reports an error event once no reader is left. Edge-triggered
/// and one-shot: the wait costs nothing while the readers read.
void SlurmLauncher::watch_readers(pid_t srun, int stdout_fd) {
  struct stat st {};
  if (stdout_fd < 0 || ::fstat(stdout_fd, &st) != 0 || !S_ISFIFO(st.st_mode)) return;
  int copy = ::fcntl(stdout_fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) return;  // no watch: the step then runs until the run stops it
  auto out = std::make_shared<boost::asio::posix::stream_descriptor>(fifo_.get_executor(), copy);
  steps_[srun].out = out;
  out->async_wait(boost::asio::posix::descriptor_base::wait_error, [this, srun](const boost::system::error_code& ec) {
    auto it = steps_.find(srun);
    if (ec || it == steps_.end()) return;  // the step ended first
    it->second.out.reset();  // what it held open, the consumers' EOF included
    signal_step(it->second, SIGPIPE);
  });
}

void SlurmLauncher::signal(const ProcHandle& p, int sig) {
  auto it = steps_.find(p.pid);
  if (it == steps_.end()) {
    local_.signal(p, sig);
    return;
  }
  if (sig == SIGCONT) return;  // srun swallows it; a stop is one scancel, not two
  if (local_.exited(p)) return;  // srun is done: so is its step
  if (sig == SIGKILL && it->second.id.empty()) {
    local_.signal(p, SIGKILL);  // not launched yet: SIGKILL ends srun, which cancels its step at once
    return;
  }
  signal_step(it->second, sig);
  // And srun itself: with slurmctld slow or gone, the scancel may never arrive, and a
  // forced stop must end. srun killed, the run has its exit; the step, its scancel.
  if (sig == SIGKILL) local_.signal(p, SIGKILL);
}

/// SIG to STEP by scancel, or queued until the prolog names the step.
void SlurmLauncher::signal_step(Step& step, int sig) {
  if (step.id.empty()) {
    step.queued.push_back(sig);
    return;
  }
  scancel(step.id, sig);
}

/// `scancel --ctld -s N J.S` on the loop, not waited for. --ctld: Slurm 22.05 would
/// otherwise send it to every host of the allocation, and exit 225 on the others.
/// A step already gone answers 225 too: a stop sent to what has exited is no error.
void SlurmLauncher::scancel(const std::string& step, int sig) {
  SpawnRequest req;
  req.node_path = "scancel";
  req.cmd.argv = {"scancel", "--ctld", "-Q", "-s", std::to_string(sig), step};
  req.cwd = "/";
  req.beside = ProcHandle{};  // a helper: not insured by group
  for (char** e = environ; e && *e; ++e) req.env.emplace_back(*e);
  std::error_code ec;
  auto pid = std::make_shared<pid_t>(-1);  // known once spawn returns; the exit comes later, on the loop
  SpawnResult r = local_.spawn(req, [this, pid](ExitStatus) { helpers_.erase(*pid); }, ec);
  if (!ec && r.proc.pid > 0) helpers_.insert(*pid = r.proc.pid);
}

void SlurmLauncher::forget(const ProcHandle& p) { local_.forget(p); }

/// srun leaves a child of its own behind, a zombie, which comes back to treerun: no
/// process to stop (the reaper collects it). Nor is a scancel on its way a stray.
std::vector<pid_t> SlurmLauncher::strays() {
  std::vector<pid_t> out;
  for (pid_t pid : local_.strays())
    if (!helpers_.contains(pid) && !is_zombie(pid)) out.push_back(pid);
  return out;
}

bool SlurmLauncher::backend_line(std::string_view line) const {
  return line.starts_with("srun: ") || line.starts_with("slurmstepd-");
}

}  // namespace treerun
