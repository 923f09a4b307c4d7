#include "proc/terminal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cassert>

namespace treerun {

TerminalLock::TerminalLock() {
  UniqueFd tty(::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!tty) return;
  own_pgrp_ = ::getpgrp();
  // In the background (`treerun up &`), the terminal belongs to the shell's foreground
  // job: it is not ours to lend, and taking it back later would steal it.
  if (::tcgetpgrp(tty.get()) != own_pgrp_) return;
  termios t{};
  if (::tcgetattr(tty.get(), &t) == 0) modes_ = t;
  tty_ = std::move(tty);
}

TerminalLock::~TerminalLock() {
  assert(!holder_ && "TerminalLock destroyed while a node holds the terminal: release() it first");
  if (tty_ && modes_) ::tcsetattr(tty_.get(), TCSADRAIN, &*modes_);
}

bool TerminalLock::acquire(Ticket id, std::function<void()> go) {
  if (!holder_ && waiting_.empty()) {
    holder_ = id;
    return true;
  }
  waiting_.emplace_back(id, std::move(go));
  return false;
}

void TerminalLock::release(Ticket id) {
  if (holder_ != id) return;
  holder_.reset();
  // SIGTTOU is ignored (proc/signals.h), so taking the foreground back from the
  // background cannot stop us; the modes go back to what they were before the node
  // (a debugger may leave the terminal raw). No race with the node here: its process
  // has exited (or never started); what it left in its group loses the foreground.
  ::tcsetpgrp(tty_.get(), own_pgrp_);
  if (modes_) ::tcsetattr(tty_.get(), TCSADRAIN, &*modes_);
}

void TerminalLock::hand_on() {
  if (holder_ || waiting_.empty()) return;
  auto [next, go] = std::move(waiting_.front());
  waiting_.pop_front();
  holder_ = next;
  go();
}

void TerminalLock::forget(Ticket id) {
  std::erase_if(waiting_, [id](const auto& w) { return w.first == id; });
}

}  // namespace treerun
