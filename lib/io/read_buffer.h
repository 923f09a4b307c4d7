// One read buffer for every pipe treerun reads itself: the loop runs one handler at a
// time, and a buffer per pipe would cost 64 KiB of memory for each of hundreds of nodes.
#pragma once

#include <array>

namespace treerun {

inline std::array<char, 64 * 1024>& scratch_buffer() {
  static std::array<char, 64 * 1024> buffer;
  return buffer;
}

}  // namespace treerun
