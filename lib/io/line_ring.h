// A bounded history of lines, oldest first: what `treerun logs` and `treerun events`
// replay from memory (contract 6.2). Past its bound in lines or in bytes, the oldest
// lines go first. Each line keeps the sequence number it was given, so that the
// histories of several nodes can be replayed in the order their lines came.
//
// The lines sit back to back in one buffer, so adding one costs a copy and no
// allocation once the buffer has grown: the log stream's hot path goes through here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

namespace treerun {

class LineRing {
 public:
  /// Keeps at most MAX_LINES lines and MAX_BYTES bytes of them (a longer line is cut
  /// to MAX_BYTES).
  LineRing(std::size_t max_lines, std::size_t max_bytes) : max_lines_(max_lines), max_bytes_(max_bytes) {}

  void push(std::string_view line, std::uint64_t seq);

  std::size_t size() const { return lines_.size(); }
  bool empty() const { return lines_.empty(); }
  /// Bytes of the lines kept.
  std::size_t bytes() const { return bytes_; }
  /// The Ith line kept, 0 the oldest; valid until the next push.
  std::string_view line(std::size_t i) const;
  std::uint64_t seq(std::size_t i) const { return lines_[i].seq; }

 private:
  struct Entry {
    std::uint64_t seq;
    std::uint64_t start;  // offset in the stream of every byte ever pushed
    std::uint32_t size;
  };
  void drop_oldest();

  std::size_t max_lines_, max_bytes_;
  std::string buf_;          // the kept lines, after some dead bytes at its front
  std::uint64_t base_ = 0;   // stream offset of buf_[0]
  std::size_t bytes_ = 0;
  std::deque<Entry> lines_;
};

}  // namespace treerun
