#include "io/line_ring.h"

#include <algorithm>
#include <utility>

namespace treerun {

/// The next block: the spare if it is large enough, else one twice the last (a line
/// longer than a block gets one of its own size).
void LineRing::new_block(std::size_t at_least) {
  std::size_t want = std::max(at_least, std::min(kBlock, current_ ? 2 * current_->size : kFirstBlock));
  Block block = std::exchange(spare_, {});
  if (block.size < want) block = Block{std::make_unique<char[]>(want), want, 0};
  block.used = 0;
  if (current_) ++last_block_;
  blocks_.push_back(std::move(block));
  current_ = &blocks_.back();
}

/// Twice the room, the oldest first again.
void LineRing::grow_entries() {
  std::vector<Entry> more(entries_.empty() ? 8 : 2 * entries_.size());
  for (std::size_t i = 0; i < count_; ++i) more[i] = entry(i);
  entries_ = std::move(more);
  capacity_ = entries_.size();
  mask_ = capacity_ - 1;
  head_ = 0;
}

/// The blocks before the oldest line kept go (the last of them is kept for reuse).
void LineRing::drop_blocks() {
  std::uint64_t oldest_needed = count_ == 0 ? last_block_ : entries_[head_].block;
  while (first_block_ < oldest_needed) {
    spare_ = std::move(blocks_.front());
    blocks_.pop_front();
    ++first_block_;
  }
}

}  // namespace treerun
