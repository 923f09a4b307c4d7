#include "spec/diagnostics.h"

#include <algorithm>
#include <tuple>

namespace treerun {

std::string Diagnostic::str() const {
  if (pos.line <= 0) return pos.file + ": " + message;
  return pos.file + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.col) + ": " +
         message;
}

void Diagnostics::add(SourcePos pos, std::string message) {
  if (items_.size() > kMax) return;
  if (items_.size() == kMax) message = "too many problems: stopping after " + std::to_string(kMax);
  items_.push_back({std::move(pos), std::move(message)});
}

std::vector<Diagnostic> Diagnostics::sorted() const {
  std::vector<Diagnostic> out = items_;
  std::stable_sort(out.begin(), out.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.pos.file, a.pos.line, a.pos.col, a.message) <
           std::tie(b.pos.file, b.pos.line, b.pos.col, b.message);
  });
  // The same problem reached twice (an alias used in two places) is said once.
  out.erase(std::unique(out.begin(), out.end(),
                        [](const Diagnostic& a, const Diagnostic& b) { return a.str() == b.str(); }),
            out.end());
  return out;
}

std::string shorten(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  return std::string(text.substr(0, max)) + "...";
}

std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t cap) {
  std::size_t diff = a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
  if (diff > cap || a.size() > 64 || b.size() > 64) return cap + 1;  // keys are short
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return std::min(row[b.size()], cap + 1);
}

std::string_view closest(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string_view best;
  std::size_t best_d = 3;
  for (auto c : candidates) {
    std::size_t d = edit_distance(word, c, 2);
    if (d < best_d) best_d = d, best = c;
  }
  return best;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string_view best = closest(word, candidates);
  if (best.empty()) return "";
  return " (did you mean `" + std::string(best) + "`?)";
}

}  // namespace treerun
