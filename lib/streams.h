// Streams that pass through treerun: fan-out (one source, several consumers), merge
// (several sources into one stdin, line by line), `lag: drop`, and a source that also
// goes to the log stream. One-to-one streams are plain kernel pipes and never get here.
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

#include "event_log.h"
#include "fd.h"
#include "logmux.h"
#include "plan.h"

namespace treerun {

/// One consumer's stdin, fed by one or more sources.
class StreamSink : public std::enable_shared_from_this<StreamSink> {
 public:
  struct Context {
    EventLog* events;
    LogMux* log;
    int log_source;           // the consumer's, for lag notes
    std::string consumer;     // its path
  };
  StreamSink(boost::asio::io_context& io, UniqueFd write_end, const StdinSpec& spec, Context context);

  /// Registers a source; returns its index. Sinks with several sources, or dropping
  /// ones, pass whole lines only.
  int add_source(std::string name);
  void push(int source, std::string_view data);
  void source_eof(int source);
  /// Under `lag: block`, more than `buffer` is waiting: the producer should pause.
  bool full() const;
  bool closed() const { return !out_.is_open(); }
  void on_drain(std::function<void()> fn) { drain_waiters_.push_back(std::move(fn)); }
  void close();

 private:
  bool line_mode() const { return sources_.size() > 1 || spec_.lag == Lag::drop; }
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
  StdinSpec spec_;
  Context ctx_;
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
class StreamRelay : public std::enable_shared_from_this<StreamRelay> {
 public:
  struct Target {
    std::shared_ptr<StreamSink> sink;
    int source_index;
  };
  StreamRelay(boost::asio::io_context& io, UniqueFd read_end, std::vector<Target> targets,
              std::function<void(std::string_view)> to_log, std::function<void()> after_batch);
  void start();
  void close();

 private:
  void read_some();
  void forward(std::string_view data);
  void finish();

  boost::asio::posix::stream_descriptor in_;
  std::vector<Target> targets_;
  std::function<void(std::string_view)> to_log_;
  std::function<void()> after_batch_;
  std::vector<char> buffer_;
  std::string log_partial_;
};

}  // namespace treerun
