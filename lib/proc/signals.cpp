#include "proc/signals.h"

#include <unistd.h>

#include <cstdio>
#include <initializer_list>

namespace treerun {

sigset_t stop_signals() {
  sigset_t stops;
  sigemptyset(&stops);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&stops, sig);
  return stops;
}

void hold_stop_signals() {
  sigset_t stops = stop_signals();
  sigprocmask(SIG_BLOCK, &stops, nullptr);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::signal(sig, SIG_DFL);
}

void release_stop_signals() {
  sigset_t stops = stop_signals();
  sigprocmask(SIG_UNBLOCK, &stops, nullptr);
}

void ignore_run_signals() {
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGTTOU, SIG_IGN);
}

void die_by(int sig) {
  std::fflush(nullptr);
  ::signal(sig, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_UNBLOCK, &set, nullptr);
  ::raise(sig);
  _exit(128 + sig);
}

}  // namespace treerun
