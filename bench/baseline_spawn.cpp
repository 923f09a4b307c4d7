// Baseline for the start/stop benchmarks: the bare loop treerun is measured against.
//
//   baseline_spawn N [CMD ARG...]      (default CMD: sleep 1000)
//
// Start phase: posix_spawnp N copies of CMD (each in its own process group, as
// treerun does), then wait until every one has exec'd: all children inherit the
// write end of one O_CLOEXEC pipe, so read() returns EOF once the last one has
// exec'd (or died). Prints "started <ns>" and waits for a line on stdin.
// Stop phase: SIGTERM each child, reap them all. Prints "stopped <ns>" and exits.
//
// BASELINE_OUTPUT_PIPES=1: each child's stdout and stderr is a pipe of its own whose read
// end this loop holds (as a runner that captures output must), and each child reaped has
// its pipe read to EOF and closed: the least a runner with a log stream does per process.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unordered_map>
#include <vector>

extern char** environ;

static long long now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/// On a failure half-way: no child outlives us (each holds our stdout open).
static void stop_all(const std::vector<pid_t>& pids) {
  for (pid_t pid : pids) kill(pid, SIGKILL);
  for (std::size_t i = 0; i < pids.size(); ++i)
    while (waitpid(-1, nullptr, 0) < 0 && errno == EINTR) {
    }
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: baseline_spawn N [CMD ARG...]\n");
    return 2;
  }
  int n = std::atoi(argv[1]);
  std::vector<char*> cmd;
  static char sleep_[] = "sleep", arg_[] = "1000";
  if (argc > 2) {
    for (int i = 2; i < argc; ++i) cmd.push_back(argv[i]);
  } else {
    cmd = {sleep_, arg_};
  }
  cmd.push_back(nullptr);

  // BASELINE_HOLD_FDS=K: like treerun, keep K (1 or 2) O_CLOEXEC pipe read ends open
  // per child spawned so far (shows what an fd table that grows with the tree costs).
  const char* hold = std::getenv("BASELINE_HOLD_FDS");
  int hold_fds = hold ? std::atoi(hold) : 0;
  long long t0 = now_ns();
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return perror("pipe2"), 1;
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  const char* pipes = std::getenv("BASELINE_OUTPUT_PIPES");
  bool output_pipes = pipes && std::atoi(pipes) == 1;
  std::unordered_map<pid_t, int> output_of;  // pid → the read end of its output pipe
  std::vector<pid_t> pids;
  pids.reserve(n);
  for (int i = 0; i < n; ++i) {
    pid_t pid;
    int out[2] = {-1, -1};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (output_pipes) {
      if (pipe2(out, O_CLOEXEC) != 0) return perror("pipe2"), stop_all(pids), 1;
      posix_spawn_file_actions_adddup2(&actions, out[1], 1);
      posix_spawn_file_actions_adddup2(&actions, out[1], 2);
    }
    int rc = posix_spawnp(&pid, cmd[0], &actions, &attr, cmd.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (output_pipes) {
      close(out[1]);
      if (rc == 0) output_of[pid] = out[0];
    }
    if (rc != 0) {
      std::fprintf(stderr, "posix_spawnp: %s\n", std::strerror(rc));
      return stop_all(pids), 1;
    }
    pids.push_back(pid);
    for (int k = 0; k < hold_fds; ++k) {
      int q[2];
      if (pipe2(q, O_CLOEXEC) != 0) return perror("pipe2"), stop_all(pids), 1;
      close(q[1]);
    }
  }
  close(p[1]);
  char c;
  while (read(p[0], &c, 1) > 0) {
  }
  long long t1 = now_ns();
  std::printf("started %lld\n", t1 - t0);
  std::fflush(stdout);

  char line[64];
  if (!std::fgets(line, sizeof line, stdin)) { /* EOF: stop anyway */ }
  long long t2 = now_ns();
  for (pid_t pid : pids) kill(pid, SIGTERM);
  for (int i = 0; i < n; ++i) {
    pid_t pid;
    while ((pid = waitpid(-1, nullptr, 0)) < 0 && errno == EINTR) {
    }
    if (auto it = output_of.find(pid); it != output_of.end()) {
      char buf[4096];
      while (read(it->second, buf, sizeof buf) > 0) {
      }
      close(it->second);
    }
  }
  long long t3 = now_ns();
  std::printf("stopped %lld\n", t3 - t2);
  return 0;
}
