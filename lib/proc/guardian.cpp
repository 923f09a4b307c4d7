#include "proc/guardian.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <string_view>

namespace treerun {
namespace {

constexpr int kGoodbye = 0;

/// Whether PID's environment holds NEEDLE ("TREERUN_RUN_ID=..."), as a whole entry.
bool has_entry(const char* pid, std::string_view needle) {
  std::string path = std::string("/proc/") + pid + "/environ";
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;  // gone, or not ours to read
  std::string env;
  char buf[65536];
  ssize_t n;
  while (env.size() < (1u << 20) && (n = read(fd, buf, sizeof buf)) > 0) env.append(buf, static_cast<std::size_t>(n));
  close(fd);
  for (std::size_t at = 0; at < env.size(); at = env.find('\0', at) + 1) {
    if (std::string_view(env).substr(at).starts_with(needle) &&
        (at + needle.size() == env.size() || env[at + needle.size()] == '\0'))
      return true;
    if (env.find('\0', at) == std::string::npos) break;
  }
  return false;
}

/// Processes that left their node's group (setsid, double forks, `set -m` jobs) still
/// carry the run's id in their environment: SIGKILL each, until a pass finds none (a
/// pass may race a fork; the next one catches the child).
void kill_by_run_id(std::string_view needle) {
  for (int pass = 0; pass < 16; ++pass) {
    DIR* proc = opendir("/proc");
    if (!proc) return;
    int found = 0;
    while (dirent* e = readdir(proc)) {
      char* end = nullptr;
      long pid = std::strtol(e->d_name, &end, 10);
      if (*end != '\0' || pid <= 1 || pid == getpid()) continue;
      if (has_entry(e->d_name, needle) && kill(static_cast<pid_t>(pid), SIGKILL) == 0) ++found;
    }
    closedir(proc);
    if (found == 0) return;
  }
}

/// Releases Slurm allocation or step ID (treerun's environment, SLURM_CONF included, is ours).
void scancel(const std::string& id) {
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    for (int std = 0; std < 3; ++std) dup2(null, std);
    execlp("scancel", "scancel", id.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  if (pid > 0)
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
}

/// Reads exactly N bytes of a record (one atomic write made them, so they are there).
/// The pipe from treerun, read in blocks: a batch of records costs one read.
struct Source {
  int fd = -1;
  char buf[4096];
  std::size_t at = 0, end = 0;
};

bool read_all(Source& in, void* to, std::size_t n) {
  auto* p = static_cast<char*>(to);
  while (n > 0) {
    if (in.at == in.end) {
      ssize_t got = read(in.fd, in.buf, sizeof in.buf);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return false;
      in.at = 0;
      in.end = static_cast<std::size_t>(got);
    }
    std::size_t take = std::min(n, in.end - in.at);
    std::memcpy(p, in.buf + in.at, take);
    in.at += take;
    p += take;
    n -= take;
  }
  return true;
}

/// The length, then the bytes, of a text record.
bool read_text(Source& fd, std::string& text) {
  int length = 0;
  if (!read_all(fd, &length, sizeof length) || length <= 0 || length > PIPE_BUF) return false;
  text.resize(static_cast<std::size_t>(length));
  return read_all(fd, text.data(), text.size());
}

[[noreturn]] void watcher(int fd, const std::string& needle) {
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
  std::set<std::string> paths, steps;
  int record = 0, job = 0;
  Source in;
  in.fd = fd;
  while (read_all(in, &record, sizeof record)) {  // until EOF: treerun is gone
    if (record == kGoodbye) _exit(0);
    if (record == Guardian::kJob) {
      if (!read_all(in, &job, sizeof job)) break;
    } else if (record == Guardian::kPath || record == Guardian::kStep || record == Guardian::kStepGone) {
      std::string text;
      if (!read_text(in, text)) break;
      if (record == Guardian::kPath) paths.insert(text);
      else if (record == Guardian::kStep) steps.insert(text);
      else steps.erase(text);
    } else if (record > 0) {
      groups.insert(record);
    } else {
      groups.erase(-record);
    }
  }
  for (int pgid : groups) kill(-pgid, SIGKILL);
  if (!needle.empty()) kill_by_run_id(needle);
  // srun is dead now; its step may live on where it runs (an allocation we did not
  // ask for is not released below).
  for (const std::string& step : steps) scancel(step);
  if (job > 0) scancel(std::to_string(job));
  for (const std::string& path : paths) {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  _exit(0);
}

}  // namespace

Guardian::Guardian(const std::string& run_id) {
  std::string needle = run_id.empty() ? "" : "TREERUN_RUN_ID=" + run_id;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return;  // no guardian: pdeathsig still covers children
  pid_t pid = fork();  // treerun is still single-threaded here
  if (pid == 0) {
    close(fds[1]);
    watcher(fds[0], needle);
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
  let_go();
  if (pid_ <= 0) return;
  while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

void Guardian::let_go() {
  if (!pipe_) return;
  send(kGoodbye);
  pipe_.reset();
}

void Guardian::send_text(int kind, const std::string& text) {
  if (!pipe_ || text.empty() || text.size() > PIPE_BUF - 2 * sizeof(int)) return;
  flush();  // records keep their order
  // One write (under PIPE_BUF), so that no other record lands inside it.
  std::string message(2 * sizeof(int) + text.size(), '\0');
  int head[2] = {kind, static_cast<int>(text.size())};
  std::memcpy(message.data(), head, sizeof head);
  std::memcpy(message.data() + sizeof head, text.data(), text.size());
  write_all(message.data(), message.size());
}

void Guardian::queue(int record) {
  if (!pipe_) return;
  if (!post_) return send(record);
  if (queued_.empty()) post_();
  queued_.push_back(record);
}

void Guardian::flush() {
  if (queued_.empty()) return;
  write_all(queued_.data(), queued_.size() * sizeof(int));
  queued_.clear();
}

void Guardian::send(int record) {
  if (!pipe_) return;
  flush();
  write_all(&record, sizeof record);
}

/// The pipe is blocking: only one writer, and records are whole ints, so a write cut
/// short is finished by the next one and the watcher still reads whole records.
void Guardian::write_all(const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = write(pipe_.get(), p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the watcher is gone: nothing to insure with
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

}  // namespace treerun
