#include "control/detach.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "control/protocol.h"
#include "io/outlet.h"

namespace treerun::control {
namespace {

constexpr int kUsageError = 125;

/// The background's exit status as `up` would have exited: its code, or 128+N.
int code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kUsageError;
}

int wait_for(pid_t child) {
  int status = 0;
  while (::waitpid(child, &status, 0) < 0)
    if (errno != EINTR) return kUsageError;
  return code_of(status);
}

/// The stop signals, which main() holds blocked from its first instruction: read as
/// events here, so a ctrl-c while `up -d` waits is passed on, never lost.
UniqueFd stop_signal_fd() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, sig);
  return UniqueFd(::signalfd(-1, &set, SFD_CLOEXEC));
}

void say_up(const DetachedRun& run, pid_t pid) {
  // The name alone on stdout, for scripts (RUN=$(treerun up -d)); the rest for people.
  std::cout << run.name << std::endl;
  std::cerr << fmt::format(
      "treerun: the run '{0}' is up (pid {1}), in the background; its log is {2}\n"
      "  follow it: treerun logs -f -r {0}\n"
      "  end it:    treerun down -r {0}\n",
      run.name, pid, run.log_path);
}

/// Reads the background's report until "ok" (true) or the channel's end (false),
/// printing its console text, and passing on the stop signals the foreground gets.
bool await_up(pid_t child, int channel) {
  UniqueFd signals = stop_signal_fd();
  std::string buf;
  for (;;) {
    pollfd fds[2] = {{channel, POLLIN, 0}, {signals.get(), POLLIN, 0}};
    if (::poll(fds, signals ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo si{};
      if (::read(signals.get(), &si, sizeof si) == sizeof si) ::kill(child, static_cast<int>(si.ssi_signo));
    }
    if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    char chunk[16384];
    ssize_t n = ::read(channel, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf.append(chunk, static_cast<std::size_t>(n));
    for (std::size_t nl; (nl = buf.find('\n')) != std::string::npos; buf.erase(0, nl + 1)) {
      auto message = parse_reply(std::string_view(buf).substr(0, nl));
      if (message.is_discarded()) continue;
      if (is_final(message)) return true;
      if (message.contains("text") && message["text"].is_string())
        std::cerr << message["text"].get<std::string>() << std::flush;
    }
  }
}

int foreground(const DetachedRun& run, pid_t child, UniqueFd channel) {
  if (await_up(child, channel.get())) {
    say_up(run, child);
    return 0;  // the background lives on; init reaps it, not us
  }
  // Ended before it was up: what it said came above; its exit code is ours.
  int code = wait_for(child);
  if (code != kUsageError) std::cerr << "treerun: the run '" << run.name << "' ended before it was up; its log is "
                                     << run.log_path << '\n';
  return code;
}

}  // namespace

std::optional<int> detach(const DetachedRun& run, UniqueFd& channel) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    std::cerr << "treerun: up -d: cannot make the channel to the background run: " << std::strerror(errno)
              << "\ntreerun: nothing was started\n";
    return kUsageError;
  }
  UniqueFd ours(pair[0]), theirs(pair[1]);
  std::cout.flush();
  std::cerr.flush();
  pid_t pid = ::fork();  // treerun has no thread yet: main() made none, the launcher none yet
  if (pid < 0) {
    std::cerr << "treerun: up -d: cannot fork the background run: " << std::strerror(errno)
              << "\ntreerun: nothing was started\n";
    return kUsageError;
  }
  if (pid > 0) {
    theirs.reset();  // else the channel would never end if the background died
    return foreground(run, pid, std::move(ours));
  }
  ours.reset();
  ::setsid();  // a child is never a group leader, so this cannot fail
  // The caller's other descriptors (a test's pipe, a shell's) must not live as long as
  // the run does: whoever waits for their end would wait for the whole run.
  int keep = theirs.get();
  if (keep > 3) ::close_range(3, static_cast<unsigned>(keep) - 1, 0);
  ::close_range(static_cast<unsigned>(keep) + 1, ~0U, 0);
  channel = std::move(theirs);
  return std::nullopt;
}

bool redirect_to_log(const std::string& log_path, bool append, std::string& why) {
  // O_NOCTTY: the background is a session leader, which opening a terminal would give
  // a controlling terminal again.
  UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC | O_NOCTTY));
  UniqueFd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY | (append ? 0 : O_TRUNC),
                      0600));
  if (!log) {
    why = fmt::format("cannot open the run's log {}: {}", log_path, std::strerror(errno));
    return false;
  }
  if (!null) {
    why = fmt::format("cannot open /dev/null: {}", std::strerror(errno));
    return false;
  }
  std::cout.flush();
  std::cerr.flush();
  ::dup2(null.get(), STDIN_FILENO);
  ::dup2(log.get(), STDOUT_FILENO);
  ::dup2(log.get(), STDERR_FILENO);
  return true;
}

UpReport::UpReport(boost::asio::io_context& io, UniqueFd channel, Target& target) {
  int fd = channel.get();
  out_ = std::make_shared<Outlet>(io, "the foreground of up -d", fd, std::move(channel), Outlet::Mode::socket);
  console_ = target.console([out = out_.get()](std::string_view text) { out->write(text_message(text)); });
}

UpReport::~UpReport() = default;

void UpReport::up() {
  console_.reset();
  out_->write(ok_reply());
}

}  // namespace treerun::control
