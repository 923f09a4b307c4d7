// `treerun mcp` on stdio, and the runs it reaches: this user's control sockets, through
// the CLI's own client (control/client.h) and run discovery (control/runs.h).
#include <cstring>
#include <iostream>
#include <string>

#include "control/client.h"
#include "control/folder.h"
#include "control/mcp.h"

namespace treerun::control {
namespace {

/// How long a question (ps, logs, events) may take; actions and down take as long as
/// the run takes to carry them out.
constexpr int kAnswerMs = 10'000;

bool waits_for_the_run(Cmd cmd) {
  return cmd == Cmd::stop || cmd == Cmd::start || cmd == Cmd::restart || cmd == Cmd::down || cmd == Cmd::wait;
}

class SocketRuns : public McpRuns {
 public:
  std::vector<LiveRun> list() override {
    if (!check_folder(socket_folder(), false).empty()) return {};
    return live_runs(socket_folder(), kAnswerMs);
  }

  Exchange ask(const std::string& run, const Request& request) override {
    Exchange ex;
    auto live = find_run(socket_folder(), run, kAnswerMs, ex.error);
    if (!live) return ex;
    int err = 0;
    Client client = Client::connect(live->socket, err);
    if (!client.valid()) {
      ex.error = "cannot reach the run '" + live->name + "': " + std::strerror(err);
      return ex;
    }
    if (!client.send(request, ex.error)) {
      if (ex.error.empty()) ex.error = "the run '" + live->name + "' closed the connection without an answer";
      return ex;
    }
    int timeout = waits_for_the_run(request.cmd) ? -1 : kAnswerMs;
    while (auto message = client.next(ex.error, timeout)) {
      if (is_final(*message)) {
        ex.final = std::move(*message);
        return ex;
      }
      ex.stream.push_back(std::move(*message));
    }
    if (ex.error.empty()) ex.error = "the connection to the run '" + live->name + "' ended before its answer";
    return ex;
  }
};

}  // namespace

int serve_mcp() {
  SocketRuns runs;
  McpServer server(runs);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (auto reply = server.handle(line)) std::cout << *reply << '\n' << std::flush;
    if (!std::cout) return 1;  // the client is gone
  }
  return 0;
}

}  // namespace treerun::control
