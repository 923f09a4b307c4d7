#include "line_reader.h"

#include <array>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace treerun {
namespace {
constexpr std::size_t kTailBytes = 2048;

/// One read buffer for every reader: the loop runs one handler at a time, and a
/// buffer per pipe would cost 64 KiB of memory for each of hundreds of nodes.
std::array<char, 64 * 1024>& scratch() {
  static std::array<char, 64 * 1024> buffer;
  return buffer;
}
}  // namespace

LineReader::LineReader(boost::asio::io_context& io, UniqueFd fd, std::size_t max_line, Callbacks callbacks)
    : descriptor_(io, fd.release()), max_line_(max_line), cb_(std::move(callbacks)) {}

void LineReader::start() { read_some(); }

void LineReader::read_some() {
  // Wait for readability, then read into the shared buffer ourselves: no buffer is
  // handed to Asio, so none has to live per pipe.
  descriptor_.async_wait(boost::asio::posix::descriptor_base::wait_read,
                         [self = shared_from_this()](const boost::system::error_code& ec) {
                           if (!self->descriptor_.is_open()) return;
                           if (ec) return self->finish();
                           auto& buf = scratch();
                           ssize_t n = ::read(self->descriptor_.native_handle(), buf.data(), buf.size());
                           if (n < 0 && (errno == EAGAIN || errno == EINTR)) return self->read_some();
                           if (n <= 0) return self->finish();
                           self->consume(std::string_view(buf.data(), static_cast<std::size_t>(n)));
                           if (self->cb_.after_batch) self->cb_.after_batch();
                           if (self->descriptor_.is_open()) self->read_some();
                         });
}

void LineReader::consume(std::string_view data) {
  remember(data);
  while (!data.empty()) {
    const void* nl = std::memchr(data.data(), '\n', data.size());
    std::size_t len = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - data.data()) : data.size();
    if (!nl) {
      // No newline yet: keep it, but never more than one line's limit.
      std::size_t room = max_line_ - partial_.size();
      std::size_t take = std::min(room, data.size());
      partial_.append(data.substr(0, take));
      data.remove_prefix(take);
      if (partial_.size() >= max_line_) {
        cb_.on_line(partial_);
        partial_.clear();
      }
      continue;
    }
    if (partial_.empty() && len <= max_line_) {
      cb_.on_line(data.substr(0, len));
    } else {
      std::size_t room = max_line_ - partial_.size();
      if (len > room) {  // emit a full piece, come back for the rest
        partial_.append(data.substr(0, room));
        cb_.on_line(partial_);
        partial_.clear();
        data.remove_prefix(room);
        continue;
      }
      partial_.append(data.substr(0, len));
      cb_.on_line(partial_);
      partial_.clear();
    }
    data.remove_prefix(len + 1);
  }
}

void LineReader::remember(std::string_view data) {
  if (data.size() >= kTailBytes) {
    tail_.assign(data.substr(data.size() - kTailBytes));
    return;
  }
  tail_.append(data);
  if (tail_.size() > 2 * kTailBytes) tail_.erase(0, tail_.size() - kTailBytes);
}

void LineReader::finish() {
  if (!partial_.empty()) {
    cb_.on_line(partial_);  // a last line without a newline is still a line
    partial_.clear();
    if (cb_.after_batch) cb_.after_batch();
  }
  boost::system::error_code ignored;
  descriptor_.close(ignored);
  if (cb_.on_eof) cb_.on_eof();
}

bool LineReader::readable() const {
  if (!descriptor_.is_open()) return false;
  pollfd p{const_cast<boost::asio::posix::stream_descriptor&>(descriptor_).native_handle(), POLLIN, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP));
}

void LineReader::close() {
  boost::system::error_code ignored;
  descriptor_.close(ignored);
}

}  // namespace treerun
