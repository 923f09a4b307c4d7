// The tools of `treerun mcp`, each a thin map of one control request (treerun(1), MCP
// SERVER): its inputSchema, how its arguments become the request, and how the replies
// become a tools/call result, as text for the agent to read and as structuredContent.
#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <initializer_list>

#include "base/units.h"
#include "control/mcp.h"
#include "control/print.h"

namespace treerun::control {
namespace {

using ojson = nlohmann::ordered_json;

/// A node keeps its last 1 000 lines (contract 6.2): what a page of logs can reach.
constexpr std::size_t kKeptLines = 1000;
constexpr std::size_t kDefaultEvents = 200, kMaxPage = 10000;

// ---- schemas -----------------------------------------------------------------------

ojson run_property() {
  return {{"type", "string"}, {"description", "The run's name, as list_runs shows it (default: the only live run)"}};
}

ojson nodes_property(const char* what) {
  return {{"type", "array"}, {"items", {{"type", "string"}}}, {"description", what}};
}

ojson count_property(const char* what, std::size_t fallback, std::size_t most) {
  return {{"type", "integer"}, {"minimum", 1}, {"maximum", most}, {"default", fallback}, {"description", what}};
}

ojson cursor_property(const char* what) { return {{"type", "integer"}, {"minimum", 0}, {"description", what}}; }

ojson object_schema(ojson properties, std::vector<std::string> required = {}) {
  ojson s{{"type", "object"}, {"properties", std::move(properties)}};
  if (!required.empty()) s["required"] = required;
  s["additionalProperties"] = false;
  return s;
}

/// Of start, stop and restart: the nodes, and the run.
ojson nodes_schema() {
  return object_schema({{"run", run_property()}, {"nodes", nodes_property("Node paths")}}, {"nodes"});
}

// ---- arguments ---------------------------------------------------------------------

class Args {
 public:
  Args(const std::string& tool, const ojson& j, std::initializer_list<std::string_view> keys) : tool_(tool), j_(j) {
    for (const auto& [key, value] : j.items())
      if (std::find(keys.begin(), keys.end(), key) == keys.end())
        bad(fmt::format("{} takes no argument \"{}\"", tool, key));
  }
  std::string run() const {
    if (!j_.contains("run")) return "";
    if (!j_["run"].is_string()) bad("\"run\" must be a run's name (a string)");
    return j_["run"].get<std::string>();
  }
  std::vector<std::string> nodes(bool required) const {
    if (!j_.contains("nodes")) {
      if (required) bad(fmt::format("{} needs \"nodes\": a list of node paths", tool_));
      return {};
    }
    const ojson& v = j_["nodes"];
    std::vector<std::string> out;
    if (v.is_array())
      for (const ojson& n : v)
        if (n.is_string() && !n.get_ref<const std::string&>().empty()) {
          const auto& path = n.get_ref<const std::string&>();
          out.push_back(path.starts_with('/') ? path.substr(1) : path);  // "/web" is "web"
        }
    if (!v.is_array() || out.size() != v.size()) bad("\"nodes\" must be a list of node paths (strings)");
    if (required && out.empty()) bad(fmt::format("{} needs at least one node in \"nodes\"", tool_));
    return out;
  }
  std::size_t count(const char* key, std::size_t fallback, std::size_t most) const {
    if (!j_.contains(key)) return fallback;
    const ojson& v = j_[key];
    if (!v.is_number_integer() || v.get<long long>() < 1 || v.get<unsigned long long>() > most)
      bad(fmt::format("\"{}\" must be a whole number from 1 to {}", key, most));
    return v.get<std::size_t>();
  }
  std::optional<std::uint64_t> cursor() const {
    if (!j_.contains("cursor")) return std::nullopt;
    const ojson& v = j_["cursor"];
    if (!v.is_number_integer() || v.get<long long>() < 0)
      bad("\"cursor\" must be a whole number, the \"cursor\" of an earlier answer");
    return v.get<std::uint64_t>();
  }
  int signal() const {
    std::optional<int> sig;
    const ojson& v = j_.contains("signal") ? j_["signal"] : ojson();
    if (v.is_string()) sig = parse_signal(v.get_ref<const std::string&>());
    else if (v.is_number_integer() && v.get<long long>() >= 1 && v.get<long long>() <= 64) sig = v.get<int>();
    if (!sig) bad("\"signal\" must be a signal: a name (\"SIGHUP\", \"HUP\") or a number 1-64");
    return *sig;
  }

 private:
  [[noreturn]] static void bad(std::string why) { throw BadParams{std::move(why)}; }
  const std::string& tool_;
  const ojson& j_;
};

// ---- results -----------------------------------------------------------------------

ojson result(std::string text, ojson structured = nullptr, bool error = false) {
  ojson r{{"content", ojson::array({{{"type", "text"}, {"text", std::move(text)}}})}};
  if (structured.is_object()) r["structuredContent"] = std::move(structured);
  r["isError"] = error;
  return r;
}

/// The run's last reply if it said yes; else nothing, and FAILED the tool's error result.
const ojson* answered(const Exchange& ex, ojson& failed) {
  if (ex.final.is_object() && ex.final.value("ok", false)) return &ex.final;
  std::string why = ex.final.is_object() ? ex.final.value("error", std::string("the run refused"))
                                         : (ex.error.empty() ? std::string("no answer from the run") : ex.error);
  failed = result(why, nullptr, true);
  return nullptr;
}

std::uint64_t seq_of(const ojson& m) {
  auto s = m.find("seq");
  return s != m.end() && s->is_number_unsigned() ? s->get<std::uint64_t>() : 0;
}

/// The page of MESSAGES (with "seq") a cursor asks for: after CURSOR, the first N; with
/// none, the last N. "cursor" in the result is where the next page starts.
struct Page {
  std::vector<const ojson*> items;
  std::uint64_t cursor = 0;
  bool more = false;
};

Page page_of(const std::vector<const ojson*>& messages, std::optional<std::uint64_t> cursor, std::size_t n) {
  Page p;
  std::vector<const ojson*> after;
  for (const ojson* m : messages)
    if (!cursor || seq_of(*m) > *cursor) after.push_back(m);
  std::size_t from = cursor ? 0 : (after.size() > n ? after.size() - n : 0);
  std::size_t to = std::min(after.size(), from + n);
  p.items.assign(after.begin() + static_cast<std::ptrdiff_t>(from), after.begin() + static_cast<std::ptrdiff_t>(to));
  p.more = to < after.size();
  p.cursor = p.items.empty() ? cursor.value_or(messages.empty() ? 0 : seq_of(*messages.back()))
                             : seq_of(*p.items.back());
  return p;
}

/// The stream messages of EX that carry KEY ("line", "event").
std::vector<const ojson*> carrying(const Exchange& ex, const char* key) {
  std::vector<const ojson*> out;
  for (const ojson& m : ex.stream)
    if (m.contains(key)) out.push_back(&m);
  return out;
}

std::size_t skipped_in(const Exchange& ex) {
  std::size_t n = 0;
  for (const ojson& m : ex.stream)
    if (m.contains("skipped") && m["skipped"].is_number_unsigned()) n += m["skipped"].get<std::size_t>();
  return n;
}

// ---- the tools ---------------------------------------------------------------------

ojson list_runs(McpRuns& runs, const std::string& tool, const ojson& j) {
  Args a(tool, j, {});
  auto live = runs.list();
  ojson rows = ojson::array();
  for (const LiveRun& r : live) {
    ojson row{{"name", r.name}};
    if (r.status) row.update({{"pid", r.status->pid}, {"spec", r.status->spec}, {"uptime", r.status->uptime},
                              {"running", r.status->running}});
    else row["problem"] = r.problem;
    rows.push_back(std::move(row));
  }
  return result(live.empty() ? "no run is live" : runs_table(live), {{"runs", std::move(rows)}});
}

ojson ps(McpRuns& runs, const std::string& tool, const ojson& j) {
  Args a(tool, j, {"run"});
  Exchange ex = runs.ask(a.run(), request_for(Cmd::ps));
  ojson failed;
  const ojson* final = answered(ex, failed);
  if (!final) return failed;
  std::vector<NodeStatus> rows;
  for (const ojson& n : final->at("nodes")) rows.push_back(node_from(n));
  return result(nodes_table(rows), {{"nodes", final->at("nodes")}});
}

ojson logs(McpRuns& runs, const std::string& tool, const ojson& j) {
  Args a(tool, j, {"run", "nodes", "n", "cursor"});
  Request r = request_for(Cmd::logs);
  r.nodes = a.nodes(false);
  std::size_t n = a.count("n", kDefaultLines, kKeptLines);
  auto cursor = a.cursor();
  r.lines = cursor ? kKeptLines : n;
  Exchange ex = runs.ask(a.run(), r);
  ojson failed;
  if (!answered(ex, failed)) return failed;
  Page p = page_of(carrying(ex, "line"), cursor, n);
  std::string text;
  ojson items = ojson::array();
  for (const ojson* m : p.items) {
    text += m->value("line", "") + '\n';
    items.push_back({{"seq", seq_of(*m)}, {"node", m->value("node", "")}, {"line", m->value("line", "")}});
  }
  if (std::size_t skipped = skipped_in(ex)) text += fmt::format("({} older lines were left out)\n", skipped);
  text += fmt::format("(cursor {}{})", p.cursor, p.more ? "; more lines follow it" : "");
  return result(text, {{"lines", std::move(items)}, {"cursor", p.cursor}, {"more", p.more}});
}

ojson events(McpRuns& runs, const std::string& tool, const ojson& j) {
  Args a(tool, j, {"run", "n", "cursor"});
  std::size_t n = a.count("n", kDefaultEvents, kMaxPage);
  auto cursor = a.cursor().value_or(0);  // events page forward from the run's start
  Exchange ex = runs.ask(a.run(), request_for(Cmd::events));
  ojson failed;
  if (!answered(ex, failed)) return failed;
  Page p = page_of(carrying(ex, "event"), cursor, n);
  std::string text;
  ojson items = ojson::array();
  for (const ojson* m : p.items) {
    text += m->at("event").dump(-1, ' ', false, ojson::error_handler_t::replace) + '\n';
    items.push_back(m->at("event"));
  }
  text += fmt::format("(cursor {}{})", p.cursor, p.more ? "; more events follow it" : "");
  return result(text, {{"events", std::move(items)}, {"cursor", p.cursor}, {"more", p.more}});
}

ojson act(McpRuns& runs, const std::string& tool, const ojson& j) {
  Cmd cmd = *cmd_named(tool);
  Args a(tool, j, cmd == Cmd::signal ? std::initializer_list<std::string_view>{"run", "nodes", "signal"}
                                     : std::initializer_list<std::string_view>{"run", "nodes"});
  Request r = request_for(cmd);
  r.nodes = a.nodes(true);
  if (cmd == Cmd::signal) r.signal = a.signal();
  Exchange ex = runs.ask(a.run(), r);
  ojson failed;
  if (!answered(ex, failed)) return failed;
  return result(acted_text(cmd, r.signal, r.nodes), {{"done", true}});
}

ojson down(McpRuns& runs, const std::string& tool, const ojson& j) {
  Args a(tool, j, {"run"});
  Exchange ex = runs.ask(a.run(), request_for(Cmd::down));
  ojson failed;
  const ojson* final = answered(ex, failed);
  if (!final) return failed;
  std::string console;
  for (const ojson& m : ex.stream)
    if (m.contains("text") && m["text"].is_string()) console += m["text"].get<std::string>();
  int code = final->value("code", 1);
  return result(console + fmt::format("the run has ended with exit code {}", code),
                {{"code", code}, {"console", console}});
}

struct Tool {
  const char* name;
  const char* description;
  std::function<ojson()> schema;
  ojson (*run)(McpRuns&, const std::string&, const ojson&);
};

const std::vector<Tool>& tools() {
  static const std::vector<Tool> all = {
      {"list_runs", "This user's live treerun runs: name, pid, spec file, uptime, how many nodes run.",
       [] { return object_schema(ojson::object()); }, list_runs},
      {"ps",
       "Every node of a run: path, kind (daemon, worker, group), state (waiting, starting, ready, running, "
       "stopping, stopped, exited), pid, uptime, restarts, last exit code or signal, outcome.",
       [] { return object_schema({{"run", run_property()}}); }, ps},
      {"logs",
       "A run's log lines, as its log stream shows them (\"node | line\"). Every line has a number, seq, in the "
       "order the run wrote them. Without cursor: the last n lines. With cursor (the cursor of an earlier answer): "
       "the first n lines after it, so calling again with each answer's cursor pages forward without repeats; "
       "\"more\" says whether lines after the page are waiting. Each node keeps its last 1000 lines.",
       [] {
         return object_schema({{"run", run_property()},
                               {"nodes", nodes_property("Node paths (pipeline/keep) and their children; default: all")},
                               {"n", count_property("At most this many lines", kDefaultLines, kKeptLines)},
                               {"cursor", cursor_property("Only lines after this one (an earlier answer's cursor)")}});
       },
       logs},
      {"events",
       "A run's event log (spawn, ready, exit, stop, kill, cancel, restart, control, done ...), from its start: "
       "the first n events after cursor (0: the start); call again with the answer's cursor for the next page.",
       [] {
         return object_schema({{"run", run_property()},
                               {"n", count_property("At most this many events", kDefaultEvents, kMaxPage)},
                               {"cursor", cursor_property("Only events after this one (an earlier answer's cursor)")}});
       },
       events},
      {"start", "Start stopped or exited nodes again, with their probes; answers once they are started and ready.",
       nodes_schema,
       act},
      {"stop",
       "Stop nodes and their children gracefully (their stop signal, grace, then SIGKILL); dependents are not "
       "touched and the nodes stay stopped. Answers once they have stopped.",
       nodes_schema,
       act},
      {"restart", "Stop, then start nodes (a group restarts as a whole); answers once they are ready again.",
       nodes_schema,
       act},
      {"signal",
       "Send a signal (HUP, SIGUSR1, 15) to nodes' process groups; not a stop: a node that then exits is judged "
       "as any exit is.",
       [] {
         return object_schema({{"run", run_property()},
                               {"signal", {{"type", ojson::array({"string", "integer"})},
                                           {"description", "A signal name (HUP, SIGHUP) or number"}}},
                               {"nodes", nodes_property("Node paths")}},
                              {"signal", "nodes"});
       },
       act},
      {"down",
       "End the whole run as one ctrl-c would: every node stopped, children and dependents first. Answers when "
       "the run has exited, with its exit code and its teardown as its terminal showed it.",
       [] { return object_schema({{"run", run_property()}}); }, down},
  };
  return all;
}

}  // namespace

ojson mcp_tools() {
  ojson list = ojson::array();
  for (const Tool& t : tools())
    list.push_back({{"name", t.name}, {"description", t.description}, {"inputSchema", t.schema()}});
  return {{"tools", std::move(list)}};
}

ojson run_tool(McpRuns& runs, const std::string& name, const ojson& args) {
  for (const Tool& t : tools())
    if (name == t.name) return t.run(runs, name, args);
  std::string names;
  for (const Tool& t : tools()) names += (names.empty() ? "" : ", ") + std::string(t.name);
  throw BadParams{fmt::format("no tool '{}' (the tools: {})", name, names)};
}

}  // namespace treerun::control
