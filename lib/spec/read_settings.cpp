#include "spec/read_settings.h"

#include <unordered_map>

#include "spec/expand.h"
#include "spec/read_probe.h"
#include "spec/read_stdio.h"
#include "spec/read_watch.h"

namespace treerun {
namespace {

bool is_treerun_variable(const std::string& key) {
  for (const char* k : {"TREERUN_NODE", "TREERUN_RUN_ID", "TREERUN_REPLICA", "TREERUN_REPLICAS"})
    if (key == k) return true;
  return false;
}

/// Sets KEY to VALUE in ENV: in place when it is there (its first position kept, as
/// env_merge does), else at the end. Linear: an index, so a hostile env of a million
/// keys is read in linear time.
class RawEnvBuilder {
 public:
  explicit RawEnvBuilder(std::vector<std::pair<std::string, RawText>>& env) : env_(env) {
    for (std::size_t i = 0; i < env_.size(); ++i) at_.emplace(env_[i].first, i);
  }
  void set(const std::string& key, RawText value) {
    auto [it, fresh] = at_.emplace(key, env_.size());
    if (fresh) env_.emplace_back(key, std::move(value));
    else env_[it->second].second = std::move(value);
  }

 private:
  std::vector<std::pair<std::string, RawText>>& env_;
  std::unordered_map<std::string, std::size_t> at_;
};

void read_env_map(YamlReader& r, const YamlNode& v, const SourcePos& at,
                  std::vector<std::pair<std::string, RawText>>& out) {
  RawEnvBuilder env(out);
  auto add = [&](const std::string& key, RawText value, const SourcePos& p) {
    if (key.empty() || key.find('=') != std::string::npos)
      r.error(p, "bad variable name `" + shorten(key) + "`");
    else if (key.starts_with("TREERUN_") && is_treerun_variable(key))
      r.error(p, "`" + key + "` is set by treerun");
    else
      env.set(key, std::move(value));
  };
  if (v.IsMap()) {
    for (auto it = v.begin(); it != v.end() && !r.budget().exhausted; ++it) {
      SourcePos kp = r.pos(it->first, at);
      auto key = r.scalar(it->first, "env", kp);
      // An empty value (`KEY:`) is the empty string, as in a shell's `KEY=`.
      auto value = it->second.IsNull() ? std::optional<RawText>(RawText{"", kp, 0})
                                       : r.text(it->second, "env", r.pos(it->second, kp));
      if (key && value) add(*key, std::move(*value), kp);
    }
  } else if (v.IsSequence()) {  // ["KEY=VALUE", ...], as docker compose allows
    auto list = r.texts(v, "env", at);
    for (auto& s : list.value_or(std::vector<RawText>{})) {
      auto eq = s.value.find('=');
      if (eq == std::string::npos) {
        r.error(s.pos, "`env` entries are KEY=VALUE, not `" + shorten(s.value) + "`");
        continue;
      }
      std::string key = s.value.substr(0, eq);
      // The value's text starts past `KEY=`; a block scalar stays at its value.
      RawText value{s.value.substr(eq + 1), s.pos, s.lead < 0 ? -1 : s.lead + int(eq) + 1};
      add(key, std::move(value), s.pos);
    }
  } else if (r.spend(r.pos(v, at))) {
    r.error(r.pos(v, at), "`env` must be a mapping of names to values, not " + kind_of(v));
  }
}

}  // namespace

bool read_default_key(YamlReader& r, const std::string& key, const YamlNode& v,
                      const SourcePos& at, RawDefaults& d) {
  SourcePos p = r.pos(v, at);
  if (key == "grace") {
    if (auto x = r.duration(v, "grace", at)) d.grace = At<Millis>{*x, p};
  } else if (key == "stop_signal") {
    if (auto x = r.signal(v, "stop_signal", at)) d.stop_signal = At<int>{*x, p};
  } else if (key == "env") {
    read_env_map(r, v, at, d.env);
  } else if (key == "env_file") {
    if (auto list = r.texts(v, "env_file", at)) d.env_file = std::move(*list);
  } else if (key == "cwd") {
    if (auto s = r.text(v, "cwd", at)) {
      if (s->value.empty()) r.error(p, "`cwd` is empty");
      else d.cwd = std::move(*s);
    }
  } else {
    return false;
  }
  return true;
}

namespace {

/// docker compose's `restart: always` (and its kin) is treerun's `on_failure: restart`.
std::string compose_restart_hint(const YamlNode& v) {
  if (!v.IsScalar()) return "";
  const std::string& s = v.Scalar();
  if (s == "always" || s == "unless-stopped" || s == "on-failure" || s.rfind("on-failure:", 0) == 0)
    return " (did you mean `on_failure: restart`?)";
  if (s == "no" || s == "false" || s == "never")
    return " (leave `restart` out: only `on_failure: restart` restarts a node)";
  return "";
}

void read_restart(YamlReader& r, const YamlNode& v, const SourcePos& at, RawNode& n) {
  SourcePos p = r.pos(v, at);
  if (!v.IsMap()) {
    if (r.spend(p)) r.error(p, "`restart` must be a mapping {max: N, within: DUR, backoff: DUR}, not " + kind_of(v) +
                                   compose_restart_hint(v));
    return;
  }
  RestartPolicy rp;
  for (auto& [key, value] : r.entries(v, {"max", "within", "backoff"}, "`restart`")) {
    if (key.value == "max") {
      auto s = r.scalar(value, "max", key.pos);
      if (!s) continue;
      SourcePos vp = r.pos(value, key.pos);
      if (s->empty() || s->find_first_not_of("0123456789") != std::string::npos)
        r.error(vp, "`max` must be a whole number, not `" + shorten(*s) + "`");
      else if (std::string digits = s->substr(std::min(s->find_first_not_of('0'), s->size() - 1));
               digits.size() > 7 || std::stoi(digits) > kMaxRestarts)
        r.error(vp, "`max` must be at most " + std::to_string(kMaxRestarts) + ", not `" + shorten(*s) + "`");
      else rp.max = std::stoi(digits);
    } else if (auto d = r.duration(value, key.value, key.pos)) {
      if (key.value == "within" && d->count() <= 0) r.error(r.pos(value, key.pos), "`within` must be more than 0");
      (key.value == "within" ? rp.within : rp.backoff) = *d;
    }
  }
  n.restart = At<RestartPolicy>{rp, at};
}

void read_on_failure(YamlReader& r, const YamlNode& v, const SourcePos& at, RawNode& n) {
  auto s = r.scalar(v, "on_failure", at);
  if (!s) return;
  SourcePos p = r.pos(v, at);
  if (*s == "cancel") n.on_failure = At<OnFailure>{OnFailure::cancel, p};
  else if (*s == "ignore") n.on_failure = At<OnFailure>{OnFailure::ignore, p};
  else if (*s == "restart") n.on_failure = At<OnFailure>{OnFailure::restart, p};
  else if (*s == "continue") n.on_failure = At<OnFailure>{OnFailure::continue_, p};
  else r.error(p, "`on_failure` must be cancel, ignore, continue or restart, not `" + shorten(*s) + "`" +
                      did_you_mean(*s, {"cancel", "ignore", "continue", "restart"}));
}

}  // namespace

void read_behaviour_key(YamlReader& r, const std::string& key, const YamlNode& v,
                        const SourcePos& at, RawNode& n) {
  SourcePos p = r.pos(v, at);
  if (key == "ready") read_ready(r, v, at, n);
  else if (key == "health") read_health(r, v, at, n);
  else if (key == "timeout") {
    auto d = r.duration(v, "timeout", at);
    if (d && d->count() <= 0) r.error(p, "`timeout` must be more than 0");
    else if (d) n.timeout = At<Millis>{*d, p};
  } else if (key == "stop") {
    if (auto c = r.command(v, "stop", at)) n.stop = At<Command>{*c, p};
  } else if (key == "on_failure") read_on_failure(r, v, at, n);
  else if (key == "restart") read_restart(r, v, at, n);
  else if (key == "stdin") n.stdin_ = read_stdin_spec(r, v, at);
  else if (key == "stdout") n.stdout_ = read_output(r, v, at, "stdout", n.stdout_file);
  else if (key == "stderr") n.stderr_ = read_output(r, v, at, "stderr", n.stderr_file);
  else if (key == "watch") read_watch(r, v, at, n);
}

std::optional<LogTarget> read_log_target(YamlReader& r, const YamlNode& v, const SourcePos& at) {
  auto s = r.scalar(v, "logs", at);
  if (!s) return std::nullopt;
  LogTarget t;
  if (*s == "stdout") t.type = LogTarget::Type::stdout_;
  else if (*s == "stderr") t.type = LogTarget::Type::stderr_;
  else if (*s == "none") t.type = LogTarget::Type::none;
  else if (s->empty()) {
    r.error(r.pos(v, at), "`logs` must be stdout, stderr, none or a file path");
    return std::nullopt;
  } else {
    t.type = LogTarget::Type::file;
    t.path = r.absolute(*s);
  }
  return t;
}

}  // namespace treerun
