// Stream wiring, made once before any process starts (contract 4.6): a direct kernel
// pipe for each one-to-one stream, and a relay through treerun for the rest.
#include <fcntl.h>

#include "supervisor_impl.h"

namespace treerun {
namespace {

constexpr int kStreamPipeSize = 1 << 20;

/// A stream's pipe, with a 1 MiB kernel buffer (the unprivileged maximum) instead of
/// 64 KiB: bulk data then moves in larger batches, with fewer context switches.
Pipe new_pipe() {
  std::error_code ec;
  Pipe p = make_pipe(ec);
  if (ec) throw std::system_error(ec, "cannot create a pipe for a stream");
  ::fcntl(p.write.get(), F_SETPIPE_SZ, kStreamPipeSize);  // best effort: a smaller pipe still works
  return p;
}

std::string source_name(const Plan& plan, SourceRef s) {
  return plan[s.node].path + (s.is_stderr ? ":stderr" : "");
}

}  // namespace

bool Supervisor::in_subtree(NodeId node, NodeId top) const {
  for (std::optional<NodeId> at = node; at; at = plan_[*at].parent)
    if (*at == top) return true;
  return false;
}

/// Makes the pipes and relays of every stream, or (WITHIN) of those that start and end
/// inside one subtree: a group restarted as a whole gets fresh streams, since its old
/// ones saw their consumers close. A stream that crosses the subtree's edge keeps its
/// pipe: a restarted producer writes on into it, as a restarted service would.
void Supervisor::wire_streams(std::optional<NodeId> within) {
  std::vector<std::shared_ptr<StreamSink>> sinks(nodes_.size());
  auto producer_end = [this](SourceRef s) -> UniqueFd& {
    return s.is_stderr ? nodes_[s.node].stderr_end : nodes_[s.node].stdout_end;
  };
  for (const StreamWiring& s : plan_.streams) {
    if (within) {
      bool inside = in_subtree(s.source.node, *within);
      for (NodeId c : s.consumers) inside = inside && in_subtree(c, *within);
      for (NodeId c : s.consumers)  // a merge with a source outside keeps its old sink
        for (const SourceRef& other : plan_[c].stdin_spec.from) inside = inside && in_subtree(other.node, *within);
      if (!inside) continue;
    }
    if (s.direct) {
      Pipe p = new_pipe();
      producer_end(s.source) = std::move(p.write);
      nodes_[s.consumers.front()].stdin_end = std::move(p.read);
      continue;
    }
    std::vector<StreamRelay::Target> targets;
    for (NodeId c : s.consumers) {
      if (!sinks[c]) {
        Pipe p = new_pipe();
        nodes_[c].stdin_end = std::move(p.read);
        StreamSink::Context ctx{&events_, log_.get(), nodes_[c].log_source, plan_[c].path};
        sinks[c] = std::make_shared<StreamSink>(io_, std::move(p.write), plan_[c].stdin_spec, ctx);
      }
      targets.push_back({sinks[c], sinks[c]->add_source(source_name(plan_, s.source))});
    }
    Pipe p = new_pipe();
    producer_end(s.source) = std::move(p.write);
    std::function<void(std::string_view)> to_log;
    if (s.to_log) {
      NodeId producer = s.source.node;
      to_log = [this, producer](std::string_view line) { log_->line(nodes_[producer].log_source, line); };
    }
    auto relay = std::make_shared<StreamRelay>(io_, std::move(p.read), std::move(targets), std::move(to_log),
                                               [this] { log_->flush(); });
    relay->start();
    relays_.push_back(relay);
  }
}

}  // namespace treerun
