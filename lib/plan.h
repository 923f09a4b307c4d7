// The resolved plan: what `treerun up` runs, as plain values.
//
// The spec loader (spec_load.cpp, validate.cpp, plan_build.cpp) turns YAML into a
// Plan; the runtime (supervisor.cpp and friends) only reads it. Building a Plan makes
// no syscall beyond reading the spec files, so every rule in it is unit-tested.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace treerun {

using Millis = std::chrono::milliseconds;
using NodeId = std::size_t;  // index into Plan::nodes; the root group is 0

/// Where a key or value came from, for messages that point at it.
struct SourcePos {
  std::string file;  // as the user named it ("-" for standard input)
  int line = 0;      // 1-based; 0 = unknown
  int col = 0;       // 1-based
};

/// A command: a shell string (`/bin/sh -c TEXT`) or an argv looked up in PATH.
struct Command {
  bool shell = false;
  std::vector<std::string> argv;  // shell: {TEXT}; otherwise argv[0] is the program
  /// What a person would type; for messages and `treerun tree`.
  std::string display() const;
};

struct Probe {
  enum class Type { none, log, tcp, http, exec, file, notify };
  Type type = Type::none;  // none: started = ready
  std::string arg;         // regex, HOST:PORT, URL, shell command, path; empty for notify
  Millis timeout{30'000};
  Millis interval{100};
  SourcePos pos;           // of the probe's value (a bad regex points here)
};

enum class OnFailure { cancel, ignore, restart };

struct RestartPolicy {
  int max = 3;
  Millis within{60'000};
  Millis backoff{100};
};

/// A node's output stream, as a producer of bytes.
struct SourceRef {
  NodeId node = 0;
  bool is_stderr = false;
  bool operator==(const SourceRef&) const = default;
};

enum class Lag { block, drop };

struct StdinSpec {
  enum class Type { null, inherit, sources };
  Type type = Type::null;
  std::vector<SourceRef> from;  // type == sources; more than one: merged line by line
  Lag lag = Lag::block;
  std::size_t buffer = 1 << 20;  // bytes, per consumer
};

struct OutputSpec {
  enum class Type { log, inherit, null, file };
  Type type = Type::log;
  bool log_explicit = false;  // the spec said `log` (a source that feeds a stdin logs only then)
  std::string path;           // type == file; absolute
  bool append = false;
};

/// Where the merged log stream goes (`logs:` / `--logs`).
struct LogTarget {
  enum class Type { stdout_, stderr_, none, file };
  Type type = Type::stdout_;
  std::string path;  // type == file; absolute
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
  Probe ready;
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

  /// Derived: some descendant (or this node's own process) is a worker, so `after` on
  /// this node waits for it to be done rather than ready.
  bool has_workers = false;

  bool is_group() const { return !cmd.has_value(); }
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
  std::vector<NodeId> stop_order;   // reverse: dependents and children before what they need
  std::vector<StreamWiring> streams;  // one per source that feeds some stdin

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
