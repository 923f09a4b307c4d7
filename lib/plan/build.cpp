#include "plan/build.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "spec/expand.h"
#include "spec/file_read.h"
#include "spec/read_context.h"
#include "spec/read_settings.h"

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
// What a spec may hold once its replicas are made: as many as it may write (spec/).
constexpr std::size_t kMaxPlanNodes = kMaxNodes;

std::string line_ref(const SourcePos& first, const SourcePos& here) {
  if (first.file == here.file) return "line " + std::to_string(first.line);
  return first.file + ":" + std::to_string(first.line);
}

/// PATH made absolute against DIR, without a trailing `/` (`cwd: .` is DIR).
std::string absolute_in(const std::string& dir, const std::string& path) {
  std::filesystem::path p(path);
  std::string out = (p.is_absolute() ? p : std::filesystem::path(dir) / p).lexically_normal().string();
  if (out.size() > 1 && out.ends_with('/')) out.pop_back();
  return out;
}

/// "`${D}/x` (`/srv/x`)": a value as written, and what it became when that differs.
std::string as_written(const RawText& text, const std::string& expanded) {
  std::string out = "`" + shorten(text.value) + "`";
  return text.value == expanded ? out : out + " (`" + shorten(expanded) + "`)";
}

class Builder {
 public:
  Builder(const Overrides& overrides, Diagnostics& diags, std::size_t bytes_read)
      : overrides_(overrides), diags_(diags), outer_(overrides.environment), bytes_(bytes_read) {}

  BuiltPlan run(const RawFile& main, const std::string& file_name) {
    Plan& plan = out_.plan;
    plan.spec_file = file_name;
    plan.name = main.name ? main.name->value : default_name(file_name);
    plan.timeout = overrides_.timeout ? overrides_.timeout
                   : main.timeout     ? std::optional(main.timeout->value)
                                      : std::nullopt;
    plan.logs = overrides_.logs ? *overrides_.logs : main.logs ? main.logs->value : LogTarget{};
    out_.logs_from_cli = overrides_.logs.has_value();
    plan.backend = overrides_.backend ? *overrides_.backend : main.backend ? main.backend->value : Backend::local;
    if (main.slurm) plan.slurm = main.slurm->value;

    Inherited top;
    top.cwd = main.dir;
    top.env = command_line_env();
    top = layer(top, main.defaults, {file_name, 1, 1}, "");
    if (overrides_.grace) top.grace = *overrides_.grace;  // the command line replaces the top level
    PlanNode root;
    root.name = plan.name;
    root.pos = {file_name, 1, 1};
    root.env = top.env;
    root.cwd = top.cwd;
    root.grace = top.grace;
    root.stop_signal = top.stop_signal;
    // A PlanNode is big: no copies as the plan grows (replicas may add more).
    std::size_t written = 1;
    for (const RawNode& c : main.children) written += written_size(c);
    written = std::min(written, kMaxPlanNodes + 1);
    plan.nodes.reserve(written);
    out_.where.reserve(written);
    out_.raw.reserve(written);
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

  /// `--env-file FILE...`, in turn: the bottom of every node's environment.
  EnvList command_line_env() {
    EnvList env;
    std::error_code ec;
    std::string here = overrides_.env_files.empty() ? "" : std::filesystem::current_path(ec).string();
    for (const auto& file : overrides_.env_files) {
      SourcePos at{file, 0, 0};
      std::string abs = absolute_in(ec ? "/" : here, file);
      env_merge(env, read_env_file(abs, file, "--env-file `" + shorten(file) + "`", at, diags_, bytes_));
    }
    return env;
  }

  /// BASE with the defaults D of the node at PATH laid over it. `${...}` in an env_file
  /// path sees what the node inherits; in an env value, that and its env_file; in cwd,
  /// all of its environment.
  Inherited layer(const Inherited& base, const RawDefaults& d, const SourcePos& at, const std::string& path) {
    Inherited out;
    out.grace = d.grace ? d.grace->value : base.grace;
    out.stop_signal = d.stop_signal ? d.stop_signal->value : base.stop_signal;
    out.cwd = base.cwd;
    EnvList files = env_files(d, VarScope(base.env, outer_, path), at_node(path));
    std::size_t cost = base.env.size() + files.size() + d.env.size();
    if ((env_entries_ += cost) > kMaxEnvEntries) {
      if (!env_reported_) diags_.add(at, "the spec is too large: its nodes' environments add up to more than " +
                                             std::to_string(kMaxEnvEntries) + " variables");
      env_reported_ = true;
      return out;
    }
    out.env = base.env;
    env_merge(out.env, files);  // env_file, then env: env wins
    EnvList own;
    VarScope with_files(out.env, outer_, path);
    for (const auto& [key, value] : d.env)
      own.emplace_back(key, expand(value, with_files, at_node(path)).value_or(""));
    env_merge(out.env, own);
    if (d.cwd) {
      auto written = expand(*d.cwd, VarScope(out.env, outer_, path), at_node(path));
      std::string abs = written ? absolute_in(d.dir, *written) : "";
      if (std::string why = written ? folder_problem(abs) : ""; !why.empty())
        diags_.add(d.cwd->pos, "cannot use `cwd` " + as_written(*d.cwd, *written) + ": " + why);
      else if (written) out.cwd = abs;
    }
    return out;
  }

  EnvList env_files(const RawDefaults& d, const VarScope& scope, NodeId from) {
    EnvList out;
    for (const RawText& file : d.env_file) {
      auto written = expand(file, scope, from);
      if (!written) continue;
      std::string shown = display_path(d.file, *written);
      env_merge(out, read_env_file(absolute_in(d.dir, *written), shown, "env_file " + as_written(file, *written),
                                   file.pos, diags_, bytes_));
    }
    return out;
  }

  std::optional<std::string> expand(const RawText& text, const VarScope& scope, NodeId from) {
    return expand_text(text, scope, diags_, out_.hosts, from, out_.plan.backend == Backend::slurm);
  }

  /// The node whose values are being read, for `${host:PATH}` relative to it: the node
  /// being added (a replica's group, where the user wrote it), or the root.
  NodeId at_node(const std::string& path) const { return path.empty() ? 0 : written_in_; }

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
    std::string name = raw.name ? raw.name->value : "";
    if (!raw.replicas || !within_node_budget(raw)) {
      add_copy(parent, raw, ctx, name, std::nullopt);
      check_node(raw);
      return;
    }
    NodeId group = add_replica_group(parent, raw, ctx, name);
    check_node(raw);
    int count = raw.replicas->value;
    for (int i = 0; i < count; ++i) {
      Inherited copy = ctx;
      env_merge(copy.env, {{"TREERUN_REPLICA", std::to_string(i)}, {"TREERUN_REPLICAS", std::to_string(count)}});
      add_copy(group, raw, copy, std::to_string(i), group);
    }
  }

  /// RAW and the nodes inside it, as written (counting stops past the cap).
  static std::size_t written_size(const RawNode& raw) {
    std::size_t n = 1;
    for (const RawNode& c : raw.include ? raw.include->children : raw.children)
      if ((n += written_size(c)) > kMaxPlanNodes) break;
    return n;
  }

  /// Replicas multiply nodes: keep the plan within what a spec may hold.
  bool within_node_budget(const RawNode& raw) {
    const At<int>& replicas = *raw.replicas;
    if (out_.plan.nodes.size() + replicas.value * written_size(raw) <= kMaxPlanNodes) return true;
    if (!nodes_reported_)
      diags_.add(replicas.pos, "the spec is too large: with its replicas it has more than " +
                                   std::to_string(kMaxPlanNodes) + " nodes");
    nodes_reported_ = true;
    return false;
  }

  /// The group `replicas: N` makes of RAW: it has the node's name and `after`; its
  /// copies have everything else.
  NodeId add_replica_group(NodeId parent, const RawNode& raw, const Inherited& ctx, const std::string& name) {
    PlanNode g = new_node(parent, raw, name);
    g.env = ctx.env;
    g.cwd = ctx.cwd;
    g.grace = ctx.grace;
    g.stop_signal = ctx.stop_signal;
    g.replicas = raw.replicas->value;
    place(raw, parent, g);
    NodeWhere w;
    if (raw.name) w.name = raw.name->pos;
    if (raw.stdin_ && raw.stdin_->type != StdinKind::null)
      diags_.add(raw.stdin_->pos, "`" + name + "` has `replicas`: a replicated node cannot read " +
                                      (raw.stdin_->type == StdinKind::inherit ? "treerun's stdin" : "a stream") +
                                      " (`stdin`)");
    return push(std::move(g), std::move(w), raw);
  }

  /// One node made of RAW under PARENT, named NAME; REPLICA_OF: the group it is a copy in.
  void add_copy(NodeId parent, const RawNode& raw, const Inherited& ctx, const std::string& name,
                std::optional<NodeId> replica_of) {
    PlanNode n = new_node(parent, raw, name);
    written_in_ = replica_of.value_or(n.id);
    Inherited mine = layer(ctx, raw.defaults, raw.pos, n.path);
    place(raw, parent, n);
    copy_settings(raw, mine, n);
    if (replica_of) n.stdin_spec = {};  // reported on the group
    // A replicated node's watch is its group's, read once, in its first copy's scope.
    if (raw.watch && (!replica_of || name == "0")) {
      WatchPlan watch = resolve_watch(*raw.watch, raw.dir, n);
      (replica_of ? out_.plan.nodes[*replica_of].watch : n.watch) = std::move(watch);
    }
    NodeId id = push(std::move(n), where_of(raw), raw);
    if (raw.include) {
      written_in_ = id;
      add_children(id, raw.include->children, layer(mine, raw.include->defaults, raw.include_pos, out_.plan.nodes[id].path));
    } else {
      add_children(id, raw.children, mine);
    }
  }

  /// N's `on`: its own, else its parent's.
  void place(const RawNode& raw, NodeId parent, PlanNode& n) const {
    n.on = out_.plan.nodes[parent].on;
    if (raw.on) {
      n.on = raw.on->value;
      n.on_pos = raw.on->pos;
    }
  }

  PlanNode new_node(NodeId parent, const RawNode& raw, const std::string& name) const {
    PlanNode n;
    n.id = out_.plan.nodes.size();
    n.parent = parent;
    n.name = name;
    const std::string& ppath = out_.plan.nodes[parent].path;
    n.path = ppath.empty() ? n.name : ppath + "/" + n.name;
    n.pos = raw.pos;
    return n;
  }

  NodeId push(PlanNode n, NodeWhere where, const RawNode& raw) {
    NodeId id = n.id;
    out_.plan.nodes[*n.parent].children.push_back(id);
    out_.plan.nodes.push_back(std::move(n));
    out_.where.push_back(std::move(where));
    out_.raw.push_back(&raw);
    return id;
  }

  static NodeWhere where_of(const RawNode& raw) {
    NodeWhere w;
    if (raw.name) w.name = raw.name->pos;
    if (raw.stdin_) w.stdin_ = raw.stdin_->pos;
    if (raw.stdout_) w.stdout_ = raw.stdout_->pos;
    if (raw.stderr_) w.stderr_ = raw.stderr_->pos;
    if (raw.tty) w.tty = raw.tty->pos;
    if (raw.pty) w.pty = raw.pty->pos;
    return w;
  }

  void copy_settings(const RawNode& raw, const Inherited& ctx, PlanNode& n) {
    if (raw.cmd) n.cmd = raw.cmd->value;
    n.daemon = raw.daemon && raw.daemon->value;
    if (raw.ready) n.ready = *raw.ready;
    if (raw.health) n.health = *raw.health;
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
    n.pty = raw.pty && raw.pty->value;
    expand_settings(raw, n);
    if (n.cmd) n.stop_sequence = make_stop_sequence(n.stop, n.stop_signal, n.grace);
  }

  /// A list `cmd`, the probe's target and the output files, with `${...}` replaced
  /// from N's whole environment; paths then made absolute against N's file's folder.
  void expand_settings(const RawNode& raw, PlanNode& n) {
    VarScope scope(n.env, outer_, n.path);
    for (std::size_t i = 0; n.cmd && i < raw.cmd_args.size() && i < n.cmd->argv.size(); ++i) {
      auto arg = expand(raw.cmd_args[i], scope, written_in_);
      if (i == 0 && arg && arg->empty())
        diags_.add(raw.cmd_args[0].pos, "`cmd` names no program: `" + shorten(raw.cmd_args[0].value) + "` is empty");
      if (arg) n.cmd->argv[i] = std::move(*arg);
    }
    auto probe_target = [&](const std::optional<RawText>& written, Probe& probe) {
      if (!written) return;
      auto target = expand(*written, scope, written_in_);
      std::string why = target && has_variables(written->value) ? probe_target_problem(probe.type, *target) : "";
      if (!why.empty()) diags_.add(written->pos, why + " (from " + as_written(*written, *target) + ")");
      if (target) probe.arg = probe.type == Probe::Type::file ? absolute_in(raw.dir, *target) : *target;
    };
    probe_target(raw.ready_target, n.ready);
    if (n.health) probe_target(raw.health_target, n.health->probe);
    auto output_file = [&](const std::optional<RawText>& file, OutputSpec& out) {
      if (!file || out.type != OutputSpec::Type::file) return;
      if (auto path = expand(*file, scope, written_in_)) out.path = absolute_in(raw.dir, *path);
    };
    output_file(raw.stdout_file, n.stdout_spec);
    output_file(raw.stderr_file, n.stderr_spec);
  }

  /// `watch:` with its paths expanded in N's environment, made absolute against the
  /// folder of N's file; a path that does not exist is a problem (a typo would watch
  /// nothing, silently).
  WatchPlan resolve_watch(const RawWatch& raw, const std::string& dir, const PlanNode& n) {
    WatchPlan w{{}, raw.ignore, raw.debounce, raw.cascade};
    VarScope scope(n.env, outer_, n.path);
    for (const RawText& text : raw.paths) {
      auto written = expand(text, scope, written_in_);
      if (!written) continue;
      std::string abs = absolute_in(dir, *written);
      std::error_code ec;
      if (!std::filesystem::exists(abs, ec))
        diags_.add(text.pos, "cannot watch " + as_written(text, abs) + ": " +
                                 (ec ? ec.message() : std::string("no such file or folder")));
      else w.paths.push_back(std::move(abs));
    }
    return w;
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
      if (raw.health) group_only(raw.health_pos, "health");
      if (raw.stop) group_only(raw.stop->pos, "stop");
      if (raw.stdin_) group_only(raw.stdin_->pos, "stdin");
      if (raw.stdout_) group_only(raw.stdout_->pos, "stdout");
      if (raw.stderr_) group_only(raw.stderr_->pos, "stderr");
      if (raw.tty) group_only(raw.tty->pos, "tty");
      if (raw.pty) group_only(raw.pty->pos, "pty");
    }
    if (raw.restart && !(raw.on_failure && raw.on_failure->value == OnFailure::restart))
      diags_.add(raw.restart->pos, "`restart` applies only with `on_failure: restart`");
  }

  const Overrides& overrides_;
  Diagnostics& diags_;
  OuterEnv outer_;
  std::size_t bytes_;  // read from all files, against kMaxTotalBytes
  BuiltPlan out_;
  NodeId written_in_ = 0;  // the node whose values are being expanded (a replica: its group)
  std::size_t env_entries_ = 0;
  bool env_reported_ = false;
  bool nodes_reported_ = false;
};

}  // namespace

BuiltPlan build_plan(const RawFile& main, const std::string& file_name, const Overrides& overrides,
                     Diagnostics& diags, std::size_t bytes_read) {
  return Builder(overrides, diags, bytes_read).run(main, file_name);
}

}  // namespace treerun
