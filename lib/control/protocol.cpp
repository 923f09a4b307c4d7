#include "control/protocol.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <limits>

#include "base/units.h"

namespace treerun::control {
namespace {

using ojson = nlohmann::ordered_json;

constexpr std::array<std::pair<Cmd, std::string_view>, 11> kCmds{{
    {Cmd::status, "status"},
    {Cmd::ps, "ps"},
    {Cmd::logs, "logs"},
    {Cmd::events, "events"},
    {Cmd::stop, "stop"},
    {Cmd::start, "start"},
    {Cmd::restart, "restart"},
    {Cmd::signal, "signal"},
    {Cmd::down, "down"},
    {Cmd::wait, "wait"},
    {Cmd::reload, "reload"},
}};

/// Deeper than any request can be ({"nodes": [...]} is 2): refused before parsing, so
/// that 64 KiB of `[[[[` costs a scan, not a tree.
constexpr int kMaxDepth = 4;
/// The most `lines` a request may ask for (a run keeps 1 000 per node).
constexpr std::size_t kMaxLines = 1'000'000;

/// Nesting depth of LINE's arrays and objects, strings skipped; stops counting past LIMIT.
int depth(std::string_view line, int limit) {
  int level = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : line) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++level);
      if (deepest > limit) break;
    } else if (c == ']' || c == '}') {
      --level;
    }
  }
  return deepest;
}

/// Dumps J on one line; bytes that are not UTF-8 (a node's binary output) become U+FFFD
/// instead of an exception.
std::string dump(const ojson& j) { return j.dump(-1, ' ', false, ojson::error_handler_t::replace); }

/// The bytes a JSON string cannot hold as they are: controls, quote, backslash, and
/// DEL and above (escaped or checked as UTF-8 by dump()).
constexpr std::array<bool, 256> kNotPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) t[static_cast<std::size_t>(c)] = c < 0x20 || c > 0x7e || c == '"' || c == '\\';
  return t;
}();

/// Whether TEXT is its own JSON string body (most log lines): a table look-up a byte,
/// no branch per byte.
bool plain(std::string_view text) {
  bool bad = false;
  for (unsigned char c : text) bad |= kNotPlain[c];
  return !bad;
}

/// TEXT as a JSON string, appended to OUT. A plain one is copied between its quotes;
/// any other goes through dump(), which escapes and replaces: the same bytes either way,
/// at a tenth of the cost for a follower's every line.
void append_quoted(std::string& out, std::string_view text) {
  if (!plain(text)) {
    out += dump(ojson(std::string(text)));
    return;
  }
  out += '"';
  out += text;
  out += '"';
}

std::string json_quoted(std::string_view text) {
  std::string out;
  append_quoted(out, text);
  return out;
}

/// The keys REQUEST's command may carry, besides "v" and "cmd".
bool allowed(Cmd cmd, std::string_view key) {
  if (key == "nodes") return cmd == Cmd::logs || cmd == Cmd::stop || cmd == Cmd::start || cmd == Cmd::restart ||
                             cmd == Cmd::signal;
  if (key == "lines") return cmd == Cmd::logs;
  if (key == "follow") return cmd == Cmd::logs || cmd == Cmd::events;
  if (key == "signal") return cmd == Cmd::signal;
  return false;
}

std::string read_nodes(const ojson& value, Request& r) {
  if (!value.is_array()) return "\"nodes\" must be a list of node paths";
  for (const auto& node : value) {
    if (!node.is_string() || node.get_ref<const std::string&>().empty())
      return "\"nodes\" must be a list of node paths (non-empty strings)";
    r.nodes.push_back(node.get<std::string>());
  }
  return "";
}

std::string read_signal(const ojson& value, Request& r) {
  std::optional<int> sig;
  if (value.is_string()) sig = parse_signal(value.get_ref<const std::string&>());
  else if (value.is_number_integer() && value.get<long long>() >= 1 && value.get<long long>() <= 64)
    sig = static_cast<int>(value.get<long long>());
  if (!sig) return "\"signal\" must be a signal: a name (\"SIGHUP\", \"HUP\") or a number 1-64";
  r.signal = *sig;
  return "";
}

std::string read_key(const std::string& key, const ojson& value, Request& r) {
  if (key == "nodes") return read_nodes(value, r);
  if (key == "signal") return read_signal(value, r);
  if (key == "follow") {
    if (!value.is_boolean()) return "\"follow\" must be true or false";
    r.follow = value.get<bool>();
    return "";
  }
  // "lines"
  if (!value.is_number_unsigned() || value.get<unsigned long long>() > kMaxLines)
    return fmt::format("\"lines\" must be a whole number from 0 to {}", kMaxLines);
  r.lines = static_cast<std::size_t>(value.get<unsigned long long>());
  return "";
}

std::string check_version(const ojson& request) {
  auto v = request.find("v");
  if (v == request.end()) return "a request needs \"v\": 1 (the protocol's version)";
  if (!v->is_number_integer() || v->get<long long>() != kProtocolVersion)
    return fmt::format("protocol version {} is not spoken here (this treerun speaks \"v\": {})", dump(*v),
                       kProtocolVersion);
  return "";
}

std::string list_of_cmds() {
  std::string out;
  for (const auto& [cmd, n] : kCmds) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

}  // namespace

std::string_view name(Cmd cmd) {
  for (const auto& [c, n] : kCmds)
    if (c == cmd) return n;
  return "?";
}

std::optional<Cmd> cmd_named(std::string_view n) {
  for (const auto& [c, cn] : kCmds)
    if (cn == n) return c;
  return std::nullopt;
}

std::variant<Request, std::string> parse_request(std::string_view line) {
  if (line.size() > kMaxRequest) return fmt::format("request too long: over {} KiB", kMaxRequest / 1024);
  if (depth(line, kMaxDepth) > kMaxDepth) return std::string("malformed request: nested too deep");
  ojson request = ojson::parse(line, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded()) return std::string("malformed request: not JSON (one object on one line)");
  if (!request.is_object()) return std::string("malformed request: not a JSON object");
  if (std::string why = check_version(request); !why.empty()) return why;
  auto cmd = request.find("cmd");
  if (cmd == request.end() || !cmd->is_string())
    return "a request needs \"cmd\": one of " + list_of_cmds();
  Request r;
  auto known = cmd_named(cmd->get_ref<const std::string&>());
  if (!known) return fmt::format("no command {} (commands: {})", dump(*cmd), list_of_cmds());
  r.cmd = *known;
  for (const auto& [key, value] : request.items()) {
    if (key == "v" || key == "cmd") continue;
    if (!allowed(r.cmd, key)) return fmt::format("{} takes no key {}", name(r.cmd), json_quoted(key));
    if (std::string why = read_key(key, value, r); !why.empty()) return why;
  }
  bool needs_nodes = r.cmd == Cmd::stop || r.cmd == Cmd::start || r.cmd == Cmd::restart || r.cmd == Cmd::signal;
  if (needs_nodes && r.nodes.empty()) return fmt::format("{} needs \"nodes\": the paths of the nodes", name(r.cmd));
  if (r.cmd == Cmd::signal && r.signal == 0) return std::string("signal needs \"signal\": a name or a number");
  return r;
}

std::string request_line(const Request& r) {
  ojson j{{"v", kProtocolVersion}, {"cmd", std::string(name(r.cmd))}};
  if (!r.nodes.empty()) j["nodes"] = r.nodes;
  if (r.cmd == Cmd::logs) j["lines"] = r.lines;
  if (r.cmd == Cmd::logs || r.cmd == Cmd::events) j["follow"] = r.follow;
  if (r.cmd == Cmd::signal) j["signal"] = signal_name(r.signal);
  return dump(j) + '\n';
}

std::string ok_reply(std::optional<int> code) {
  ojson j{{"v", kProtocolVersion}, {"ok", true}};
  if (code) j["code"] = *code;
  return dump(j) + '\n';
}

std::string error_reply(std::string_view message) {
  return dump(ojson{{"v", kProtocolVersion}, {"ok", false}, {"error", std::string(message)}}) + '\n';
}

std::string reload_reply(const ReloadResult& r) {
  if (!r.error.empty()) {
    ojson j{{"v", kProtocolVersion}, {"ok", false}, {"error", r.error}};
    if (!r.problems.empty()) j["problems"] = r.problems;
    return dump(j) + '\n';
  }
  return dump(ojson{{"v", kProtocolVersion}, {"ok", true},          {"stopped", r.stopped},
                    {"started", r.started},   {"restarted", r.restarted}, {"notes", r.notes}}) +
         '\n';
}

std::string status_reply(const RunStatus& s) {
  ojson run{{"name", s.name}, {"pid", s.pid}, {"spec", s.spec}, {"uptime", s.uptime}, {"running", s.running}};
  return dump(ojson{{"v", kProtocolVersion}, {"ok", true}, {"run", std::move(run)}}) + '\n';
}

ojson node_json(const NodeStatus& n) {
  auto or_null = [](const auto& opt) { return opt ? ojson(*opt) : ojson(nullptr); };
  ojson j{{"path", n.path},       {"kind", n.kind},         {"state", n.state},
          {"pid", or_null(n.pid)}, {"uptime", or_null(n.uptime)}, {"restarts", n.restarts},
          {"code", or_null(n.code)}, {"signal", or_null(n.signal)}, {"outcome", or_null(n.outcome)}};
  if (n.host) j["host"] = *n.host;  // only under a backend of several hosts (contract 6.2)
  return j;
}

std::string ps_reply(const std::vector<NodeStatus>& nodes) {
  ojson list = ojson::array();
  for (const NodeStatus& n : nodes) list.push_back(node_json(n));
  return dump(ojson{{"v", kProtocolVersion}, {"ok", true}, {"nodes", std::move(list)}}) + '\n';
}

std::string line_message(std::string_view node, std::string_view line, std::uint64_t seq) {
  // Made for every line while a client follows: by hand, not through fmt and two
  // temporaries, as `{"v":1,"seq":SEQ,"node":NODE,"line":LINE}`.
  std::string out;
  out.reserve(48 + node.size() + line.size());
  out += "{\"v\":";
  const fmt::format_int version(kProtocolVersion), number(seq);
  out.append(version.data(), version.size());
  out += ",\"seq\":";
  out.append(number.data(), number.size());
  out += ",\"node\":";
  append_quoted(out, node);
  out += ",\"line\":";
  append_quoted(out, line);
  out += "}\n";
  return out;
}

std::optional<std::string_view> plain_line_text(std::string_view m) {
  // {"v":1,"seq":DIGITS,"node":"NODE","line":"LINE"}, NODE and LINE plain: neither can
  // hold a quote, so each ends at the next one.
  auto skip = [&m](std::string_view text) {
    if (!m.starts_with(text)) return false;
    m.remove_prefix(text.size());
    return true;
  };
  auto plain_string = [&m]() -> std::optional<std::string_view> {
    std::size_t end = m.find('"');
    if (end == std::string_view::npos || !plain(m.substr(0, end))) return std::nullopt;
    std::string_view text = m.substr(0, end);
    m.remove_prefix(end + 1);
    return text;
  };
  if (!skip("{\"v\":1,\"seq\":")) return std::nullopt;
  std::size_t digits = m.find_first_not_of("0123456789");
  if (digits == 0 || digits == std::string_view::npos) return std::nullopt;
  m.remove_prefix(digits);
  if (!skip(",\"node\":\"") || !plain_string() || !skip(",\"line\":\"")) return std::nullopt;
  std::optional<std::string_view> line = plain_string();
  if (!line || m != "}") return std::nullopt;
  return line;
}

std::string event_message(std::string_view event_json, std::uint64_t seq) {
  while (!event_json.empty() && (event_json.back() == '\n' || event_json.back() == '\r')) event_json.remove_suffix(1);
  return fmt::format("{{\"v\":{},\"seq\":{},\"event\":{}}}\n", kProtocolVersion, seq, event_json);
}

std::string text_message(std::string_view text) {
  return fmt::format("{{\"v\":{},\"text\":{}}}\n", kProtocolVersion, json_quoted(text));
}

std::string skipped_message(std::size_t n) {
  return fmt::format("{{\"v\":{},\"skipped\":{}}}\n", kProtocolVersion, n);
}

ojson parse_reply(std::string_view line) {
  ojson j = ojson::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return ojson(ojson::value_t::discarded);
  auto v = j.find("v");
  if (v == j.end() || !v->is_number_integer() || v->get<long long>() != kProtocolVersion)
    return ojson(ojson::value_t::discarded);
  return j;
}

namespace {

template <typename T>
std::optional<T> optional_of(const ojson& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<T>();
}

}  // namespace

RunStatus status_from(const ojson& run) {
  RunStatus s;
  s.name = run.value("name", "");
  s.pid = run.value("pid", 0L);
  s.spec = run.value("spec", "");
  s.uptime = run.value("uptime", 0.0);
  s.running = run.value("running", 0);
  return s;
}

NodeStatus node_from(const ojson& j) {
  NodeStatus n;
  n.path = j.value("path", "");
  n.kind = j.value("kind", "");
  n.state = j.value("state", "");
  n.pid = optional_of<long>(j, "pid");
  n.uptime = optional_of<double>(j, "uptime");
  n.restarts = j.value("restarts", 0);
  n.code = optional_of<int>(j, "code");
  n.signal = optional_of<std::string>(j, "signal");
  n.outcome = optional_of<std::string>(j, "outcome");
  n.host = optional_of<std::string>(j, "host");
  return n;
}

}  // namespace treerun::control
