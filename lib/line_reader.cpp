#include "line_reader.h"

#include <boost/asio/buffer.hpp>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace treerun {
namespace {
constexpr std::size_t kReadSize = 64 * 1024;
constexpr std::size_t kTailBytes = 2048;
}  // namespace

LineReader::LineReader(boost::asio::io_context& io, UniqueFd fd, std::size_t max_line, Callbacks callbacks)
    : descriptor_(io, fd.release()), max_line_(max_line), cb_(std::move(callbacks)), buffer_(kReadSize) {}

void LineReader::start() { read_some(); }

void LineReader::read_some() {
  descriptor_.async_read_some(
      boost::asio::buffer(buffer_),
      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
        if (!self->descriptor_.is_open()) return;
        if (n > 0) {
          self->consume(std::string_view(self->buffer_.data(), n));
          if (self->cb_.after_batch) self->cb_.after_batch();
        }
        if (ec) return self->finish();
        self->read_some();
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
