#include "io/line_ring.h"

namespace treerun {

void LineRing::push(std::string_view line, std::uint64_t seq) {
  if (max_lines_ == 0 || max_bytes_ == 0) return;
  if (line.size() > max_bytes_) line = line.substr(0, max_bytes_);
  lines_.push_back({seq, base_ + buf_.size(), static_cast<std::uint32_t>(line.size())});
  buf_.append(line);
  bytes_ += line.size();
  while (lines_.size() > max_lines_ || bytes_ > max_bytes_) drop_oldest();
  // The dead front is cut once it outweighs half of what is kept: each byte is moved a
  // bounded number of times, and the buffer stays within 1.5 times the bound.
  std::size_t dead = static_cast<std::size_t>(lines_.front().start - base_);
  if (dead > 4096 && dead > bytes_ / 2) {
    buf_.erase(0, dead);
    base_ += dead;
  }
}

void LineRing::drop_oldest() {
  bytes_ -= lines_.front().size;
  lines_.pop_front();
}

std::string_view LineRing::line(std::size_t i) const {
  const Entry& e = lines_[i];
  return std::string_view(buf_).substr(static_cast<std::size_t>(e.start - base_), e.size);
}

}  // namespace treerun
