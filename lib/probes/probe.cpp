#include "probes/probe.h"

#include <chrono>
#include <fmt/format.h>

#include "base/units.h"

namespace treerun {
using boost::system::error_code;

ReadinessProbe::ReadinessProbe(ProbeHost& host, NodeId id, const Probe& spec)
    : host_(host), id_(id), spec_(spec), deadline_(host.io()) {}

void ReadinessProbe::start() {
  active_ = true;
  deadline_.expires_after(spec_.timeout);
  deadline_.async_wait([self = weak_from_this()](const error_code& ec) {
    auto p = self.lock();
    if (ec || !p || !p->active_) return;
    std::string miss = p->last_miss();
    p->fail(fmt::format("not ready within {}: readiness probe timed out{}", format_duration(p->spec_.timeout),
                        miss.empty() ? "" : " (last check: " + miss + ")"));
  });
  begin();
}

void ReadinessProbe::cancel() {
  active_ = false;
  deadline_.cancel();
}

void ReadinessProbe::succeed() {
  if (!active_) return;
  cancel();
  host_.probe_passed(id_);
}

void ReadinessProbe::fail(std::string reason) {
  if (!active_) return;
  cancel();
  host_.probe_failed(id_, std::move(reason));
}

PolledProbe::PolledProbe(ProbeHost& host, NodeId id, const Probe& spec, std::shared_ptr<Check> check)
    : ReadinessProbe(host, id, spec), check_(std::move(check)), next_(host.io()) {}

std::string PolledProbe::prepare(std::vector<std::string>&) { return check_->before_start(); }

void PolledProbe::cancel() {
  ReadinessProbe::cancel();
  next_.cancel();
  check_->cancel();
}

void PolledProbe::attempt() {
  if (!active()) return;
  auto started = std::chrono::steady_clock::now();
  check_->run([self = std::static_pointer_cast<PolledProbe>(shared_from_this()), started](std::string why_not) {
    if (!self->active()) return;
    if (why_not.empty()) return self->succeed();
    if (why_not != self->last_miss_) self->host_.note(self->id_, [&] { return "not ready yet: " + why_not; }, true);
    self->last_miss_ = std::move(why_not);
    // The next check is due one interval after this one began, not after it ended.
    self->next_.expires_at(started + self->spec_.interval);
    self->next_.async_wait([self](const error_code& ec) {
      if (!ec) self->attempt();
    });
  });
}

}  // namespace treerun
