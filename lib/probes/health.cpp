#include "probes/health.h"

#include <fmt/format.h>

#include <utility>

#include "probes/make_probe.h"

namespace treerun {
using boost::system::error_code;

HealthMonitor::HealthMonitor(ProbeHost& host, NodeId id, const HealthCheck& spec, std::string cwd)
    : host_(host),
      id_(id),
      spec_(spec),
      check_(make_check(host, id, spec.probe, std::move(cwd), spec.probe.timeout)),
      next_(host.io()) {}

void HealthMonitor::start() {
  active_ = true;
  arm(std::chrono::steady_clock::now() + spec_.probe.interval);
}

void HealthMonitor::cancel() {
  active_ = false;
  next_.cancel();
  check_->cancel();
}

void HealthMonitor::arm(std::chrono::steady_clock::time_point at) {
  next_.expires_at(at);
  next_.async_wait([self = weak_from_this()](const error_code& ec) {
    auto p = self.lock();
    if (!ec && p && p->active_) p->check();
  });
}

void HealthMonitor::check() {
  began_ = std::chrono::steady_clock::now();
  check_->run([self = shared_from_this()](std::string why_not) {
    if (self->active_) self->checked(std::move(why_not));
  });
}

void HealthMonitor::checked(std::string why_not) {
  // The next check is due one interval after this one began, or now if it took longer:
  // never two at once.
  auto next = std::max(began_ + spec_.probe.interval, std::chrono::steady_clock::now());
  if (why_not.empty()) {
    failed_in_a_row_ = 0;
    told_ = false;
    return arm(next);
  }
  ++failed_in_a_row_;
  host_.note(id_, [&] { return fmt::format("health check failed ({} of {}): {}", failed_in_a_row_, spec_.failures, why_not); },
             true);
  arm(next);  // before telling: the host may cancel this monitor
  if (failed_in_a_row_ < spec_.failures || told_) return;
  told_ = true;
  host_.health_failed(id_, fmt::format("unhealthy: {} health checks failed in a row (last: {})", failed_in_a_row_, why_not));
}

}  // namespace treerun
