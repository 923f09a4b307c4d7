// The bytes an Outlet holds until its fd takes them: a plain growable buffer whose room
// is written in place (extend() leaves it unset), so that the log stream copies each
// line into it once, with no zero-fill and no per-append bookkeeping.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace treerun {

class ByteQueue {
 public:
  std::size_t size() const { return size_; }
  std::string_view view() const { return {buf_.get(), size_}; }
  /// N more bytes at the end, unset: the caller writes them.
  char* extend(std::size_t n) {
    if (size_ + n > capacity_) grow(size_ + n);
    char* at = buf_.get() + size_;
    size_ += n;
    return at;
  }
  void append(std::string_view bytes) {
    if (!bytes.empty()) std::memcpy(extend(bytes.size()), bytes.data(), bytes.size());
  }
  /// The first N bytes go; the rest moves to the front.
  void erase_front(std::size_t n) {
    std::memmove(buf_.get(), buf_.get() + n, size_ - n);
    size_ -= n;
  }
  void clear() { size_ = 0; }

 private:
  void grow(std::size_t at_least) {
    std::size_t capacity = capacity_ ? 2 * capacity_ : 4096;
    while (capacity < at_least) capacity *= 2;
    auto more = std::make_unique_for_overwrite<char[]>(capacity);
    if (size_) std::memcpy(more.get(), buf_.get(), size_);
    buf_ = std::move(more);
    capacity_ = capacity;
  }

  std::unique_ptr<char[]> buf_;
  std::size_t size_ = 0, capacity_ = 0;
};

}  // namespace treerun
