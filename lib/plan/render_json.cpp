#include "plan/render_json.h"

#include <nlohmann/json.hpp>

namespace treerun {
namespace {

using json = nlohmann::ordered_json;

json seconds(Millis d) { return double(d.count()) / 1000.0; }

/// An argv as a list, a shell string as a string (run as `/bin/sh -c STRING`).
json command(const Command& c) {
  if (c.shell) return c.argv.empty() ? json("") : json(c.argv.front());
  return json(c.argv);
}

std::string source(const Plan& plan, const SourceRef& s) {
  return plan[s.node].path + (s.is_stderr ? ":stderr" : "");
}

json output(const OutputSpec& o) {
  switch (o.type) {
    case OutputSpec::Type::log: return "log";
    case OutputSpec::Type::inherit: return "inherit";
    case OutputSpec::Type::null: return "null";
    case OutputSpec::Type::as_stdout: return "stdout";
    case OutputSpec::Type::file: return {{"file", o.path}, {"append", o.append}};
  }
  return nullptr;
}

json input(const Plan& plan, const StdinSpec& in) {
  switch (in.type) {
    case StdinSpec::Type::null: return nullptr;
    case StdinSpec::Type::inherit: return "inherit";
    case StdinSpec::Type::sources: break;
  }
  json from = json::array();
  for (const auto& s : in.from) from.push_back(source(plan, s));
  return {{"from", from}, {"lag", in.lag == Lag::drop ? "drop" : "block"}, {"buffer", in.buffer}};
}

json probe(const Probe& p) {
  if (p.type == Probe::Type::none) return nullptr;
  static const char* names[] = {"", "log", "tcp", "http", "exec", "file", "notify"};
  return {{"type", names[int(p.type)]},
          {"target", p.arg.empty() ? json(nullptr) : json(p.arg)},
          {"timeout", seconds(p.timeout)},
          {"interval", seconds(p.interval)}};
}

json stop_sequence(const PlanNode& n) {
  json steps = json::array();
  for (const StopStep& s : n.stop_sequence) {
    json step;
    if (s.kind == StopStep::Kind::command && n.stop) step["command"] = command(*n.stop);
    else step["signal"] = signal_name(s.kind == StopStep::Kind::kill ? 9 : s.sig);
    if (s.kind != StopStep::Kind::kill) step["wait"] = seconds(s.wait);
    steps.push_back(step);
  }
  return steps;
}

const char* kind(const PlanNode& n) { return !n.cmd ? "group" : n.daemon ? "daemon" : "worker"; }

/// `setup_step` once the plan has it (issue 14, item 1): a worker only daemons wait for.
template <class N>
void put_setup_step(json& j, const N& n) {
  if constexpr (requires(const N& x) { x.setup_step; }) j["setup_step"] = bool(n.setup_step);
}

const char* on_failure(OnFailure f) {
  switch (f) {
    case OnFailure::cancel: return "cancel";
    case OnFailure::ignore: return "ignore";
    case OnFailure::restart: return "restart";
    case OnFailure::continue_: return "continue";
  }
  return "cancel";
}

/// All of node N that is its own: everything `tree --json` shows of it but its children.
json own(const Plan& plan, const PlanNode& n) {
  json j;
  j["path"] = n.path;
  j["name"] = n.name;
  j["kind"] = kind(n);
  if (plan.backend != Backend::local) j["host"] = n.host;
  put_setup_step(j, n);
  j["cmd"] = n.cmd ? command(*n.cmd) : json(nullptr);
  json after = json::array();
  for (NodeId t : n.after)
    after.push_back({{"path", plan[t].path},
                     {"waits_for", n.waits_for_exit(t) ? "exited" : plan[t].is_worker ? "done" : "ready"}});
  j["after"] = after;
  j["ready"] = probe(n.ready);
  if (n.health) {
    j["health"] = probe(n.health->probe);
    j["health"]["failures"] = n.health->failures;
  }
  j["stop_sequence"] = stop_sequence(n);
  j["stdin"] = input(plan, n.stdin_spec);
  j["stdout"] = output(n.stdout_spec);
  j["stderr"] = output(n.stderr_spec);
  j["timeout"] = n.timeout ? seconds(*n.timeout) : json(nullptr);
  j["on_failure"] = on_failure(n.on_failure);
  if (n.on_failure == OnFailure::restart)
    j["restart"] = {{"max", n.restart.max}, {"within", seconds(n.restart.within)}, {"backoff", seconds(n.restart.backoff)}};
  j["tty"] = n.tty;
  j["pty"] = n.pty;
  j["replicas"] = n.replicas ? json(n.replicas) : json(nullptr);
  j["watch"] = n.watch ? json{{"paths", n.watch->paths}, {"ignore", n.watch->ignore},
                              {"debounce", seconds(n.watch->debounce)}, {"cascade", n.watch->cascade}}
                       : json(nullptr);
  j["cwd"] = n.cwd;
  return j;
}

json node(const Plan& plan, const PlanNode& n) {
  json j = own(plan, n);
  json children = json::array();
  for (NodeId c : n.children) children.push_back(plan[c].path);
  j["children"] = children;
  return j;
}

json logs(const LogTarget& t) {
  switch (t.type) {
    case LogTarget::Type::stdout_: return "stdout";
    case LogTarget::Type::stderr_: return "stderr";
    case LogTarget::Type::none: return "none";
    case LogTarget::Type::file: return {{"file", t.path}};
  }
  return nullptr;
}

const char* carrier(StreamWiring::Carrier c) {
  switch (c) {
    case StreamWiring::Carrier::pipe: return "pipe";
    case StreamWiring::Carrier::splice: return "splice";
    case StreamWiring::Carrier::relay: return "relay";
  }
  return "relay";
}

json paths(const Plan& plan, const std::vector<NodeId>& ids) {
  json out = json::array();
  for (NodeId id : ids)
    if (id != 0) out.push_back(plan[id].path);
  return out;
}

json stream(const Plan& plan, const StreamWiring& w) {
  return {{"source", source(plan, w.source)},
          {"consumers", paths(plan, w.consumers)},
          {"carrier", carrier(w.carrier)},
          {"log", w.to_log}};
}

/// Invalid UTF-8 (a spec may hold any bytes) becomes U+FFFD instead of an exception.
std::string compact(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }
std::string dump(const json& j) { return compact(j) + "\n"; }

}  // namespace

std::string render_plan_json(const Plan& plan) {
  json j;
  if (plan.nodes.empty()) return dump(j);
  j["name"] = plan.name;
  j["spec_file"] = plan.spec_file;
  j["timeout"] = plan.timeout ? seconds(*plan.timeout) : json(nullptr);
  j["logs"] = logs(plan.logs);
  j["children"] = paths(plan, plan.root().children);
  json nodes = json::array();
  for (const PlanNode& n : plan.nodes)
    if (n.id != 0) nodes.push_back(node(plan, n));
  j["nodes"] = nodes;
  j["start_order"] = paths(plan, plan.start_order);
  j["stop_order"] = paths(plan, plan.stop_order);
  json streams = json::array();
  for (const StreamWiring& w : plan.streams) streams.push_back(stream(plan, w));
  j["streams"] = streams;
  return dump(j);
}

std::string render_own_json(const Plan& plan, const PlanNode& n) { return compact(own(plan, n)); }

std::string render_stream_json(const Plan& plan, const StreamWiring& w) { return compact(stream(plan, w)); }

std::string render_problems_json(bool ok, const std::vector<Diagnostic>& problems) {
  json list = json::array();
  for (const Diagnostic& d : problems)
    list.push_back({{"file", d.pos.file},
                    {"line", d.pos.line > 0 ? json(d.pos.line) : json(nullptr)},
                    {"col", d.pos.line > 0 && d.pos.col > 0 ? json(d.pos.col) : json(nullptr)},
                    {"message", d.message}});
  return dump({{"ok", ok}, {"problems", list}});
}

}  // namespace treerun
