#include "io/outlet.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <utility>
#include <cerrno>
#include <climits>
#include <cstring>

namespace treerun {
namespace {

/// A shared fd that was not writable is tried again this much later.
constexpr auto kRetry = std::chrono::milliseconds(20);
/// A producer that can wait is asked to when less room than this is left: it reads at
/// most 256 KiB before it looks again (LineReader), which its names and times make
/// longer, so the bound holds for the others.
constexpr std::size_t kHeadroom = 1024 * 1024;

/// Our own open file description of the pipe, FIFO or terminal at FD (see outlet.h);
/// -1 and errno when it cannot be had.
int reopen(int fd) {
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  return ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
}

/// Whether writes to FD can wait for a reader (and so must be ours to make non-blocking).
bool can_stall(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || ::isatty(fd));
}

bool is_socket(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

}  // namespace

UniqueFd open_without_waiting(const std::string& path, bool append, std::error_code& ec) {
  int flags = O_CREAT | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | flags, 0644));
  // ENXIO: a FIFO with no reader yet. Opened for reading too, it never waits for one.
  if (!fd && errno == ENXIO) fd.reset(::open(path.c_str(), O_RDWR | flags, 0644));
  if (fd) ec.clear();
  else ec.assign(errno, std::system_category());
  return fd;
}

std::shared_ptr<Outlet> Outlet::inherited(boost::asio::io_context& io, int fd, std::string name) {
  if (is_socket(fd)) return std::make_shared<Outlet>(io, std::move(name), fd, UniqueFd(), Mode::socket);
  if (!can_stall(fd)) return std::make_shared<Outlet>(io, std::move(name), fd, UniqueFd(), Mode::direct);
  UniqueFd own(reopen(fd));
  if (own) return std::make_shared<Outlet>(io, std::move(name), fd, std::move(own), Mode::nonblocking);
  // ENXIO: a pipe whose reader is gone (a write would get EPIPE); EIO: a terminal that
  // hung up. Anything else (no /proc, a terminal we may not open): poll before writing.
  int err = errno;
  Mode mode = err == ENXIO || err == EIO ? Mode::broken : Mode::polled;
  auto outlet = std::make_shared<Outlet>(io, std::move(name), fd, UniqueFd(), mode);
  if (mode == Mode::broken) outlet->error_ = err == ENXIO ? EPIPE : err;
  return outlet;
}

std::shared_ptr<Outlet> Outlet::open(boost::asio::io_context& io, const std::string& path, bool append,
                                     std::string name, std::error_code& ec) {
  UniqueFd fd = open_without_waiting(path, append, ec);
  if (ec) return nullptr;
  int shown = fd.get();
  Mode mode = can_stall(shown) ? Mode::nonblocking : Mode::direct;
  return std::make_shared<Outlet>(io, std::move(name), shown, std::move(fd), mode);
}

Outlet::Outlet(boost::asio::io_context& io, std::string name, int shown_fd, UniqueFd fd, Mode mode)
    : io_(io), name_(std::move(name)), shown_fd_(shown_fd), descriptor_(io), retry_(io), mode_(mode) {
  if (mode == Mode::nonblocking) {
    boost::system::error_code ec;
    descriptor_.assign(fd.get(), ec);
    if (!ec) fd.release();  // else: no waiting on it, the retry timer does
  }
  owned_ = std::move(fd);
  fd_ = descriptor_.is_open() ? descriptor_.native_handle() : owned_ ? owned_.get() : shown_fd;
}

bool Outlet::make_room(std::size_t n) {
  if (mode_ == Mode::broken || pending() + n > kOutletLimit) return false;
  // What was written goes once it is half the queue: each byte is moved at most once more.
  if (sent_ > 0 && sent_ >= queue_.size() / 2) {
    queue_.erase_front(sent_);
    sent_ = 0;
  }
  return true;
}

bool Outlet::room_for(std::size_t n) {
  if (make_room(n)) return true;
  dropped_ += n;
  report();
  return false;
}

void Outlet::append(std::string_view bytes) {
  if (room_for(bytes.size())) queue_.append(bytes);
}

std::string_view Outlet::append_line(std::string_view head, std::string_view text) {
  if (!room_for(head.size() + text.size() + 1)) return {};
  return put_line(head, text);
}

void Outlet::flush() {
  while (pending() > 0 && !waiting_ && mode_ != Mode::broken) {
    ssize_t n = write_some(queue_.view().substr(sent_));
    if (n > 0) {
      sent_ += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EAGAIN) {
      wait_writable();
    } else if (n < 0 && errno != EINTR) {
      fail(errno);
    } else if (n == 0) {
      fail(EIO);  // a write that takes nothing and says nothing: never spin on it
    }
  }
  if (pending() == 0) {
    queue_.clear();
    sent_ = 0;
  }
  if (!waiters_.empty() && (mode_ == Mode::broken || pending() <= kOutletLimit / 2)) wake_waiters();
}

ssize_t Outlet::write_some(std::string_view data) {
  switch (mode_) {
    case Mode::socket: return ::send(fd_, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    case Mode::polled: {
      // A pipe that polls writable has a free page: PIPE_BUF bytes do not wait.
      pollfd p{fd_, POLLOUT, 0};
      int ready = ::poll(&p, 1, 0);
      if (ready <= 0) {
        if (ready == 0) errno = EAGAIN;
        return -1;
      }
      return ::write(fd_, data.data(), std::min<std::size_t>(data.size(), PIPE_BUF));
    }
    default: return ::write(fd_, data.data(), data.size());
  }
}

void Outlet::wait_writable() {
  waiting_ = true;
  auto resume = [weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (!self || ec == boost::asio::error::operation_aborted) return;
    self->waiting_ = false;
    self->flush();  // an error on the fd shows in the write
  };
  if (descriptor_.is_open()) {
    descriptor_.async_wait(boost::asio::posix::descriptor_base::wait_write, resume);
  } else {
    retry_.expires_after(kRetry);
    retry_.async_wait(resume);
  }
}

void Outlet::fail(int err) {
  dropped_ += pending();
  queue_.clear();
  sent_ = 0;
  mode_ = Mode::broken;
  error_ = err;
  report();
}

void Outlet::report() {
  if (reported_ || error_ == 0 || error_ == EPIPE || !on_failure_) return;
  reported_ = true;
  unreported_ = std::strerror(error_);
  boost::asio::post(io_, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->report_now();
  });
}

void Outlet::report_now() {
  if (unreported_.empty()) return;
  std::string why = std::exchange(unreported_, {});
  on_failure_(why);
}

bool Outlet::full() const { return mode_ != Mode::broken && pending() + kHeadroom >= kOutletLimit; }

void Outlet::when_room(std::function<void()> resume) {
  if (full()) waiters_.push_back(std::move(resume));
  else boost::asio::post(io_, std::move(resume));
}

void Outlet::wake_waiters() {
  std::vector<std::function<void()>> waiters;
  waiters.swap(waiters_);
  for (auto& resume : waiters) boost::asio::post(io_, std::move(resume));
}

void Outlet::drop_pending() {
  dropped_ += pending();
  queue_.clear();
  sent_ = 0;
  wake_waiters();
}

}  // namespace treerun
