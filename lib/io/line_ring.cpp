#include "io/line_ring.h"

#include <algorithm>
#include <utility>

namespace treerun {

/// The next block: the spare if it is large enough, else one twice the last (a line
/// longer than a block gets one of its own size).
void LineRing::new_block(std::size_t at_least) {
  std::size_t want = std::max(at_least, std::min(kBlock, blocks_.empty() ? kFirstBlock : 2 * blocks_.back().size));
  Block block = std::exchange(spare_, {});
  if (block.size < want) block = Block{std::make_unique<char[]>(want), want, 0};
  block.used = 0;
  if (!blocks_.empty()) ++last_block_;  // empty only before the first: one is always kept
  blocks_.push_back(std::move(block));
}

/// Twice the room, the oldest first again.
void LineRing::grow_entries() {
  std::vector<Entry> more(entries_.empty() ? kFirstEntries : 2 * entries_.size());
  for (std::size_t i = 0; i < count_; ++i) more[i] = entry(i);
  entries_ = std::move(more);
  capacity_ = entries_.size();
  mask_ = capacity_ - 1;
  head_ = 0;
}

/// The blocks before the oldest line kept go (the last of them is kept for reuse).
void LineRing::drop_blocks() {
  std::uint64_t oldest_needed = count_ == 0 ? last_block_ : entries_[head_].block;
  std::size_t gone = static_cast<std::size_t>(oldest_needed - first_block_);
  if (gone == 0) return;
  spare_ = std::move(blocks_[gone - 1]);
  blocks_.erase(blocks_.begin(), blocks_.begin() + static_cast<std::ptrdiff_t>(gone));
  first_block_ = oldest_needed;
}

}  // namespace treerun
