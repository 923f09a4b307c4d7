#include "base/units.h"

#include <csignal>
#include <cstdint>
#include <string>

namespace treerun {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

/// Reads digits into an unsigned value; false on overflow or no digits.
bool read_uint(std::string_view& s, std::uint64_t& out, std::size_t& ndigits) {
  out = 0;
  ndigits = 0;
  while (!s.empty() && is_digit(s.front())) {
    if (__builtin_mul_overflow(out, 10u, &out) ||
        __builtin_add_overflow(out, std::uint64_t(s.front() - '0'), &out))
      return false;
    s.remove_prefix(1);
    ++ndigits;
  }
  return ndigits > 0;
}

std::optional<std::int64_t> unit_ms(std::string_view unit) {
  if (unit == "ms") return 1;
  if (unit == "s" || unit.empty()) return 1000;
  if (unit == "m") return 60'000;
  if (unit == "h") return 3'600'000;
  return std::nullopt;
}

/// One "NUMBER[.FRACTION]UNIT" segment, in milliseconds (fractions of a ms round
/// down: nobody means 0.4ms in a process supervisor).
/// OVERFLOW: the segment is well formed but its value is past int64 (then empty).
std::optional<std::int64_t> parse_segment(std::string_view& s, bool allow_bare, bool& overflow) {
  std::uint64_t whole = 0;
  std::size_t nd = 0;
  if (!read_uint(s, whole, nd)) {
    if (nd == 0) return std::nullopt;
    // Too many digits: skip the rest of them, and say so only if the unit is good.
    while (!s.empty() && is_digit(s.front())) s.remove_prefix(1);
    whole = UINT64_MAX;
  }
  std::uint64_t frac = 0, scale = 1;
  if (!s.empty() && s.front() == '.') {
    s.remove_prefix(1);
    while (!s.empty() && is_digit(s.front())) {
      if (scale < 1'000'000'000'000ull) {  // further digits cannot matter at ms precision
        frac = frac * 10 + std::uint64_t(s.front() - '0');
        scale *= 10;
      }
      s.remove_prefix(1);
    }
  }
  std::size_t ulen = 0;
  while (ulen < s.size() && !is_digit(s[ulen]) && s[ulen] != '.') ++ulen;
  std::string_view unit = s.substr(0, ulen);
  if (unit.empty() && !allow_bare) return std::nullopt;
  auto per = unit_ms(unit);
  if (!per) return std::nullopt;
  s.remove_prefix(ulen);
  std::int64_t ms = 0;
  if (whole > std::uint64_t(INT64_MAX) ||
      __builtin_mul_overflow(std::int64_t(whole), *per, &ms)) {
    overflow = true;
    return std::nullopt;
  }
  if (__builtin_add_overflow(ms, std::int64_t(frac * std::uint64_t(*per) / scale), &ms)) {
    overflow = true;
    return std::nullopt;
  }
  return ms;
}

}  // namespace

std::optional<Millis> parse_duration(std::string_view text, bool* too_long) {
  if (too_long) *too_long = false;
  if (text.empty() || !is_digit(text.front())) return std::nullopt;  // also rejects "-1s"
  // A bare number is seconds, but only alone: "1m30" is more likely a typo than 1m30s.
  bool bare = text.find_first_not_of("0123456789.") == std::string_view::npos;
  std::string_view s = text;
  std::int64_t total = 0;
  bool overflow = false;
  while (!s.empty()) {
    bool seg_overflow = false;
    auto seg = parse_segment(s, bare, seg_overflow);
    if (!seg && !seg_overflow) return std::nullopt;
    // Past int64 is past the bound too; read on, so "1xh" is still called malformed.
    overflow = overflow || seg_overflow || __builtin_add_overflow(total, *seg, &total);
  }
  if (overflow || total > kMaxDuration.count()) {
    if (too_long) *too_long = true;
    return std::nullopt;
  }
  return Millis(total);
}

std::optional<std::size_t> parse_size(std::string_view text) {
  std::string_view s = text;
  std::uint64_t n = 0;
  std::size_t nd = 0;
  if (!read_uint(s, n, nd)) return std::nullopt;
  std::uint64_t mult = 1;
  if (s == "KiB") mult = 1ull << 10;
  else if (s == "MiB") mult = 1ull << 20;
  else if (s == "GiB") mult = 1ull << 30;
  else if (!s.empty()) return std::nullopt;
  std::uint64_t out = 0;
  if (__builtin_mul_overflow(n, mult, &out) || out > SIZE_MAX) return std::nullopt;
  return std::size_t(out);
}

namespace {

struct SigName {
  int num;
  const char* name;  // without "SIG"
};

// Linux numbering (x86, arm, riscv share it); a table rather than sigabbrev_np so
// the names are the same everywhere and in the tests.
constexpr SigName kSignals[] = {
    {1, "HUP"},     {2, "INT"},     {3, "QUIT"},  {4, "ILL"},    {5, "TRAP"},
    {6, "ABRT"},    {7, "BUS"},     {8, "FPE"},   {9, "KILL"},   {10, "USR1"},
    {11, "SEGV"},   {12, "USR2"},   {13, "PIPE"}, {14, "ALRM"},  {15, "TERM"},
    {16, "STKFLT"}, {17, "CHLD"},   {18, "CONT"}, {19, "STOP"},  {20, "TSTP"},
    {21, "TTIN"},   {22, "TTOU"},   {23, "URG"},  {24, "XCPU"},  {25, "XFSZ"},
    {26, "VTALRM"}, {27, "PROF"},   {28, "WINCH"}, {29, "IO"},   {30, "PWR"},
    {31, "SYS"},    {6, "IOT"},     {29, "POLL"}, {17, "CLD"},
};

constexpr int kMaxSignal = 64;

int rtmin() { return SIGRTMIN; }  // 34 under glibc, which keeps two for itself
int rtmax() { return SIGRTMAX; }

std::optional<int> parse_number(std::string_view s) {
  std::uint64_t n = 0;
  std::size_t nd = 0;
  if (!read_uint(s, n, nd) || !s.empty()) return std::nullopt;
  return n <= std::uint64_t(kMaxSignal) ? std::optional<int>(int(n)) : std::nullopt;
}

/// "RTMIN", "RTMIN+3", "RTMAX-1".
std::optional<int> parse_realtime(std::string_view s) {
  int base = 0, sign = 1;
  if (iequals(s.substr(0, 5), "RTMIN")) base = rtmin();
  else if (iequals(s.substr(0, 5), "RTMAX")) base = rtmax(), sign = -1;
  else return std::nullopt;
  s.remove_prefix(5);
  if (s.empty()) return base;
  if (s.front() != (sign > 0 ? '+' : '-')) return std::nullopt;
  auto off = parse_number(s.substr(1));
  if (!off) return std::nullopt;
  int sig = base + sign * *off;
  return (sig >= rtmin() && sig <= rtmax()) ? std::optional<int>(sig) : std::nullopt;
}

}  // namespace

std::optional<int> parse_signal(std::string_view text) {
  std::string_view s = text;
  if (s.size() > 3 && iequals(s.substr(0, 3), "SIG")) s.remove_prefix(3);
  if (!s.empty() && is_digit(s.front())) {  // "15", or "SIG32" as signal_name spells unnamed ones
    auto n = parse_number(s);
    return (n && *n >= 1) ? n : std::nullopt;
  }
  for (const auto& e : kSignals)
    if (iequals(s, e.name)) return e.num;
  return parse_realtime(s);
}

std::vector<std::string> signal_names() {
  std::vector<std::string> out;
  for (const auto& e : kSignals) out.push_back(std::string("SIG") + e.name);
  out.push_back("SIGRTMIN");
  out.push_back("SIGRTMAX");
  return out;
}

std::string signal_name(int sig) {
  for (const auto& e : kSignals)
    if (e.num == sig) return std::string("SIG") + e.name;
  if (sig >= rtmin() && sig <= rtmax())
    return sig == rtmin() ? "SIGRTMIN" : "SIGRTMIN+" + std::to_string(sig - rtmin());
  return "SIG" + std::to_string(sig);
}

std::string format_duration(Millis d) {
  std::int64_t ms = d.count();
  if (ms < 0) return "-" + format_duration(Millis(-ms));
  if (ms == 0) return "0s";
  if (ms < 1000) return std::to_string(ms) + "ms";
  std::string out;
  std::int64_t h = ms / 3'600'000, m = ms / 60'000 % 60, rest = ms % 60'000;
  if (h) out += std::to_string(h) + "h";
  if (m) out += std::to_string(m) + "m";
  if (rest) {
    out += std::to_string(rest / 1000);
    if (std::int64_t frac = rest % 1000) {
      std::string f = std::to_string(1000 + frac).substr(1);  // zero-padded to 3
      while (f.back() == '0') f.pop_back();
      out += "." + f;
    }
    out += "s";
  }
  return out;
}

}  // namespace treerun
