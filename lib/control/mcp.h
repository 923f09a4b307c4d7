// `treerun mcp` (treerun(1), MCP SERVER): a Model Context Protocol server on stdio, so
// that a coding agent can look at and steer its dev stack. JSON-RPC 2.0, one message a
// line; methods initialize, ping, tools/list, tools/call (notifications are taken and
// not answered). Each tool is a thin map of one request of the control protocol:
// list_runs, ps, logs, events, start, stop, restart, signal, down, each with an optional
// "run" (default: this user's only live run).
//
// This file is the mapping, pure: a message in, a reply out, the runs reached through
// McpRuns, which the unit tests fake. The real McpRuns talks to the control sockets
// with control::Client (mcp_runs.cpp).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control/protocol.h"
#include "control/runs.h"

namespace treerun::control {

/// One request's conversation with a run: its stream messages, then its last reply.
struct Exchange {
  std::vector<nlohmann::ordered_json> stream;
  nlohmann::ordered_json final;  // has "ok"; null when there is none (then ERROR says why)
  std::string error;
};

/// The runs as the tools reach them.
class McpRuns {
 public:
  virtual ~McpRuns() = default;
  /// This user's live runs (list_runs).
  virtual std::vector<LiveRun> list() = 0;
  /// REQUEST sent to RUN (empty: the only live run), answered in full.
  virtual Exchange ask(const std::string& run, const Request& request) = 0;
};

/// The protocol versions this server speaks, newest first: it answers initialize with
/// the client's when it is one of them, else with the newest.
inline constexpr std::string_view kMcpVersions[] = {"2025-06-18", "2025-03-26", "2024-11-05"};

/// JSON-RPC's error codes.
inline constexpr int kParseError = -32700, kInvalidRequest = -32600, kMethodNotFound = -32601,
                     kInvalidParams = -32602;

class McpServer {
 public:
  explicit McpServer(McpRuns& runs) : runs_(runs) {}
  /// One message (a line, without its newline); its reply, one line without a newline,
  /// or nothing for a notification or a response.
  std::optional<std::string> handle(std::string_view line);

 private:
  nlohmann::ordered_json call_tool(const nlohmann::ordered_json& params);
  McpRuns& runs_;
};

/// The tools/list result: every tool with its inputSchema.
nlohmann::ordered_json mcp_tools();

/// A tool's arguments that do not fit its schema: the JSON-RPC error (-32602) it gets.
struct BadParams {
  std::string message;
};

/// Runs tool NAME with ARGS against RUNS: the tools/call result ({content, isError,
/// structuredContent}). Throws BadParams for an unknown tool or arguments that do not
/// fit; a run that is not there or refuses is a result with isError: true.
nlohmann::ordered_json run_tool(McpRuns& runs, const std::string& name, const nlohmann::ordered_json& args);

/// Serves MCP on standard input and output until the input ends: `treerun mcp`.
int serve_mcp();

}  // namespace treerun::control
