// plan/ owns the step from what a spec says (spec/'s RawFile) to what runs: an
// immutable, checked Plan, and `treerun tree`'s text of it. It is pure: it makes no
// syscall beyond the spec files spec/ reads, so every rule in it is unit-tested. It
// may include spec/ and base/, never proc/, io/, probes/ or run/: those read a Plan,
// a plan knows nothing of how it runs. load.h is the way in; it calls build.h (the
// tree), resolve.h (references), streams.h (carriers), order.h, then validate.h and
// deadlock.h (what only the whole plan can tell).
//
// This file: the resolved plan, what `treerun up` runs, as plain values. The runtime
// (lib/run) only reads it.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/command.h"
#include "base/units.h"
#include "plan/stop_sequence.h"
#include "spec/settings.h"

namespace treerun {

using NodeId = std::size_t;  // index into Plan::nodes; the root group is 0

/// A node's output stream, as a producer of bytes.
struct SourceRef {
  NodeId node = 0;
  bool is_stderr = false;
  bool operator==(const SourceRef&) const = default;
};

struct StdinSpec {
  using Type = StdinKind;
  Type type = Type::null;
  std::vector<SourceRef> from;  // type == sources; more than one: merged line by line
  Lag lag = Lag::block;
  std::size_t buffer = 1 << 20;  // bytes, per consumer
};

/// `watch:` resolved (treerun(1), THE DEVELOPMENT LOOP › Watching): a change under
/// PATHS restarts the node.
struct WatchPlan {
  std::vector<std::string> paths;   // absolute; each existed when the spec was checked
  std::vector<std::string> ignore;  // globs, against paths relative to a watched folder
  Millis debounce{200};
  bool cascade = true;  // its dependents (`after`, transitively) restart with it
  bool operator==(const WatchPlan&) const = default;
};

struct PlanNode {
  NodeId id = 0;
  std::optional<NodeId> parent;  // empty for the root
  std::vector<NodeId> children;  // in spec order
  std::string name;
  std::string path;  // from the root, without a leading slash: "pipeline/keep"; root: ""
  SourcePos pos;     // of the node's mapping

  std::optional<Command> cmd;  // none: a pure group
  bool daemon = false;
  std::vector<NodeId> after;  // resolved
  /// Those of `after` written `{NAME: exited}`: a worker that has exited with any
  /// status will do (a report or clean-up step).
  std::vector<NodeId> after_exited;
  Probe ready;
  std::optional<HealthCheck> health;
  std::optional<Millis> timeout;
  Millis grace{3'000};
  int stop_signal = 15;               // SIGTERM
  std::optional<Command> stop;        // graceful stop command, instead of the signal
  OnFailure on_failure = OnFailure::cancel;
  RestartPolicy restart;
  std::vector<std::pair<std::string, std::string>> env;  // fully merged, in order; no TREERUN_*
  std::string cwd;                                       // absolute
  StdinSpec stdin_spec;
  OutputSpec stdout_spec;
  OutputSpec stderr_spec;
  bool tty = false;
  /// stdout and stderr are one pseudo-terminal of the node's own, read into the log.
  bool pty = false;
  /// > 0: a group made by `replicas: N`, whose children are the node's N copies, named
  /// 0 to N-1. The group waits for what the node was `after`; its copies do not.
  int replicas = 0;
  /// Where it runs (treerun(1), ACROSS MACHINES): `on` as written or inherited ("0"
  /// at the root), and the host that names: the allocation's host, "localhost" under the
  /// local backend, or `on` itself while the allocation is not known (`check`, `tree`).
  std::string on = "0";
  SourcePos on_pos;  // of its own `on`; line 0 when inherited
  std::string host = "localhost";
  /// On a replicated node, its group's: the copies restart together.
  std::optional<WatchPlan> watch;

  /// Derived (workers.h), the one rule for `after` and for a group being done: a node
  /// with a command is a worker unless it is a daemon; a group is a worker if one of
  /// its children is a worker that is not a setup step. Workers inside a daemon's own
  /// nursery do not make the daemon one: it runs until cancelled, so `after` it waits
  /// for it to be ready. See treerun(1), SEMANTICS › Nurseries.
  bool is_worker = false;
  /// Derived: a worker that only daemons wait for (a migration before a server). It
  /// must succeed, but it does not make its group done.
  bool setup_step = false;
  /// Derived from `stop`, `stop_signal` and `grace` (stop_sequence.h): what stopping
  /// this node's process does. Empty for a group: it stops when its children have.
  std::vector<StopStep> stop_sequence;

  bool is_group() const { return !cmd.has_value(); }
  /// Whether this node waits for DEP (one of `after`) to have exited, with any status.
  bool waits_for_exit(NodeId dep) const {
    for (NodeId d : after_exited)
      if (d == dep) return true;
    return false;
  }
  bool is_replica_group() const { return replicas > 0; }
  /// How messages name the node: its path, or "/" for the root.
  std::string label() const { return path.empty() ? "/" : path; }
};

/// One producer stream and everything it feeds.
struct StreamWiring {
  SourceRef source;
  std::vector<NodeId> consumers;  // nodes whose stdin reads this source
  bool to_log = false;            // also goes to the log stream
  /// How the bytes travel.
  enum class Carrier {
    /// A kernel pipe straight from producer to consumer: one consumer that reads only
    /// this source with lag: block, and no log copy. treerun never sees these bytes.
    pipe,
    /// A fan-out or a log copy whose every consumer reads only this source with
    /// lag: block: tee(2) and splice(2) pass the pages on; only the log copy is read.
    splice,
    /// Some consumer merges several sources or drops lines: treerun reads the bytes
    /// and cuts them into lines.
    relay,
  };
  Carrier carrier = Carrier::relay;
};

struct Plan {
  std::string name;       // root group's name (spec `name`, default: the file's stem)
  std::string spec_file;  // as given
  std::vector<PlanNode> nodes;  // nodes[0] is the root group
  std::optional<Millis> timeout;
  LogTarget logs;
  std::vector<NodeId> start_order;  // a topological order over `after` and parenthood
  /// The reverse: dependents and children before what they need. For `treerun tree`;
  /// the runtime derives the same order event by event (a node stops once its children
  /// and its cancelling dependents are gone), so nothing at run time reads this.
  std::vector<NodeId> stop_order;
  std::vector<StreamWiring> streams;  // one per source that feeds some stdin
  Backend backend = Backend::local;
  SlurmSettings slurm;
  /// The allocation's hosts in index order, when known; {"localhost"} under local.
  std::vector<std::string> hosts;

  const PlanNode& root() const { return nodes.front(); }
  const PlanNode& operator[](NodeId id) const { return nodes.at(id); }
  /// The node at PATH ("a/b"), if any.
  std::optional<NodeId> find(const std::string& path) const;
  /// Whether A is a strict ancestor of B.
  bool is_ancestor(NodeId a, NodeId b) const;
  /// The wiring for SOURCE, if it feeds some stdin.
  const StreamWiring* stream_of(SourceRef source) const;
};

}  // namespace treerun
