// trhelper: the small program the integration tests run as treerun nodes.
//
// Modes are argv words executed left to right, so they compose:
//
//   trhelper count-signals /tmp/x/sig.log ignore TERM touch /tmp/x/ready sleep forever
//
// Every report goes to stdout, unbuffered (one write(2) per report), unless the mode
// says otherwise. Signals are named SIGTERM, TERM or 15. The table `kModes` below is the
// whole list; `trhelper --help` prints it.
//
// Signal handling, in one place: a signal "caught" by count-signals or trap appends
// "SIGNAME pid=N\n" to the count file (O_APPEND, one write, so concurrent processes
// sharing the file never interleave), then the process exits 0 (cooperative), unless
// `stubborn` was given or the signal was named by `ignore`, in which case it carries on.
// Only async-signal-safe calls are made in the handler.

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

// ---------------------------------------------------------------------------
// Output helpers (no stdio buffering: a signal handler may _exit at any time, and
// tests read reports while the process is still running).

void write_all(int fd, const void* data, size_t len) {
  const char* p = static_cast<const char*>(data);
  while (len > 0) {
    ssize_t n = ::write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE) _exit(141);  // SIGPIPE is ignored or handled: behave like it
      return;
    }
    p += n;
    len -= static_cast<size_t>(n);
  }
}

void out(const std::string& s) { write_all(1, s.data(), s.size()); }
void err(const std::string& s) { write_all(2, s.data(), s.size()); }

[[noreturn]] void die(const std::string& msg) {
  err("trhelper: " + msg + "\n");
  _exit(99);
}

// ---------------------------------------------------------------------------
// Signals.

struct SigName {
  int sig;
  const char* name;
};
constexpr SigName kSignals[] = {
    {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
    {SIGTRAP, "SIGTRAP"}, {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
    {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"}, {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"},
    {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"}, {SIGCHLD, "SIGCHLD"},
    {SIGCONT, "SIGCONT"}, {SIGSTOP, "SIGSTOP"}, {SIGTSTP, "SIGTSTP"}, {SIGTTIN, "SIGTTIN"},
    {SIGTTOU, "SIGTTOU"}, {SIGWINCH, "SIGWINCH"},
};

int parse_signal(std::string_view s) {
  if (!s.empty() && s[0] >= '0' && s[0] <= '9') return std::atoi(std::string(s).c_str());
  std::string full = s.starts_with("SIG") ? std::string(s) : "SIG" + std::string(s);
  for (const auto& e : kSignals)
    if (full == e.name) return e.sig;
  die("unknown signal: " + std::string(s));
}

const char* signal_name(int sig) {
  for (const auto& e : kSignals)
    if (e.sig == sig) return e.name;
  return "SIG?";
}

// State read by the handler: plain ints and fixed arrays, set before handlers exist.
volatile sig_atomic_t g_count_fd = -1;
volatile sig_atomic_t g_stubborn = 0;
volatile sig_atomic_t g_keep_running[65] = {};  // per signal: `ignore SIG` while counting

// Appends "SIGNAME pid=N\n" to the count file in one write(2).
void record_signal(int sig) {
  int fd = g_count_fd;
  if (fd < 0) return;
  char buf[64];
  size_t n = 0;
  for (const char* p = signal_name(sig); *p; ++p) buf[n++] = *p;
  const char* mid = " pid=";
  for (const char* p = mid; *p; ++p) buf[n++] = *p;
  char digits[16];
  int d = 0;
  long pid = static_cast<long>(getpid());
  do {
    digits[d++] = static_cast<char>('0' + pid % 10);
    pid /= 10;
  } while (pid > 0);
  while (d > 0) buf[n++] = digits[--d];
  buf[n++] = '\n';
  ssize_t r = ::write(fd, buf, n);
  (void)r;
}

void on_signal(int sig) {
  int saved = errno;
  record_signal(sig);
  if (!g_stubborn && !(sig >= 0 && sig < 65 && g_keep_running[sig])) _exit(0);
  errno = saved;
}

void catch_signal(int sig) {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  if (sigaction(sig, &sa, nullptr) != 0) die(std::string("sigaction: ") + strerror(errno));
}

constexpr int kCountedSignals[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGQUIT};

void open_count_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) die("open " + path + ": " + strerror(errno));
  g_count_fd = fd;
}

// ---------------------------------------------------------------------------
// Small utilities.

void sleep_seconds(double secs) {
  if (secs <= 0) return;
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  double whole = std::floor(secs);
  deadline.tv_sec += static_cast<time_t>(whole);
  deadline.tv_nsec += static_cast<long>((secs - whole) * 1e9);
  if (deadline.tv_nsec >= 1'000'000'000L) {
    deadline.tv_sec += 1;
    deadline.tv_nsec -= 1'000'000'000L;
  }
  // Absolute deadline: a handled signal (stubborn) interrupts and we go back to sleep
  // without stretching the total.
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr) == EINTR) {
  }
}

[[noreturn]] void sleep_forever() {
  for (;;) pause();
}

void sleep_arg(const std::string& a) {
  if (a == "forever" || a == "inf") sleep_forever();
  sleep_seconds(std::strtod(a.c_str(), nullptr));
}

long long to_ll(const std::string& s) {
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (end == s.c_str() || *end) die("not a number: " + s);
  return v;
}

void create_file(const std::string& path, const std::string& content) {
  // Write a temp file and rename it, so a waiter never sees a half-written file.
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) die("open " + tmp + ": " + strerror(errno));
  write_all(fd, content.data(), content.size());
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) die("rename " + path + ": " + strerror(errno));
}

// Deterministic binary pattern: a xorshift32 stream, restarted every kPeriod bytes, so
// tests can rebuild it fast (see patterns.py) and it contains every byte value,
// newlines and NULs included.
constexpr size_t kPeriod = 65521;
std::vector<unsigned char> pattern_block(uint32_t seed) {
  std::vector<unsigned char> block(kPeriod);
  uint32_t x = seed * 2654435761u + 1u;
  if (x == 0) x = 1;
  for (size_t i = 0; i < kPeriod; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    block[i] = static_cast<unsigned char>(x & 0xff);
  }
  return block;
}

struct Fnv {
  uint64_t h = 1469598103934665603ull;
  uint64_t bytes = 0;
  void add(const unsigned char* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      h ^= p[i];
      h *= 1099511628211ull;
    }
    bytes += n;
  }
};

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// ---------------------------------------------------------------------------
// Modes. Each takes its arguments from `args` (already consumed by the dispatcher).

using Args = std::vector<std::string>;

void m_sleep(const Args& a) { sleep_arg(a[0]); }
void m_exit(const Args& a) { _exit(static_cast<int>(to_ll(a[0]))); }

void m_kill_self(const Args& a) {
  int sig = parse_signal(a[0]);
  signal(sig, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_UNBLOCK, &set, nullptr);
  raise(sig);
  die("survived kill-self");
}

void m_ignore(const Args& a) {
  int sig = parse_signal(a[0]);
  if (g_count_fd >= 0 && sig < 65) {
    // Counting: keep a handler so the signal is still recorded, but carry on.
    g_keep_running[sig] = 1;
    catch_signal(sig);
  } else {
    signal(sig, SIG_IGN);
  }
}

void m_trap(const Args& a) { catch_signal(parse_signal(a[0])); }

void m_count_signals(const Args& a) {
  open_count_file(a[0]);
  for (int sig : kCountedSignals) catch_signal(sig);
}

void m_count_file(const Args& a) { open_count_file(a[0]); }
void m_stubborn(const Args&) { g_stubborn = 1; }

void m_print_fds(const Args&) {
  DIR* d = opendir("/proc/self/fd");
  if (!d) die("opendir /proc/self/fd");
  int self = dirfd(d);
  std::map<int, std::string> fds;
  while (auto* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    int fd = std::atoi(e->d_name);
    if (fd == self) continue;
    char target[4096];
    std::string path = std::string("/proc/self/fd/") + e->d_name;
    ssize_t n = readlink(path.c_str(), target, sizeof target - 1);
    fds[fd] = n >= 0 ? std::string(target, static_cast<size_t>(n)) : "?";
  }
  closedir(d);
  std::string s;
  for (auto& [fd, t] : fds) s += "fd " + std::to_string(fd) + " -> " + t + "\n";
  out(s);
}

// Appends "pid N fds A,B,C\n" (the open fds, ascending) to FILE in one write(2), so a
// chaos run can check every process it starts for leaked descriptors without touching
// the process's stdout. Use it first, before modes that open files of their own.
void m_fds_to(const Args& a) {
  DIR* d = opendir("/proc/self/fd");
  if (!d) die("opendir /proc/self/fd");
  int self = dirfd(d);
  std::set<int> fds;
  while (auto* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    int fd = std::atoi(e->d_name);
    if (fd != self) fds.insert(fd);
  }
  closedir(d);
  std::string s = "pid " + std::to_string(getpid()) + " fds";
  const char* sep = " ";
  for (int fd : fds) {
    s += sep + std::to_string(fd);
    sep = ",";
  }
  s += "\n";
  int fd = ::open(a[0].c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) die("open " + a[0]);
  write_all(fd, s.data(), s.size());
  ::close(fd);
}

void m_print_pgid(const Args&) {
  out("pid " + std::to_string(getpid()) + " pgid " + std::to_string(getpgrp()) + " sid " +
      std::to_string(getsid(0)) + " ppid " + std::to_string(getppid()) + "\n");
}

void m_print_sigmask(const Args&) {
  FILE* f = std::fopen("/proc/self/status", "re");
  if (!f) die("open /proc/self/status");
  char line[512];
  std::string s;
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, "SigBlk:", 7) == 0 || std::strncmp(line, "SigIgn:", 7) == 0)
      s += line;
  std::fclose(f);
  out(s);
}

void m_print_env(const Args& a) {
  const char* v = std::getenv(a[0].c_str());
  out(v ? a[0] + "=" + v + "\n" : a[0] + " unset\n");
}

void m_print_cwd(const Args&) {
  char buf[4096];
  out(std::string("cwd ") + (getcwd(buf, sizeof buf) ? buf : "?") + "\n");
}

// Double fork: the grandchild is re-parented (to treerun, a subreaper) and sleeps.
// Its stdio goes to /dev/null so it does not hold the node's pipes open: these tests
// are about reaping, fork-child is the one about pipes.
void fork_orphan(double secs_or_neg_forever, bool new_session) {
  int pfd[2];
  if (pipe2(pfd, O_CLOEXEC) != 0) die("pipe");
  pid_t mid = fork();
  if (mid < 0) die("fork");
  if (mid == 0) {
    pid_t grand = fork();
    if (grand == 0) {
      if (new_session) setsid();
      int null = ::open("/dev/null", O_RDWR);
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
      if (null > 2) ::close(null);
      ::close(pfd[0]);
      ::close(pfd[1]);
      if (secs_or_neg_forever < 0) sleep_forever();
      sleep_seconds(secs_or_neg_forever);
      _exit(0);
    }
    std::string line = "orphan " + std::to_string(grand) + "\n";
    write_all(pfd[1], line.data(), line.size());
    _exit(0);
  }
  ::close(pfd[1]);
  std::string line;
  char buf[64];
  ssize_t n;
  while ((n = ::read(pfd[0], buf, sizeof buf)) > 0) line.append(buf, static_cast<size_t>(n));
  ::close(pfd[0]);
  waitpid(mid, nullptr, 0);
  out(line);
}

double secs_arg(const std::string& a) {
  return (a == "forever" || a == "inf") ? -1 : std::strtod(a.c_str(), nullptr);
}
void m_fork_orphan(const Args& a) { fork_orphan(secs_arg(a[0]), false); }
void m_fork_orphan_setsid(const Args& a) { fork_orphan(secs_arg(a[0]), true); }

// A child in our process group that keeps our stdout open; it inherits our signal
// dispositions (so a counting, stubborn parent has a counting, stubborn child).
void m_fork_child(const Args& a) {
  double secs = secs_arg(a[0]);
  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    if (secs < 0) sleep_forever();
    sleep_seconds(secs);
    _exit(0);
  }
  out("child " + std::to_string(child) + "\n");
}

void write_pattern(long long n, uint32_t seed) {
  auto block = pattern_block(seed);
  while (n > 0) {
    size_t chunk = static_cast<size_t>(std::min<long long>(n, static_cast<long long>(kPeriod)));
    write_all(1, block.data(), chunk);
    n -= static_cast<long long>(chunk);
  }
}

// args: N, or N and S when written `write-bytes N seed S`.
void m_write_bytes(const Args& a) {
  write_pattern(to_ll(a[0]), a.size() > 1 ? static_cast<uint32_t>(to_ll(a[1])) : 0);
}

// N lines of exactly LEN bytes plus "\n": "%08d " then a filler letter that depends on
// the sequence number, so a split, a loss or an interleaving is visible. Written in
// 64 KiB chunks that cut lines anywhere, as a real program's stdio buffer would.
void m_write_lines(const Args& a) {
  long long count = to_ll(a[0]);
  long long len = to_ll(a[1]);
  if (len < 9) die("write-lines: LEN must be >= 9");
  std::string buf;
  buf.reserve(1 << 17);
  for (long long i = 0; i < count; ++i) {
    char head[32];
    std::snprintf(head, sizeof head, "%08lld ", i);
    buf += head;
    buf.append(static_cast<size_t>(len - 9), static_cast<char>('a' + i % 26));
    buf += '\n';
    if (buf.size() >= (1 << 16)) {
      write_all(1, buf.data(), 1 << 16);
      buf.erase(0, 1 << 16);
    }
  }
  write_all(1, buf.data(), buf.size());
}

void m_cat(const Args&) {
  char buf[65536];
  long long total = 0;
  ssize_t n;
  while ((n = ::read(0, buf, sizeof buf)) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      die(std::string("read: ") + strerror(errno));
    }
    write_all(1, buf, static_cast<size_t>(n));
    total += n;
  }
  err("cat bytes " + std::to_string(total) + "\n");
}

void m_checksum_stdin(const Args&) {
  unsigned char buf[65536];
  Fnv f;
  ssize_t n;
  while ((n = ::read(0, buf, sizeof buf)) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      die(std::string("read: ") + strerror(errno));
    }
    f.add(buf, static_cast<size_t>(n));
  }
  out("bytes " + std::to_string(f.bytes) + " fnv1a " + hex64(f.h) + "\n");
}

void m_slow_cat(const Args& a) {
  double bps = std::strtod(a[0].c_str(), nullptr);
  if (bps <= 0) die("slow-cat: BYTES_PER_SEC must be > 0");
  // Read at most 1/10 s worth at a time, then sleep that long.
  size_t chunk = static_cast<size_t>(std::max(1.0, bps / 10));
  std::vector<char> buf(chunk);
  ssize_t n;
  while ((n = ::read(0, buf.data(), chunk)) != 0) {
    if (n < 0) {
      if (errno == EINTR) continue;
      die(std::string("read: ") + strerror(errno));
    }
    write_all(1, buf.data(), static_cast<size_t>(n));
    sleep_seconds(static_cast<double>(n) / bps);
  }
}

void m_read_never(const Args&) { sleep_forever(); }

void m_touch(const Args& a) { create_file(a[0], ""); }
void m_pidfile(const Args& a) { create_file(a[0], std::to_string(getpid()) + "\n"); }

// Blocks until FILE exists: an inotify watch on its folder, then a check, so a file
// created between the check and the watch is not missed.
void m_wait_file(const Args& a) {
  const std::string& path = a[0];
  std::string dir = ".";
  if (auto slash = path.rfind('/'); slash != std::string::npos)
    dir = slash == 0 ? "/" : path.substr(0, slash);
  int ifd = inotify_init1(IN_CLOEXEC);
  if (ifd < 0) die("inotify_init1");
  if (inotify_add_watch(ifd, dir.c_str(), IN_CREATE | IN_MOVED_TO | IN_ATTRIB) < 0)
    die("inotify_add_watch " + dir + ": " + strerror(errno));
  struct stat st;
  while (::stat(path.c_str(), &st) != 0) {
    alignas(struct inotify_event) char buf[4096];
    ssize_t n = ::read(ifd, buf, sizeof buf);
    if (n < 0 && errno != EINTR) die("read inotify");
  }
  ::close(ifd);
}

void m_echo(const Args& a) { out(a[0] + "\n"); }
void m_echo_err(const Args& a) { err(a[0] + "\n"); }
void m_no_newline(const Args& a) { out(a[0]); }

void m_is_foreground(const Args&) {
  pid_t fg = tcgetpgrp(0);
  if (fg < 0) {
    out(std::string("foreground no (") + strerror(errno) + ")\n");
    return;
  }
  out(std::string("foreground ") + (fg == getpgrp() ? "yes" : "no") + "\n");
}

void m_close_stdout(const Args&) {
  int null = ::open("/dev/null", O_WRONLY);
  dup2(null, 1);
  ::close(null);
}

struct Mode {
  const char* name;
  int nargs;
  void (*fn)(const Args&);
  const char* help;
  const char* option = nullptr;  // an optional trailing `OPTION VALUE`, appended to args
};

const Mode kModes[] = {
    {"sleep", 1, m_sleep, "SECS|forever  sleep (fractional ok); forever = pause() loop"},
    {"exit", 1, m_exit, "N  exit with status N now"},
    {"kill-self", 1, m_kill_self, "SIG  die by SIG (default disposition)"},
    {"ignore", 1, m_ignore,
     "SIG  SIG_IGN; after count-signals: still counted, but does not end the process"},
    {"trap", 1, m_trap, "SIG  catch SIG: record it in the count file (if any), exit 0"},
    {"count-signals", 1, m_count_signals,
     "FILE  catch TERM/INT/HUP/USR1/USR2/QUIT: append 'SIGTERM pid=N', exit 0"},
    {"count-file", 1, m_count_file, "FILE  set the count file without catching anything"},
    {"stubborn", 0, m_stubborn, "after recording a caught signal, keep running"},
    {"print-fds", 0, m_print_fds, "print 'fd N -> TARGET' for each open fd"},
    {"fds-to", 1, m_fds_to, "FILE  append 'pid N fds 0,1,2' (our open fds) to FILE"},
    {"print-pgid", 0, m_print_pgid, "print 'pid P pgid G sid S ppid Q'"},
    {"print-sigmask", 0, m_print_sigmask, "print the SigBlk and SigIgn lines of /proc/self/status"},
    {"print-env", 1, m_print_env, "NAME  print 'NAME=value' or 'NAME unset'"},
    {"print-cwd", 0, m_print_cwd, "print 'cwd PATH'"},
    {"fork-orphan", 1, m_fork_orphan,
     "SECS  double-fork a grandchild (stdio on /dev/null) sleeping SECS; print 'orphan PID'"},
    {"fork-orphan-setsid", 1, m_fork_orphan_setsid, "SECS  same, in a new session"},
    {"fork-child", 1, m_fork_child,
     "SECS  fork a child in our process group that keeps stdout open; print 'child PID'"},
    {"write-bytes", 1, m_write_bytes,
     "N [seed S]  write N bytes of the deterministic binary pattern to stdout", "seed"},
    {"write-lines", 2, m_write_lines, "N LEN  N lines of LEN bytes + newline, '%08d ' + filler"},
    {"cat", 0, m_cat, "copy stdin to stdout; 'cat bytes N' on stderr at EOF"},
    {"checksum-stdin", 0, m_checksum_stdin, "read stdin to EOF; print 'bytes N fnv1a HEX16'"},
    {"sha256-stdin", 0, m_checksum_stdin, "alias of checksum-stdin (FNV-1a 64, not SHA-256)"},
    {"slow-cat", 1, m_slow_cat, "BYTES_PER_SEC  copy stdin to stdout at that rate"},
    {"read-never", 0, m_read_never, "never read stdin; sleep forever"},
    {"touch", 1, m_touch, "FILE  create FILE (atomically)"},
    {"ready-file", 1, m_touch, "FILE  alias of touch"},
    {"pidfile", 1, m_pidfile, "FILE  write our pid to FILE (atomically)"},
    {"wait-file", 1, m_wait_file, "FILE  block until FILE exists (inotify, no polling)"},
    {"echo", 1, m_echo, "TEXT  print TEXT and a newline to stdout"},
    {"echo-err", 1, m_echo_err, "TEXT  print TEXT and a newline to stderr"},
    {"no-newline", 1, m_no_newline, "TEXT  print TEXT without a newline"},
    {"is-foreground", 0, m_is_foreground, "print 'foreground yes|no' (getpgrp() == tcgetpgrp(0))"},
    {"close-stdout", 0, m_close_stdout, "point stdout at /dev/null (closes the pipe)"},
};

void usage() {
  std::string s = "usage: trhelper MODE [ARGS]... [MODE [ARGS]...]...\nmodes:\n";
  for (const auto& m : kModes) s += std::string("  ") + m.name + " " + m.help + "\n";
  out(s);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> words(argv + 1, argv + argc);
  if (words.empty() || words[0] == "--help" || words[0] == "-h") {
    usage();
    return words.empty() ? 2 : 0;
  }
  for (size_t i = 0; i < words.size();) {
    const std::string& w = words[i++];
    const Mode* mode = nullptr;
    for (const auto& m : kModes)
      if (w == m.name) mode = &m;
    if (!mode) die("unknown mode: " + w + " (see trhelper --help)");
    if (i + static_cast<size_t>(mode->nargs) > words.size()) die(w + ": missing argument");
    Args args(words.begin() + static_cast<long>(i),
              words.begin() + static_cast<long>(i) + mode->nargs);
    i += static_cast<size_t>(mode->nargs);
    if (mode->option && i + 1 < words.size() && words[i] == mode->option) {
      args.push_back(words[i + 1]);
      i += 2;
    }
    mode->fn(args);
  }
  return 0;
}
