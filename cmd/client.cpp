#include "client.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <iostream>

#include "base/units.h"
#include "control/client.h"
#include "control/folder.h"
#include "control/print.h"
#include "control/protocol.h"
#include "control/runs.h"

namespace treerun {
namespace {

using control::Cmd;
using control::Request;
using json = nlohmann::ordered_json;

constexpr int kUsageError = 125;
/// How long a question (status, ps, a history) may take to be answered. Actions,
/// `down`, `wait` and followed streams take as long as the run takes.
constexpr int kAnswerMs = 10'000;

int fail(const std::string& why) {
  std::cerr << "treerun: " << why << '\n';
  return 1;
}

/// Why the run closed the connection without a last reply.
std::string cut_short(const control::LiveRun& run, bool heard_any) {
  if (heard_any)
    return "the connection to the run ended before its last reply: the run was killed, or this client fell more "
           "than 4 MiB behind and was cut off";
  struct stat st {};
  if (::stat(run.socket.c_str(), &st) == 0 && st.st_uid != ::geteuid() && ::geteuid() != 0)
    return fmt::format("permission denied: the run '{}' belongs to uid {}", run.name, st.st_uid);
  return fmt::format("the run '{}' closed the connection without an answer (permission denied: a run serves its own "
                     "user only)",
                     run.name);
}

std::string connect_error(const control::LiveRun& run, int err) {
  if (err == ECONNREFUSED || err == ENOENT) return fmt::format("the run '{}' has ended", run.name);
  if (err == EACCES) return fmt::format("permission denied: cannot use the socket of the run '{}'", run.name);
  if (err == EAGAIN) return fmt::format("the run '{}' takes no connections now (stopped, or swamped)", run.name);
  return fmt::format("cannot reach the run '{}' ({}): {}", run.name, run.socket, std::strerror(err));
}

/// A stream message of the run, printed as it comes: log lines and events on stdout,
/// the run's console (`down`) and notes on stderr.
void print_message(const json& m, const std::string& raw) {
  if (m.contains("line")) {
    std::cout << m["line"].get<std::string>() << '\n';
  } else if (m.contains("event")) {
    // As the run wrote it (its number formats too): the text between the wrapper's
    // ends, {"v":1,"seq":N,"event": and }. Only numbers come before "event".
    constexpr std::string_view key = ",\"event\":";
    std::size_t at = raw.find(key);
    if (raw.starts_with("{\"v\":1,") && raw.ends_with('}') && at != std::string::npos)
      std::cout << std::string_view(raw).substr(at + key.size(), raw.size() - at - key.size() - 1) << '\n';
    else
      std::cout << m["event"].dump() << '\n';
  } else if (m.contains("text")) {
    std::cout.flush();
    std::cerr << m["text"].get<std::string>() << std::flush;
  } else if (m.contains("skipped")) {
    std::cerr << "treerun: " << m["skipped"].get<std::size_t>()
              << " older lines were left out (more than 4 MiB at once)\n";
  }
}

/// Sends REQUEST to the run (-r RUN, or the only one) and reads its replies: stream
/// messages are printed, the last reply goes to DONE, whose value is the exit code.
int converse(const std::string& run_name, const Request& request, int timeout_ms,
             const std::function<int(const json& final)>& done) {
  std::string why, folder = control::socket_folder();
  int err = 0;
  control::Client client;
  std::optional<control::LiveRun> run;
  // -r RUN: straight to its socket (in a folder that is ours); find_run() only to say
  // why not (and remove a stale socket on the way).
  if (!run_name.empty() && control::check_folder(folder, false).empty() && control::check_run_name(run_name).empty()) {
    run = control::LiveRun{run_name, control::socket_path(folder, run_name), std::nullopt, ""};
    client = control::Client::connect(run->socket, err);
  }
  if (!client.valid()) {
    run = control::find_run(folder, run_name, kAnswerMs, why);
    if (!run) return fail(why);
    client = control::Client::connect(run->socket, err);
    if (!client.valid()) return fail(connect_error(*run, err));
  }
  if (!client.send(request, why)) return fail(why.empty() ? cut_short(*run, false) : why);
  bool heard = false;
  for (;;) {
    // What was printed is seen before this waits for the run (a follower into a pipe).
    if (!client.has_line()) std::cout.flush();
    if (!client.next_line(why, timeout_ms)) break;
    heard = true;
    // A follower keeps up with the run only if a plain line costs no JSON parse.
    if (auto text = control::plain_line_text(client.last_line())) {
      std::cout << *text << '\n';
      continue;
    }
    auto message = control::parse_reply(client.last_line());
    if (message.is_discarded()) return fail("the run's reply is not a message of protocol version 1");
    try {
      if (!control::is_final(message)) {
        print_message(message, client.last_line());
        continue;
      }
      if (!message.value("ok", false)) {
        for (const auto& problem : message.value("problems", json::array()))  // reload: the spec's
          if (problem.is_string()) std::cerr << problem.get<std::string>() << '\n';
        return fail(message.value("error", std::string("the run refused")));
      }
      std::cout.flush();
      return done(message);
    } catch (const std::exception& e) {
      return fail(fmt::format("a reply that is not the protocol's: {}", e.what()));
    }
  }
  return fail(why.empty() ? cut_short(*run, heard) : why);
}

/// What a `reload` did, one line per kind of change: "restarted: api worker".
int print_reloaded(const json& final) {
  bool any = false;
  for (const char* what : {"stopped", "started", "restarted"}) {
    std::vector<std::string> paths;
    for (const auto& p : final.value(what, json::array()))
      if (p.is_string()) paths.push_back(p.get<std::string>());
    if (paths.empty()) continue;
    any = true;
    std::cout << what << ": " << fmt::format("{}", fmt::join(paths, " ")) << '\n';
  }
  if (!any) std::cout << "nothing changed\n";
  for (const auto& note : final.value("notes", json::array()))
    if (note.is_string()) std::cerr << "treerun: note: " << note.get<std::string>() << '\n';
  return 0;
}

}  // namespace

ClientCommands::ClientCommands(CLI::App& app) {
  auto* ls = add(app, "ls", "List this user's live runs: name, pid, uptime, running nodes, spec",
                 "Exit codes: 0 listed (even none); 125 usage error.");
  ls->add_flag("-q,--quiet", f_.quiet, "Print the run names only");
  auto* ps = add(app, "ps", "Show every node of a run: state, pid, uptime, restarts, last exit",
                 "Exit codes: 0 shown; 1 no such run; 125 usage error.");
  ps->add_flag("--json", f_.json, "Print a JSON array of objects (see treerun(1)) instead");
  auto* logs = add(app, "logs", "Print the last lines of nodes of a run (default: all), then follow with -f",
                   "Exit codes: 0 printed (with -f: the run ended); 1 no such run or node; 125 usage error.");
  logs->add_option("NODE", f_.nodes, "Node paths (pipeline/keep); default: every node");
  logs->add_flag("-f,--follow", f_.follow, "Then print each new line until the run ends");
  logs->add_option("-n,--lines", f_.lines, "How many of each node's last lines (default 100)")->type_name("N");
  auto* events = add(app, "events", "Print a run's event log from its start, then follow with -f",
                     "Exit codes: 0 printed (with -f: through the done event); 1 no such run; 125 usage error.");
  events->add_flag("-f,--follow", f_.follow, "Then print each new event, up to and including done");
  for (auto [verb, what] : {std::pair{"stop", "Stop nodes and their children gracefully; they stay stopped"},
                             std::pair{"start", "Start stopped or exited nodes again, with their probes"},
                             std::pair{"restart", "Stop, then start nodes; a group restarts as a whole"}})
    add(app, verb, what, "Exit codes: 0 done; 1 no such run or node, or it could not be done; 125 usage error.")
        ->add_option("NODE", f_.nodes, "Node paths (pipeline/keep)")
        ->required();
  auto* signal = add(app, "signal", "Send a signal to nodes' process groups (not a stop)",
                     "Exit codes: 0 sent; 1 no such run or node; 125 usage error.");
  signal->add_option("SIG", f_.signal, "The signal: HUP, SIGHUP, 1")->required();
  signal->add_option("NODE", f_.nodes, "Node paths (pipeline/keep)")->required();
  add(app, "down", "Cancel a run as one ctrl-c would, show its teardown, and exit with its code",
      "Exit codes: the run's own (see treerun up); 1 no such run; 125 usage error.");
  add(app, "wait", "Wait for a run to end and exit with its code",
      "Exit codes: the run's own (see treerun up); 1 no such run; 125 usage error.");
  add(app, "reload", "Read a run's spec again; stop the removed nodes, start the new, restart the changed",
      "Exit codes: 0 applied (or nothing changed); 1 no such run, a spec with problems (printed), or it could "
      "not be done (nothing changed); 125 usage error.");
}

CLI::App* ClientCommands::add(CLI::App& app, const char* name, const char* what, const char* exits) {
  CLI::App* cmd = app.add_subcommand(name, what);
  cmd->footer(exits);
  if (std::string_view(name) != "ls")
    cmd->add_option("-r,--run", f_.run, "The run, by name (default: this user's only live run)")->type_name("RUN");
  commands_.push_back(cmd);
  return cmd;
}

std::optional<int> ClientCommands::run() {
  for (CLI::App* cmd : commands_)
    if (cmd->parsed()) return run_command(*cmd);
  return std::nullopt;
}

int ClientCommands::run_command(const CLI::App& cmd) {
  const std::string& name = cmd.get_name();
  if (name == "ls") return ls();
  if (name == "ps") return ps();
  Request r = control::request_for(*control::cmd_named(name));
  // "/web" is "web" (contract 6.1); the run is sent the path as the event log writes it.
  for (std::string node : f_.nodes) r.nodes.push_back(node.starts_with('/') ? node.substr(1) : node);
  r.lines = f_.lines;
  r.follow = f_.follow;
  if (r.cmd == Cmd::signal) {
    auto sig = parse_signal(f_.signal);
    if (!sig) {
      std::cerr << "treerun: signal: not a signal: '" << f_.signal << "' (try HUP, SIGUSR1, 9)\n";
      return kUsageError;
    }
    r.signal = *sig;
  }
  bool waits = r.follow || r.cmd == Cmd::down || r.cmd == Cmd::wait || r.cmd == Cmd::stop ||
               r.cmd == Cmd::start || r.cmd == Cmd::restart || r.cmd == Cmd::reload;
  return converse(f_.run, r, waits ? -1 : kAnswerMs, [&](const json& final) {
    if (r.cmd == Cmd::down || r.cmd == Cmd::wait) return final.value("code", 1);
    if (r.cmd == Cmd::logs || r.cmd == Cmd::events) return 0;
    if (r.cmd == Cmd::reload) return print_reloaded(final);
    std::cerr << "treerun: " << control::acted_text(r.cmd, r.signal, r.nodes) << '\n';
    return 0;
  });
}

int ClientCommands::ls() {
  std::string folder = control::socket_folder();
  if (std::string why = control::check_folder(folder, false); !why.empty()) return fail(why);
  auto runs = control::live_runs(folder, kAnswerMs);
  std::cout << (f_.quiet ? control::names_of(runs) : control::runs_table(runs));
  return 0;
}

int ClientCommands::ps() {
  return converse(f_.run, request_for(Cmd::ps), kAnswerMs, [&](const json& final) {
    const json& nodes = final.at("nodes");
    if (f_.json) {
      std::cout << nodes.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
      return 0;
    }
    std::vector<control::NodeStatus> rows;
    for (const json& n : nodes) rows.push_back(control::node_from(n));
    std::cout << control::nodes_table(rows);
    return 0;
  });
}

}  // namespace treerun
