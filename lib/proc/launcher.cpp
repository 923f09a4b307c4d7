#include "proc/launcher.h"

namespace treerun {

Launcher::Ticket Launcher::submit(const SpawnRequest& request, ExitHandler on_exit) {
  Spawned s;
  s.result = spawn(request, std::move(on_exit), s.ec);
  spawned_.emplace(submitted_, std::move(s));
  return submitted_++;
}

SpawnResult Launcher::collect(Ticket ticket, std::error_code& ec) {
  auto s = spawned_.extract(ticket);
  ec = s.mapped().ec;
  return std::move(s.mapped().result);
}

}  // namespace treerun
