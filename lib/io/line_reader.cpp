#include "io/line_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/fd.h"
#include "io/read_buffer.h"

namespace treerun {

LineReader::LineReader(boost::asio::io_context& io, UniqueFd fd, std::size_t max_line, Callbacks callbacks)
    : descriptor_(io, fd.release()), cb_(std::move(callbacks)), lines_(max_line, cb_.on_line, cb_.on_lines) {}

void LineReader::start() { read_some(); }

/// A pipe that gives half our buffer or more in one read is busy: a bigger pipe lets its writer go on
/// while we work (fewer switches between it and us). Quiet pipes keep the default, which
/// costs the kernel nothing; the growth is best effort (the per-user pipe quota).
constexpr int kBusyPipeSize = 1 << 20;
/// Reads per wake-up of a busy pipe: each is at most the read buffer (256 KiB), with the
/// hold-back asked before each, so the log stream's bound holds as with one.
constexpr int kReadsPerWake = 4;

void LineReader::read_some() {
  // Wait for readability, then read into the shared buffer ourselves: no buffer is
  // handed to Asio, so none has to live per pipe.
  descriptor_.async_wait(boost::asio::posix::descriptor_base::wait_read,
                         [self = shared_from_this()](const boost::system::error_code& ec) {
                           if (!self->descriptor_.is_open()) return;
                           if (ec) return self->finish();
                           self->read_ready();
                         });
}

void LineReader::read_ready() {
  auto& buf = log_read_buffer();
  for (int reads = 0; reads < kReadsPerWake; ++reads) {
    std::size_t budget = buf.size();
    if (cb_.read_budget) budget = std::min(budget, cb_.read_budget([self = shared_from_this()] { self->read_some(); }));
    if (budget == 0) return;
    ssize_t n = ::read(descriptor_.native_handle(), buf.data(), budget);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n <= 0) return finish();
    lines_.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    if (cb_.after_batch) cb_.after_batch();
    if (!descriptor_.is_open()) return;
    // Less than half of what it could give: the pipe is drained, wait for more. (A
    // writer of whole lines rarely fills a pipe to the byte.)
    if (static_cast<std::size_t>(n) < std::min(buf.size(), pipe_size_) / 2) break;
    if (!grown_) {
      grown_ = true;
      int size = ::fcntl(descriptor_.native_handle(), F_SETPIPE_SZ, kBusyPipeSize);
      if (size > 0) pipe_size_ = static_cast<std::size_t>(size);
    }
  }
  read_some();
}

void LineReader::finish() {
  if (lines_.finish() && cb_.after_batch) cb_.after_batch();
  boost::system::error_code ignored;
  descriptor_.close(ignored);
  if (cb_.on_eof) cb_.on_eof();
}

bool LineReader::readable() const {
  if (!descriptor_.is_open()) return false;
  return fd_readable(const_cast<boost::asio::posix::stream_descriptor&>(descriptor_).native_handle());
}

void LineReader::close() {
  boost::system::error_code ignored;
  descriptor_.close(ignored);
}

}  // namespace treerun
