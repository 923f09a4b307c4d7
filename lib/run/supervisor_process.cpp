// A node's own process: spawning it with its streams, collecting its exit, and
// draining its output before the exit is reported.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>

#include "probes/probe.h"
#include "run/supervisor_impl.h"
#include "base/units.h"

namespace treerun {
namespace {

UniqueFd open_output_file(const OutputSpec& out, std::error_code& ec) {
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (out.append ? O_APPEND : O_TRUNC);
  UniqueFd fd(::open(out.path.c_str(), flags, 0644));
  if (!fd) ec.assign(errno, std::system_category());
  return fd;
}

/// True when a stop for this node could still come after a restart, so the stream
/// ends it is given must outlive one incarnation.
bool restartable(const Plan& plan, NodeId id) {
  for (std::optional<NodeId> at = id; at; at = plan[*at].parent)
    if (plan[*at].on_failure == OnFailure::restart) return true;
  return false;
}

}  // namespace

void Supervisor::open_log_pipe(NodeId id, int& child_fd, UniqueFd& keep, std::error_code& ec) {
  Pipe p = make_pipe(ec);
  if (ec) return;
  NodeState& n = nodes_[id];
  LineReader::Callbacks cb;
  cb.on_line = [this, id](std::string_view line) { output_line(id, line); };
  cb.after_batch = [this, id] {
    log_->flush();
    // Drained while a process outside the group keeps the pipe open: report now.
    if (!nodes_[id].proc.alive && !nodes_[id].proc.exit_reported) maybe_report_exit(id);
  };
  cb.on_eof = [this, id] { on_pipe_eof(id); };
  auto reader = std::make_shared<LineReader>(io_, std::move(p.read), kMaxLogLine, std::move(cb));
  n.readers.push_back(reader);
  n.proc.open_pipes++;
  reader->start();
  child_fd = p.write.get();
  keep = std::move(p.write);
}

void Supervisor::output_line(NodeId id, std::string_view line) {
  log_->line(nodes_[id].log_source, line);
  if (auto& probe = nodes_[id].probe) probe->on_line(line);
}

/// Where this incarnation's stdout or stderr goes. Ends made here are closed in the
/// parent right after the spawn, so that EOF on them means the node (and all it left
/// behind) is done writing. Returns an error message, or "".
std::string Supervisor::wire_output(NodeId id, const OutputSpec& out, bool is_stderr, int& fd, OutputEnds& ends) {
  NodeState& n = nodes_[id];
  if (UniqueFd& stream_end = is_stderr ? n.stderr_end : n.stdout_end) {
    fd = stream_end.get();
    return "";
  }
  UniqueFd& keep = is_stderr ? ends.err : ends.out;
  std::error_code ec;
  switch (out.type) {
    case OutputSpec::Type::log:
      // Read even with the log stream off: probes and the summary's last lines need it.
      open_log_pipe(id, fd, keep, ec);
      if (ec) return fmt::format("cannot make a pipe: {}", ec.message());
      break;
    case OutputSpec::Type::inherit: fd = is_stderr ? STDERR_FILENO : STDOUT_FILENO; break;
    case OutputSpec::Type::null: fd = -1; break;
    case OutputSpec::Type::file:
      keep = open_output_file(out, ec);
      if (ec) return fmt::format("cannot open {}: {}", out.path, ec.message());
      fd = keep.get();
      break;
  }
  return "";
}

std::string Supervisor::wire_stdio(NodeId id, SpawnRequest& req, OutputEnds& ends) {
  NodeState& n = nodes_[id];
  const PlanNode& spec = *n.spec;
  std::string error = wire_output(id, spec.stdout_spec, false, req.stdout_fd, ends);
  bool both_to_log = spec.stdout_spec.type == OutputSpec::Type::log &&
                     spec.stderr_spec.type == OutputSpec::Type::log && !n.stdout_end && !n.stderr_end;
  // Both to the log: one pipe serves both (as `2>&1`), which halves the fds treerun
  // holds, and every spawn pays for each open fd when exec closes them in the child.
  if (both_to_log) req.stderr_fd = req.stdout_fd;
  else if (error.empty()) error = wire_output(id, spec.stderr_spec, true, req.stderr_fd, ends);
  if (spec.stdin_spec.type == StdinSpec::Type::inherit) req.stdin_fd = STDIN_FILENO;
  else if (n.stdin_end) req.stdin_fd = n.stdin_end.get();
  if (spec.tty) lend_terminal(id, req);
  return error;
}

void Supervisor::spawn(NodeId id) {
  NodeState& n = nodes_[id];
  const PlanNode& spec = *n.spec;
  n.proc = ProcessState{};
  n.readers.clear();

  SpawnRequest req;
  req.node_path = spec.path;
  req.cmd = *spec.cmd;
  req.env = node_env(id);
  req.cwd = spec.cwd;
  if (spec.ready.type != treerun::Probe::Type::none) n.probe = make_probe(*this, id, spec.ready);
  if (n.probe) n.probe->prepare(req.env);

  OutputEnds ends;
  std::string error = wire_stdio(id, req, ends);
  std::error_code ec;
  SpawnResult r;
  if (error.empty()) r = launcher_->spawn(req, ec);
  if (error.empty() && ec) error = fmt::format("cannot start: {}", ec.message());
  if (!error.empty()) return start_failed(id, std::move(error));
  spawned(id, req, r);
}

/// No process exists: the node failed to start, as a command that cannot be executed.
void Supervisor::start_failed(NodeId id, std::string error) {
  NodeState& n = nodes_[id];
  for (auto& reader : n.readers) reader->close();
  n.readers.clear();
  if (n.holds_terminal) {
    take_terminal_back(id);
    terminal_->hand_on();
  }
  n.probe.reset();
  n.proc.start_error = std::move(error);
  n.proc.open_pipes = 0;
  log_->note(n.log_source, n.proc.start_error);
  events_.exit(n.spec->path, 0, 126, std::nullopt, "failed");
  n.proc.status = ExitStatus::exited(126);
  n.proc.exit_reported = true;
  n.proc.group_empty = true;
  node_failed(id, 126, n.proc.start_error);
  check_finished(id);
}

void Supervisor::spawned(NodeId id, const SpawnRequest& req, const SpawnResult& r) {
  NodeState& n = nodes_[id];
  n.proc.pid = r.pid;
  n.proc.pgid = r.pgid;
  n.proc.alive = true;
  n.proc.started = Clock::now();
  guardian_.watch(r.pgid);
  reaper_.watch(r.pid, [this, id](ExitStatus status) { on_exit(id, status); });
  events_.spawn(n.spec->path, r.pid, r.pgid);
  if (r.exec_error) {
    n.proc.start_error = r.exec_error == std::errc::no_such_file_or_directory
                             ? fmt::format("command not found: {}", req.cmd.shell ? "/bin/sh" : req.cmd.argv.front())
                             : fmt::format("cannot {} {}: {}", r.failed_step, req.cmd.display(), r.exec_error.message());
    log_->note(n.log_source, n.proc.start_error);
  } else {
    log_->note(n.log_source, fmt::format("started (pid {})", r.pid));
    detail(id, [&] { return fmt::format("command {} in {}, process group {}", req.cmd.display(), req.cwd, r.pgid); });
  }
  if (!restartable(plan_, id)) release_stream_ends(id);
  arm_node_timeout(id);
  if (n.probe) n.probe->start();
  else mark_ready(id);
}

void Supervisor::open_terminal() {
  bool wanted = false;
  for (const PlanNode& spec : plan_.nodes) wanted = wanted || spec.tty;
  if (!wanted) return;
  terminal_ = std::make_unique<TerminalLock>();
  if (!terminal_->available())
    log_->note(-1, "no terminal in the foreground: `tty: true` nodes run with ordinary stdio");
}

/// The node's stdio become the terminal, and its group the foreground. While it holds
/// the terminal, log lines bound for that terminal are held back, not drawn over it.
bool Supervisor::lend_terminal(NodeId id, SpawnRequest& req) {
  if (!terminal_ || !terminal_->available() || terminal_->holder() != id) return false;
  req.tty_fd = req.stdin_fd = req.stdout_fd = req.stderr_fd = terminal_->fd();
  nodes_[id].holds_terminal = true;
  if (log_->fd() >= 0 && isatty(log_->fd())) log_->hold(true);
  return true;
}

void Supervisor::take_terminal_back(NodeId id) {
  nodes_[id].holds_terminal = false;
  log_->hold(false);
  terminal_->release(id);
}

void Supervisor::release_stream_ends(NodeId id) {
  NodeState& n = nodes_[id];
  n.stdin_end.reset();
  n.stdout_end.reset();
  n.stderr_end.reset();
}

void Supervisor::arm_node_timeout(NodeId id) {
  NodeState& n = nodes_[id];
  if (!n.spec->timeout) return;
  n.timeout_timer = std::make_unique<boost::asio::steady_timer>(io_, *n.spec->timeout);
  n.timeout_timer->async_wait([this, id](const boost::system::error_code& ec) {
    NodeState& n = nodes_[id];
    if (ec || !n.proc.alive || n.proc.stop_sent) return;
    n.timed_out = true;
    std::string reason = fmt::format("timed out after {}", format_duration(*n.spec->timeout));
    log_->note(n.log_source, reason);
    events_.cancel(n.spec->path, "timeout", "");
    node_failed(id, 124, reason);
    cancel(id, "timeout", "", false);
  });
}

void Supervisor::on_exit(NodeId id, ExitStatus status) {
  NodeState& n = nodes_[id];
  if (n.holds_terminal) take_terminal_back(id);
  n.proc.alive = false;
  n.proc.status = status;
  n.proc.ended = Clock::now();
  if (n.timeout_timer) n.timeout_timer->cancel();
  if (n.probe) n.probe->cancel();
  n.probe.reset();
  n.proc.asked_to_stop = n.proc.stop_sent;
  n.proc.killed = n.proc.kill_sent;
  refresh_group(id);
  if (!n.proc.group_empty) lingering_.push_back(id);
  if (!n.proc.group_empty && !n.proc.stop_sent) {
    // The leader is gone but something it started lives on in its group (a daemon
    // that forked, `cmd &`): stop it with the node's stop signal, grace, SIGKILL. A
    // node being cancelled keeps its place in the stop order: after its dependents.
    if (n.cancelling) try_stop(id);
    else send_stop(id, /*leftovers=*/true);
  }
  maybe_report_exit(id);
}

/// Whether any process of the node's group remains. The pgid cannot name another
/// group while one of ours is in it; once empty, we never signal it again.
void Supervisor::refresh_group(NodeId id) {
  ProcessState& p = nodes_[id].proc;
  if (p.group_empty || p.alive || p.pgid <= 0) return;
  p.group_empty = ::kill(-p.pgid, 0) != 0 && errno == ESRCH;
  if (p.group_empty) guardian_.unwatch(p.pgid);
  if (p.group_empty && p.stop_cmd_pid == 0 && nodes_[id].grace_timer) nodes_[id].grace_timer->cancel();
}

void Supervisor::on_pipe_eof(NodeId id) {
  NodeState& n = nodes_[id];
  if (n.proc.open_pipes > 0) n.proc.open_pipes--;
  maybe_report_exit(id);
}

/// The exit is reported once the output is drained: a node's last lines always come
/// before its exit line. A pipe held open by a descendant outside the node's group
/// does not hold the report up once the group is empty.
void Supervisor::maybe_report_exit(NodeId id) {
  NodeState& n = nodes_[id];
  if (n.proc.alive || n.proc.exit_reported || n.proc.pid == 0) return;
  if (n.proc.open_pipes > 0 && !n.proc.group_empty) return;
  // The group is gone, but its last bytes (or the EOF) may still sit in the pipe: the
  // reader will get them, and report then. A pipe with nothing in it and no EOF is
  // held by a process outside the group: do not wait for that one.
  for (const auto& reader : n.readers)
    if (reader->readable()) return;
  report_exit(id);
}

void Supervisor::report_exit(NodeId id) {
  NodeState& n = nodes_[id];
  const PlanNode& spec = *n.spec;
  ProcessState& p = n.proc;
  p.exit_reported = true;
  ExitStatus st = *p.status;
  for (const auto& relay : n.log_relays)
    if (relay) {
      relay->drain();  // what it wrote last, logged before its exit
      n.tail += relay->take_exit_tail();
    }
  for (const auto& reader : n.readers) n.tail += reader->tail();
  if (n.tail.size() > 4096) n.tail.erase(0, n.tail.size() - 4096);

  // A producer killed by SIGPIPE only lost its readers: closing is not cancelling.
  bool feeds_streams = plan_.stream_of({id, false}) || plan_.stream_of({id, true});
  bool sigpipe_ok = st.by_signal(SIGPIPE) && feeds_streams;
  std::string outcome;
  if (p.asked_to_stop) outcome = p.killed ? "killed" : "cancelled";
  else if (!spec.daemon && (st.success() || sigpipe_ok)) outcome = "ok";
  else outcome = "failed";

  std::optional<int> code, sig;
  if (st.kind == ExitStatus::Kind::exited) code = st.value;
  else sig = st.value;
  events_.exit(spec.path, p.pid, code, sig, outcome);
  log_->note(n.log_source, fmt::format("exited: {} ({})", st.describe(), outcome));
  if (spec.tty && terminal_) terminal_->hand_on();

  if (outcome == "failed") {
    int exit_code = st.shell_code();
    std::string reason;
    if (!p.start_error.empty()) reason = p.start_error;
    else if (spec.daemon && st.success()) {
      exit_code = 1;
      reason = "daemon exited on its own with status 0";
    } else if (spec.daemon) reason = fmt::format("daemon exited on its own: {}", st.describe());
    else reason = st.describe();
    if (!n.ready && spec.ready.type != treerun::Probe::Type::none && reason.find("daemon") == 0)
      reason += " before it was ready";
    node_failed(id, exit_code, reason);
  }
  // When a node's own process exits, its children are cancelled.
  for (NodeId child : spec.children) cancel(child, "done", "", false);
  check_finished(id);
}

void Supervisor::on_orphan(pid_t) {
  // An orphan's end may be the last of a lingering group, or free a drained pipe. Only
  // lingering nodes can be concerned: no walk over the whole tree per orphan.
  for (NodeId id : std::vector<NodeId>(lingering_)) {  // a copy: what follows may add to it
    NodeState& n = nodes_[id];
    if (n.proc.alive || n.proc.group_empty) continue;
    refresh_group(id);
    if (n.proc.group_empty) {
      maybe_report_exit(id);
      check_finished(id);
    }
  }
  std::erase_if(lingering_, [this](NodeId id) { return nodes_[id].proc.alive || nodes_[id].proc.group_empty; });
}

/// Orphans of orphans come back to us too, and a probe's or a stop command's process
/// may still be on its way out: the sweep goes on until we have no child at all.
void Supervisor::continue_sweep() {
  if (!sweeping_) return;
  std::vector<pid_t> left = own_children(guardian_.pid());
  for (pid_t pid : left)
    if (std::find(orphans_.begin(), orphans_.end(), pid) == orphans_.end()) {
      // Each orphan gets the root's stop once (SIGKILL once the grace is over).
      ::kill(pid, orphans_killed_ || forced_ ? SIGKILL : plan_.root().stop_signal);
      ::kill(pid, SIGCONT);
    }
  orphans_ = std::move(left);
  if (orphans_.empty()) run_finished_ = true;
}

}  // namespace treerun
