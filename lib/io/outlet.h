// An Outlet is one of treerun's own outputs: its stdout, its stderr, `--logs FILE`,
// `--events FILE`. Bytes wait in a bounded queue and go out when the fd takes them, so
// that a reader that stalls (`| less` not reading, a FIFO nobody reads, ctrl-s on a
// terminal) or an output that fails (a closed terminal, a full disk, /dev/full) never
// blocks the loop and never ends the run: what cannot be written is dropped, whole,
// and counted; the first failure is reported once (on_failure).
//
// How a write never blocks, by what the fd is (see inherited() and open()):
//  - a pipe, FIFO or terminal: written through a descriptor of our own, opened again
//    through /proc/self/fd/N or the path, and made O_NONBLOCK. O_NONBLOCK belongs to an
//    open file description, and dup() shares the description, so setting it on fd 1
//    would change the shell's (and every node's) stdout too; a fresh open() of a pipe,
//    FIFO or terminal is a description of our own, so the flag stays with us.
//  - a socket (a journal, a socketpair): send(MSG_DONTWAIT), non-blocking per call.
//  - a regular file or another device: written directly; it never waits for a reader.
// Only our own description is ever given to Asio to wait on: its async_wait makes the
// fd O_NONBLOCK (FIONBIO) as a side effect. A shared fd that is not writable yet is
// tried again on a short timer instead (a socket, or the fallback `polled`).
// Opening it again is what a pipe cannot do once its reader is gone (ENXIO): then the
// output is broken from the start, as a write would find (EPIPE).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "base/fd.h"
#include "io/byte_queue.h"

namespace treerun {

/// The most an outlet holds, in bytes: past it, what comes is dropped (and counted).
constexpr std::size_t kOutletLimit = 4 * 1024 * 1024;

/// Opens PATH to write to without waiting: a FIFO that no one reads yet is opened for
/// reading and writing (as Linux allows), so the open never waits for a reader, and what
/// is written waits in the FIFO for one. The fd is O_NONBLOCK and close-on-exec; clear
/// O_NONBLOCK (set_blocking) before handing it to a process.
UniqueFd open_without_waiting(const std::string& path, bool append, std::error_code& ec);

class Outlet : public std::enable_shared_from_this<Outlet> {
 public:
  enum class Mode {
    direct,       // a regular file or a device that never waits for a reader
    nonblocking,  // our own O_NONBLOCK description of a pipe, FIFO or terminal
    socket,       // send(MSG_DONTWAIT) on a socket we share
    polled,       // a pipe or terminal we could not open again: poll, then at most PIPE_BUF
    broken,       // nothing can be written: everything is dropped
  };

  /// treerun's inherited FD (1 or 2), which others share. NAME is how messages and the
  /// `done` event call it ("stdout").
  static std::shared_ptr<Outlet> inherited(boost::asio::io_context& io, int fd, std::string name);
  /// PATH, opened by treerun for itself: appended to (--logs) or truncated (--events).
  static std::shared_ptr<Outlet> open(boost::asio::io_context& io, const std::string& path, bool append,
                                      std::string name, std::error_code& ec);
  Outlet(boost::asio::io_context& io, std::string name, int shown_fd, UniqueFd fd, Mode mode);

  /// Queues BYTES whole, or drops them whole (counted) when they do not fit or the
  /// output is broken. Nothing is written until flush().
  void append(std::string_view bytes);
  /// HEAD, TEXT and a newline, queued as one line (whole, or dropped whole as append()
  /// drops): the log stream's hot path, which builds no line of its own. Returns the
  /// line as queued, without its newline, valid until the next change to the queue;
  /// a null view when it was dropped.
  std::string_view append_line(std::string_view head, std::string_view text);
  /// Whether N more bytes fit now; nothing is counted when they do not.
  bool make_room(std::size_t n);
  /// As append_line, once make_room() said there is room for it: the log stream's
  /// loop over the lines of one read.
  std::string_view put_line(std::string_view head, std::string_view text) {
    char* at = queue_.extend(head.size() + text.size() + 1);
    std::memcpy(at, head.data(), head.size());
    std::memcpy(at + head.size(), text.data(), text.size());
    at[head.size() + text.size()] = '\n';
    return {at, head.size() + text.size()};
  }
  /// Writes what the fd takes now; the rest goes out as the fd becomes writable.
  void flush();
  /// append() and flush().
  void write(std::string_view bytes) {
    append(bytes);
    flush();
  }
  /// A file or a device that never waits: what is flushed is written at once.
  bool takes_all() const { return mode_ == Mode::direct; }
  /// Close to the bound: a producer that can wait (a node's pipe) should.
  bool full() const;
  /// Calls RESUME (on the loop) once there is room again, or the output broke.
  void when_room(std::function<void()> resume);
  /// Calls every RESUME now: whoever waits looks again at whether it still must.
  void wake_waiters();
  /// What is queued, from its end back: the last N bytes (N at most size()).
  std::string_view last_queued(std::size_t n) const { return queue_.view().substr(queue_.size() - n); }
  /// Bytes queued, written or not, that have not gone yet.
  std::size_t queued() const { return queue_.size(); }
  /// Bytes waiting to be written.
  std::size_t pending() const { return queue_.size() - sent_; }
  /// Nothing waits to be written (or nothing ever will be).
  bool idle() const { return pending() == 0; }
  /// The end: what still waits is dropped (counted).
  void drop_pending();
  /// Called once, on the loop, at the first failed write (not for EPIPE: the reader
  /// left, as `| head` does) with what failed.
  void on_failure(std::function<void(const std::string& why)> fn) { on_failure_ = std::move(fn); }
  /// The end of the run: a failure whose report is still on its way to the loop, which
  /// will not run it now, is handed to on_failure here.
  void report_now();

  const std::string& name() const { return name_; }
  unsigned long long dropped() const { return dropped_; }
  bool broken() const { return mode_ == Mode::broken; }
  /// The fd as the user gave it (1, 2 or the file), for isatty().
  int shown_fd() const { return shown_fd_; }

 private:
  /// Whether N more bytes fit; when not, they are counted as dropped.
  bool room_for(std::size_t n);
  ssize_t write_some(std::string_view data);
  void wait_writable();
  void fail(int err);
  /// Hands the first failure to on_failure, once, on the loop.
  void report();

  boost::asio::io_context& io_;
  std::string name_;
  int shown_fd_;
  UniqueFd owned_;  // the fd, when it is ours and not the descriptor's
  int fd_;          // where bytes go
  boost::asio::posix::stream_descriptor descriptor_;  // nonblocking: waits for writability
  boost::asio::steady_timer retry_;  // every other mode: tries again a little later
  Mode mode_;
  ByteQueue queue_;
  std::size_t sent_ = 0;  // bytes of queue_ already written
  bool waiting_ = false;
  unsigned long long dropped_ = 0;
  int error_ = 0;  // what broke it
  bool reported_ = false;
  std::string unreported_;  // the failure whose report is posted but has not run
  std::vector<std::function<void()>> waiters_;
  std::function<void(const std::string&)> on_failure_;
};

}  // namespace treerun
