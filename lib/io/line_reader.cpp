#include "io/line_reader.h"

#include <unistd.h>

#include <cerrno>

#include "base/fd.h"
#include "io/read_buffer.h"

namespace treerun {

LineReader::LineReader(boost::asio::io_context& io, UniqueFd fd, std::size_t max_line, Callbacks callbacks)
    : descriptor_(io, fd.release()), cb_(std::move(callbacks)), lines_(max_line, cb_.on_line) {}

void LineReader::start() { read_some(); }

void LineReader::read_some() {
  // Wait for readability, then read into the shared buffer ourselves: no buffer is
  // handed to Asio, so none has to live per pipe.
  descriptor_.async_wait(boost::asio::posix::descriptor_base::wait_read,
                         [self = shared_from_this()](const boost::system::error_code& ec) {
                           if (!self->descriptor_.is_open()) return;
                           if (ec) return self->finish();
                           if (self->cb_.hold_back && self->cb_.hold_back([self] { self->read_some(); })) return;
                           auto& buf = scratch_buffer();
                           ssize_t n = ::read(self->descriptor_.native_handle(), buf.data(), buf.size());
                           if (n < 0 && (errno == EAGAIN || errno == EINTR)) return self->read_some();
                           if (n <= 0) return self->finish();
                           self->lines_.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
                           if (self->cb_.after_batch) self->cb_.after_batch();
                           if (self->descriptor_.is_open()) self->read_some();
                         });
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
