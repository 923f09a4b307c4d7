// Stream wiring, made once before any process starts (treerun(1), SEMANTICS ›
// Streams): a direct kernel
// pipe for each one-to-one stream, a splicing fan-out where every consumer takes the
// bytes as they are, and a copying relay where some consumer needs whole lines.
#include <fmt/format.h>

#include "io/splice_fanout.h"
#include "proc/fd_holders.h"
#include "run/supervisor.h"

namespace treerun {
namespace {

/// A stream's pipe, with a 1 MiB kernel buffer (the unprivileged maximum) instead of
/// 64 KiB: bulk data then moves in larger batches, with fewer context switches.
Pipe new_pipe() {
  std::error_code ec;
  Pipe p = make_pipe(ec);
  if (ec) throw std::system_error(ec, "cannot create a pipe for a stream");
  size_pipe(p.write.get(), kLargestUnprivilegedPipe);  // best effort: a smaller pipe still works
  return p;
}

std::string source_name(const Plan& plan, SourceRef s) {
  return plan[s.node].path + (s.is_stderr ? ":stderr" : "");
}

}  // namespace

/// ID is finished, its group empty, yet a consumer of its output still reads: whatever
/// holds the stream's pipe open escaped ID's group (setsid, a double fork). As in a shell
/// pipeline, the consumer reads on until that closes it; say who it is.
void Supervisor::name_pipe_holders(NodeId id) {
  for (bool is_stderr : {false, true}) {
    ino_t pipe = nodes_[id].out_pipes[is_stderr];
    const StreamWiring* s = pipe ? plan_.stream_of({id, is_stderr}) : nullptr;
    if (!s) continue;
    std::string readers;
    for (NodeId c : s->consumers)
      if (nodes_[c].leader_alive()) readers += (readers.empty() ? "" : ", ") + plan_[c].path;
    if (readers.empty()) continue;
    for (const PipeHolder& h : pipe_holders(pipe, launcher_.strays()))
      log_->note(nodes_[id].log_source,
                 fmt::format("its {} is still held open by pid {} ({}), which left its group: {} read{} on "
                             "until that closes it, as in a shell pipeline",
                             is_stderr ? "stderr" : "stdout", h.pid, h.name, readers,
                             readers.find(',') == std::string::npos ? "s" : ""));
  }
}

/// For -v: "stdout → a, b: spliced (tee/splice), also logged".
std::string Supervisor::describe(const StreamWiring& s) const {
  std::string to;
  for (NodeId c : s.consumers) to += (to.empty() ? "" : ", ") + plan_[c].path;
  const char* how = s.carrier == StreamWiring::Carrier::pipe     ? "a direct pipe"
                    : s.carrier == StreamWiring::Carrier::splice ? "spliced (tee/splice, no copy)"
                                                                 : "relayed line by line";
  return fmt::format("{} → {}: {}{}", s.source.is_stderr ? "stderr" : "stdout", to, how, s.to_log ? ", also logged" : "");
}

/// Whether stream S starts and ends inside TOP's subtree, merges included.
bool Supervisor::stream_within(const StreamWiring& s, NodeId top) const {
  auto in_subtree = [&](NodeId node) { return node == top || plan_.is_ancestor(top, node); };
  bool inside = in_subtree(s.source.node);
  for (NodeId c : s.consumers) {
    inside = inside && in_subtree(c);
    for (const SourceRef& other : plan_[c].stdin_spec.from) inside = inside && in_subtree(other.node);
  }
  return inside;
}

/// Makes the pipes and relays of every stream, or (WITHIN) of those that start and end
/// inside one subtree: a group restarted as a whole gets fresh streams, since its old
/// ones saw their consumers close. A stream that crosses the subtree's edge keeps its
/// pipe: a restarted producer writes on into it, as a restarted service would.
void Supervisor::open_streams(std::optional<NodeId> within) {
  // A restarted group's old relays are done with (their handlers keep what still runs).
  std::erase_if(carriers_, [](const std::shared_ptr<Carrier>& r) { return r->done(); });
  std::vector<std::shared_ptr<StreamSink>> sinks(nodes_.size());  // a merge's consumers share one
  for (const StreamWiring& s : plan_.streams) {
    if (within && !stream_within(s, *within)) continue;
    verbose(s.source.node, [&] { return describe(s); });
    Pipe p = new_pipe();
    Node& producer = nodes_[s.source.node];
    producer.out_pipes[s.source.is_stderr] = pipe_inode(p.write.get());
    (s.source.is_stderr ? producer.stderr_end : producer.stdout_end) = std::move(p.write);
    std::shared_ptr<Carrier> relay;
    switch (s.carrier) {
      case StreamWiring::Carrier::pipe:
        nodes_[s.consumers.front()].stdin_end = std::move(p.read);
        continue;
      case StreamWiring::Carrier::splice: {
        std::vector<SpliceFanout::Consumer> consumers;
        for (NodeId c : s.consumers) {
          Pipe in = new_pipe();
          nodes_[c].stdin_end = std::move(in.read);
          consumers.push_back({std::move(in.write), plan_[c].stdin_spec.buffer});
        }
        relay = std::make_shared<SpliceFanout>(io_, std::move(p.read), std::move(consumers), log_copy(s));
        break;
      }
      case StreamWiring::Carrier::relay:
        relay = std::make_shared<LineRelay>(io_, std::move(p.read), relay_targets(s, sinks), log_copy(s));
        break;
    }
    if (s.to_log) producer.log_carriers[s.source.is_stderr] = relay;
    relay->start();
    carriers_.push_back(std::move(relay));
  }
}

/// The copying relay's sinks for S's consumers, made on first use.
std::vector<LineRelay::Target> Supervisor::relay_targets(const StreamWiring& s,
                                                            std::vector<std::shared_ptr<StreamSink>>& sinks) {
  std::vector<LineRelay::Target> targets;
  for (NodeId c : s.consumers) {
    if (!sinks[c]) {
      Pipe p = new_pipe();
      nodes_[c].stdin_end = std::move(p.read);
      auto report = [this, c](const std::string& source, unsigned long long dropped, bool grew) {
        events_.lag(plan_[c].path, source, dropped);
        if (grew) log_->note(nodes_[c].log_source, fmt::format("lagging behind {}: {} bytes dropped so far", source, dropped));
        nodes_[c].lag_dropped[source] = dropped;
      };
      const StdinSpec& in = plan_[c].stdin_spec;
      sinks[c] = std::make_shared<StreamSink>(io_, std::move(p.write), StreamSink::Policy{in.lag == Lag::drop, in.buffer}, report);
    }
    targets.push_back({sinks[c], sinks[c]->add_source(source_name(plan_, s.source))});
  }
  return targets;
}

/// The log copy of S, if it has one: its lines are the producer's output lines.
std::unique_ptr<LogCopy> Supervisor::log_copy(const StreamWiring& s) {
  if (!s.to_log) return nullptr;
  NodeId producer = s.source.node;
  return std::make_unique<LogCopy>(
      LogCopy{LineCutter(
                  kMaxLogLine,
                  [this, producer](std::string_view line, bool continued) { output_line(producer, line, true, continued); },
                  [this, producer](std::string_view lines) { output_lines(producer, lines, true); }),
              [this] { log_->flush(); }, hold_back(producer)});
}

}  // namespace treerun
