// The JSON-RPC side of `treerun mcp`: a message in, its reply out. The tools are in
// mcp_tools.cpp, the loop on stdio and the runs behind it in mcp_runs.cpp.
#include "control/mcp.h"

#include <algorithm>

namespace treerun::control {
namespace {

using ojson = nlohmann::ordered_json;

std::string dump(const ojson& j) { return j.dump(-1, ' ', false, ojson::error_handler_t::replace); }

std::string error_reply(const ojson& id, int code, std::string_view message) {
  return dump(ojson{{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}});
}

std::string result_reply(const ojson& id, ojson result) {
  return dump(ojson{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}});
}

ojson initialize_result(const ojson& params) {
  std::string version(kMcpVersions[0]);
  if (params.is_object() && params.contains("protocolVersion") && params["protocolVersion"].is_string()) {
    const auto& asked = params["protocolVersion"].get_ref<const std::string&>();
    if (std::find(std::begin(kMcpVersions), std::end(kMcpVersions), asked) != std::end(kMcpVersions)) version = asked;
  }
  return {{"protocolVersion", version},
          {"capabilities", {{"tools", {{"listChanged", false}}}}},
          {"serverInfo", {{"name", "treerun"}, {"title", "treerun"}, {"version", TREERUN_VERSION}}},
          {"instructions",
           "Tools to look at and steer this user's live treerun runs (process trees started with `treerun up`): "
           "list_runs, then ps, logs and events to see a run; start, stop, restart, signal to act on its nodes; "
           "down to end it. `run` names the run when several are live."}};
}

bool valid_id(const ojson& id) { return id.is_string() || id.is_number_integer(); }

}  // namespace

ojson McpServer::call_tool(const ojson& params) {
  if (!params.is_object() || !params.contains("name") || !params["name"].is_string())
    throw BadParams{"tools/call needs \"name\": the tool's name"};
  ojson args = params.value("arguments", ojson::object());
  if (args.is_null()) args = ojson::object();
  if (!args.is_object()) throw BadParams{"\"arguments\" must be an object"};
  return run_tool(runs_, params["name"].get<std::string>(), args);
}

std::optional<std::string> McpServer::handle(std::string_view line) {
  ojson message = ojson::parse(line, nullptr, false);
  if (message.is_discarded()) return error_reply(nullptr, kParseError, "parse error: not JSON");
  if (!message.is_object() || message.value("jsonrpc", "") != "2.0")
    return error_reply(nullptr, kInvalidRequest, "not a JSON-RPC 2.0 message");
  bool has_id = message.contains("id");
  if (!message.contains("method")) return std::nullopt;  // a response to us: we ask nothing
  ojson id = has_id ? message["id"] : ojson();
  if (!message["method"].is_string() || (has_id && !valid_id(id)))
    return has_id ? std::optional(error_reply(valid_id(id) ? id : ojson(), kInvalidRequest, "not a valid request"))
                  : std::nullopt;
  const std::string method = message["method"].get<std::string>();
  if (!has_id) return std::nullopt;  // notifications/initialized, notifications/cancelled, ...
  ojson params = message.value("params", ojson::object());
  try {
    if (method == "initialize") return result_reply(id, initialize_result(params));
    if (method == "ping") return result_reply(id, ojson::object());
    if (method == "tools/list") return result_reply(id, mcp_tools());
    if (method == "tools/call") return result_reply(id, call_tool(params));
  } catch (const BadParams& bad) {
    return error_reply(id, kInvalidParams, bad.message);
  }
  return error_reply(id, kMethodNotFound, "no method '" + method + "' (this server has initialize, ping, "
                                                                   "tools/list, tools/call)");
}

}  // namespace treerun::control
