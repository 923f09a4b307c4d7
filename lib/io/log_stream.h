// The merged log stream: every node's lines, each whole and prefixed with the node's
// name, plus treerun's own lines (started, ready, stopping, exited), set apart.
//
// Lines are appended to one buffer and written with one write() per batch, so no line
// is ever split or interleaved with another, whatever the number of producers.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "base/fd.h"

namespace treerun {

class LogStream {
 public:
  struct Options {
    int fd = -1;         // where lines go; -1: nowhere (the log stream is off)
    UniqueFd owned;      // set when FD is a file opened for the log stream
    bool color = false;        // decided by the caller: a terminal, no --no-color, no NO_COLOR
    bool timestamps = false;
  };

  explicit LogStream(Options options);
  ~LogStream();
  LogStream(const LogStream&) = delete;
  LogStream& operator=(const LogStream&) = delete;

  /// Registers a prefix; returns its id. Call for every name before the run starts,
  /// so the names line up.
  int add_source(std::string name);
  /// One line of a node's output, without its newline.
  void line(int source, std::string_view text);
  /// One of treerun's own lines, about SOURCE (-1: about the run).
  void note(int source, std::string_view text);
  /// Writes what is buffered. Called after each batch of input.
  void flush();
  bool enabled() const { return fd_ >= 0; }
  /// The fd lines go to, or -1.
  int fd() const { return fd_; }
  /// Holds lines back (bounded) instead of writing them; release() writes them.
  void hold(bool on);

 private:
  void prefix(int source, char mark);
  void build_prefixes();

  Options options_;
  int fd_ = -1;
  std::vector<std::string> names_;
  std::vector<std::string> prefixes_;
  std::size_t width_ = 0;
  std::string buf_;
  bool held_ = false;
  std::size_t dropped_while_held_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace treerun
