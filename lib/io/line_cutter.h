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
  /// LINES: one or more whole lines, each with its newline, none longer than the
  /// limit, none continuing a piece: most of what a busy pipe gives, handed on at once
  /// (one call for a read rather than one a line).
  using OnLines = std::function<void(std::string_view lines)>;
  LineCutter(std::size_t max_line, OnLine on_line, OnLines on_lines = {})
      : max_line_(max_line), on_line_(std::move(on_line)), on_lines_(std::move(on_lines)) {}

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
  OnLines on_lines_;  // none: each line to on_line_
  std::string partial_;
  std::string tail_;
  bool cut_at_limit_ = false;  // the last read ended a full piece: a newline next ends no new line
  bool continued_ = false;     // the next piece goes on from a piece cut at the limit
};

}  // namespace treerun
