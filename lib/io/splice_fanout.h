// Fan-out without copies: one producer's pipe to several consumers (or to one consumer
// and the log stream), every consumer reading only this source under `lag: block`.
//
// The kernel passes page references, not bytes: tee(2) duplicates what waits in the
// producer's pipe into a private stage pipe per consumer, splice(2) moves each stage on
// into its consumer's stdin as it makes room. tee always takes from the head of the
// pipe, so consumers cannot be at different offsets of it: the next batch is taken only
// when every stage is empty. Each stage is at least as large as the producer's pipe, so
// an empty stage takes a whole batch. That barrier is `lag: block`: the slowest consumer
// sets the pace, and memory is bounded by the pipes (`buffer` per consumer), not by
// treerun. Only the log copy is read into user space, since it has to be cut into lines.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <memory>
#include <string>
#include <vector>

#include "base/fd.h"
#include "io/carrier.h"

namespace treerun {

class SpliceFanout final : public Carrier, public std::enable_shared_from_this<SpliceFanout> {
 public:
  struct Consumer {
    UniqueFd stdin_write_end;
    std::size_t buffer;  // the consumer's `buffer`: the size of its stage
  };
  /// INPUT: the read end of the producer's pipe, which is resized to fit every stage.
  /// LOG: null when the stream does not go to the log. Throws std::system_error when
  /// a stage pipe cannot be made.
  SpliceFanout(boost::asio::io_context& io, UniqueFd input, std::vector<Consumer> consumers,
               std::unique_ptr<LogCopy> log);
  void start() override;
  void close() override;
  void drain() override;
  bool done() const override;

 private:
  struct Branch {
    explicit Branch(boost::asio::io_context& io) : out(io) {}
    boost::asio::posix::stream_descriptor out;  // the consumer's stdin
    Pipe stage;
    std::size_t staged = 0;   // bytes in the stage
    std::size_t teed = 0;     // of them, from the batch being taken
    std::string held;         // bytes that come after the stage's (see hold())
    std::size_t held_sent = 0;
    bool waiting = false;     // for room in the consumer's pipe
    bool open() const { return out.is_open(); }
    bool drained() const { return staged == 0 && held_sent == held.size(); }
  };

  void wait_input();
  void pull();
  void consume(std::size_t n);
  void read_held(std::size_t n);
  void hold(std::string_view piece, std::size_t offset);
  void push(std::size_t i);
  void wait_room(std::size_t i);
  void drop(Branch& b);
  void finish();
  bool all_drained() const;
  bool any_open() const;

  boost::asio::posix::stream_descriptor in_;
  std::vector<Branch> branches_;
  std::size_t batch_ = 0;  // the producer's pipe size: the most one tee can take
  bool waiting_input_ = false;
  bool eof_ = false;
};

}  // namespace treerun
