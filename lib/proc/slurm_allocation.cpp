#include "proc/slurm_allocation.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>

#include "base/fd.h"

extern char** environ;

namespace treerun {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

/// `n[1-2],gpu3` -> n1 n2 gpu3, as Slurm expands it.
std::optional<std::vector<std::string>> hostnames(const std::string& nodelist, std::string& why) {
  std::string out;
  if (run_captured({"scontrol", "show", "hostnames", nodelist}, out) != 0 || out.empty()) {
    why = "scontrol show hostnames " + nodelist + " failed: " + out;
    return std::nullopt;
  }
  return lines_of(out);
}

std::string last_line(const std::string& text) {
  auto lines = lines_of(text);
  return lines.empty() ? "no output" : lines.back();
}

/// FD to its EOF into OUTPUT, each whole line to HOW.on_line as it comes; false when
/// HOW.limit_ms passed first.
bool read_all(int fd, const Capture& how, std::string& output) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(how.limit_ms);
  std::size_t told = 0;  // OUTPUT up to here went to on_line
  char buf[4096];
  for (;;) {
    int wait = -1;
    if (how.limit_ms >= 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      wait = int(left.count());
    }
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, wait);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) return false;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
    output.append(buf, static_cast<std::size_t>(n));
    for (std::size_t nl; how.on_line && (nl = output.find('\n', told)) != std::string::npos; told = nl + 1)
      how.on_line(output.substr(told, nl - told));
  }
}

std::optional<AllocationHold> ask_for_one(const AllocationRequest& r, const OnGrant& granted, std::string& why) {
  std::vector<std::string> argv = {"salloc", "--no-shell", "-N", std::to_string(r.nodes), "-J", r.name};
  if (!r.partition.empty()) argv.insert(argv.end(), {"-p", r.partition});
  if (r.minutes > 0) argv.insert(argv.end(), {"-t", std::to_string(r.minutes)});
  if (!r.nodelist.empty()) {
    std::string list;
    for (const auto& h : r.nodelist) list += (list.empty() ? "" : ",") + h;
    argv.insert(argv.end(), {"-w", list});
  }
  argv.insert(argv.end(), r.args.begin(), r.args.end());
  // salloc has no --parsable: its job id is on stderr, "Pending job allocation J" the
  // moment the job is queued (then, should treerun be killed while salloc waits, the
  // guardian cancels the queued job, which salloc would otherwise be granted and leave),
  // and "Granted job allocation J".
  std::string told;
  auto tell = [&](const std::string& line) {
    for (const char* mark : {"Pending job allocation ", "Granted job allocation "}) {
      std::size_t at = line.find(mark);
      if (at == std::string::npos) continue;
      std::string job = line.substr(at + std::strlen(mark));
      job = job.substr(0, job.find_first_not_of("0123456789"));
      if (!job.empty() && job != told && granted) granted(told = job);
    }
  };
  std::string out;
  int code = run_captured(argv, out, {.limit_ms = -1, .on_line = tell});
  const std::string grant = "Granted job allocation ";
  std::size_t at = out.find(grant);
  if (code != 0 || at == std::string::npos) {
    why = "salloc failed (exit " + std::to_string(code) + "): " + last_line(out);
    return std::nullopt;
  }
  SlurmAllocation a;
  std::size_t from = at + grant.size();
  a.job = out.substr(from, out.find_first_not_of("0123456789", from) - from);
  a.owned = true;
  std::string nodes;
  if (run_captured({"squeue", "-h", "-j", a.job, "-o", "%N"}, nodes) != 0 || lines_of(nodes).empty()) {
    why = "squeue could not tell the hosts of job " + a.job + ": " + last_line(nodes);
    release_allocation(a);
    return std::nullopt;
  }
  auto hosts = hostnames(lines_of(nodes).front(), why);
  if (!hosts) {
    release_allocation(a);
    return std::nullopt;
  }
  a.hosts = *hosts;
  return AllocationHold(std::move(a));
}

}  // namespace

std::optional<AllocationHold> acquire_allocation(const AllocationRequest& request, const OnGrant& granted,
                                                 std::string& why) {
  const char* job = std::getenv("SLURM_JOB_ID");
  if (!job || !*job) return ask_for_one(request, granted, why);
  SlurmAllocation a;
  a.job = job;
  const char* list = std::getenv("SLURM_JOB_NODELIST");
  if (!list || !*list) list = std::getenv("SLURM_NODELIST");
  if (!list || !*list) {
    why = "SLURM_JOB_ID is set, but SLURM_JOB_NODELIST is not";
    return std::nullopt;
  }
  auto hosts = hostnames(list, why);
  if (!hosts) return std::nullopt;
  a.hosts = *hosts;
  return AllocationHold(std::move(a));
}

void release_allocation(const SlurmAllocation& allocation) {
  if (!allocation.owned || allocation.job.empty()) return;
  std::string out;
  if (run_captured({"scancel", allocation.job}, out, {.limit_ms = kReleaseLimitMs, .on_line = {}}) != 0)
    std::cerr << "treerun: warning: `scancel " << allocation.job << "` failed or did not answer within "
              << kReleaseLimitMs / 1000 << " s (" << last_line(out)
              << "): the allocation may stay until its time limit\n";
}

int run_captured(const std::vector<std::string>& argv, std::string& output, const Capture& how) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return -1;
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), 2);
  // The child must not inherit treerun's blocked stop signals: a ctrl-c while salloc
  // waits for its allocation reaches salloc (in our group), which then gives up.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int err = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  write_end.reset();
  if (err != 0) {
    output = argv[0] + ": cannot run it: " + std::string(std::strerror(err));
    return -1;
  }
  output.clear();
  bool in_time = read_all(read_end.get(), how, output);
  if (!in_time) {
    ::kill(pid, SIGKILL);
    output += "\n(no answer within " + std::to_string(how.limit_ms) + " ms: killed)";
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return in_time && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace treerun
