// Reads a pipe that treerun owns and cuts it into lines, for the log stream and the
// `log:` probe. A line longer than the limit is passed on in pieces, each whole, the
// later ones marked as continuing it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/fd.h"
#include "io/line_cutter.h"

namespace treerun {

class LineReader : public std::enable_shared_from_this<LineReader> {
 public:
  struct Callbacks {
    LineCutter::OnLine on_line;
    LineCutter::OnLines on_lines;  // optional: runs of whole lines at once (LineCutter)
    std::function<void()> after_batch;  // once per read, after its lines
    std::function<void()> on_eof;       // after the last line; the reader is closed
    /// Before each read: how many bytes the lines may come from now; 0 when they have
    /// nowhere to go yet (a slow log reader): the bytes then wait in the pipe
    /// (backpressure) until RESUME is called. None: a whole buffer each time.
    std::function<std::size_t(const std::function<void()>& resume)> read_budget;
  };

  LineReader(boost::asio::io_context& io, UniqueFd fd, std::size_t max_line, Callbacks callbacks);
  void start();
  /// Stops reading and closes the pipe (a descendant that kept it open gets EPIPE).
  void close();
  /// Whether bytes or EOF are waiting to be read: when not, whoever still holds the
  /// write end is alive and quiet.
  bool readable() const;
  bool open() const { return descriptor_.is_open(); }
  /// The last bytes seen, for the summary's "last lines".
  const std::string& tail() const { return lines_.tail(); }

 private:
  void read_some();
  void read_ready();
  void finish();

  boost::asio::posix::stream_descriptor descriptor_;
  Callbacks cb_;
  LineCutter lines_;
  bool grown_ = false;  // its pipe, once found busy
  std::size_t pipe_size_ = 64 * 1024;  // what a read can get at most: the pipe's size
};

}  // namespace treerun
