#include "io/line_cutter.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace treerun {
namespace {
constexpr std::size_t kTailBytes = 2048;
}  // namespace

void LineCutter::feed(std::string_view data) {
  remember(data);
  if (cut_at_limit_ && !data.empty() && data.front() == '\n') {  // that line's own end
    data.remove_prefix(1);
    continued_ = false;
  }
  cut_at_limit_ = false;
  while (!data.empty()) {
    if (on_lines_ && partial_.empty() && !continued_) {  // whole lines up to the last newline, at once
      const void* last = ::memrchr(data.data(), '\n', data.size());
      std::size_t end = last ? static_cast<std::size_t>(static_cast<const char*>(last) - data.data()) + 1 : 0;
      if (end > 0 && end - 1 <= max_line_) {  // no line in them can be over the limit
        on_lines_(data.substr(0, end));
        data.remove_prefix(end);
        continue;
      }
    }
    const void* nl = std::memchr(data.data(), '\n', data.size());
    std::size_t len = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - data.data()) : data.size();
    std::size_t room = max_line_ - partial_.size();
    if (partial_.empty() && nl && len <= max_line_) {  // the common case: no copy
      on_line_(data.substr(0, len), std::exchange(continued_, false));
      data.remove_prefix(len + 1);
      continue;
    }
    std::size_t take = std::min(room, len);
    partial_.append(data.substr(0, take));
    data.remove_prefix(take);
    bool line_ends = nl && take == len;
    if (line_ends) data.remove_prefix(1);
    if (line_ends || partial_.size() >= max_line_) {  // a whole line, or a full piece of one
      on_line_(partial_, std::exchange(continued_, !line_ends));
      partial_.clear();
      cut_at_limit_ = !line_ends && data.empty();
    }
  }
}

bool LineCutter::finish() {
  if (partial_.empty()) return false;
  on_line_(partial_, std::exchange(continued_, false));
  partial_.clear();
  return true;
}

void LineCutter::remember(std::string_view data) {
  if (data.size() >= kTailBytes) {
    tail_.assign(data.substr(data.size() - kTailBytes));
    return;
  }
  tail_.append(data);
  if (tail_.size() > 2 * kTailBytes) tail_.erase(0, tail_.size() - kTailBytes);
}

}  // namespace treerun
