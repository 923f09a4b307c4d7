#include "spec/read_settings.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#define PCRE2_CODE_UNIT_WIDTH 8  // we only match bytes
#include <pcre2.h>

#include "spec/file_read.h"
#include "spec/read_stdio.h"

namespace treerun {
namespace {

void read_env_map(YamlReader& r, const YAML::Node& v, const SourcePos& at, EnvList& out) {
  EnvList pairs;
  auto add = [&](const std::string& key, const std::string& value, const SourcePos& p) {
    if (key.empty() || key.find('=') != std::string::npos)
      r.error(p, "bad variable name `" + shorten(key) + "`");
    else if (key == "TREERUN_NODE" || key == "TREERUN_RUN_ID")
      r.error(p, "`" + key + "` is set by treerun");
    else
      pairs.emplace_back(key, value);
  };
  if (v.IsMap()) {
    for (auto it = v.begin(); it != v.end() && !r.budget().exhausted; ++it) {
      SourcePos kp = r.pos(it->first, at);
      auto key = r.scalar(it->first, "env", kp);
      // An empty value (`KEY:`) is the empty string, as in a shell's `KEY=`.
      auto value = it->second.IsNull() ? std::optional<std::string>("")
                                       : r.scalar(it->second, "env", r.pos(it->second, kp));
      if (key && value) add(*key, *value, kp);
    }
  } else if (v.IsSequence()) {  // ["KEY=VALUE", ...], as docker compose allows
    auto list = r.strings(v, "env", at);
    for (const auto& s : list.value_or(std::vector<At<std::string>>{})) {
      auto eq = s.value.find('=');
      if (eq == std::string::npos) r.error(s.pos, "`env` entries are KEY=VALUE, not `" + shorten(s.value) + "`");
      else add(s.value.substr(0, eq), s.value.substr(eq + 1), s.pos);
    }
  } else if (r.spend(r.pos(v, at))) {
    r.error(r.pos(v, at), "`env` must be a mapping of names to values, not " + kind_of(v));
  }
  env_merge(out, pairs);
}

/// Why PATH cannot be a node's working folder ("No such file or directory", "Not a
/// directory", "Permission denied"), or "" when it can. Checked when the spec is read,
/// so a typo is a `check` error rather than a node that fails to start.
std::string folder_problem(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::strerror(errno);
  if (!S_ISDIR(st.st_mode)) return std::strerror(ENOTDIR);
  if (::access(path.c_str(), X_OK) != 0) return std::strerror(errno);
  return "";
}

void read_env_files(YamlReader& r, const YAML::Node& v, const SourcePos& at, EnvList& out,
                    ReadContext& ctx) {
  auto list = r.strings(v, "env_file", at);
  if (!list) return;
  for (const auto& path : *list) {
    FileText f = read_regular_file(r.absolute(path.value));
    if (f.ok && (ctx.budget.bytes += f.text.size()) > kMaxTotalBytes)
      f = {false, {}, "over the size budget of all spec files"};
    if (!f.ok) {
      r.error(path.pos, "cannot read env_file `" + shorten(path.value) + "`: " + f.error);
      continue;
    }
    env_merge(out, parse_env_text(f.text, display_path(r.file(), path.value), r.diags()));
  }
}

}  // namespace

bool read_default_key(YamlReader& r, const std::string& key, const YAML::Node& v,
                      const SourcePos& at, RawDefaults& d, ReadContext& ctx) {
  SourcePos p = r.pos(v, at);
  if (key == "grace") {
    if (auto x = r.duration(v, "grace", at)) d.grace = At<Millis>{*x, p};
  } else if (key == "stop_signal") {
    if (auto x = r.signal(v, "stop_signal", at)) d.stop_signal = At<int>{*x, p};
  } else if (key == "env") {
    read_env_map(r, v, at, d.env);
  } else if (key == "env_file") {
    read_env_files(r, v, at, d.env_file, ctx);
  } else if (key == "cwd") {
    if (auto s = r.scalar(v, "cwd", at)) {
      if (s->empty()) r.error(p, "`cwd` is empty");
      else if (std::string abs = r.absolute(*s), why = folder_problem(abs); !why.empty())
        r.error(p, "cannot use `cwd` `" + shorten(*s) + "`: " + why);
      else d.cwd = At<std::string>{abs, p};
    }
  } else {
    return false;
  }
  return true;
}

namespace {

const std::vector<std::string_view> kProbes = {"log", "tcp", "http", "exec", "file", "notify"};

/// Compiles the regex once here, so a typo is a spec error rather than a failed run.
void check_regex(YamlReader& r, const std::string& re, const SourcePos& p) {
  int code = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* c = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(re.data()), re.size(), 0, &code,
                                &offset, nullptr);
  if (c) {
    pcre2_code_free(c);
    return;
  }
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(code, buf, sizeof buf);
  r.error(p, "`log`: bad regex at offset " + std::to_string(offset) + ": " +
                 reinterpret_cast<const char*>(buf));
}

bool valid_host_port(const std::string& s) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= s.size()) return false;
  std::string port = s.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return false;
  int n = std::stoi(port);
  return n >= 1 && n <= 65535;
}

void read_probe_arg(YamlReader& r, const std::string& key, const YAML::Node& v,
                    const SourcePos& at, Probe& pr) {
  SourcePos p = r.pos(v, at);
  pr.pos = p;
  if (key == "notify") {
    auto b = r.boolean(v, "notify", at);
    if (b && !*b) r.error(p, "`notify` can only be true (leave `ready` out for no probe)");
    pr.type = Probe::Type::notify;
    return;
  }
  auto s = r.scalar(v, key, at);
  if (!s) return;
  pr.arg = *s;
  if (key == "log") {
    pr.type = Probe::Type::log;
    check_regex(r, *s, p);
  } else if (key == "tcp") {
    pr.type = Probe::Type::tcp;
    if (!valid_host_port(*s)) r.error(p, "`tcp` must be HOST:PORT, not `" + shorten(*s) + "`");
  } else if (key == "http") {
    pr.type = Probe::Type::http;
    if (s->rfind("http://", 0) != 0 || s->size() <= 7)
      r.error(p, "`http` must be a URL starting with http://, not `" + shorten(*s) + "`");
  } else if (key == "exec") {
    pr.type = Probe::Type::exec;
    if (s->find_first_not_of(" \t\r\n") == std::string::npos) r.error(p, "`exec` is empty");
  } else if (key == "file") {
    pr.type = Probe::Type::file;
    if (s->empty()) r.error(p, "`file` is empty");
    else pr.arg = r.absolute(*s);
  }
}

void read_ready(YamlReader& r, const YAML::Node& v, const SourcePos& at, RawNode& n) {
  SourcePos p = r.pos(v, at);
  n.ready_pos = at;
  if (!v.IsMap()) {
    if (r.spend(p)) r.error(p, "`ready` must be a mapping ({tcp: HOST:PORT}, {log: REGEX}, ...), not " + kind_of(v));
    return;
  }
  Probe pr;
  std::string first;
  std::vector<std::string_view> known = kProbes;
  known.insert(known.end(), {"timeout", "interval"});
  std::size_t before = r.diags().size();
  auto entries = r.entries(v, known, "`ready`");
  bool key_problem = r.diags().size() != before;
  for (auto& [key, value] : entries) {
    if (key.value == "timeout" || key.value == "interval") {
      auto d = r.duration(value, key.value, key.pos);
      if (d && d->count() <= 0) r.error(r.pos(value, key.pos), "`" + key.value + "` must be more than 0");
      else if (d) (key.value == "timeout" ? pr.timeout : pr.interval) = *d;
    } else if (!first.empty()) {
      r.error(key.pos, "`ready` has several probes (`" + first + "` and `" + key.value + "`): keep one");
    } else {
      first = key.value;
      read_probe_arg(r, key.value, value, key.pos, pr);
    }
  }
  if (first.empty() && !key_problem) r.error(p, "`ready` needs a probe: log, tcp, http, exec, file or notify");
  n.ready = pr;
}

/// docker compose's `restart: always` (and its kin) is treerun's `on_failure: restart`.
std::string compose_restart_hint(const YAML::Node& v) {
  if (!v.IsScalar()) return "";
  const std::string& s = v.Scalar();
  if (s == "always" || s == "unless-stopped" || s == "on-failure" || s.rfind("on-failure:", 0) == 0)
    return " (did you mean `on_failure: restart`?)";
  if (s == "no" || s == "false" || s == "never")
    return " (leave `restart` out: only `on_failure: restart` restarts a node)";
  return "";
}

void read_restart(YamlReader& r, const YAML::Node& v, const SourcePos& at, RawNode& n) {
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

void read_on_failure(YamlReader& r, const YAML::Node& v, const SourcePos& at, RawNode& n) {
  auto s = r.scalar(v, "on_failure", at);
  if (!s) return;
  SourcePos p = r.pos(v, at);
  if (*s == "cancel") n.on_failure = At<OnFailure>{OnFailure::cancel, p};
  else if (*s == "ignore") n.on_failure = At<OnFailure>{OnFailure::ignore, p};
  else if (*s == "restart") n.on_failure = At<OnFailure>{OnFailure::restart, p};
  else r.error(p, "`on_failure` must be cancel, ignore or restart, not `" + shorten(*s) + "`" +
                      did_you_mean(*s, {"cancel", "ignore", "restart"}));
}

}  // namespace

void read_behaviour_key(YamlReader& r, const std::string& key, const YAML::Node& v,
                        const SourcePos& at, RawNode& n) {
  SourcePos p = r.pos(v, at);
  if (key == "ready") read_ready(r, v, at, n);
  else if (key == "timeout") {
    auto d = r.duration(v, "timeout", at);
    if (d && d->count() <= 0) r.error(p, "`timeout` must be more than 0");
    else if (d) n.timeout = At<Millis>{*d, p};
  } else if (key == "stop") {
    if (auto c = r.command(v, "stop", at)) n.stop = At<Command>{*c, p};
  } else if (key == "on_failure") read_on_failure(r, v, at, n);
  else if (key == "restart") read_restart(r, v, at, n);
  else if (key == "stdin") n.stdin_ = read_stdin_spec(r, v, at);
  else if (key == "stdout") n.stdout_ = read_output(r, v, at, "stdout");
  else if (key == "stderr") n.stderr_ = read_output(r, v, at, "stderr");
}

std::optional<LogTarget> read_log_target(YamlReader& r, const YAML::Node& v, const SourcePos& at) {
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
