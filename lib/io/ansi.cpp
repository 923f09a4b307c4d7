#include "io/ansi.h"

namespace treerun {
namespace {

constexpr char kEsc = '\x1b';
constexpr char kBel = '\x07';

bool in(char c, int lo, int hi) { return static_cast<unsigned char>(c) >= lo && static_cast<unsigned char>(c) <= hi; }

/// The end of a control string (OSC, DCS, ...) that starts at I: past its BEL or ST.
std::size_t skip_string(std::string_view t, std::size_t i) {
  for (; i < t.size(); ++i) {
    if (t[i] == kBel) return i + 1;
    if (t[i] == kEsc && i + 1 < t.size() && t[i + 1] == '\\') return i + 2;
  }
  return t.size();
}

/// The end of the escape sequence whose ESC is at I.
std::size_t skip_sequence(std::string_view t, std::size_t i) {
  std::size_t j = i + 1;
  if (j >= t.size()) return j;
  char kind = t[j++];
  if (kind == '[') {  // CSI: parameters, intermediates, one final byte
    while (j < t.size() && in(t[j], 0x20, 0x3f)) ++j;
    return j < t.size() && in(t[j], 0x40, 0x7e) ? j + 1 : t.size();
  }
  if (kind == ']' || kind == 'P' || kind == 'X' || kind == '^' || kind == '_') return skip_string(t, j);
  while (in(kind, 0x20, 0x2f) && j < t.size()) kind = t[j++];  // `ESC ( B` and the like
  return j;
}

}  // namespace

bool has_escapes(std::string_view text) { return text.find(kEsc) != std::string_view::npos; }

namespace {

/// TEXT without its escape sequences, except the colours when KEEP_COLOURS.
std::string filter_escapes(std::string_view text, bool keep_colours) {
  std::string out;
  out.reserve(text.size() + 4);
  bool coloured = false;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t esc = text.find(kEsc, i);
    if (esc == std::string_view::npos) esc = text.size();
    out.append(text.substr(i, esc - i));
    if (esc == text.size()) break;
    i = skip_sequence(text, esc);
    std::string_view seq = text.substr(esc, i - esc);
    if (keep_colours && seq.size() >= 3 && seq[1] == '[' && seq.back() == 'm') {
      out.append(seq);
      coloured = true;
    }
  }
  if (coloured) out.append("\x1b[0m");
  return out;
}

}  // namespace

std::string strip_escapes(std::string_view text) { return filter_escapes(text, false); }

std::string keep_colours(std::string_view text) { return filter_escapes(text, true); }

}  // namespace treerun
