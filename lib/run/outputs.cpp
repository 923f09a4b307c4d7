// treerun's own outputs (treerun(1), SEMANTICS › Outputs): stdout, stderr, --logs FILE
// and --events FILE. Each is an Outlet (io/outlet.h), which never blocks the loop: a
// reader that stalls holds back only the nodes' log lines, and only while nothing is
// stopping; a failure is said once where it can still be read; what was dropped is
// counted in the `done` event.
#include <unistd.h>

#include <fmt/format.h>

#include "run/supervisor.h"

namespace treerun {

/// The outlets, then the log stream on one of them. A file that cannot be opened is
/// treerun's own failure before anything started (125).
void Supervisor::open_outputs() {
  stdout_ = Outlet::inherited(io_, STDOUT_FILENO, "stdout");
  // One file for both (`2>&1`, one terminal): one outlet, so their lines keep one order.
  stderr_ = same_file(STDOUT_FILENO, STDERR_FILENO) ? stdout_ : Outlet::inherited(io_, STDERR_FILENO, "stderr");
  LogStream::Options log;
  log.color = options_.color;
  log.timestamps = options_.timestamps;
  log.history_lines = kLogHistoryLines;  // for the control socket's `logs`
  log.history_bytes = kLogHistoryBytes;
  switch (options_.logs.type) {
    case LogTarget::Type::stdout_: log.out = stdout_; break;
    case LogTarget::Type::stderr_: log.out = stderr_; break;
    case LogTarget::Type::none: break;
    case LogTarget::Type::file:
      log.out = logs_file_ = open_own_file(options_.logs.path, true, "logs", "the log file");
      break;
  }
  log_ = std::make_unique<LogStream>(std::move(log));
  if (!options_.events_path.empty())
    events_.set_output(open_own_file(options_.events_path, false, "events", "the event log"));
  for (Outlet* o : outlets()) o->on_failure([this, o](const std::string& why) { output_failed(*o, why); });
}

/// PATH as the outlet NAME; WHAT names it in the error.
std::shared_ptr<Outlet> Supervisor::open_own_file(const std::string& path, bool append, const char* name,
                                                  const char* what) {
  std::error_code ec;
  auto outlet = Outlet::open(io_, path, append, name, ec);
  if (ec) throw std::system_error(ec, fmt::format("cannot open {} {}", what, path));
  return outlet;
}

/// Every outlet once.
std::vector<Outlet*> Supervisor::outlets() const {
  std::vector<Outlet*> all{stdout_.get()};
  if (stderr_ != stdout_) all.push_back(stderr_.get());
  if (logs_file_) all.push_back(logs_file_.get());
  if (events_.outlet()) all.push_back(events_.outlet());
  return all;
}

std::string Supervisor::describe(const Outlet& o) const {
  if (&o == logs_file_.get()) return "the log stream to " + options_.logs.path;
  if (&o == events_.outlet()) return "the event log " + options_.events_path;
  return o.name();
}

/// Said once, where a person can still read it: on stderr, or in the log stream when
/// stderr is what failed. With neither, only the `done` event counts what was lost.
void Supervisor::output_failed(const Outlet& o, const std::string& why) {
  std::string what = fmt::format("cannot write {} ({}): what goes there is dropped", describe(o), why);
  to_console("treerun: " + what + "\n");
  if (&o != stderr_.get() && !stderr_->broken()) stderr_->write("treerun: " + what + "\n");
  else if (log_->outlet() && log_->outlet() != &o) log_->note(-1, what);
}

/// A node's lines may wait for a slow log reader (backpressure through its pipe) only
/// while it runs undisturbed: not before it is ready (a `log:` probe must see its lines),
/// nor once anything stops it or the run (a node being stopped must never block on its
/// log pipe). Otherwise its lines are read, and dropped past the outlet's bound.
bool Supervisor::may_hold_back(NodeId id) const {
  const Node& n = nodes_[id];
  return n.run.was_ready && !n.run.stop_sent() && !n.cancelled && !nodes_[0].cancelled;
}

/// What a stream's reader of ID's output asks before each read (LogCopy).
std::function<bool(const std::function<void()>&)> Supervisor::hold_back(NodeId id) {
  return [this, id](const std::function<void()>& resume) { return may_hold_back(id) && log_->wait_for_room(resume); };
}

/// What a reader of ID's log pipe asks before each read (LineReader): a read of 256 KiB
/// of short lines, each given its head, could pass the bound by itself.
std::function<std::size_t(const std::function<void()>&)> Supervisor::read_budget(NodeId id) {
  return [this, id](const std::function<void()>& resume) {
    return may_hold_back(id) ? log_->read_budget(nodes_[id].log_source, resume) : SIZE_MAX;
  };
}

/// The end of the run: the summary and the last lines go out, then `done` with what was
/// dropped. All of it within the root's grace: a reader that stalls does not keep
/// treerun alive, and a stop signal now drops what is left at once.
void Supervisor::finish_outputs(int code, double duration) {
  run_timer_.cancel();
  progress_timer_.cancel();
  sweep_timer_.cancel();
  auto deadline = Clock::now() + plan_.root().grace;
  print_summary(code, duration);
  log_->flush();
  std::vector<Outlet*> others = outlets();
  std::erase(others, events_.outlet());
  drain(others, deadline);
  EventLog::Dropped dropped;
  for (Outlet* o : outlets())
    if (o->dropped()) dropped.emplace_back(o->name(), o->dropped());
  events_.done(code, duration, dropped);
  end_feeds(code);  // the control socket's clients are answered while the last bytes go
  drain({events_.outlet()}, deadline);
}

/// Runs the loop until OUTLETS have written everything, or until DEADLINE; what is
/// left then is dropped (counted).
void Supervisor::drain(const std::vector<Outlet*>& outlets, Clock::time_point deadline) {
  if (io_.stopped()) io_.restart();
  for (;;) {
    bool idle = true;
    for (Outlet* o : outlets)
      if (o) {
        o->flush();
        idle = idle && o->idle();
      }
    if (idle || outputs_abandoned_ || Clock::now() >= deadline) break;
    io_.run_one_until(deadline);
  }
  // A failure met by the last writes is said now: its report, posted, would not run.
  for (Outlet* o : outlets)
    if (o) o->report_now();
  for (Outlet* o : outlets)
    if (o && o != events_.outlet()) o->flush();
  for (Outlet* o : outlets)
    if (o) o->drop_pending();
}

}  // namespace treerun
