// A bounded history of lines, oldest first: what `treerun logs` and `treerun events`
// replay from memory (contract 6.2). Past its bound in lines or in bytes, the oldest
// lines go first. Each line keeps the sequence number it was given, so that the
// histories of several nodes can be replayed in the order their lines came.
//
// The log stream's hot path goes through push(), so a line costs one copy and a few
// counters: lines sit back to back in blocks (up to 64 KiB) that are dropped whole once
// their lines are gone, the last one kept for reuse, so no line is ever moved. Blocks
// start small and double, so a history that holds little takes little (a ring per node:
// an empty one allocates nothing, one line costs a 64-byte block and two entries); what
// the ring holds beyond its bound is at most two blocks.
#pragma once

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace treerun {

class LineRing {
 public:
  /// Keeps at most MAX_LINES lines and MAX_BYTES bytes of them (a longer line is cut
  /// to MAX_BYTES).
  LineRing(std::size_t max_lines, std::size_t max_bytes) : max_lines_(max_lines), max_bytes_(max_bytes) {}

  void push(std::string_view line, std::uint64_t seq) {
    std::size_t n = line.size() < max_bytes_ ? line.size() : max_bytes_;
    if (blocks_.empty() || blocks_.back().used + n > blocks_.back().size) new_block(n);
    Block& current = blocks_.back();
    if (count_ == capacity_) grow_entries();
    entries_[(head_ + count_++) & mask_] = {seq, last_block_, static_cast<std::uint32_t>(current.used),
                                            static_cast<std::uint32_t>(n)};
    std::copy_n(line.data(), n, current.data.get() + current.used);
    current.used += n;
    bytes_ += n;
    while (count_ > max_lines_ || bytes_ > max_bytes_) {
      // The oldest line goes; so does its block, once no line kept is in it.
      const Entry& oldest = entries_[head_];
      bytes_ -= oldest.size;
      std::uint64_t block = oldest.block;
      head_ = (head_ + 1) & mask_;
      if (--count_ == 0 || entries_[head_].block != block) drop_blocks();
    }
  }

  std::size_t size() const { return count_; }
  /// The most lines it keeps.
  std::size_t max_lines() const { return max_lines_; }
  bool empty() const { return count_ == 0; }
  /// Bytes of the lines kept.
  std::size_t bytes() const { return bytes_; }
  /// The Ith line kept, 0 the oldest; valid until the next push.
  std::string_view line(std::size_t i) const {
    const Entry& e = entry(i);
    return {blocks_[static_cast<std::size_t>(e.block - first_block_)].data.get() + e.offset, e.size};
  }
  std::uint64_t seq(std::size_t i) const { return entry(i).seq; }

 private:
  static constexpr std::size_t kFirstBlock = 64, kBlock = 64 * 1024;
  static constexpr std::size_t kFirstEntries = 2;
  struct Entry {
    std::uint64_t seq;
    std::uint64_t block;  // its block's number: blocks_[block - first_block_]
    std::uint32_t offset, size;
  };
  struct Block {
    std::unique_ptr<char[]> data;
    std::size_t size = 0, used = 0;
  };
  const Entry& entry(std::size_t i) const { return entries_[(head_ + i) & mask_]; }
  void new_block(std::size_t at_least);
  void grow_entries();
  void drop_blocks();

  std::size_t max_lines_, max_bytes_;
  // Oldest first, the one written last at the back: a few (the bound over 64 KiB, plus
  // the doublings up to it), so dropping the front moves a few pointers, never lines.
  std::vector<Block> blocks_;
  std::uint64_t first_block_ = 0; // the number of blocks_.front()
  std::uint64_t last_block_ = 0;  // the number of blocks_.back()
  Block spare_;                   // the last block dropped, for reuse
  // The lines, a ring: its size a power of two, the oldest at head_.
  std::vector<Entry> entries_;
  std::size_t capacity_ = 0;  // entries_.size()
  std::size_t mask_ = 0;      // capacity_ - 1
  std::size_t head_ = 0, count_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace treerun
