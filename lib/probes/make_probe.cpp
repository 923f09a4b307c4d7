#include "probes/make_probe.h"

#include <utility>

#include "probes/driver_probes.h"
#include "probes/http_check.h"
#include "probes/node_probes.h"
#include "probes/notify_probe.h"

namespace treerun {

std::shared_ptr<ReadinessProbe> make_probe(ProbeHost& host, NodeId id, const Probe& spec, std::string cwd) {
  switch (spec.type) {
    case Probe::Type::none: return nullptr;
    case Probe::Type::log: return make_log_probe(host, id, spec);
    case Probe::Type::notify: return make_notify_probe(host, id, spec);
    default: break;
  }
  return std::make_shared<PolledProbe>(host, id, spec, make_check(host, id, spec, std::move(cwd), std::nullopt));
}

std::shared_ptr<Check> make_check(ProbeHost& host, NodeId id, const Probe& spec, std::string cwd,
                                  std::optional<Millis> limit) {
  switch (spec.type) {
    case Probe::Type::tcp: return make_tcp_check(host, spec, limit.value_or(spec.interval));
    case Probe::Type::http: return make_http_check(host, spec, limit.value_or(spec.interval));
    case Probe::Type::exec: return make_exec_check(host, id, spec, limit);
    case Probe::Type::file: return make_file_check(spec, std::move(cwd));
    default: return nullptr;  // log and notify are events, not checks
  }
}

}  // namespace treerun
