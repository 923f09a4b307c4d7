// Cuts a byte stream into lines for the log stream and the `log:` probe. A line longer
// than the limit goes on in pieces, each whole, the later ones marked as continuing it
// (so a piece never passes for a line of its own); the last bytes are kept for the
// summary.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace treerun {

class LineCutter {
 public:
  /// LINE without its newline; CONTINUED: it goes on from the piece before it.
  using OnLine = std::function<void(std::string_view line, bool continued)>;
  LineCutter(std::size_t max_line, OnLine on_line) : max_line_(max_line), on_line_(std::move(on_line)) {}

  void feed(std::string_view data);
  /// At EOF: a last line without a newline is still a line. Returns whether there was one.
  bool finish();
  /// The last bytes seen (about 2 KiB), for the summary's "last lines".
  const std::string& tail() const { return tail_; }
  /// The tail, which starts afresh (a pipe that outlives one process, for each exit).
  std::string take_tail() { return std::exchange(tail_, {}); }

 private:
  void remember(std::string_view data);

  std::size_t max_line_;
  OnLine on_line_;
  std::string partial_;
  std::string tail_;
  bool cut_at_limit_ = false;  // the last read ended a full piece: a newline next ends no new line
  bool continued_ = false;     // the next piece goes on from a piece cut at the limit
};

}  // namespace treerun
