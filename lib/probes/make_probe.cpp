#include "probes/make_probe.h"

#include <utility>

#include "probes/driver_probes.h"
#include "probes/node_probes.h"
#include "probes/notify_probe.h"

namespace treerun {

std::shared_ptr<ReadinessProbe> make_probe(ProbeHost& host, NodeId id, const Probe& spec, std::string cwd) {
  switch (spec.type) {
    case Probe::Type::none: return nullptr;
    case Probe::Type::log: return make_log_probe(host, id, spec);
    case Probe::Type::file: return make_file_probe(host, id, spec, std::move(cwd));
    case Probe::Type::tcp: return make_tcp_probe(host, id, spec);
    case Probe::Type::http: return make_http_probe(host, id, spec);
    case Probe::Type::exec: return make_exec_probe(host, id, spec);
    case Probe::Type::notify: return make_notify_probe(host, id, spec);
  }
  return nullptr;
}

}  // namespace treerun
