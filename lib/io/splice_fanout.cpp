#include "io/splice_fanout.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <system_error>

#include "io/read_buffer.h"

namespace treerun {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

int dev_null() {
  static UniqueFd fd(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  return fd.get();
}

}  // namespace

SpliceFanout::SpliceFanout(asio::io_context& io, UniqueFd input, std::vector<Consumer> consumers,
                           std::unique_ptr<LogCopy> log)
    : Carrier(std::move(log)), in_(io, input.release()) {
  set_nonblocking(in_.native_handle());
  int smallest_stage = INT_MAX;
  branches_.reserve(consumers.size());
  for (Consumer& c : consumers) {
    Branch& b = branches_.emplace_back(io);
    std::error_code ec;
    b.stage = make_pipe(ec);
    if (ec) throw std::system_error(ec, "cannot create a pipe for a stream");
    smallest_stage = std::min(smallest_stage, size_pipe(b.stage.write.get(), c.buffer));
    set_nonblocking(c.stdin_write_end.get());
    b.out.assign(c.stdin_write_end.release());
  }
  // An empty stage must take a whole batch, so the producer's pipe (still empty) is
  // made no larger than the smallest stage. Should the kernel refuse, a short tee is
  // still handled: see hold().
  if (smallest_stage != INT_MAX) ::fcntl(in_.native_handle(), F_SETPIPE_SZ, smallest_stage);
  batch_ = static_cast<std::size_t>(std::max(::fcntl(in_.native_handle(), F_GETPIPE_SZ), 4096));
}

void SpliceFanout::start() { wait_input(); }

void SpliceFanout::wait_input() {
  if (!in_.is_open() || waiting_input_ || !all_drained()) return;
  if (!log_ && !any_open()) return close();  // every consumer is gone: the producer gets EPIPE
  if (log_holds_back([self = shared_from_this()] { self->wait_input(); })) return;
  waiting_input_ = true;
  in_.async_wait(asio::posix::descriptor_base::wait_read, [self = shared_from_this()](const error_code& ec) {
    self->waiting_input_ = false;
    if (!self->in_.is_open()) return;
    if (ec) return self->finish();
    self->pull();
  });
}

/// Every stage is empty: tee what waits in the producer's pipe into each of them, take
/// it off the producer's pipe, and start moving the stages on.
void SpliceFanout::pull() {
  // A drain() since the wait was armed may have left bytes held: they come first, and
  // the branch's push() asks for input again once they are out.
  if (!all_drained()) return;
  ssize_t batch = -1;  // what the first tee found; every other branch gets as much
  for (Branch& b : branches_) {
    b.teed = 0;
    if (!b.open()) continue;
    std::size_t want = batch < 0 ? batch_ : static_cast<std::size_t>(batch);
    ssize_t got = ::tee(in_.native_handle(), b.stage.write.get(), want, SPLICE_F_NONBLOCK);
    if (batch < 0) {
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) return wait_input();  // woken for nothing
      if (got <= 0) return finish();  // EOF (an error ends the stream as well)
      batch = got;
    }
    b.teed = b.staged = got > 0 ? static_cast<std::size_t>(got) : 0;
  }
  if (batch < 0) read_held(batch_);  // no consumer is left, only the log copy
  else consume(static_cast<std::size_t>(batch));
  for (std::size_t i = 0; i < branches_.size(); ++i) push(i);
  wait_input();
}

/// Takes the batch of N bytes off the producer's pipe: read when the log needs a copy
/// or a stage came up short, else spliced into /dev/null, never touched.
void SpliceFanout::consume(std::size_t n) {
  bool short_tee = false;
  for (const Branch& b : branches_) short_tee = short_tee || (b.open() && b.teed < n);
  if (log_ || short_tee) return read_held(n);
  auto& buf = scratch_buffer();
  while (n > 0) {
    ssize_t r = ::splice(in_.native_handle(), nullptr, dev_null(), nullptr, n, SPLICE_F_NONBLOCK);
    if (r <= 0) r = ::read(in_.native_handle(), buf.data(), std::min(n, buf.size()));  // no splice: drop by hand
    if (r <= 0) break;
    n -= static_cast<std::size_t>(r);
  }
}

/// Reads up to N bytes of the producer's pipe into the log copy and into every branch
/// whose stage has not got them.
void SpliceFanout::read_held(std::size_t n) {
  auto& buf = scratch_buffer();
  std::size_t offset = 0;
  while (offset < n) {
    ssize_t r = ::read(in_.native_handle(), buf.data(), std::min(buf.size(), n - offset));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0 || (r < 0 && errno != EAGAIN)) {
      finish();
      break;
    }
    if (r < 0) break;  // nothing more waits
    std::string_view piece(buf.data(), static_cast<std::size_t>(r));
    log_bytes(piece);
    hold(piece, offset);
    offset += piece.size();
  }
}

/// PIECE is bytes [OFFSET, OFFSET + size) of this batch; a branch whose stage took fewer
/// (`teed`) keeps the rest, to write after the stage.
void SpliceFanout::hold(std::string_view piece, std::size_t offset) {
  for (Branch& b : branches_) {
    if (!b.open() || offset + piece.size() <= b.teed) continue;
    b.held.append(piece.substr(b.teed > offset ? b.teed - offset : 0));
  }
}

void SpliceFanout::drain() {
  if (!in_.is_open()) return;
  // One drain's worth held at a time: a producer restarted again and again in front
  // of a consumer that never reads must not make treerun grow.
  for (const Branch& b : branches_)
    if (b.open() && b.held_sent < b.held.size()) return;
  for (Branch& b : branches_) b.teed = 0;
  read_held(batch_);  // at most a pipe's worth: a descendant still writing cannot make it grow
  for (std::size_t i = 0; i < branches_.size(); ++i) push(i);
}

/// Moves branch I's stage, then what it holds, into its consumer's pipe, as far as
/// there is room; then waits for room, or for the next batch.
void SpliceFanout::push(std::size_t i) {
  Branch& b = branches_[i];
  if (!b.open() || b.waiting) return;
  while (!b.drained()) {
    int out = b.out.native_handle();
    ssize_t r = b.staged > 0
                    ? ::splice(b.stage.read.get(), nullptr, out, nullptr, b.staged, SPLICE_F_NONBLOCK | SPLICE_F_MOVE)
                    : ::write(out, b.held.data() + b.held_sent, b.held.size() - b.held_sent);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) return wait_room(i);
    if (r <= 0) return drop(b);  // EPIPE: the consumer closed its end; the others go on
    if (b.staged > 0) b.staged -= static_cast<std::size_t>(r);
    else b.held_sent += static_cast<std::size_t>(r);
  }
  std::string().swap(b.held);
  b.held_sent = 0;
  if (eof_) return drop(b);  // the consumer reads EOF after the last byte
  wait_input();
}

void SpliceFanout::wait_room(std::size_t i) {
  branches_[i].waiting = true;
  branches_[i].out.async_wait(asio::posix::descriptor_base::wait_write,
                              [self = shared_from_this(), i](const error_code& ec) {
                                self->branches_[i].waiting = false;
                                if (!ec) self->push(i);
                              });
}

/// Closes a branch: its consumer is gone, or has read EOF.
void SpliceFanout::drop(Branch& b) {
  error_code ignored;
  b.out.close(ignored);
  b.stage = {};
  b.staged = 0;
  std::string().swap(b.held);
  b.held_sent = 0;
  wait_input();
}

void SpliceFanout::finish() {
  if (eof_) return;
  eof_ = true;
  log_end();
  error_code ignored;
  in_.close(ignored);
  for (Branch& b : branches_)
    if (b.open() && b.drained()) drop(b);
}

void SpliceFanout::close() {
  error_code ignored;
  in_.close(ignored);
  for (Branch& b : branches_) {
    b.out.close(ignored);
    b.stage = {};
  }
}

bool SpliceFanout::done() const { return !in_.is_open(); }

bool SpliceFanout::all_drained() const {
  return std::all_of(branches_.begin(), branches_.end(), [](const Branch& b) { return !b.open() || b.drained(); });
}

bool SpliceFanout::any_open() const {
  return std::any_of(branches_.begin(), branches_.end(), [](const Branch& b) { return b.open(); });
}

}  // namespace treerun
