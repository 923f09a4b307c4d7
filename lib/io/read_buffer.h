// One read buffer for every pipe treerun reads itself: the loop runs one handler at a
// time, and a buffer per pipe would cost 64 KiB of memory for each of hundreds of nodes.
#pragma once

#include <array>

namespace treerun {

inline std::array<char, 64 * 1024>& scratch_buffer() {
  static std::array<char, 64 * 1024> buffer;
  return buffer;
}

/// The same for the log stream's pipes (LineReader), larger: a busy pipe (grown to 1 MiB)
/// gives a quarter of itself per read, so that the lines of one read are many (fewer
/// reads, writes and history copies: io/log_stream.h), for 256 KiB of memory once.
inline std::array<char, 256 * 1024>& log_read_buffer() {
  static std::array<char, 256 * 1024> buffer;
  return buffer;
}

}  // namespace treerun
