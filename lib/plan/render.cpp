#include "plan/render.h"

#include "base/units.h"
#include "spec/read_backend.h"

namespace treerun {
namespace {

class Renderer {
 public:
  Renderer(const Plan& plan, bool color) : plan_(plan), color_(color) {}

  std::string run() {
    tree();
    start_order();
    stop_order();
    streams();
    stop_sequences();
    return out_;
  }

 private:
  std::string bold(const std::string& s) const { return color_ ? "\x1b[1m" + s + "\x1b[0m" : s; }
  std::string dim(const std::string& s) const { return color_ ? "\x1b[2m" + s + "\x1b[0m" : s; }
  std::string heading(const std::string& s) { return "\n" + bold(s) + "\n"; }

  const PlanNode& node(NodeId id) const { return plan_.nodes[id]; }
  std::string label(NodeId id) const { return node(id).label(); }

  static std::string kind(const PlanNode& n) {
    if (!n.cmd) return "group";
    return n.daemon ? "daemon" : n.setup_step ? "worker (setup step)" : "worker";
  }

  std::string source(const SourceRef& s) const {
    return label(s.node) + (s.is_stderr ? ":stderr" : "");
  }

  static std::string probe(const Probe& p) {
    static const char* names[] = {"", "log", "tcp", "http", "exec", "file", "notify"};
    std::string out = std::string("ready: ") + names[int(p.type)];
    if (!p.arg.empty()) out += " " + p.arg;
    return out + " (timeout " + format_duration(p.timeout) + ")";
  }

  static std::string health(const HealthCheck& h) {
    std::string out = probe(h.probe).substr(7);  // without "ready: "
    out = out.substr(0, out.rfind(" (timeout"));
    return "health: " + out + " (every " + format_duration(h.probe.interval) + ", " + std::to_string(h.failures) +
           " failures)";
  }

  static std::string output(const char* name, const OutputSpec& o) {
    switch (o.type) {
      case OutputSpec::Type::log: return "";
      case OutputSpec::Type::inherit: return std::string(name) + ": inherit";
      case OutputSpec::Type::null: return std::string(name) + ": null";
      case OutputSpec::Type::file:
        return std::string(name) + (o.append ? ": append to " : ": file ") + o.path;
      case OutputSpec::Type::as_stdout: return std::string(name) + ": stdout";
    }
    return "";
  }

  std::string details(const PlanNode& n) const {
    std::vector<std::string> parts;
    if (n.replicas) parts.push_back("replicas: " + std::to_string(n.replicas));
    if (n.ready.type != Probe::Type::none) parts.push_back(probe(n.ready));
    if (n.health) parts.push_back(health(*n.health));
    if (!n.after.empty()) {
      std::string a = "after:";
      for (NodeId t : n.after) a += " " + label(t) + (n.waits_for_exit(t) ? " (exited)" : "");
      parts.push_back(a);
    }
    if (n.stdin_spec.type == StdinSpec::Type::inherit) parts.push_back("stdin: inherit");
    if (!n.stdin_spec.from.empty()) {
      std::string s = "stdin:";
      for (const auto& f : n.stdin_spec.from) s += " " + source(f);
      parts.push_back(s);
    }
    for (auto o : {output("stdout", n.stdout_spec), output("stderr", n.stderr_spec)})
      if (!o.empty()) parts.push_back(o);
    if (n.timeout) parts.push_back("timeout " + format_duration(*n.timeout));
    if (n.on_failure == OnFailure::ignore) parts.push_back("on_failure: ignore");
    if (n.on_failure == OnFailure::continue_) parts.push_back("on_failure: continue");
    if (n.on_failure == OnFailure::restart)
      parts.push_back("on_failure: restart (max " + std::to_string(n.restart.max) + " within " +
                      format_duration(n.restart.within) + ")");
    if (n.tty) parts.push_back("tty");
    if (n.pty) parts.push_back("pty");
    if (n.watch) {
      std::string w = "watch:";
      for (const auto& path : n.watch->paths) w += " " + path;
      if (!n.watch->cascade) w += " (no cascade)";
      parts.push_back(w);
    }
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
    return out;
  }

  /// "n2", or "host 1" while the allocation is not known.
  std::string host(const PlanNode& n) const {
    return plan_.hosts.empty() && is_host_index(n.on) ? "host " + n.on : n.host;
  }

  void tree_node(NodeId id, const std::string& prefix, bool last) {
    const PlanNode& n = node(id);
    std::string line = prefix + (last ? "└─ " : "├─ ") + bold(n.name) + "  " + kind(n);
    if (n.cmd) line += "  `" + n.cmd->display() + "`";
    if (plan_.backend != Backend::local && n.cmd) line += "  " + dim("on " + host(n));
    if (auto d = details(n); !d.empty()) line += "  " + dim(d);
    out_ += line + "\n";
    std::string inner = prefix + (last ? "   " : "│  ");
    for (std::size_t i = 0; i < n.children.size(); ++i)
      tree_node(n.children[i], inner, i + 1 == n.children.size());
  }

  void tree() {
    const PlanNode& root = plan_.root();
    std::string head = bold(plan_.name) + "  " + dim(plan_.spec_file);
    if (plan_.timeout) head += "  " + dim("timeout " + format_duration(*plan_.timeout));
    out_ += head + "\n";
    for (std::size_t i = 0; i < root.children.size(); ++i)
      tree_node(root.children[i], "", i + 1 == root.children.size());
  }

  void start_order() {
    out_ += heading("Start order");
    int k = 0;
    for (NodeId id : plan_.start_order) {
      if (id == 0) continue;
      std::string line = "  " + std::to_string(++k) + ". " + label(id);
      std::string waits;
      for (NodeId t : node(id).after)
        waits += (waits.empty() ? "" : ", ") + label(t) +
                 (node(id).waits_for_exit(t) ? " exited" : node(t).is_worker ? " done" : " ready");
      if (!waits.empty()) line += "  " + dim("(after " + waits + ")");
      out_ += line + "\n";
    }
  }

  void stop_order() {
    out_ += heading("Stop order");
    std::string line;
    for (NodeId id : plan_.stop_order)
      if (id != 0) line += (line.empty() ? "  " : " → ") + label(id);
    out_ += line + "\n";
  }

  std::string wiring(const StreamWiring& w) const {
    if (w.carrier == StreamWiring::Carrier::pipe) return "direct pipe";
    std::vector<std::string> why;
    if (w.consumers.size() > 1) why.push_back("fan-out");
    bool merge = false, drop = false;
    std::size_t buffer = 0;
    for (NodeId c : w.consumers) {
      merge = merge || node(c).stdin_spec.from.size() > 1;
      drop = drop || node(c).stdin_spec.lag == Lag::drop;
      buffer = std::max(buffer, node(c).stdin_spec.buffer);
    }
    if (merge) why.push_back("merge");
    why.push_back(drop ? "lag drop" : "lag block");
    std::string b = buffer % (1 << 20) == 0 ? std::to_string(buffer >> 20) + "MiB"
                    : buffer % 1024 == 0    ? std::to_string(buffer >> 10) + "KiB"
                                            : std::to_string(buffer) + "B";
    why.push_back("buffer " + b);
    std::string out = w.carrier == StreamWiring::Carrier::splice ? "spliced (" : "relay (";
    for (std::size_t i = 0; i < why.size(); ++i) out += (i ? ", " : "") + why[i];
    return out + ")";
  }

  void streams() {
    out_ += heading("Streams");
    if (plan_.streams.empty()) out_ += "  " + dim("(none)") + "\n";
    for (const auto& w : plan_.streams) {
      std::string to;
      for (NodeId c : w.consumers) to += (to.empty() ? "" : ", ") + label(c);
      out_ += "  " + source(w.source) + " → " + to + "  " + dim(wiring(w) + (w.to_log ? " +log" : "")) + "\n";
    }
  }

  void stop_sequences() {
    out_ += heading("Stop sequences");
    for (NodeId id : plan_.stop_order) {
      const PlanNode& n = node(id);
      if (n.stop_sequence.empty()) continue;
      std::string steps;
      for (const StopStep& step : n.stop_sequence) {
        if (!steps.empty()) steps += ", ";
        if (step.kind == StopStep::Kind::command) steps += "run `" + n.stop->display() + "`";
        else steps += signal_name(step.kind == StopStep::Kind::kill ? 9 : step.sig);
        if (step.wait.count() > 0) steps += ", wait " + format_duration(step.wait);
      }
      out_ += "  " + label(id) + ": " + steps + "\n";
    }
  }

  const Plan& plan_;
  bool color_;
  std::string out_;
};

}  // namespace

std::string render_plan(const Plan& plan, bool color) {
  if (plan.nodes.empty()) return "";
  return Renderer(plan, color).run();
}

}  // namespace treerun
