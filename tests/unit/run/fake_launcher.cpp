#include "fake_launcher.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <new>
#include <stdexcept>

#include "base/units.h"

namespace treerun::test {
namespace {

unsigned long inode_of(int fd) {
  struct stat st {};
  return fd >= 0 && ::fstat(fd, &st) == 0 ? static_cast<unsigned long>(st.st_ino) : 0;
}

}  // namespace

void FakeLauncher::script(const std::string& node, std::vector<Script> scripts) {
  scripts_[node] = std::deque<Script>(scripts.begin(), scripts.end());
}

void FakeLauncher::script_beside(const std::string& node, std::vector<Script> scripts) {
  beside_scripts_[node] = std::deque<Script>(scripts.begin(), scripts.end());
}

Script FakeLauncher::next_script(std::map<std::string, std::deque<Script>>& table, const std::string& node,
                                 Script fallback) {
  auto it = table.find(node);
  if (it == table.end() || it->second.empty()) return fallback;
  Script s = it->second.front();
  if (it->second.size() > 1) it->second.pop_front();
  return s;
}

FakeProcess* FakeLauncher::find(pid_t pgid) {
  if (pgid < 100 || pgid >= next_pid_) return nullptr;
  return &procs_[static_cast<std::size_t>(pgid - 100)];
}

const FakeProcess& FakeLauncher::process(pid_t pid) const {
  if (pid < 100 || pid >= next_pid_) throw std::out_of_range("no fake process " + std::to_string(pid));
  return procs_[static_cast<std::size_t>(pid - 100)];
}

SpawnResult FakeLauncher::spawn(const SpawnRequest& request, ExitHandler on_exit, std::error_code& ec) {
  ec.clear();
  Script s = request.beside ? next_script(beside_scripts_, request.node_path, Script::exits(0))
                            : next_script(scripts_, request.node_path, Script::runs());
  // A shell command by its text ("d[check]", not "d[sh -c check]"): the journal names it.
  std::string written = request.cmd.shell ? request.cmd.argv.front() : request.cmd.display();
  std::string label = request.beside ? request.node_path + "[" + written + "]" : request.node_path;
  if (s.kind == Script::Kind::throws) {
    journal_.push_back("spawn-throw " + label);
    throw std::bad_alloc();
  }
  if (s.kind == Script::Kind::cannot_spawn) {
    ec.assign(s.error ? s.error : ENOMEM, std::system_category());
    journal_.push_back("spawn-error " + label);
    return {};
  }
  FakeProcess p;
  p.pid = next_pid_++;
  p.node = request.node_path;
  p.cmd = written;
  p.beside = request.beside;
  p.script = s;
  p.on_exit = std::move(on_exit);
  for (std::size_t done = 0; done < s.output.size();) {
    ssize_t n = ::write(request.stdout_fd, s.output.data() + done, s.output.size() - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  p.stdin_ino = inode_of(request.stdin_fd);
  p.stdout_ino = inode_of(request.stdout_fd);
  procs_.push_back(std::move(p));
  FakeProcess& proc = procs_.back();
  journal_.push_back("spawn " + proc.label());

  SpawnResult r;
  r.proc = {proc.pid, proc.pid};
  switch (s.kind) {
    case Script::Kind::exits: end_leader(proc, s.status); break;
    case Script::Kind::not_found:
      r.exec_error = std::make_error_code(std::errc::no_such_file_or_directory);
      r.failed_step = "exec";
      end_leader(proc, ExitStatus::exited(127));
      break;
    case Script::Kind::stop_command: {
      end_leader(proc, ExitStatus::exited(0));
      if (request.beside)
        if (FakeProcess* target = find(request.beside->pgid); target && target->leader)
          end_leader(*target, ExitStatus::exited(0));
      break;
    }
    default: break;
  }
  if (on_spawn) on_spawn(procs_[static_cast<std::size_t>(r.proc.pid - 100)]);
  return r;
}

/// The leader ends: its exit is delivered in a later turn of the loop, as the reaper
/// would. Its group ends with it unless the script leaves something behind.
void FakeLauncher::end_leader(FakeProcess& p, ExitStatus status) {
  if (!p.leader) return;
  p.leader = false;
  if (!p.script.lingers) p.group = false;
  pid_t pid = p.pid;
  boost::asio::post(io_, [this, pid, status] {
    FakeProcess& proc = procs_[static_cast<std::size_t>(pid - 100)];
    proc.collected = true;
    journal_.push_back("exit " + proc.label() + " " +
                       (status.kind == ExitStatus::Kind::exited ? std::to_string(status.value) : signal_name(status.value)));
    ExitHandler handler = std::move(proc.on_exit);
    if (handler) handler(status);
    if (collected_hook_) collected_hook_(false);
    if (after_exit) after_exit(procs_[static_cast<std::size_t>(pid - 100)], status);
  });
}

/// What the dead leader left in its group is gone: collected as a stray would be.
void FakeLauncher::group_ends(FakeProcess& p) {
  if (!p.group || p.leader) return;
  p.group = false;
  journal_.push_back("group-gone " + p.label());
  boost::asio::post(io_, [this] {
    if (collected_hook_) collected_hook_(true);
  });
}

void FakeLauncher::exit(pid_t pid, ExitStatus status) {
  if (FakeProcess* p = find(pid)) end_leader(*p, status);
}

void FakeLauncher::end_group(pid_t pid) {
  if (FakeProcess* p = find(pid)) group_ends(*p);
}

void FakeLauncher::signal(const ProcHandle& h, int sig) {
  FakeProcess* p = find(h.pgid);
  signals_.push_back({h.pgid, p ? p->label() : "?", sig});
  if (sig != SIGCONT) journal_.push_back(signal_name(sig) + " " + (p ? p->label() : "?"));
  if (p && sig != SIGCONT && sig != 0 && (p->leader || p->group)) {
    bool ends = false;
    ExitStatus how = ExitStatus::signaled(sig);
    if (sig == SIGKILL) ends = true;  // a SIGKILL to a group always ends it
    else switch (p->script.kind) {
        case Script::Kind::runs:
        case Script::Kind::exits:  // what it left in its group: ends as `runs` would
        case Script::Kind::not_found:
        case Script::Kind::stop_command:
          ends = true;
          if (p->script.on_signal) how = *p->script.on_signal;
          break;
        case Script::Kind::survives_first:
          ends = p->signals_taken++ > 0;
          if (ends && p->script.on_signal) how = *p->script.on_signal;
          break;
        default: p->signals_taken++; break;
      }
    if (ends) {
      if (p->leader) {
        p->script.lingers = false;  // the signal reached the whole group
        end_leader(*p, how);
      } else {
        group_ends(*p);
      }
    }
  }
  if (on_signal) on_signal(signals_.back());
}

bool FakeLauncher::exited(const ProcHandle& h) {
  FakeProcess* p = find(h.pgid);
  return p && !p->leader && !p->collected;
}

bool FakeLauncher::group_alive(const ProcHandle& h) {
  FakeProcess* p = find(h.pgid);
  return p && (p->leader || p->group);
}

std::vector<std::string> FakeLauncher::spawned() const {
  std::vector<std::string> out;
  for (const FakeProcess& p : procs_)
    if (!p.beside) out.push_back(p.node);
  return out;
}

std::vector<int> FakeLauncher::signals_to(const std::string& node) const {
  std::vector<int> out;
  for (const SignalRecord& s : signals_)
    if (s.node == node && s.sig != SIGCONT) out.push_back(s.sig);
  return out;
}

pid_t FakeLauncher::pid_of(const std::string& node, std::size_t nth) const {
  for (const FakeProcess& p : procs_)
    if (!p.beside && p.node == node && nth-- == 0) return p.pid;
  return 0;
}

std::vector<std::string> FakeLauncher::alive() const {
  std::vector<std::string> out;
  for (const FakeProcess& p : procs_)
    if (p.leader || p.group || !p.collected) out.push_back(p.label());
  return out;
}

}  // namespace treerun::test
