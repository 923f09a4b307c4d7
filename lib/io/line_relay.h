// The copying carrier (a "relay" in `treerun tree`): a merge (several sources into one
// stdin, line by line) and `lag: drop`, which must see every line. Fan-out without
// those is spliced (splice_fanout.h); one-to-one streams are plain kernel pipes and
// never get here.
//
// Memory is bounded per consumer (`buffer`): under `lag: block` a full consumer pauses
// the producer's reader (backpressure through the pipe); under `lag: drop` whole lines
// are dropped, counted and reported.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/fd.h"
#include "io/carrier.h"

namespace treerun {

/// One consumer's stdin, fed by one or more sources.
class StreamSink : public std::enable_shared_from_this<StreamSink> {
 public:
  /// Under `lag: drop`, what SOURCE has lost so far (a running total); GREW says whether
  /// it grew since the last report (the last report of a stream may repeat it).
  using LagReport = std::function<void(const std::string& source, unsigned long long dropped, bool grew)>;
  /// What a consumer does when it cannot keep up.
  struct Policy {
    bool drop = false;            // drop whole lines (counted) instead of holding the producer back
    std::size_t buffer = 1 << 20; // bytes held for it before either
  };
  StreamSink(boost::asio::io_context& io, UniqueFd write_end, Policy policy, LagReport report_lag);

  /// Registers a source; returns its index. Sinks with several sources, or dropping
  /// ones, pass whole lines only.
  int add_source(std::string name);
  void push(int source, std::string_view data);
  void source_eof(int source);
  /// Under `lag: block`, more than `buffer` is waiting: the producer should pause.
  bool full() const;
  /// Holds more than `buffer` and one read past it (a backpressured sink holds up to
  /// that): only Carrier::drain puts more in.
  bool over_buffer() const;
  bool closed() const { return !out_.is_open(); }
  void on_drain(std::function<void()> fn) { drain_waiters_.push_back(std::move(fn)); }
  void close();

 private:
  bool line_mode() const { return sources_.size() > 1 || spec_.drop; }
  void enqueue(int source, std::string_view line_or_bytes);
  void write_more();
  void wake_waiters();
  void report_lag(int source, bool final);

  struct Source {
    std::string name;
    std::string partial;
    bool eof = false;
    unsigned long long dropped = 0;
    unsigned long long reported = 0;
  };
  boost::asio::posix::stream_descriptor out_;
  Policy spec_;
  LagReport lag_report_;
  std::vector<Source> sources_;
  std::size_t pending() const { return sending_.size() - sent_ + queue_.size(); }

  // Two buffers: the one being written stays put while new bytes go to the other (an
  // append could move the bytes under a write that is still in flight).
  std::string sending_;
  std::size_t sent_ = 0;
  std::string queue_;
  bool writing_ = false;
  std::vector<std::function<void()>> drain_waiters_;
};

/// Reads one producer's pipe and feeds its sinks (and the log stream).
class LineRelay final : public Carrier, public std::enable_shared_from_this<LineRelay> {
 public:
  struct Target {
    std::shared_ptr<StreamSink> sink;
    int source_index;
  };
  /// LOG: null when the stream does not go to the log.
  LineRelay(boost::asio::io_context& io, UniqueFd read_end, std::vector<Target> targets,
              std::unique_ptr<LogCopy> log);
  void start() override;
  void close() override;
  void drain() override;
  bool done() const override { return !in_.is_open(); }

 private:
  void read_some();
  /// One read into the shared buffer: false at EOF, on an error, or when nothing waits.
  bool read_once();
  void forward(std::string_view data);
  void finish();

  boost::asio::posix::stream_descriptor in_;
  std::vector<Target> targets_;
};

}  // namespace treerun
