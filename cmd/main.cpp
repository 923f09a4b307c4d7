// treerun's command line: parses flags and hands over to lib/. Nothing else lives here.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "client.h"
#include "control/claim.h"
#include "control/detach.h"
#include "control/mcp.h"
#include "control/folder.h"
#include "control/server.h"
#include "import.h"
#include "spec_args.h"
#include "plan/render.h"
#include "plan/render_json.h"
#include "plan/load.h"
#include "plan/select.h"
#include "proc/local_launcher.h"
#include "proc/slurm_launcher.h"
#include "slurm.h"
#include "proc/signals.h"
#include "run/environment.h"
#include "run/run.h"
#include "base/units.h"

namespace {

using namespace treerun;

constexpr int kUsageError = 125;
/// After the run, how long the control socket's last replies (`wait`, `down`) may take.
constexpr auto kLastReplies = std::chrono::seconds(1);

struct UpFlags {
  std::vector<std::string> words;  // SPEC [NODE...], as typed
  std::vector<std::string> env_files;
  std::string spec;
  std::vector<std::string> nodes;
  std::string timeout, grace, events, logs, name, backend;
  bool no_color = false, timestamps = false, quiet = false, detach = false;
  int verbose = 0;
};

/// fds 0-2 must exist: otherwise our first pipe would become someone's stdout.
void ensure_std_fds() {
  for (int fd = 0; fd < 3; ++fd)
    if (fcntl(fd, F_GETFD) < 0) {
      int null = open("/dev/null", O_RDWR);
      if (null >= 0 && null != fd) {
        dup2(null, fd);
        close(null);
      }
    }
}

std::optional<LogTarget> parse_logs(const std::string& value) {
  if (value.empty()) return std::nullopt;
  LogTarget t;
  if (value == "stdout") t.type = LogTarget::Type::stdout_;
  else if (value == "stderr") t.type = LogTarget::Type::stderr_;
  else if (value == "none") t.type = LogTarget::Type::none;
  else {
    t.type = LogTarget::Type::file;
    t.path = std::filesystem::absolute(value).lexically_normal().string();
  }
  return t;
}

int report(const LoadResult& loaded) {
  for (const auto& d : loaded.problems) std::cerr << d.str() << '\n';
  return loaded.problems.size();
}

std::optional<Millis> duration_flag(const std::string& name, const std::string& value) {
  if (value.empty()) return std::nullopt;
  bool too_long = false;
  auto d = parse_duration(value, &too_long);
  if (!d && too_long)
    throw CLI::ValidationError(name, "'" + value + "' is too long: a duration is at most " + std::string(kMaxDurationText));
  if (!d) throw CLI::ValidationError(name, "not a duration: '" + value + "' (try 1.5s, 250ms, 2m)");
  return d;
}

/// Whether the event log at EVENTS would be the log stream's file LOGS too: the same
/// path, or two names of one regular file. Two descriptors on one file, each writing
/// from its own offset, overwrite each other. A device (/dev/null) is no such file.
bool same_file(const std::string& events, const LogTarget& logs) {
  namespace fs = std::filesystem;
  if (logs.type != LogTarget::Type::file) return false;
  std::error_code ec;
  fs::file_status st = fs::status(events, ec);
  if (fs::exists(st) && !fs::is_regular_file(st)) return false;
  if (fs::path(events).lexically_normal() == fs::path(logs.path).lexically_normal()) return true;
  return fs::equivalent(events, logs.path, ec) && !ec;
}

bool wants_color(const LogTarget& logs, bool no_color) {
  const char* nc = std::getenv("NO_COLOR");
  if (no_color || (nc && *nc)) return false;
  if (logs.type == LogTarget::Type::stdout_) return isatty(STDOUT_FILENO);
  if (logs.type == LogTarget::Type::stderr_) return isatty(STDERR_FILENO);
  return false;
}

/// The --env-file option of up, check and tree: one FILE a time, repeatable.
void add_env_file_option(CLI::App* cmd, std::vector<std::string>& files) {
  cmd->add_option("--env-file", files,
                  "Variables for ${...} and every node, as KEY=VALUE lines (repeatable; a later file wins)")
      ->type_name("FILE")
      ->allow_extra_args(false);
}

/// `[SPEC] [NODE...]` of up and tree, into WORDS: two positionals for the help's sake,
/// one list, which spec_and_nodes() splits by the rule of treerun(1).
void add_spec_words(CLI::App* cmd, std::vector<std::string>& words, const std::string& verb) {
  cmd->add_option_function<std::string>(
         "SPEC", [&words](const std::string& w) { words.insert(words.begin(), w); },
         "The spec file (- for standard input; default: treerun.yaml)")
      ->type_name("");
  cmd->add_option_function<std::vector<std::string>>(
         "NODE", [&words](const std::vector<std::string>& w) { words.insert(words.end(), w.begin(), w.end()); },
         "The nodes to " + verb + " (default: all), each with what it needs (a path: pipeline/keep)")
      ->type_name("");
}

/// What `${...}` sees in up, check and tree: treerun's environment and the --env-file files.
Overrides environment_overrides(const std::vector<std::string>& env_files) {
  Overrides opts;
  opts.env_files = env_files;
  opts.environment = own_environment();
  return opts;
}

/// `up -d` refuses a node with `tty: true`: a detached run has no terminal to lend it.
bool refuse_tty_nodes(const Plan& plan) {
  for (const auto& node : plan.nodes)
    if (node.tty) {
      std::cerr << "treerun: up -d: the node " << node.path << " has `tty: true`, and a detached run has no "
                << "terminal to give it; run it without -d\ntreerun: nothing was started\n";
      return true;
    }
  return false;
}

/// up -d: the run goes on in a background process (control/detach.h), which claims the
/// name and writes its stdout and stderr to --logs FILE, else RUN.log by the socket. In
/// the foreground: its exit code. In the background: nothing, and RUN fits it.
std::optional<int> detach(const Plan& plan, bool logs_to_file, RunOptions& run, control::DetachedRun& detached,
                          UniqueFd& channel) {
  if (refuse_tty_nodes(plan)) return kUsageError;
  if (logs_to_file) detached.log_path = run.logs.path;
  if (auto code = control::detach(detached, channel)) return code;
  run.color = false;
  if (logs_to_file) run.logs.type = LogTarget::Type::stdout_;  // fd 1 is that file now
  return std::nullopt;
}

/// `reload`: the spec at SPEC_PATH read again with the options `up` read it with.
std::function<ReloadedSpec()> reloader(std::string spec_path, Overrides opts, std::vector<std::string> nodes) {
  return [spec_path = std::move(spec_path), opts = std::move(opts), nodes = std::move(nodes)] {
    ReloadedSpec out;
    LoadResult loaded = load_plan(spec_path, opts);
    for (const Diagnostic& d : loaded.problems) out.problems.push_back(d.str());
    if (!loaded.ok()) return out;
    if (nodes.empty()) {
      out.plan = std::move(loaded.plan);
      return out;
    }
    Selection s = select_nodes(*loaded.plan, nodes);
    if (!s.plan) out.problems.push_back(s.problem);
    out.plan = std::move(s.plan);
    return out;
  };
}

/// Selects F's nodes of a loaded plan; its problems said, nothing if it has any.
std::optional<Plan> plan_of(LoadResult loaded, const UpFlags& f) {
  if (!loaded.ok()) report(loaded);
  return loaded.ok() ? selected(std::move(*loaded.plan), f.nodes) : std::nullopt;
}

int nothing_started() {
  std::cerr << "treerun: nothing was started\n";
  return kUsageError;
}

int cmd_up(const UpFlags& f) {
  Overrides opts = environment_overrides(f.env_files);
  opts.grace = duration_flag("--grace", f.grace);
  opts.timeout = duration_flag("--timeout", f.timeout);
  opts.logs = parse_logs(f.logs);
  if (!f.name.empty())
    if (std::string why = control::check_run_name(f.name); !why.empty()) throw CLI::ValidationError("--name", why);
  if (!f.backend.empty()) opts.backend = f.backend == "slurm" ? Backend::slurm : Backend::local;
  SpecSource source(f.spec);
  LoadResult loaded = source.load(opts);
  // Under slurm the allocation is asked for with every node's `on`, selected or not.
  std::optional<Plan> whole;
  if (loaded.ok() && loaded.plan->backend == Backend::slurm) whole = *loaded.plan;
  std::optional<Plan> plan = plan_of(std::move(loaded), f);
  if (!plan) return nothing_started();
  RunOptions run;
  run.logs = plan->logs;
  run.color = wants_color(run.logs, f.no_color);
  run.timestamps = f.timestamps;
  run.quiet = f.quiet;
  run.verbose = f.verbose;
  run.process_exits_after = true;
  if (!f.events.empty()) run.events_path = std::filesystem::absolute(f.events).lexically_normal().string();
  if (!run.events_path.empty() && same_file(run.events_path, run.logs)) {
    std::cerr << "treerun: --events and " << (opts.logs ? "--logs" : "the spec's `logs`") << " both name "
              << run.logs.path << ": the event log and the log stream would overwrite each other; "
              << "give each a file of its own\n";
    return nothing_started();
  }
  // The run's name is claimed before anything starts (a Slurm allocation included): a
  // live run of that name refuses this one (125, nothing started); the claim removes
  // the socket however `up` ends.
  run.name = f.name.empty() ? control::run_name_from(plan->name) : f.name;
  run.spec_path = f.spec == "-" ? "-" : std::filesystem::absolute(f.spec).lexically_normal().string();
  UniqueFd channel;  // up -d: to the foreground, in the background process
  control::DetachedRun detached{run.name, control::run_log_path(control::socket_folder(), run.name)};
  bool logs_to_file = opts.logs && opts.logs->type == LogTarget::Type::file;
  if (f.detach)
    if (auto code = detach(*plan, logs_to_file, run, detached, channel)) return *code;
  std::string why;
  auto claim = control::SocketClaim::claim(control::socket_folder(), run.name, why);
  if (!claim) {
    std::cerr << "treerun: " << why << '\n';
    return nothing_started();
  }
  if (f.detach && !control::redirect_to_log(detached.log_path, logs_to_file, why)) {
    std::cerr << "treerun: " << why << '\n';
    return nothing_started();
  }
  if (f.detach && !logs_to_file) claim->remove_with_socket(detached.log_path);  // RUN.log goes with the run
  // The start-up checklist: treerun's own dispositions, then the launcher (which forks
  // the guardian and notes what children must get back), then the run and its server.
  ignore_run_signals();
  RunResult result;
  {
    boost::asio::io_context io;
    run.run_id = make_run_id();
    std::unique_ptr<Launcher> launcher;
    if (plan->backend == Backend::slurm) {
      // The launcher (its guardian) first: from the grant on, a killed treerun's
      // allocation is released; the hold releases it on every early return.
      auto slurm = std::make_unique<SlurmLauncher>(io, run.run_id);
      auto allocation = allocate_for(*whole, [&](const std::string& job) { slurm->release_on_death(job); }, why);
      if (!allocation) {
        std::cerr << "treerun: no Slurm allocation: " << why << '\n';
        return nothing_started();
      }
      // The hosts are known once the allocation is: `on` and `${host:PATH}` are placed
      // on them by loading the spec again.
      opts.hosts = (*allocation)->hosts;
      plan = plan_of(source.load(opts), f);
      if (!plan) return nothing_started();
      slurm->adopt(std::move(*allocation));
      launcher = std::move(slurm);
    } else {
      launcher = std::make_unique<LocalLauncher>(io, run.run_id);
    }
    note_ignored_on(*plan);
    if (f.spec != "-") run.reload_spec = reloader(run.spec_path, opts, f.nodes);  // with the hosts
    control::UpReport* report = nullptr;  // up -d: told when the tree is up
    run.on_up = [&report] {
      if (report) report->up();
    };
    Run tree(std::move(*plan), run, io, *launcher);  // the run keeps the one copy
    control::Server server(io, tree.target(), std::move(*claim));  // goes before the Run
    std::optional<control::UpReport> up_report;  // and so does this
    if (channel) report = &up_report.emplace(io, std::move(channel), tree.target());
    result = tree.run();
    server.finish(result.code, std::chrono::steady_clock::now() + kLastReplies);
  }  // the guardian has its clean goodbye and is reaped before we die by a signal
  if (result.signal) die_by(result.signal);
  return result.code;
}

/// check and tree end here: output that could not be written (a full disk, a hung-up
/// terminal) is said on stderr and fails the command, as it would for cat or ls.
int printed(int code) {
  errno = 0;
  std::cout.flush();
  if (std::cout) return code;
  int err = errno;
  std::cerr << "treerun: cannot write stdout" << (err ? std::string(": ") + std::strerror(err) : "") << '\n';
  return kUsageError;
}

/// Checks each of SPECS in turn: its problems, or "SPEC: ok"; 1 if any is invalid. With
/// JSON, one answer for all of them on stdout, valid or not: a tool reads one place.
int cmd_check(const std::vector<std::string>& specs, const Overrides& opts, bool json) {
  int code = 0;
  std::vector<Diagnostic> problems;
  for (const auto& spec : specs) {
    LoadResult loaded = load_plan(spec, opts);
    if (!loaded.ok()) code = 1;
    if (json) {
      problems.insert(problems.end(), loaded.problems.begin(), loaded.problems.end());
      continue;
    }
    if (!loaded.ok()) {
      report(loaded);
      continue;
    }
    std::cout << spec << ": ok (" << loaded.plan->nodes.size() - 1 << " nodes)" << std::endl;
  }
  if (json) std::cout << render_problems_json(code == 0, problems);
  return printed(code);
}

int cmd_tree(const SpecWords& words, const Overrides& opts, bool json) {
  LoadResult loaded = load_plan(words.spec, opts);
  if (!loaded.ok()) {
    report(loaded);
    return 1;
  }
  std::optional<Plan> plan = selected(std::move(*loaded.plan), words.nodes);
  if (!plan) return kUsageError;
  if (json) {
    std::cout << render_plan_json(*plan);
    return printed(0);
  }
  const char* nc = std::getenv("NO_COLOR");
  std::cout << render_plan(*plan, isatty(STDOUT_FILENO) && !(nc && *nc));
  return printed(0);
}

/// "up, check, tree, ...": every command, for messages.
std::string command_names(const CLI::App& app) {
  std::string out;
  for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    out += (out.empty() ? "" : ", ") + sub->get_name();
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  hold_stop_signals();
  ensure_std_fds();
  CLI::App app{"treerun: run a tree of daemons and workers, wire their streams, and tear it all down cleanly"};
  app.name("treerun");
  app.set_version_flag("--version", std::string("treerun ") + TREERUN_VERSION);
  app.require_subcommand(0, 1);  // checked below, so an unknown option is named first
  app.footer("See treerun(1) for the spec, the semantics and the exit codes.");

  UpFlags up;
  auto* up_cmd = app.add_subcommand("up", "Run the tree until its workers are done, then tear it down");
  up_cmd->footer("Exit codes: 0 ok; 1-123 the first failure's code; 124 timeout; 125 treerun failed;\n"
                 "126/127 cannot execute / not found; 128+N signal N.");
  add_spec_words(up_cmd, up.words, "run");
  add_env_file_option(up_cmd, up.env_files);
  up_cmd->add_option("--timeout", up.timeout, "Deadline for the whole run (e.g. 30s); then exit 124")
      ->type_name("DUR");
  up_cmd->add_option("--grace", up.grace, "Default time between the graceful stop and SIGKILL")->type_name("DUR");
  up_cmd->add_option("--events", up.events, "Write the event log (JSON Lines) to FILE")->type_name("FILE");
  up_cmd->add_option("--logs", up.logs, "Where the log stream goes")->type_name("stdout|stderr|none|PATH");
  up_cmd->add_flag("--no-color", up.no_color, "No colours in the log stream (also NO_COLOR)");
  up_cmd->add_flag("--timestamps", up.timestamps, "Prefix log lines with the time");
  up_cmd->add_flag("--quiet", up.quiet, "No summary at the end");
  up_cmd->add_flag("-v,--verbose", up.verbose, "More of treerun's own messages (-vv: every state change)");
  up_cmd->add_option("--backend", up.backend, "Where the processes run: local, or the hosts of a Slurm allocation")
      ->check(CLI::IsMember({"local", "slurm"}))
      ->type_name("local|slurm");
  up_cmd->add_flag("-d,--detach", up.detach,
                   "Run in the background; return once every daemon is ready (the log goes to RUN.log)");
  up_cmd->add_option("--name", up.name, "The run's name, for ps, logs, down... (default: the spec's name)")
      ->type_name("RUN");

  std::vector<std::string> check_specs, check_env_files, tree_words, tree_env_files;
  std::string help_topic, import_kind, import_file;
  bool check_json = false, tree_json = false;
  auto* check_cmd = app.add_subcommand("check", "Validate specs; print every problem as FILE:LINE:COL: message");
  check_cmd->add_option("SPEC", check_specs, "The spec files (- for standard input; default: treerun.yaml)");
  check_cmd->add_flag("--json", check_json,
                      "Print {\"ok\": BOOL, \"problems\": [{file, line, col, message}]} on stdout instead");
  add_env_file_option(check_cmd, check_env_files);
  check_cmd->footer("Exit codes: 0 all valid; 1 one invalid or unreadable; 125 usage error.");
  auto* tree_cmd = app.add_subcommand("tree", "Print the plan: tree, start and stop order, streams, stop sequences");
  add_spec_words(tree_cmd, tree_words, "show");
  tree_cmd->add_flag("--json", tree_json, "Print the plan as one JSON object (see treerun(1)) instead");
  add_env_file_option(tree_cmd, tree_env_files);
  tree_cmd->footer("Exit codes: 0 printed; 1 invalid or unreadable spec; 125 usage error or unknown node.");
  auto* import_cmd = app.add_subcommand("import", "Print a spec for another tool's file: `import procfile FILE`");
  import_cmd->add_option("KIND", import_kind, "What FILE is: procfile (foreman, honcho, overmind)")
      ->required()
      ->check(CLI::IsMember({"procfile"}));
  import_cmd->add_option("FILE", import_file, "The file to import")->required();
  import_cmd->footer("Exit codes: 0 printed; 1 unreadable FILE or a bad line (FILE:LINE:COL); 125 usage error.");
  ClientCommands client(app);
  auto* mcp_cmd = app.add_subcommand("mcp", "Serve the Model Context Protocol on stdio: tools over this user's runs");
  mcp_cmd->footer("Tools: list_runs, ps, logs, events, start, stop, restart, signal, down (see treerun(1), MCP).\n"
                  "Exit codes: 0 the input ended; 1 the output failed; 125 usage error.");
  auto* help_cmd = app.add_subcommand("help", "Show help for a command");
  help_cmd->add_option("COMMAND", help_topic, "A command: up, check, tree, import, ps, logs...");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kUsageError;
  }
  if (app.get_subcommands().empty()) {
    std::cerr << "treerun: a command is required (" << command_names(app)
              << ")\nRun with --help for more information.\n";
    return kUsageError;
  }
  try {
    if (*help_cmd) {
      if (help_topic.empty()) {
        std::cout << app.help();
        return 0;
      }
      for (auto* sub : app.get_subcommands([](CLI::App*) { return true; }))
        if (sub->get_name() == help_topic) {
          std::cout << sub->help("treerun");
          return 0;
        }
      std::cerr << "treerun: no command '" << help_topic << "' (commands: " << command_names(app) << ")\n";
      return kUsageError;
    }
    if (*up_cmd) {
      auto words = spec_and_nodes(up.words);
      if (!words) return kUsageError;
      up.spec = words->spec;
      up.nodes = words->nodes;
      return cmd_up(up);  // the supervisor releases them once it listens
    }
    release_stop_signals();
    if (auto code = client.run()) return *code;
    if (*check_cmd) {
      if (check_specs.empty()) {
        auto words = spec_and_nodes({});
        if (!words) return kUsageError;
        check_specs.push_back(words->spec);
      }
      if (std::count(check_specs.begin(), check_specs.end(), "-") > 1) {
        std::cerr << "treerun: check: `-` (standard input) can be read only once\n";
        return kUsageError;
      }
      return cmd_check(check_specs, with_known_hosts(environment_overrides(check_env_files)), check_json);
    }
    if (*tree_cmd) {
      auto words = spec_and_nodes(tree_words);
      if (!words) return kUsageError;
      return cmd_tree(*words, with_known_hosts(environment_overrides(tree_env_files)), tree_json);
    }
    if (*import_cmd) return printed(import_procfile(import_file));
    if (*mcp_cmd) return control::serve_mcp();
  } catch (const CLI::Error& e) {
    std::cerr << "treerun: " << e.what() << '\n';
    return kUsageError;
  } catch (const std::exception& e) {
    std::cerr << "treerun: " << e.what() << '\n';
    return kUsageError;
  }
  return kUsageError;
}
