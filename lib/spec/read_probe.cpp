#include "spec/read_probe.h"

#include <string_view>
#include <vector>

#define PCRE2_CODE_UNIT_WIDTH 8  // we only match bytes
#include <pcre2.h>

#include "spec/expand.h"
#include "spec/names.h"

namespace treerun {
namespace {

const std::vector<std::string_view> kProbes = {"log", "tcp", "http", "exec", "file", "notify"};
const std::vector<std::string_view> kHealthProbes = {"tcp", "http", "exec", "file"};

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

/// The probe's kind and target; TARGET keeps a tcp, http or file target as written.
void read_probe_arg(YamlReader& r, const std::string& key, const YamlNode& v, const SourcePos& at,
                    Probe& pr, std::optional<RawText>& target) {
  SourcePos p = r.pos(v, at);
  pr.pos = p;
  if (key == "notify") {
    auto b = r.boolean(v, "notify", at);
    if (b && !*b) r.error(p, "`notify` can only be true (leave `ready` out for no probe)");
    pr.type = Probe::Type::notify;
    return;
  }
  auto s = r.text(v, key, at);
  if (!s) return;
  pr.arg = s->value;
  if (key == "log") {
    pr.type = Probe::Type::log;
    check_regex(r, s->value, p);
    return;
  }
  if (key == "exec") {
    pr.type = Probe::Type::exec;
    if (s->value.find_first_not_of(" \t\r\n") == std::string::npos) r.error(p, "`exec` is empty");
    return;
  }
  pr.type = key == "tcp" ? Probe::Type::tcp : key == "http" ? Probe::Type::http : Probe::Type::file;
  target = *s;
  if (has_variables(s->value)) return;  // plan/ checks it once expanded
  if (std::string why = probe_target_problem(pr.type, s->value); !why.empty()) r.error(p, why);
}

/// One `status` entry: a code (200) or a range ("200-399"), codes from 100 to 599.
std::optional<StatusRange> status_entry(const std::string& s) {
  auto code = [](std::string_view t) -> std::optional<int> {
    if (t.size() != 3 || t.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
    int c = std::stoi(std::string(t));
    return c >= 100 && c <= 599 ? std::optional(c) : std::nullopt;
  };
  auto dash = s.find('-');
  auto lo = code(std::string_view(s).substr(0, dash));
  auto hi = dash == std::string::npos ? lo : code(std::string_view(s).substr(dash + 1));
  if (!lo || !hi || *lo > *hi) return std::nullopt;
  return StatusRange{*lo, *hi};
}

void read_status(YamlReader& r, const YamlNode& v, const SourcePos& at, Probe& pr) {
  auto list = r.strings(v, "status", at);
  if (!list) return;
  if (list->empty()) r.error(r.pos(v, at), "`status` is empty: leave it out for 2xx");
  for (const auto& s : *list) {
    if (auto range = status_entry(s.value)) pr.status.push_back(*range);
    else r.error(s.pos, "`status` entries are codes (200) or ranges (\"200-399\") from 100 to 599, not `" +
                            shorten(s.value) + "`");
  }
}

/// What `ready` and `health` share: one probe of KINDS, its timing, its HTTP options.
/// FAILURES: health's count, null for `ready`. Returns the probe's kind ("" if none).
std::string read_probe_map(YamlReader& r, const YamlNode& v, const std::string& what,
                           const std::vector<std::string_view>& kinds, Probe& pr, std::optional<RawText>& target,
                           int* failures, bool& timeout_given) {
  std::vector<std::string_view> known = kProbes;  // every kind: a wrong one gets its own message
  known.insert(known.end(), {"timeout", "interval", "status", "insecure"});
  if (failures) known.push_back("failures");
  std::string first;
  SourcePos http_only;  // where `status` or `insecure` was written
  std::string http_key;
  for (auto& [key, value] : r.entries(v, known, "`" + what + "`")) {
    if (key.value == "timeout" || key.value == "interval") {
      auto d = r.duration(value, key.value, key.pos);
      if (d && d->count() <= 0) r.error(r.pos(value, key.pos), "`" + key.value + "` must be more than 0");
      else if (d) (key.value == "timeout" ? pr.timeout : pr.interval) = *d;
      timeout_given = timeout_given || key.value == "timeout";
    } else if (key.value == "failures") {
      auto s = r.scalar(value, "failures", key.pos);
      bool digits = s && !s->empty() && s->size() <= 4 && s->find_first_not_of("0123456789") == std::string::npos;
      if (digits && std::stoi(*s) >= 1) *failures = std::stoi(*s);
      else if (s) r.error(r.pos(value, key.pos), "`failures` must be a whole number from 1 to 9999, not `" + shorten(*s) + "`");
    } else if (key.value == "status" || key.value == "insecure") {
      http_only = key.pos;
      http_key = key.value;
      if (key.value == "status") read_status(r, value, key.pos, pr);
      else if (auto b = r.boolean(value, "insecure", key.pos)) pr.insecure = *b;
    } else if (std::find(kinds.begin(), kinds.end(), key.value) == kinds.end()) {
      r.error(key.pos, "`" + what + "` cannot use `" + key.value + "`: use tcp, http, exec or file");
    } else if (!first.empty()) {
      r.error(key.pos, "`" + what + "` has several probes (`" + first + "` and `" + key.value + "`): keep one");
    } else {
      first = key.value;
      read_probe_arg(r, key.value, value, key.pos, pr, target);
    }
  }
  if (!http_key.empty() && !first.empty() && first != "http")
    r.error(http_only, "`" + http_key + "` applies only to an `http` probe, not `" + first + "`");
  return first;
}

}  // namespace

void read_ready(YamlReader& r, const YamlNode& v, const SourcePos& at, RawNode& n) {
  SourcePos p = r.pos(v, at);
  n.ready_pos = at;
  if (!v.IsMap()) {
    if (r.spend(p)) r.error(p, "`ready` must be a mapping ({tcp: HOST:PORT}, {log: REGEX}, ...), not " + kind_of(v));
    return;
  }
  Probe pr;
  std::size_t before = r.diags().size();
  bool timeout_given = false;
  std::string kind = read_probe_map(r, v, "ready", kProbes, pr, n.ready_target, nullptr, timeout_given);
  if (kind.empty() && r.diags().size() == before)
    r.error(p, "`ready` needs a probe: log, tcp, http, exec, file or notify");
  n.ready = pr;
}

void read_health(YamlReader& r, const YamlNode& v, const SourcePos& at, RawNode& n) {
  SourcePos p = r.pos(v, at);
  n.health_pos = at;
  if (!v.IsMap()) {
    if (r.spend(p)) r.error(p, "`health` must be a mapping ({tcp: HOST:PORT, interval: 10s}, ...), not " + kind_of(v));
    return;
  }
  HealthCheck h;
  h.probe.interval = Millis{10'000};
  std::size_t before = r.diags().size();
  bool timeout_given = false;
  std::string kind = read_probe_map(r, v, "health", kHealthProbes, h.probe, n.health_target, &h.failures,
                                    timeout_given);
  if (kind.empty() && r.diags().size() == before) r.error(p, "`health` needs a probe: tcp, http, exec or file");
  if (!timeout_given) h.probe.timeout = h.probe.interval;  // a check never runs into the next
  n.health = h;
}

std::string probe_target_problem(Probe::Type type, const std::string& text) {
  switch (type) {
    case Probe::Type::tcp:
      return valid_host_port(text) ? "" : "`tcp` must be HOST:PORT, not `" + shorten(text) + "`";
    case Probe::Type::http:
      if ((text.starts_with("http://") && text.size() > 7) || (text.starts_with("https://") && text.size() > 8))
        return "";
      return "`http` must be a URL starting with http:// or https://, not `" + shorten(text) + "`";
    case Probe::Type::file: return text.empty() ? "`file` is empty" : "";
    default: return "";
  }
}

}  // namespace treerun
