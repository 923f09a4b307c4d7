// io/: the bytes and lines that pass through treerun — a node's output on its way to
// the log stream (LogStream, through LineReader and LineCutter), the streams that
// treerun carries from a producer to its consumers (a Carrier: LineRelay or
// SpliceFanout), the event log (EventLog), and the outputs that the log stream and the
// event log are written to (Outlet, never blocking). What goes where is decided above, in
// run/, from the plan: io/ knows no spec, plan or process, and includes only base/.
//
// A Carrier is one stream that passes through treerun (treerun(1), SEMANTICS ›
// Streams): it reads the producer's pipe and feeds the consumers' stdins and, if the
// stream is also logged, the log stream.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "io/line_cutter.h"

namespace treerun {

/// The copy of a stream that also goes to the log stream.
struct LogCopy {
  LineCutter lines;
  std::function<void()> after_batch;  // once per read, after its lines
  /// As LineReader::Callbacks::hold_back: true holds the stream back until RESUME.
  std::function<bool(const std::function<void()>& resume)> hold_back = nullptr;
};

/// A stream that passes through treerun, from the producer's pipe to its consumers and,
/// maybe (LOG not null), the log stream.
class Carrier {
 public:
  explicit Carrier(std::unique_ptr<LogCopy> log) : log_(std::move(log)) {}
  virtual ~Carrier() = default;
  virtual void start() = 0;
  /// Stops relaying and closes every end it holds.
  virtual void close() = 0;
  /// The producer is gone: reads what waits in its pipe now, even past a slow consumer
  /// (held for it, at most a pipe's worth), so that its last lines reach the log before
  /// its exit is reported.
  virtual void drain() = 0;
  /// The producer's pipe is closed: nothing more will come through.
  virtual bool done() const = 0;
  /// The producer has exited (after drain()): its unfinished last line is logged now,
  /// since a pipe kept for its restart sees no EOF. Returns the log copy's last bytes
  /// since the previous exit, for the summary; empty without a log copy.
  std::string take_exit_tail();

 protected:
  /// Bytes read from the producer's pipe: to the log copy, if there is one.
  void log_bytes(std::string_view data);
  /// The producer's pipe is at EOF: a last line without a newline is still logged.
  void log_end();
  /// The log copy cannot take more yet: true, and RESUME is called once it can.
  bool log_holds_back(const std::function<void()>& resume) const {
    return log_ && log_->hold_back && log_->hold_back(resume);
  }

  std::unique_ptr<LogCopy> log_;
};

}  // namespace treerun
