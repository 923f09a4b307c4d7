// base/ owns the vocabulary every layer may use: durations, sizes and signal names
// (here), commands (command.h), exit statuses, file descriptors (fd.h) and cycle
// finding (graph.h). It includes nothing of treerun's but base/ itself: no spec, plan,
// process or run, so anything here must mean the same to every layer.
//
// This file: the units a spec is written in, durations, sizes and signal names.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace treerun {

using Millis = std::chrono::milliseconds;

/// The longest duration a spec or the command line may say: 100 years (876000h). A
/// deadline of now + this stays far inside every clock's range (a steady_clock in
/// nanoseconds overflows past 292 years), so no timer can wrap and fire at once.
inline constexpr Millis kMaxDuration = std::chrono::hours(24 * 365 * 100);
inline constexpr std::string_view kMaxDurationText = "100 years (876000h)";

/// "250ms", "1.5s", "2m", "1h", "1m30s", "3" (a bare number is seconds). Rejects
/// negative, empty, garbage and anything longer than kMaxDuration; TOO_LONG (if given)
/// is set when the text is well formed and only its length is the problem.
std::optional<Millis> parse_duration(std::string_view text, bool* too_long = nullptr);

/// "1024" (bytes), "64KiB", "1MiB", "2GiB". Rejects fractions and overflow.
std::optional<std::size_t> parse_size(std::string_view text);

/// "SIGTERM", "TERM", "term", "15", "SIGRTMIN+2". Returns 1..64.
std::optional<int> parse_signal(std::string_view text);

/// Every signal name parse_signal reads, with the SIG prefix ("SIGHUP" ... "SIGRTMAX"),
/// for suggestions.
std::vector<std::string> signal_names();

/// 15 -> "SIGTERM"; 35 -> "SIGRTMIN+1"; one we have no name for -> "SIG<n>".
std::string signal_name(int sig);

/// The shortest spelling parse_duration reads back: 250ms, 1.5s, 2m, 1m30s, 1h.
std::string format_duration(Millis d);

}  // namespace treerun
