#include "io/log_stream.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fmt/format.h>

#include "base/fd.h"

namespace treerun {
namespace {

constexpr std::size_t kFlushAt = 64 * 1024;
constexpr std::size_t kHoldLimit = 4 * 1024 * 1024;  // bytes kept while the terminal is lent out
constexpr std::size_t kMaxWidth = 24;
const char* const kColors[] = {"36", "33", "32", "35", "34", "96", "93", "92", "95", "94"};

}  // namespace

LogStream::LogStream(Options options) : options_(std::move(options)), fd_(options_.fd) {
  names_.push_back("treerun");
}

LogStream::~LogStream() {
  held_ = false;
  flush();
}

int LogStream::add_source(std::string name) {
  width_ = std::max(width_, std::min(name.size(), kMaxWidth));
  names_.push_back(std::move(name));
  prefixes_.clear();
  return static_cast<int>(names_.size() - 1);
}

void LogStream::prefix(int source, char mark) {
  if (options_.timestamps) {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    tm local{};
    localtime_r(&ts.tv_sec, &local);
    fmt::format_to(std::back_inserter(buf_), "{:02}:{:02}:{:02}.{:03} ", local.tm_hour, local.tm_min,
                   local.tm_sec, ts.tv_nsec / 1'000'000);
  }
  std::size_t at = static_cast<std::size_t>(source < 0 ? 0 : source);
  if (prefixes_.size() != names_.size()) build_prefixes();
  buf_ += prefixes_[at];
  buf_ += mark;
  buf_ += ' ';
}

/// "name<pad> ", coloured, once per source: the hot path only copies it.
void LogStream::build_prefixes() {
  prefixes_.clear();
  for (std::size_t i = 0; i < names_.size(); ++i) {
    const std::string& name = names_[i];
    std::size_t pad = name.size() < width_ ? width_ - name.size() : 0;
    std::string p;
    if (options_.color) {
      const char* color = i == 0 ? "1" : kColors[i % std::size(kColors)];
      p = fmt::format("\x1b[{}m{}\x1b[0m", color, name);
    } else {
      p = name;
    }
    p.append(pad + 1, ' ');
    prefixes_.push_back(std::move(p));
  }
}

void LogStream::line(int source, std::string_view text) {
  if (fd_ < 0) return;
  if (held_ && buf_.size() + text.size() > kHoldLimit) {
    dropped_while_held_ += text.size() + 1;
    return;
  }
  prefix(source, '|');
  buf_.append(text);
  buf_ += '\n';
  if (!held_ && buf_.size() >= kFlushAt) flush();
}

void LogStream::note(int source, std::string_view text) {
  if (fd_ < 0) return;
  prefix(source, '*');
  if (options_.color) fmt::format_to(std::back_inserter(buf_), "\x1b[2m{}\x1b[0m\n", text);
  else fmt::format_to(std::back_inserter(buf_), "{}\n", text);
  if (buf_.size() >= kFlushAt) flush();
}

void LogStream::hold(bool on) {
  held_ = on;
  if (!on) {
    if (dropped_while_held_) {
      std::size_t dropped = dropped_while_held_;
      dropped_while_held_ = 0;
      note(-1, fmt::format("{} bytes of log lines were dropped while a node held the terminal", dropped));
    }
    flush();
  }
}

void LogStream::flush() {
  if (held_ || buf_.empty() || fd_ < 0) return;
  if (!write_all(fd_, buf_)) {
    // EPIPE: nobody reads the log stream any more. Any other error: say so once, where
    // a person will see it. Either way, carry on without the log stream.
    int err = errno;
    if (fd_ != STDERR_FILENO && err != EPIPE)
      fmt::print(stderr, "treerun: cannot write the log stream ({}): dropping it\n", std::strerror(err));
    fd_ = -1;
  }
  buf_.clear();
}

}  // namespace treerun
