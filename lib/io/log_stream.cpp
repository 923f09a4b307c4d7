#include "io/log_stream.h"

#include <unistd.h>

#include <cstring>
#include <ctime>
#include <fmt/format.h>

namespace treerun {
namespace {

constexpr std::size_t kFlushAt = 64 * 1024;
constexpr std::size_t kHoldLimit = 4 * 1024 * 1024;  // bytes kept while the terminal is lent out
constexpr std::size_t kMaxWidth = 24;
const char* const kColors[] = {"36", "33", "32", "35", "34", "96", "93", "92", "95", "94"};

}  // namespace

LogStream::LogStream(Options options) : out_(std::move(options.out)), options_(std::move(options)) {
  names_.push_back("treerun");
  prefix_after_cr_ = on_terminal();
  if (options_.history_lines) history_.emplace_back(options_.history_lines, options_.history_bytes);
}

LogStream::~LogStream() {
  hold(false);
}

int LogStream::add_source(std::string name) {
  width_ = std::max(width_, std::min(name.size(), kMaxWidth));
  names_.push_back(std::move(name));
  if (options_.history_lines) history_.emplace_back(options_.history_lines, options_.history_bytes);
  prefixes_.clear();
  return static_cast<int>(names_.size() - 1);
}

bool LogStream::on_terminal() const { return out_ && ::isatty(out_->shown_fd()); }

void LogStream::prefix(int source, char mark) {
  line_.assign(head(source, mark));
  stamp_size_ = head_stamp_size_;
}

/// What comes before a line's text: its time (with timestamps), the source's name
/// padded, the mark and a space. Made again only when one of them changes: a batch of
/// one source's lines in the same millisecond shares one.
const std::string& LogStream::head(int source, char mark) {
  timespec ts{};
  long long ms = -1;
  if (options_.timestamps) {
    clock_gettime(CLOCK_REALTIME, &ts);
    ms = static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
  }
  if (source == head_source_ && mark == head_mark_ && ms == head_ms_ && prefixes_.size() == names_.size())
    return head_;
  head_.clear();
  if (options_.timestamps) {
    tm local{};
    localtime_r(&ts.tv_sec, &local);
    fmt::format_to(std::back_inserter(head_), "{:02}:{:02}:{:02}.{:03} ", local.tm_hour, local.tm_min,
                   local.tm_sec, ts.tv_nsec / 1'000'000);
  }
  head_stamp_size_ = head_.size();
  if (prefixes_.size() != names_.size()) build_prefixes();
  head_ += prefixes_[static_cast<std::size_t>(source < 0 ? 0 : source)];
  head_ += mark;
  head_ += ' ';
  head_source_ = source;
  head_mark_ = mark;
  head_ms_ = ms;
  return head_;
}

/// The line's TEXT after its prefix (a note dimmed, on colour), then its newline; its
/// plain form is kept and tapped. Without colour, the line made is the plain form.
void LogStream::complete(int source, char mark, std::string_view text) {
  if (!options_.color) {
    const std::size_t head = line_.size();
    line_ += text;
    keep(source, line_, mark == '*');
    if (redraws(mark, text)) {  // the history keeps it as it came; the terminal redraws
      line_.resize(head);
      append_redrawn(text);
    }
  } else {
    complete_coloured(source, mark, text);
  }
  line_ += '\n';
}

void LogStream::complete_coloured(int source, char mark, std::string_view text) {
  bool note = mark == '*';
  if (!history_.empty() || tap_) {
    plain_.assign(line_, 0, stamp_size_);
    plain_ += plain_prefixes_[static_cast<std::size_t>(source < 0 ? 0 : source)];
    plain_ += mark;
    plain_ += ' ';
    plain_ += text;
    keep(source, plain_, note);
  }
  if (note) fmt::format_to(std::back_inserter(line_), "\x1b[2m{}\x1b[0m", text);
  else if (redraws(mark, text)) append_redrawn(text);
  else line_ += text;
}

/// "name<pad> ", coloured, once per source: the hot path only copies it.
void LogStream::build_prefixes() {
  prefixes_.clear();
  plain_prefixes_.clear();
  for (std::size_t i = 0; i < names_.size(); ++i) {
    const std::string& name = names_[i];
    std::size_t pad = name.size() < width_ ? width_ - name.size() : 0;
    std::string plain = name;
    plain.append(pad + 1, ' ');
    if (options_.color) {
      const char* color = i == 0 ? "1" : kColors[i % std::size(kColors)];
      std::string p = fmt::format("\x1b[{}m{}\x1b[0m", color, name);
      p.append(pad + 1, ' ');
      prefixes_.push_back(std::move(p));
    } else {
      prefixes_.push_back(plain);
    }
    plain_prefixes_.push_back(std::move(plain));
  }
}

void LogStream::line(int source, std::string_view text, bool continued) {
  if (!out_ && !tap_ && history_.empty()) return;
  const char mark = continued ? '+' : '|';
  if (direct()) return direct_line(source, head(source, mark), text);
  prefix(source, mark);
  complete(source, mark, text);
  if (!out_) return;
  if (held_ && held_lines_.size() + text.size() > kHoldLimit) {
    dropped_while_held_ += text.size() + 1;
    return;
  }
  emit();
}

/// The hot path: no colour, nothing held, not a terminal (where a line can redraw
/// itself), so a line as written is its plain form. It is made once, in the outlet's
/// queue, and kept from there.
bool LogStream::direct() const { return out_ && !held_ && !options_.color && !prefix_after_cr_; }

void LogStream::direct_line(int source, const std::string& head, std::string_view text) {
  std::string_view made = out_->append_line(head, text);
  if (made.data() == nullptr) {  // dropped by the outlet (counted there), still kept
    line_.assign(head).append(text);
    made = line_;
  }
  keep(source, made, false);
  // A file takes it now: a read's lines past the outlet's bound are not dropped there.
  if (out_->pending() >= kFlushAt) out_->flush();
}

std::size_t LogStream::lines(int source, std::string_view lines, const std::function<bool(std::string_view)>& take) {
  std::string_view rest = lines;
  // One head for them all: they came in one read. Room for them all (were each line a
  // byte), or each is queued or dropped on its own.
  const bool direct = this->direct();
  const std::string* h = direct ? &head(source, '|') : nullptr;
  const bool room = direct && out_->make_room(lines.size() * (1 + h->size()));
  // Kept after the loop, from the queue: only those the history will hold.
  const bool keep_after = room && !(tap_ && tap_lines_);
  const std::size_t queued_before = room ? out_->queued() : 0;
  std::size_t count = 0;
  while (!rest.empty()) {
    const void* nl = std::memchr(rest.data(), '\n', rest.size());
    std::string_view text = rest.substr(0, nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - rest.data()) : rest.size());
    if (take && !take(text)) break;
    if (keep_after) out_->put_line(*h, text);
    else if (room) keep(source, out_->put_line(*h, text), false);
    else if (direct) direct_line(source, *h, text);
    else line(source, text);
    ++count;
    rest.remove_prefix(std::min(rest.size(), text.size() + 1));
  }
  if (keep_after) keep_last(source, out_->last_queued(out_->queued() - queued_before), count);
  if (direct && out_->pending() >= kFlushAt) out_->flush();
  return lines.size() - rest.size();
}

/// QUEUED: COUNT lines just queued for SOURCE, each with its newline. Each gets its
/// sequence number; the history keeps the last of them (those it would still hold had
/// each been kept in turn), so a read of many lines copies only those.
void LogStream::keep_last(int source, std::string_view queued, std::size_t count) {
  const std::size_t at = static_cast<std::size_t>(source < 0 ? 0 : source);
  if (at >= history_.size()) {
    seq_ += count;
    return;
  }
  LineRing& ring = history_[at];
  const std::size_t skip = count > ring.max_lines() ? count - ring.max_lines() : 0;
  std::size_t from = 0;  // where the first line kept starts: found from the end
  if (skip > 0) {
    from = queued.size();
    for (std::size_t i = 0; i < count - skip; ++i) {
      const void* nl = ::memrchr(queued.data(), '\n', from - 1);  // the newline before this line
      from = static_cast<std::size_t>(static_cast<const char*>(nl) - queued.data()) + 1;
    }
  }
  seq_ += skip;
  for (std::string_view rest = queued.substr(from); !rest.empty();) {
    std::size_t nl = rest.find('\n');
    ring.push(rest.substr(0, nl), ++seq_);
    rest.remove_prefix(nl + 1);
  }
}

/// Whether a node's line TEXT redraws itself on the terminal it goes to.
bool LogStream::redraws(char mark, std::string_view text) const {
  return prefix_after_cr_ && mark != '*' && text.find('\r') != std::string_view::npos;
}

/// TEXT with the prefix again after each carriage return that more text follows:
/// "10%\r20%" shows as "web | 10%\rweb | 20%", each redraw keeping its prefix.
void LogStream::append_redrawn(std::string_view text) {
  const std::string head = line_;  // what prefix() made: time, name, mark
  for (std::size_t cr; (cr = text.find('\r')) != std::string_view::npos && cr + 1 < text.size();) {
    line_.append(text.substr(0, cr + 1));
    line_ += head;
    text.remove_prefix(cr + 1);
  }
  line_.append(text);
}

void LogStream::note(int source, std::string_view text) {
  if (!out_ && !tap_ && history_.empty()) return;
  prefix(source, '*');
  complete(source, '*', text);
  if (out_) emit();
}

/// The line made goes out whole: held back, or to the outlet (written in batches).
void LogStream::emit() {
  if (held_) {
    held_lines_ += line_;
    return;
  }
  out_->append(line_);
  if (out_->pending() >= kFlushAt) out_->flush();
}

void LogStream::hold(bool on) {
  held_ = on;
  if (on || !out_) return;
  // Line by line: the outlet keeps or drops each whole.
  std::string_view rest = held_lines_;
  while (!rest.empty()) {
    std::size_t end = rest.find('\n');
    end = end == std::string_view::npos ? rest.size() : end + 1;
    out_->append(rest.substr(0, end));
    rest.remove_prefix(end);
  }
  held_lines_.clear();
  if (dropped_while_held_) {
    std::size_t dropped = dropped_while_held_;
    dropped_while_held_ = 0;
    note(-1, fmt::format("{} bytes of log lines were dropped while a node held the terminal", dropped));
  }
  flush();
}

void LogStream::flush() {
  if (out_ && !held_) out_->flush();
}

bool LogStream::wait_for_room(const std::function<void()>& resume) {
  if (!out_ || held_ || !out_->full()) return false;
  out_->when_room(resume);
  return true;
}

std::size_t LogStream::read_budget(int source, const std::function<void()>& resume) {
  if (wait_for_room(resume)) return 0;
  if (!out_ || held_ || out_->takes_all()) return SIZE_MAX;
  constexpr std::size_t kColourEnd = 16;  // a coloured line's reset, and room to spare
  const std::size_t per_byte = 1 + head(source, '|').size() + kColourEnd;
  const std::size_t room = kOutletLimit - std::min(kOutletLimit, out_->pending());
  return std::max<std::size_t>(1, room / per_byte);
}

void LogStream::wake_waiters() {
  if (out_) out_->wake_waiters();
}

}  // namespace treerun
