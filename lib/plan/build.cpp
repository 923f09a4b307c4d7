#include "plan/build.h"

#include <filesystem>
#include <map>

namespace treerun {
namespace {

/// What a node hands down to its children.
struct Inherited {
  EnvList env;
  std::string cwd;
  Millis grace{3'000};
  int stop_signal = 15;
};

// Every node holds a full copy of its environment: cap the sum, so a big env times
// many nodes cannot take all the memory.
constexpr std::size_t kMaxEnvEntries = 5'000'000;

std::string line_ref(const SourcePos& first, const SourcePos& here) {
  if (first.file == here.file) return "line " + std::to_string(first.line);
  return first.file + ":" + std::to_string(first.line);
}

class Builder {
 public:
  Builder(const Overrides& overrides, Diagnostics& diags) : overrides_(overrides), diags_(diags) {}

  BuiltPlan run(const RawFile& main, const std::string& file_name) {
    Plan& plan = out_.plan;
    plan.spec_file = file_name;
    plan.name = main.name ? main.name->value : default_name(file_name);
    plan.timeout = overrides_.timeout ? overrides_.timeout
                   : main.timeout     ? std::optional(main.timeout->value)
                                      : std::nullopt;
    plan.logs = overrides_.logs ? *overrides_.logs : main.logs ? main.logs->value : LogTarget{};
    out_.logs_from_cli = overrides_.logs.has_value();

    Inherited top;
    top.cwd = main.dir;
    top = layer(top, main.defaults, {file_name, 1, 1});
    if (overrides_.grace) top.grace = *overrides_.grace;  // the command line replaces the top level
    PlanNode root;
    root.name = plan.name;
    root.pos = {file_name, 1, 1};
    root.env = top.env;
    root.cwd = top.cwd;
    root.grace = top.grace;
    root.stop_signal = top.stop_signal;
    plan.nodes.push_back(std::move(root));
    out_.where.emplace_back();
    out_.raw.push_back(nullptr);
    add_children(0, main.children, top);
    return std::move(out_);
  }

 private:
  static std::string default_name(const std::string& file_name) {
    if (file_name == "-") return "stdin";
    std::string stem = std::filesystem::path(file_name).stem().string();
    return stem.empty() ? "spec" : stem;
  }

  Inherited layer(const Inherited& base, const RawDefaults& d, const SourcePos& at) {
    Inherited out;
    out.grace = d.grace ? d.grace->value : base.grace;
    out.stop_signal = d.stop_signal ? d.stop_signal->value : base.stop_signal;
    out.cwd = d.cwd ? d.cwd->value : base.cwd;
    std::size_t cost = base.env.size() + d.env_file.size() + d.env.size();
    if ((env_entries_ += cost) > kMaxEnvEntries) {
      if (!env_reported_) diags_.add(at, "the spec is too large: its nodes' environments add up to more than " +
                                             std::to_string(kMaxEnvEntries) + " variables");
      env_reported_ = true;
      return out;
    }
    out.env = base.env;
    env_merge(out.env, d.env_file);  // env_file, then env: env wins
    env_merge(out.env, d.env);
    return out;
  }

  void add_children(NodeId parent, const std::vector<RawNode>& children, const Inherited& ctx) {
    std::map<std::string, SourcePos> seen;
    for (const auto& raw : children) {
      if (raw.name) {
        auto [it, fresh] = seen.emplace(raw.name->value, raw.name->pos);
        if (!fresh)
          diags_.add(raw.name->pos, "duplicate name `" + raw.name->value + "`: a sibling at " +
                                        line_ref(it->second, raw.name->pos) + " has it already");
      }
      add_node(parent, raw, ctx);
    }
  }

  void add_node(NodeId parent, const RawNode& raw, const Inherited& ctx) {
    NodeId id = out_.plan.nodes.size();
    PlanNode n;
    n.id = id;
    n.parent = parent;
    n.name = raw.name ? raw.name->value : "";
    const std::string& ppath = out_.plan.nodes[parent].path;
    n.path = ppath.empty() ? n.name : ppath + "/" + n.name;
    n.pos = raw.pos;
    Inherited mine = layer(ctx, raw.defaults, raw.pos);
    copy_settings(raw, mine, n);
    out_.plan.nodes[parent].children.push_back(id);
    out_.plan.nodes.push_back(std::move(n));
    out_.where.push_back(where_of(raw));
    out_.raw.push_back(&raw);
    check_node(raw);
    if (raw.include)
      add_children(id, raw.include->children, layer(mine, raw.include->defaults, raw.include_pos));
    else
      add_children(id, raw.children, mine);
  }

  static NodeWhere where_of(const RawNode& raw) {
    NodeWhere w;
    if (raw.name) w.name = raw.name->pos;
    if (raw.stdin_) w.stdin_ = raw.stdin_->pos;
    if (raw.stdout_) w.stdout_ = raw.stdout_->pos;
    if (raw.stderr_) w.stderr_ = raw.stderr_->pos;
    if (raw.tty) w.tty = raw.tty->pos;
    return w;
  }

  static void copy_settings(const RawNode& raw, const Inherited& ctx, PlanNode& n) {
    if (raw.cmd) n.cmd = raw.cmd->value;
    n.daemon = raw.daemon && raw.daemon->value;
    if (raw.ready) n.ready = *raw.ready;
    if (raw.timeout) n.timeout = raw.timeout->value;
    n.grace = ctx.grace;
    n.stop_signal = ctx.stop_signal;
    if (raw.stop) n.stop = raw.stop->value;
    if (raw.on_failure) n.on_failure = raw.on_failure->value;
    if (raw.restart) n.restart = raw.restart->value;
    n.env = ctx.env;
    n.cwd = ctx.cwd;
    if (raw.stdin_) {
      n.stdin_spec.type = raw.stdin_->type;
      n.stdin_spec.lag = raw.stdin_->lag;
      n.stdin_spec.buffer = raw.stdin_->buffer;
    }
    if (raw.stdout_) n.stdout_spec = raw.stdout_->value;
    if (raw.stderr_) n.stderr_spec = raw.stderr_->value;
    n.tty = raw.tty && raw.tty->value;
    if (n.cmd) n.stop_sequence = make_stop_sequence(n.stop, n.stop_signal, n.grace);
  }

  /// What only this node's own keys can tell.
  void check_node(const RawNode& raw) {
    std::string who = raw.name ? "`" + raw.name->value + "`" : "this node";
    bool has_include = raw.include_pos.line > 0;
    if (has_include && raw.has_children)
      diags_.add(raw.include_pos, who + " has both `include` and `children`: keep one");
    // A misspelt `cmd` was reported as an unknown key: saying more would be noise.
    if (raw.unknown_keys) return;
    if (!raw.cmd_given && !has_include && raw.children.empty())
      diags_.add(raw.pos, who + " has nothing to run: give it a `cmd`, `children` or `include`");
    if (!raw.cmd_given) {
      auto group_only = [&](const SourcePos& p, const char* key) {
        if (p.line > 0)
          diags_.add(p, std::string("`") + key + "` needs a `cmd`: " + who + " is a group");
      };
      if (raw.daemon) group_only(raw.daemon->pos, "daemon");
      if (raw.ready) group_only(raw.ready_pos, "ready");
      if (raw.stop) group_only(raw.stop->pos, "stop");
      if (raw.stdin_) group_only(raw.stdin_->pos, "stdin");
      if (raw.stdout_) group_only(raw.stdout_->pos, "stdout");
      if (raw.stderr_) group_only(raw.stderr_->pos, "stderr");
      if (raw.tty) group_only(raw.tty->pos, "tty");
    }
    if (raw.restart && !(raw.on_failure && raw.on_failure->value == OnFailure::restart))
      diags_.add(raw.restart->pos, "`restart` applies only with `on_failure: restart`");
  }

  const Overrides& overrides_;
  Diagnostics& diags_;
  BuiltPlan out_;
  std::size_t env_entries_ = 0;
  bool env_reported_ = false;
};

}  // namespace

BuiltPlan build_plan(const RawFile& main, const std::string& file_name, const Overrides& overrides,
                     Diagnostics& diags) {
  return Builder(overrides, diags).run(main, file_name);
}

}  // namespace treerun
