// treerun's own signal policy, in one place: which signals cancel a run, how they are
// held from the first instruction until the run listens, what treerun ignores while
// it runs, and how it dies by a signal at the end. (What children get back is the
// launcher's: it resets every disposition treerun changed.)
#pragma once

#include <signal.h>

namespace treerun {

/// SIGINT, SIGTERM and SIGHUP: the signals that cancel a run.
sigset_t stop_signals();

/// From the first instruction on, a ctrl-c is kept pending, not lost and not fatal: the
/// run takes it as its first event and cancels a run that has started nothing. An
/// ignored signal is discarded even while blocked, and a shell starts background jobs
/// with SIGINT ignored, so the three get their default disposition too.
void hold_stop_signals();
/// Lets the held stop signals in (the run listens for them now, or nothing runs).
void release_stop_signals();
/// A reader that went away is an EPIPE to handle, not our death (SIGPIPE); handing the
/// terminal over and back must not stop us (SIGTTOU). Before the launcher is made, so
/// that it gives children the default back.
void ignore_run_signals();

/// Dies the way we were asked to, so a calling shell sees a death by SIGINT and stops
/// its script, as it would for any well-behaved program.
[[noreturn]] void die_by(int sig);

}  // namespace treerun
