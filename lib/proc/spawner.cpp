#include "proc/spawner.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <string>

namespace treerun {
namespace {

// One request: a 4-byte length (carrying the descriptors, SCM_RIGHTS), then that many
// bytes of ChildSpec. One reply: a Reply. A stream socket, since an environment can be
// larger than one datagram may be.
constexpr std::size_t kMaxFds = 4;  // stdin, stdout, stderr, the terminal
constexpr std::uint32_t kMaxRequest = 64u << 20;
// How long treerun waits for the spawner to take a request and answer it (microseconds
// when it runs): one that is stopped (SIGSTOP, a debugger) must not freeze the run.
constexpr time_t kAnswerSeconds = 10;
constexpr int kByPidfd = 3;  // waitid's P_PIDFD (linux/wait.h; glibc 2.36 does not name it)
// Requests sent and not yet answered, at most: 32 answers (about 1 KiB each as the
// kernel counts a socket's buffer) stay far below the spawner's 208 KiB.
constexpr std::uint64_t kMaxInFlight = 32;

struct Reply {
  std::int32_t pid;
  std::int32_t clone_errno;
  std::int32_t error;
  char step[16];
};

ChildStarted from_reply(Reply& reply) {
  ChildStarted out;
  out.pid = reply.pid;
  out.clone_errno = reply.clone_errno;
  out.error = reply.error;
  reply.step[sizeof reply.step - 1] = '\0';
  out.step = reply.step;
  return out;
}

class Writer {
 public:
  void u32(std::uint32_t v) { bytes(&v, sizeof v); }
  void u64(std::uint64_t v) { bytes(&v, sizeof v); }
  void str(const std::string& s) {
    u32(static_cast<std::uint32_t>(s.size()));
    bytes(s.data(), s.size());
  }
  void strs(const std::vector<std::string>& v) {
    u32(static_cast<std::uint32_t>(v.size()));
    for (const auto& s : v) str(s);
  }
  std::string out;

 private:
  void bytes(const void* p, std::size_t n) { out.append(static_cast<const char*>(p), n); }
};

class Reader {
 public:
  explicit Reader(const std::string& in) : in_(in) {}
  std::uint32_t u32() { return number<std::uint32_t>(); }
  std::uint64_t u64() { return number<std::uint64_t>(); }
  std::string str() {
    std::uint32_t n = u32();
    if (at_ > in_.size() || in_.size() - at_ < n) {
      at_ = in_.size() + 1;  // bad: ok() says so
      return {};
    }
    std::string s = in_.substr(at_, n);
    at_ += n;
    return s;
  }
  std::vector<std::string> strs() {
    std::vector<std::string> v(std::min<std::uint32_t>(u32(), static_cast<std::uint32_t>(in_.size())));
    for (auto& s : v) s = str();
    return v;
  }
  bool ok() const { return at_ <= in_.size(); }

 private:
  template <typename T>
  T number() {
    T v = 0;
    if (at_ <= in_.size() && in_.size() - at_ >= sizeof v) std::memcpy(&v, in_.data() + at_, sizeof v);
    at_ += sizeof v;
    return v;
  }

  const std::string& in_;
  std::size_t at_ = 0;
};

std::string encode(const ChildSpec& s) {
  Writer w;
  w.strs(s.candidates);
  w.strs(s.argv);
  w.strs(s.env);
  w.str(s.cwd);
  w.u32(s.script_fallback);
  w.u32(s.nofile ? 1 : 0);
  w.u64(s.nofile ? s.nofile->rlim_cur : 0);
  w.u64(s.nofile ? s.nofile->rlim_max : 0);
  return std::move(w.out);
}

bool decode(const std::string& in, ChildSpec& s) {
  Reader r(in);
  s.candidates = r.strs();
  s.argv = r.strs();
  s.env = r.strs();
  s.cwd = r.str();
  s.script_fallback = r.u32() != 0;
  bool nofile = r.u32() != 0;
  rlim_t cur = r.u64(), max = r.u64();
  if (nofile) s.nofile = rlimit{cur, max};
  return r.ok() && !s.argv.empty();
}

bool write_all(int fd, const void* data, std::size_t n) {
  auto* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t done = ::send(fd, p, n, MSG_NOSIGNAL);
    if (done < 0 && errno == EINTR) continue;
    if (done <= 0) return false;
    p += done, n -= static_cast<std::size_t>(done);
  }
  return true;
}

bool read_all(int fd, void* data, std::size_t n) {
  auto* p = static_cast<char*>(data);
  while (n > 0) {
    ssize_t got = ::recv(fd, p, n, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    p += got, n -= static_cast<std::size_t>(got);
  }
  return true;
}

/// The request's length and its descriptors (close-on-exec as they arrive: a child
/// started meanwhile must not inherit another child's ends).
bool receive_head(int sock, std::uint32_t& length, std::vector<UniqueFd>& fds) {
  alignas(cmsghdr) char control[CMSG_SPACE(kMaxFds * sizeof(int))];
  iovec iov{&length, sizeof length};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t got;
  while ((got = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
  }
  if (got <= 0) return false;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    std::size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < n; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      fds.emplace_back(fd);
    }
  }
  auto* rest = reinterpret_cast<char*>(&length) + got;
  return read_all(sock, rest, sizeof length - static_cast<std::size_t>(got));
}

/// One request: the child started, or an empty reply for a request that makes no sense.
Reply serve_one(int sock, std::uint32_t length, std::vector<UniqueFd>& fds, const ChildContext& context) {
  Reply reply{};
  reply.pid = -1;
  reply.clone_errno = EINVAL;
  std::string body(length, '\0');
  if (length > kMaxRequest || !read_all(sock, body.data(), body.size())) _exit(0);
  ChildSpec spec;
  if (!decode(body, spec) || fds.size() < 3) return reply;
  for (int i = 0; i < 3; ++i) spec.fds[i] = fds[static_cast<std::size_t>(i)].get();
  if (fds.size() > 3) spec.tty_fd = fds[3].get();
  ChildStarted started = start_child(spec, context);
  reply.pid = started.pid;
  reply.clone_errno = started.clone_errno;
  reply.error = started.error;
  std::strncpy(reply.step, started.step.c_str(), sizeof reply.step - 1);
  return reply;
}

/// Closes every close-on-exec descriptor but KEEP: treerun's own, as of the fork.
void close_own_descriptors(int keep) {
  std::vector<int> own;
  DIR* d = opendir("/proc/self/fd");
  if (!d) return;  // no /proc: they stay, close-on-exec; a child only copies more
  while (dirent* e = readdir(d)) {
    int fd = std::atoi(e->d_name);
    if (e->d_name[0] != '.' && fd != keep && fd != dirfd(d) && (fcntl(fd, F_GETFD) & FD_CLOEXEC)) own.push_back(fd);
  }
  closedir(d);
  for (int fd : own) close(fd);
}

[[noreturn]] void serve(int sock, pid_t treerun, const std::vector<int>& reset_signals) {
  // Dies with treerun; the check closes the window where treerun died before the prctl.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != treerun) _exit(0);
  prctl(PR_SET_NAME, "treerun-spawn");  // for ps and top: not one of the run's nodes
  // Its own group: a ctrl-c or a kill of treerun's group is treerun's to act on. Every
  // signal stays blocked, so none of treerun's handlers ever runs here; each child
  // unblocks its own after resetting the dispositions.
  setpgid(0, 0);
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  // Descriptors: /dev/null at 0-2 (it holds no one's pipe or terminal open, and what
  // it receives lands above them, clear of the 0-2 each child fills), the socket, and
  // what treerun inherited without close-on-exec, which its children inherit too.
  close_own_descriptors(sock);
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int std = 0; std < 3; ++std)
    if (null != std) dup3(null, std, O_CLOEXEC);
  if (null > 2) close(null);
  ChildContext context{treerun, &reset_signals, true};
  for (;;) {
    std::uint32_t length = 0;
    std::vector<UniqueFd> fds;
    if (!receive_head(sock, length, fds)) _exit(0);  // EOF: treerun is done with us
    Reply reply = serve_one(sock, length, fds, context);
    fds.clear();  // the child has its copies (or failed); ours go before the reply
    if (!write_all(sock, &reply, sizeof reply)) _exit(0);
  }
}

}  // namespace

Spawner::Spawner(const std::vector<int>& reset_signals) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return;  // no spawner: treerun spawns
  pid_t treerun = ::getpid();
  pid_t pid = ::fork();  // treerun is still single-threaded here
  if (pid == 0) {
    ::close(sv[0]);
    serve(sv[1], treerun, reset_signals);
  }
  ::close(sv[1]);
  if (pid < 0) {
    ::close(sv[0]);
    return;
  }
  pid_ = pid;
  pidfd_.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));  // a signal that cannot reach another process of that pid
  socket_.reset(sv[0]);
  timeval limit{kAnswerSeconds, 0};
  ::setsockopt(socket_.get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  ::setsockopt(socket_.get(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
}

Spawner::~Spawner() { lost(); }

/// The spawner goes (EOF on its socket; SIGKILL, should it be stopped or stuck) and is
/// reaped here, so that its pid is never taken for a stray's, nor waited for again. The
/// answers it wrote before it went are for children that exist: read and kept.
void Spawner::lost() {
  if (pid_ <= 0 && !socket_) return;
  bool reaped = false;
  if (pid_ > 0 && pidfd_) {
    // It holds nothing of the run's. Once it is reaped (by the reaper, had it died
    // first) neither call can reach another process.
    ::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
    siginfo_t info{};
    while (::waitid(static_cast<idtype_t>(kByPidfd), static_cast<id_t>(pidfd_.get()), &info, WEXITED) < 0 &&
           errno == EINTR) {
    }
    pidfd_.reset();
    reaped = true;
  }
  pid_ = -1;
  if (socket_) {
    Reply reply{};
    while (answered_ < sent_ &&
           ::recv(socket_.get(), &reply, sizeof reply, MSG_DONTWAIT | MSG_WAITALL) == sizeof reply)
      answers_[answered_++] = from_reply(reply);
    socket_.reset();
  }
  // Gone for sure, it had in hand at most the first request it did not answer. (No
  // pidfd: EOF alone ends it, the reaper collects it, and any unanswered one may have
  // been taken.)
  never_taken_ = reaped ? answered_ + 1 : sent_;
}

std::optional<Spawner::Ticket> Spawner::send(const ChildSpec& spec) {
  if (!socket_) return std::nullopt;
  // The spawner blocks on writing answers nobody reads once its buffer is full, and we
  // then on writing requests it does not read: read the oldest first past a bound.
  if (sent_ - answered_ >= kMaxInFlight && !read_answer()) return std::nullopt;
  std::string body = encode(spec);
  auto length = static_cast<std::uint32_t>(body.size());
  int fds[kMaxFds] = {spec.fds[0], spec.fds[1], spec.fds[2], spec.tty_fd};
  std::size_t nfds = spec.tty_fd >= 0 ? 4 : 3;
  alignas(cmsghdr) char control[CMSG_SPACE(kMaxFds * sizeof(int))] = {};
  iovec iov{&length, sizeof length};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
  std::memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
  ssize_t sent;
  while ((sent = ::sendmsg(socket_.get(), &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
  }
  // Until the whole request is written no child can exist: the caller may start it itself.
  if (sent != sizeof length || !write_all(socket_.get(), body.data(), body.size())) {
    lost();
    return std::nullopt;
  }
  return sent_++;
}

/// The next answer, kept for its ticket; false once the spawner is lost.
bool Spawner::read_answer() {
  Reply reply{};
  if (!socket_ || !read_all(socket_.get(), &reply, sizeof reply)) {
    lost();
    return false;
  }
  answers_[answered_++] = from_reply(reply);
  return true;
}

std::optional<ChildStarted> Spawner::receive(Ticket ticket) {
  while (answered_ <= ticket && read_answer()) {
  }
  if (auto answer = answers_.extract(ticket)) return std::move(answer.mapped());
  if (ticket >= never_taken_) return std::nullopt;
  // In its hands when it was lost: a child may have been made (made, not yet answered
  // for), and starting it again would run the command twice.
  ChildStarted failed;
  failed.clone_errno = EIO;
  return failed;
}

std::optional<ChildStarted> Spawner::start(const ChildSpec& spec) {
  std::optional<Ticket> ticket = send(spec);
  if (!ticket) return std::nullopt;
  return receive(*ticket);
}

}  // namespace treerun
