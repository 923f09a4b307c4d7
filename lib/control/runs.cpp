#include "control/runs.h"

#include <dirent.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "control/claim.h"
#include "control/client.h"
#include "control/folder.h"

namespace treerun::control {
namespace {

/// The run names of the sockets in FOLDER.
std::vector<std::string> socket_names(const std::string& folder) {
  std::vector<std::string> names;
  DIR* dir = ::opendir(folder.c_str());
  if (!dir) return names;
  while (dirent* e = ::readdir(dir))
    if (std::string name = run_of_socket(e->d_name); !name.empty()) names.push_back(std::move(name));
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

void ask_status(LiveRun& run, int timeout_ms) {
  std::string why;
  auto reply = ask(run.socket, request_for(Cmd::status), timeout_ms, why);
  if (reply.is_discarded()) {
    run.problem = why;
    return;
  }
  try {
    if (reply.value("ok", false) && reply.contains("run")) run.status = status_from(reply["run"]);
    else run.problem = reply.value("error", "no status in the answer");
  } catch (const std::exception&) {
    run.problem = "a status that is not the protocol's";
  }
}

std::string listing(const std::vector<LiveRun>& runs) {
  std::string out;
  for (const LiveRun& r : runs)
    out += r.status ? fmt::format("\n  {} (pid {}, {})", r.name, r.status->pid, r.status->spec)
                    : fmt::format("\n  {} ({})", r.name, r.problem);
  return out;
}

}  // namespace

std::vector<LiveRun> live_runs(const std::string& folder, int timeout_ms) {
  std::vector<LiveRun> runs;
  for (const std::string& name : socket_names(folder)) {
    LiveRun run{name, socket_path(folder, name), std::nullopt, ""};
    int err = 0;
    Liveness l = probe_socket(run.socket, err);
    if (l == Liveness::stale) remove_stale(folder, run.socket);
    if (l != Liveness::live) continue;
    ask_status(run, timeout_ms);
    runs.push_back(std::move(run));
  }
  return runs;
}

std::optional<LiveRun> find_run(const std::string& folder, const std::string& name, int timeout_ms,
                                std::string& why) {
  if (why = check_folder(folder, false); !why.empty()) return std::nullopt;
  if (!name.empty()) {
    if (why = check_run_name(name); !why.empty()) return std::nullopt;
    LiveRun run{name, socket_path(folder, name), std::nullopt, ""};
    int err = 0;
    switch (probe_socket(run.socket, err)) {
      case Liveness::live: return run;
      case Liveness::stale:
        remove_stale(folder, run.socket);
        why = fmt::format("no run named '{}': the run that had that name is gone (its socket is removed now)", name);
        return std::nullopt;
      case Liveness::gone: {
        auto runs = live_runs(folder, timeout_ms);
        why = fmt::format("no run named '{}' is live", name);
        if (!runs.empty()) why += "; the live runs:" + listing(runs);
        return std::nullopt;
      }
      case Liveness::unknown:
        why = fmt::format("cannot reach the run '{}' ({}): {}", name, run.socket, std::strerror(err));
        return std::nullopt;
    }
  }
  auto runs = live_runs(folder, timeout_ms);
  if (runs.size() == 1) return runs.front();
  if (runs.empty()) why = fmt::format("no run is live (none in {})", folder);
  else why = "several runs are live; name one with -r RUN:" + listing(runs);
  return std::nullopt;
}

}  // namespace treerun::control
