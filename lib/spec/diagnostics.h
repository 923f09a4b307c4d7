// Problems found in a spec, each pointing at a file, line and column.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "spec/settings.h"

namespace treerun {

struct Diagnostic {
  SourcePos pos;
  std::string message;
  /// "FILE:LINE:COL: message" ("FILE: message" when the line is unknown).
  std::string str() const;
};

/// Collects every problem, so `check` can print them all at once (up to a cap, so a
/// hostile spec cannot make millions of them).
class Diagnostics {
 public:
  static constexpr std::size_t kMax = 10'000;
  void add(SourcePos pos, std::string message);
  bool empty() const { return items_.empty(); }
  std::size_t size() const { return items_.size(); }
  /// In order of appearance: file, line, column (then message, for a stable order).
  std::vector<Diagnostic> sorted() const;

 private:
  std::vector<Diagnostic> items_;
};

/// TEXT, cut to MAX bytes with "..." so a hostile value cannot flood a message.
std::string shorten(std::string_view text, std::size_t max = 60);

/// Levenshtein distance, capped: returns cap + 1 once it is certain to exceed cap.
std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t cap = 2);

/// The closest of CANDIDATES to WORD within 2 edits, else "".
std::string_view closest(std::string_view word, const std::vector<std::string_view>& candidates);

/// " (did you mean `X`?)" for the closest of CANDIDATES within 2 edits, else "".
std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace treerun
