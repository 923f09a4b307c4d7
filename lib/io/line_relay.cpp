#include "io/line_relay.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>

#include "io/read_buffer.h"

namespace treerun {
namespace asio = boost::asio;
using boost::system::error_code;

StreamSink::StreamSink(asio::io_context& io, UniqueFd write_end, Policy policy, LagReport report_lag)
    : out_(io, write_end.release()), spec_(policy), lag_report_(std::move(report_lag)) {}

int StreamSink::add_source(std::string name) {
  sources_.push_back(Source{std::move(name), {}, false, 0, 0});
  return static_cast<int>(sources_.size() - 1);
}

bool StreamSink::full() const {
  return !spec_.drop && out_.is_open() && pending() >= spec_.buffer;
}

bool StreamSink::over_buffer() const {
  return out_.is_open() && pending() > spec_.buffer + scratch_buffer().size();
}

void StreamSink::push(int source, std::string_view data) {
  if (closed()) return;
  if (!line_mode()) {
    enqueue(source, data);
  } else {
    Source& s = sources_[static_cast<std::size_t>(source)];
    while (!data.empty()) {
      const void* nl = std::memchr(data.data(), '\n', data.size());
      if (!nl) {
        s.partial.append(data);
        // A line longer than the whole buffer goes on in pieces, each whole.
        if (s.partial.size() >= spec_.buffer) {
          enqueue(source, s.partial);
          s.partial.clear();
        }
        break;
      }
      std::size_t len = static_cast<std::size_t>(static_cast<const char*>(nl) - data.data()) + 1;
      if (s.partial.empty()) {
        enqueue(source, data.substr(0, len));
      } else {
        s.partial.append(data.substr(0, len));
        enqueue(source, s.partial);
        s.partial.clear();
      }
      data.remove_prefix(len);
    }
  }
  write_more();
}

void StreamSink::enqueue(int source, std::string_view bytes) {
  // An idle consumer always gets the line, however long (at most one read, or one
  // `buffer` of a line in pieces): only one that lags loses whole lines.
  if (spec_.drop && pending() > 0 && pending() + bytes.size() > spec_.buffer) {
    sources_[static_cast<std::size_t>(source)].dropped += bytes.size();
    return;
  }
  queue_.append(bytes);
}

void StreamSink::source_eof(int source) {
  Source& s = sources_[static_cast<std::size_t>(source)];
  if (!s.partial.empty()) {
    enqueue(source, s.partial);  // a last line without a newline still goes through
    s.partial.clear();
  }
  s.eof = true;
  report_lag(source, true);
  write_more();
}

void StreamSink::report_lag(int source, bool final) {
  Source& s = sources_[static_cast<std::size_t>(source)];
  if (s.dropped == 0 || (s.dropped == s.reported && !final)) return;
  lag_report_(s.name, s.dropped, s.dropped != s.reported);
  s.reported = s.dropped;
}

void StreamSink::write_more() {
  if (writing_ || closed()) return;
  if (sent_ == sending_.size()) {
    sending_.clear();
    sent_ = 0;
    if (queue_.empty()) {
      wake_waiters();
      bool all_eof = true;
      for (const auto& s : sources_) all_eof = all_eof && s.eof;
      if (all_eof) close();  // the consumer reads EOF after the last byte
      return;
    }
    std::swap(sending_, queue_);
  }
  writing_ = true;
  out_.async_write_some(asio::buffer(sending_.data() + sent_, sending_.size() - sent_),
                        [self = shared_from_this()](const error_code& ec, std::size_t n) {
                          self->writing_ = false;
                          if (ec) {  // EPIPE: the consumer closed its end; the others go on
                            self->close();
                            return;
                          }
                          self->sent_ += n;
                          for (std::size_t i = 0; i < self->sources_.size(); ++i)
                            if (!self->sources_[i].eof) self->report_lag(static_cast<int>(i), false);
                          if (!self->full()) self->wake_waiters();
                          self->write_more();
                        });
}

void StreamSink::wake_waiters() {
  auto waiters = std::move(drain_waiters_);
  drain_waiters_.clear();
  for (auto& fn : waiters) fn();
}

void StreamSink::close() {
  error_code ignored;
  out_.close(ignored);
  if (!writing_) sending_.clear();
  sent_ = 0;
  queue_.clear();
  wake_waiters();
}

LineRelay::LineRelay(asio::io_context& io, UniqueFd read_end, std::vector<Target> targets,
                         std::unique_ptr<LogCopy> log)
    : Carrier(std::move(log)), in_(io, read_end.release()), targets_(std::move(targets)) {
  set_nonblocking(in_.native_handle());
}

void LineRelay::start() { read_some(); }

void LineRelay::read_some() {
  if (!in_.is_open()) return;
  // Backpressure: while a blocking consumer is full, leave the bytes in the producer's
  // pipe; the producer blocks on it, exactly as in a shell pipeline.
  for (auto& t : targets_)
    if (t.sink->full()) {
      t.sink->on_drain([self = shared_from_this()] { self->read_some(); });
      return;
    }
  if (log_holds_back([self = shared_from_this()] { self->read_some(); })) return;
  if (!log_) {
    bool any_open = false;
    for (auto& t : targets_) any_open = any_open || !t.sink->closed();
    if (!any_open) return close();  // every consumer is gone: the producer gets EPIPE
  }
  in_.async_wait(asio::posix::descriptor_base::wait_read, [self = shared_from_this()](const error_code& ec) {
    if (!self->in_.is_open()) return;
    if (ec) return self->finish();
    self->read_once();
    self->read_some();
  });
}

bool LineRelay::read_once() {
  auto& buf = scratch_buffer();
  ssize_t n = ::read(in_.native_handle(), buf.data(), buf.size());
  if (n > 0) {
    forward(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    return true;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return false;
  finish();  // EOF, or an error: the stream ends here either way
  return false;
}

void LineRelay::drain() {
  // Past a full consumer, but only once: a consumer already holding more than its
  // buffer gets nothing more this way (see SpliceFanout::drain).
  for (auto& t : targets_)
    if (t.sink->over_buffer()) return;
  // A pipe's worth (16 reads of 64 KiB): a descendant still writing cannot keep us here.
  for (int reads = 0; reads < 16 && in_.is_open() && read_once(); ++reads) {
  }
}

void LineRelay::forward(std::string_view data) {
  for (auto& t : targets_) t.sink->push(t.source_index, data);
  log_bytes(data);
}

void LineRelay::finish() {
  log_end();
  close();
  for (auto& t : targets_) t.sink->source_eof(t.source_index);
}

void LineRelay::close() {
  error_code ignored;
  in_.close(ignored);
}

}  // namespace treerun
