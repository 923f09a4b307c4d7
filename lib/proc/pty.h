// A pseudo-terminal of a node's own (`pty: true`, treerun(1) › pty): programs that
// block-buffer or drop their colours when stdout is not a terminal behave as in a
// shell. It is not the tty lock (terminal.h): the node does not get it as its
// controlling terminal (it is not a session leader, and the slave is opened with
// O_NOCTTY), it only writes to it; treerun reads the master as it reads a log pipe.
#pragma once

#include <sys/ioctl.h>

#include <system_error>

#include "base/fd.h"

namespace treerun {

struct PtyPair {
  UniqueFd master;  // treerun reads the node's output here; EIO once every writer is gone
  UniqueFd slave;   // the node's stdout and stderr
};

/// A new pseudo-terminal, both ends close-on-exec, of SIZE, whose output keeps "\n" as
/// it is (no "\r\n": a log line must not end in a carriage return).
PtyPair open_pty(const winsize& size, std::error_code& ec);

/// The window size the nodes' terminals get: treerun's own terminal's when it has one
/// (stdout, stderr or stdin), else 80 columns by 24 rows.
winsize pty_window_size();

}  // namespace treerun
