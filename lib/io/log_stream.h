// The merged log stream: every node's lines, each whole and prefixed with the node's
// name, plus treerun's own lines (started, ready, stopping, exited), set apart.
//
// Each line goes to the Outlet whole or not at all, so no line is ever split or
// interleaved with another, whatever the number of producers; the outlet writes them
// when its fd takes them (io/outlet.h), so a reader that stalls never blocks the loop.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/left_to_exit.h"
#include "io/line_ring.h"
#include "io/outlet.h"

namespace treerun {

class LogStream {
 public:
  struct Options {
    std::shared_ptr<Outlet> out;  // where lines go; null: nowhere (the log stream is off)
    bool color = false;           // decided by the caller: a terminal, no --no-color, no NO_COLOR
    bool timestamps = false;
    /// Each source's last lines kept in memory (history()): at most this many, and
    /// this many bytes. 0: none.
    std::size_t history_lines = 0, history_bytes = 0;
  };

  explicit LogStream(Options options);
  ~LogStream();
  LogStream(const LogStream&) = delete;
  LogStream& operator=(const LogStream&) = delete;

  /// Every line as the log stream shows it without colour and without its newline
  /// (NOTE: one of treerun's own), whether or not the stream goes anywhere: the control
  /// socket's followers and console read the run through it. Notes always go to it, a
  /// node's lines only while tap_lines() is on (the hot path pays for none otherwise).
  /// LINE is valid during the call only; the tap must not write to this stream.
  using Tap = std::function<void(int source, std::string_view line, bool note)>;
  void set_tap(Tap tap) { tap_ = std::move(tap); }
  void tap_lines(bool on) { tap_lines_ = on; }
  /// The process exits right after this is destroyed: the history's memory is left to
  /// the exit (base/left_to_exit.h).
  void leave_history_to_exit() { history_left_.enabled = true; }
  /// What is kept of SOURCE (-1 or 0: treerun's lines about the run), as the tap sees
  /// it, with a sequence number over all sources; empty without Options::history_lines.
  const LineRing& history(int source) const { return history_.at(static_cast<std::size_t>(source < 0 ? 0 : source)); }
  std::size_t sources() const { return names_.size(); }
  /// The sequence number of the last line kept (0: none yet): the tapped line's, in a tap.
  std::uint64_t last_seq() const { return seq_; }

  /// Registers a prefix; returns its id. Call for every name before the run starts,
  /// so the names line up.
  int add_source(std::string name);
  /// One line of a node's output, without its newline. CONTINUED: a piece of a line
  /// longer than the limit, after the first: marked `+` instead of `|`.
  void line(int source, std::string_view text, bool continued = false);
  /// LINES of a node's output, whole, each with its newline, as line() would write them
  /// one by one, while TAKE (if any) takes each: the first it does not take is left to
  /// the caller, with those after it. Returns the bytes of LINES taken.
  std::size_t lines(int source, std::string_view lines, const std::function<bool(std::string_view)>& take = {});
  /// One of treerun's own lines, about SOURCE (-1: about the run).
  void note(int source, std::string_view text);
  /// Writes what is buffered, as far as the output takes it now. Called after each
  /// batch of input.
  void flush();
  bool enabled() const { return out_ != nullptr; }
  /// The outlet lines go to, or null.
  Outlet* outlet() const { return out_.get(); }
  /// Whether the lines go to a terminal.
  bool on_terminal() const;
  /// Holds lines back (bounded) instead of writing them; release() writes them.
  void hold(bool on);
  /// Backpressure: when the output is close to its bound, a reader that can wait
  /// (a node's pipe) waits: this returns true and RESUME is called once there is room.
  bool wait_for_room(const std::function<void()>& resume);
  /// What a reader of SOURCE's pipe that can wait may read now: 0 when it must wait
  /// (wait_for_room), else at most what the outlet can still hold once every byte read
  /// became a line with its head (SIZE_MAX: an output that takes all, a file).
  std::size_t read_budget(int source, const std::function<void()>& resume);
  /// Readers that wait look again now (a node began to stop: its lines are not held up).
  void wake_waiters();

 private:
  void prefix(int source, char mark);
  const std::string& head(int source, char mark);
  bool direct() const;
  void keep_last(int source, std::string_view queued, std::size_t count);
  /// One line the hot path's way (queued whole or dropped, kept), flushed past kFlushAt.
  void direct_line(int source, const std::string& head, std::string_view text);
  inline void complete(int source, char mark, std::string_view text);
  void complete_coloured(int source, char mark, std::string_view text);
  void keep(int source, std::string_view plain, bool note) {
    std::size_t at = static_cast<std::size_t>(source < 0 ? 0 : source);
    if (at < history_.size()) history_[at].push(plain, ++seq_);
    if (tap_ && (note || tap_lines_)) tap_(source, plain, note);
  }
  bool redraws(char mark, std::string_view text) const;
  void append_redrawn(std::string_view text);
  void build_prefixes();
  void emit();

  std::shared_ptr<Outlet> out_;
  Options options_;
  std::vector<std::string> names_;
  std::vector<std::string> prefixes_;
  std::vector<std::string> plain_prefixes_;  // the same without colour, for the tap
  std::size_t width_ = 0;
  std::string line_;  // the line being made
  std::size_t stamp_size_ = 0;  // of its timestamp
  // The last head made (head()), and what it was made for.
  std::string head_;
  std::size_t head_stamp_size_ = 0;
  int head_source_ = -2;
  char head_mark_ = 0;
  long long head_ms_ = -1;  // its millisecond, with timestamps
  std::string plain_;  // the line being made, without colour (only when coloured)
  std::vector<LineRing> history_;  // by source
  LeftToExit<std::vector<LineRing>> history_left_{history_};
  std::uint64_t seq_ = 0;          // lines kept so far
  Tap tap_;
  bool tap_lines_ = false;
  std::string held_lines_;
  bool held_ = false;
  /// On a terminal, a carriage return inside a line (a progress bar redrawing itself)
  /// starts the line again, so it gets the prefix again; files keep it as it came.
  bool prefix_after_cr_ = false;
  std::size_t dropped_while_held_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace treerun
