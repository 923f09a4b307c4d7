// Starting a node's process: its stdio (streams, log pipes, files, the terminal), the
// spawn itself through the Launcher, and the deadlines that start with it.
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/units.h"
#include "io/ansi.h"
#include "proc/pty.h"
#include "probes/make_probe.h"
#include "run/environment.h"
#include "run/supervisor.h"

namespace treerun {
namespace {

/// A node's `{file: PATH}`, opened without waiting: a FIFO with no reader yet would
/// otherwise hold the whole loop in open(). The node gets a plain blocking fd.
UniqueFd open_output_file(const OutputSpec& out, std::error_code& ec) {
  UniqueFd fd = open_without_waiting(out.path, out.append, ec);
  if (fd) ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
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

/// A request to run CMD as ID would: its environment, its folder, its place.
SpawnRequest Supervisor::request_for(NodeId id, const Command& cmd) {
  const PlanNode& spec = plan_[id];
  SpawnRequest req;
  req.node_path = spec.path;
  req.cmd = cmd;
  req.env = node_env(plan_, id, base_env_, run_id_);
  req.cwd = spec.cwd;
  req.host = spec.host;
  if (nodes_[id].run.proc.pid > 0) req.beside = nodes_[id].run.proc;
  return req;
}

void Supervisor::open_log_pipe(NodeId id, int& child_fd, UniqueFd& keep, std::error_code& ec) {
  Pipe p = make_pipe(ec);
  if (ec) return;
  read_into_log(id, std::move(p.read));
  child_fd = p.write.get();
  keep = std::move(p.write);
}

/// `pty: true`: one terminal is both outputs (as in a shell), read like a log pipe.
std::string Supervisor::open_pty_output(NodeId id, SpawnRequest& req, OutputEnds& ends) {
  std::error_code ec;
  PtyPair pty = open_pty(pty_window_size(), ec);
  if (ec) return fmt::format("cannot make a pseudo-terminal: {}", ec.message());
  read_into_log(id, std::move(pty.master));
  req.stdout_fd = req.stderr_fd = pty.slave.get();
  ends.out = std::move(pty.slave);
  return "";
}

/// Reads what ID's current incarnation writes into FD, line by line, into the log.
void Supervisor::read_into_log(NodeId id, UniqueFd fd) {
  Incarnation& run = nodes_[id].run;
  unsigned gen = run.generation;
  LineReader::Callbacks cb;
  // A line from an earlier incarnation's pipe (held open by what escaped it) is logged,
  // but must not make this incarnation ready.
  cb.on_line = [this, id, gen](std::string_view line, bool continued) {
    output_line(id, line, nodes_[id].run.generation == gen, continued);
  };
  cb.on_lines = [this, id, gen](std::string_view lines) { output_lines(id, lines, nodes_[id].run.generation == gen); };
  cb.after_batch = [this, id, gen] {
    log_->flush();
    // Drained while a process outside the group keeps the pipe open: report now.
    if (nodes_[id].run.generation == gen) maybe_drained(id);
  };
  cb.on_eof = [this, id, gen] {
    if (nodes_[id].run.generation == gen) on_pipe_eof(id);
  };
  cb.read_budget = read_budget(id);
  auto reader = std::make_shared<LineReader>(io_, std::move(fd), kMaxLogLine, std::move(cb));
  run.readers.push_back(reader);
  run.open_pipes++;
  reader->start();
}

void Supervisor::output_line(NodeId id, std::string_view line, bool current, bool continued) {
  Node& n = nodes_[id];
  if (!continued && launcher_.backend_line(line)) {  // srun's word, not the node's
    if (options_.verbose > 0) log_->note(n.log_source, std::string(line));
    return;
  }
  // A terminal's colours stay only on a coloured log stream; a probe matches the text.
  if (n.spec->pty && has_escapes(line)) {
    std::string plain = strip_escapes(line);
    log_->line(n.log_source, options_.color ? keep_colours(line) : plain, continued);
    if (auto& probe = n.run.probe; probe && current) probe->on_line(plain);
    return;
  }
  log_->line(n.log_source, line, continued);
  if (auto& probe = n.run.probe; probe && current) probe->on_line(line);
}

/// LINES, whole lines of ID's output, each with its newline: to the log stream at once,
/// but for those that must be looked at one by one (a probe waits for one, a terminal's
/// escapes, the backend's own word).
void Supervisor::output_lines(NodeId id, std::string_view lines, bool current) {
  Node& n = nodes_[id];
  const bool each = n.spec->pty || (n.run.probe && current);
  while (!lines.empty()) {
    if (!each) lines.remove_prefix(log_->lines(n.log_source, lines, not_backend_line_));
    if (lines.empty()) break;
    std::size_t end = std::min(lines.find('\n'), lines.size());
    output_line(id, lines.substr(0, end), current);
    lines.remove_prefix(std::min(lines.size(), end + 1));
  }
}

/// Where this incarnation's stdout or stderr goes. Ends made here are closed in the
/// parent right after the spawn, so that EOF on them means the node (and all it left
/// behind) is done writing. Returns an error message, or "".
std::string Supervisor::wire_output(NodeId id, const OutputSpec& out, bool is_stderr, int& fd, OutputEnds& ends) {
  Node& n = nodes_[id];
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
    case OutputSpec::Type::as_stdout: break;  // wire_stdio's: it needs stdout's end
  }
  return "";
}

std::string Supervisor::wire_stdio(NodeId id, SpawnRequest& req, OutputEnds& ends) {
  Node& n = nodes_[id];
  const PlanNode& spec = *n.spec;
  if (spec.stdin_spec.type == StdinSpec::Type::inherit) req.stdin_fd = STDIN_FILENO;
  else if (n.stdin_end) req.stdin_fd = n.stdin_end.get();
  if (spec.pty) return open_pty_output(id, req, ends);
  std::string error = wire_output(id, spec.stdout_spec, false, req.stdout_fd, ends);
  bool both_to_log = spec.stdout_spec.type == OutputSpec::Type::log &&
                     spec.stderr_spec.type == OutputSpec::Type::log && !n.stdout_end && !n.stderr_end;
  // Both to the log: one pipe serves both (as `2>&1`), which halves the fds treerun
  // holds, and every spawn pays for each open fd when exec closes them in the child.
  // `stderr: stdout` is `2>&1`: wherever stdout goes, a stream's pipe included.
  if (both_to_log || spec.stderr_spec.type == OutputSpec::Type::as_stdout) req.stderr_fd = req.stdout_fd;
  else if (error.empty()) error = wire_output(id, spec.stderr_spec, true, req.stderr_fd, ends);
  // One file for both is `>f 2>&1` too: one open file description, so that both write
  // at its one offset. Two (`>f 2>f`) each keep their own and overwrite each other's
  // lines. Each was opened as its own settings say (a truncation included), as a shell
  // would; stdout's description then serves both.
  if (error.empty() && spec.stdout_spec.type == OutputSpec::Type::file &&
      spec.stderr_spec.type == OutputSpec::Type::file && same_file(ends.out.get(), ends.err.get())) {
    req.stderr_fd = req.stdout_fd;
    ends.err.reset();
  }
  if (spec.tty) lend_terminal(id, req);
  return error;
}

/// Prepares ID's incarnation and submits its spawn; in a batch, it is collected with
/// the batch's others (collect_spawns).
void Supervisor::spawn(NodeId id) {
  Node& n = nodes_[id];
  const PlanNode& spec = *n.spec;
  disarm_grace(id);
  n.run = Incarnation{};
  n.run.generation = ++generations_;
  Spawning s{id, request_for(id, *spec.cmd), {}, 0};
  s.cancelled_before = n.cancelled.has_value();
  if (spec.ready.type != Probe::Type::none) n.run.probe = make_probe(*this, id, spec.ready, spec.cwd);
  std::string error = n.run.probe ? n.run.probe->prepare(s.req.env) : "";
  if (error.empty()) error = wire_stdio(id, s.req, s.ends);
  if (error.empty()) {
    unsigned gen = n.run.generation;
    try {
      s.ticket = launcher_.submit(s.req, [this, id, gen](ExitStatus st) {
        if (nodes_[id].run.generation == gen) on_leader_exit(id, st);
      });
    } catch (const std::exception& e) {  // bad_alloc, say: no process, as for EAGAIN
      error = fmt::format("cannot start: {}", e.what());
    }
  }
  if (!error.empty()) {
    collect_spawns();  // the batch's earlier ones first, as they came
    return failed_in_round(s, std::move(error));
  }
  spawning_.push_back(std::move(s));
  if (!batching_) collect_spawns();
}

/// Each submitted spawn, in order: its node learns its process, or that it has none.
void Supervisor::collect_spawns() {
  while (!spawning_.empty()) {
    Spawning s = std::move(spawning_.front());
    spawning_.pop_front();  // first: what a node's start sets off may spawn (a stop command)
    collect_spawn(s);
  }
}

/// What a spawn was submitted in the round of an exception: collected, so that the
/// cancel that follows knows their processes.
void Supervisor::collect_spawns_after_error() {
  batching_ = false;
  while (!spawning_.empty()) {
    try {
      collect_spawns();
    } catch (const std::exception&) {  // that one is popped: the rest are still collected
    }
  }
}

/// A start that failed in a round: a failure of its own, or, when an earlier spawn of
/// the round failed and cancelled it meanwhile, not started (as if the cancel had come
/// first, not a second failure).
void Supervisor::failed_in_round(const Spawning& s, std::string error) {
  if (!s.cancelled_before && nodes_[s.id].cancelled) {
    drop_start(s.id);
    return skip(s.id, "not started: cancelled");
  }
  start_failed(s.id, std::move(error));
}

void Supervisor::collect_spawn(Spawning& s) {
  std::error_code ec;
  SpawnResult r;
  std::string error;
  try {
    r = launcher_.collect(s.ticket, ec);
  } catch (const std::exception& e) {
    error = fmt::format("cannot start: {}", e.what());
  }
  if (error.empty() && ec) error = fmt::format("cannot start: {}", ec.message());
  if (!error.empty()) return failed_in_round(s, std::move(error));
  spawned(s.id, s.req, r);
  // Cancelled between its submit and now (an earlier node of the round failed to
  // start): the cancel found no process to stop.
  if (!s.cancelled_before && nodes_[s.id].cancelled) consider_stop(s.id);
}

/// What the start of an incarnation that has no process made: its log readers, its
/// hold on the terminal, its probe.
void Supervisor::drop_start(NodeId id) {
  Node& n = nodes_[id];
  for (auto& reader : n.run.readers) reader->close();
  n.run.readers.clear();
  if (n.run.holds_terminal) {
    take_terminal_back(id);
    terminal_->hand_on();
  }
  n.run.probe.reset();
  n.run.open_pipes = 0;
}

/// No process exists: the node failed to start, as a command that cannot be executed.
void Supervisor::start_failed(NodeId id, std::string error) {
  Node& n = nodes_[id];
  drop_start(id);
  n.run.start_error = std::move(error);
  log_->note(n.log_source, n.run.start_error);
  events_.exit(n.spec->path, 0, 126, std::nullopt, "failed");
  n.run.status = ExitStatus::exited(126);
  n.run.group_gone = true;
  n.outcome = Outcome::failed;
  set_state(id, State::exited);
  node_failed(id, 126, n.run.start_error);
  consider_settled(id);
}

void Supervisor::spawned(NodeId id, const SpawnRequest& req, const SpawnResult& r) {
  Node& n = nodes_[id];
  n.run.proc = r.proc;
  n.run.started = Clock::now();
  events_.spawn(n.spec->path, r.proc.pid, r.proc.pgid,
                plan_.backend == Backend::local ? std::string_view() : std::string_view(n.spec->host));
  if (r.exec_error) {
    // Only exec's ENOENT means the command is not there: chdir's means the folder is not.
    if (r.failed_step == "chdir")
      n.run.start_error = fmt::format("cannot chdir to {}: {}", req.cwd, r.exec_error.message());
    else if (r.failed_step == "exec" && r.exec_error == std::errc::no_such_file_or_directory)
      n.run.start_error = fmt::format("command not found: {}", req.cmd.shell ? "/bin/sh" : req.cmd.argv.front());
    else
      n.run.start_error = fmt::format("cannot {} {}: {}", r.failed_step, req.cmd.display(), r.exec_error.message());
    log_->note(n.log_source, n.run.start_error);
  } else {
    log_->note(n.log_source, fmt::format("started (pid {})", r.proc.pid));
    verbose(id, [&] { return fmt::format("command {} in {}, process group {}", req.cmd.display(), req.cwd, r.proc.pgid); });
  }
  if (!restartable(plan_, id)) release_stream_ends(id);
  arm_node_timeout(id);
  if (n.run.probe) n.run.probe->start();
  else on(id, Event::probe_passed);  // no probe: started is ready
}

void Supervisor::arm_node_timeout(NodeId id) {
  Node& n = nodes_[id];
  if (!n.spec->timeout) return;
  unsigned gen = n.run.generation;
  n.run.timeout_timer = std::make_unique<boost::asio::steady_timer>(io_, *n.spec->timeout);
  n.run.timeout_timer->async_wait([this, id, gen](const boost::system::error_code& ec) {
    if (!ec && nodes_[id].run.generation == gen) on(id, Event::timed_out);
  });
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
void Supervisor::lend_terminal(NodeId id, SpawnRequest& req) {
  if (!terminal_ || !terminal_->available() || terminal_->holder() != id) return;
  req.tty_fd = req.stdin_fd = req.stdout_fd = req.stderr_fd = terminal_->fd();
  nodes_[id].run.holds_terminal = true;
  if (log_->on_terminal()) log_->hold(true);
}

void Supervisor::take_terminal_back(NodeId id) {
  nodes_[id].run.holds_terminal = false;
  log_->hold(false);
  terminal_->release(id);
}

void Supervisor::release_stream_ends(NodeId id) {
  Node& n = nodes_[id];
  n.stdin_end.reset();
  n.stdout_end.reset();
  n.stderr_end.reset();
}

}  // namespace treerun
