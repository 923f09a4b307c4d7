#include "streams.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <fmt/format.h>

namespace treerun {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {
constexpr std::size_t kReadSize = 64 * 1024;
constexpr std::size_t kMaxLogLine = 64 * 1024;
}  // namespace

StreamSink::StreamSink(asio::io_context& io, UniqueFd write_end, const StdinSpec& spec, Context context)
    : out_(io, write_end.release()), spec_(spec), ctx_(std::move(context)) {}

int StreamSink::add_source(std::string name) {
  sources_.push_back(Source{std::move(name), {}, false, 0, 0});
  return static_cast<int>(sources_.size() - 1);
}

bool StreamSink::full() const {
  return spec_.lag == Lag::block && out_.is_open() && pending() >= spec_.buffer;
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
  if (spec_.lag == Lag::drop && pending() + bytes.size() > spec_.buffer) {
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
  ctx_.events->lag(ctx_.consumer, s.name, s.dropped);
  if (s.dropped != s.reported)
    ctx_.log->note(ctx_.log_source, fmt::format("lagging behind {}: {} bytes dropped so far", s.name, s.dropped));
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

StreamRelay::StreamRelay(asio::io_context& io, UniqueFd read_end, std::vector<Target> targets,
                         std::function<void(std::string_view)> to_log, std::function<void()> after_batch)
    : in_(io, read_end.release()),
      targets_(std::move(targets)),
      to_log_(std::move(to_log)),
      after_batch_(std::move(after_batch)),
      buffer_(kReadSize) {}

void StreamRelay::start() { read_some(); }

void StreamRelay::read_some() {
  // Backpressure: while a blocking consumer is full, leave the bytes in the producer's
  // pipe; the producer blocks on it, exactly as in a shell pipeline.
  for (auto& t : targets_)
    if (t.sink->full()) {
      t.sink->on_drain([self = shared_from_this()] { self->read_some(); });
      return;
    }
  if (!to_log_) {
    bool any_open = false;
    for (auto& t : targets_) any_open = any_open || !t.sink->closed();
    if (!any_open) return close();  // every consumer is gone: the producer gets EPIPE
  }
  if (!in_.is_open()) return;
  in_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](const error_code& ec, std::size_t n) {
    if (!self->in_.is_open()) return;
    if (n > 0) self->forward(std::string_view(self->buffer_.data(), n));
    if (ec) return self->finish();
    self->read_some();
  });
}

void StreamRelay::forward(std::string_view data) {
  for (auto& t : targets_) t.sink->push(t.source_index, data);
  if (!to_log_) return;
  std::string_view rest = data;
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    if (nl == std::string_view::npos) {
      log_partial_.append(rest);
      if (log_partial_.size() >= kMaxLogLine) {
        to_log_(log_partial_);
        log_partial_.clear();
      }
      break;
    }
    if (log_partial_.empty()) to_log_(rest.substr(0, nl));
    else {
      log_partial_.append(rest.substr(0, nl));
      to_log_(log_partial_);
      log_partial_.clear();
    }
    rest.remove_prefix(nl + 1);
  }
  if (after_batch_) after_batch_();
}

void StreamRelay::finish() {
  if (to_log_ && !log_partial_.empty()) {
    to_log_(log_partial_);
    log_partial_.clear();
    if (after_batch_) after_batch_();
  }
  close();
  for (auto& t : targets_) t.sink->source_eof(t.source_index);
}

void StreamRelay::close() {
  error_code ignored;
  in_.close(ignored);
}

}  // namespace treerun
