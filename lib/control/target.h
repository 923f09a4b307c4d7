// The control layer, control/: a running tree seen and steered from another terminal
// (treerun(1), A RUNNING TREE; contract section 6). It owns the socket's folder and
// name rules, the JSON Lines protocol (versioned, bounded), the server that lives in the
// run's one Asio loop, and the client the CLI uses. It sees base/ and io/ only: the
// supervisor (run/) answers the server through the Target below, so control/ never
// knows a Node or a State, and run/ never parses a request.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace treerun::control {

/// Who sent a request (SO_PEERCRED): named in the `control` event and the log stream.
struct Peer {
  uid_t uid = 0;
  pid_t pid = 0;
};

/// One row of `ps` (contract 6.2).
struct NodeStatus {
  std::string path;   // as in the event log: "pipeline/keep"
  std::string kind;   // daemon, worker, group
  std::string state;  // waiting, starting, ready, running, stopping, stopped, exited
  std::optional<long> pid;       // while a process of it runs
  std::optional<double> uptime;  // seconds since its current incarnation started
  int restarts = 0;              // incarnations after the first
  std::optional<int> code;       // its last exit: code, or signal name
  std::optional<std::string> signal;
  std::optional<std::string> outcome;  // ok, failed, cancelled, killed, ... once decided
  std::optional<std::string> host;     // where its process runs, under a backend of several hosts
};

/// One line of `ls`.
struct RunStatus {
  std::string name;
  long pid = 0;
  std::string spec;  // the spec file's absolute path ("-" for standard input)
  double uptime = 0;
  int running = 0;  // nodes whose process runs
};

enum class Verb { stop, start, restart, signal, down };

/// What a `reload` did (treerun(1), THE DEVELOPMENT LOOP › Reload), or why it did nothing.
struct ReloadResult {
  std::string error;                  // "" when it was applied
  std::vector<std::string> problems;  // the spec's, FILE:LINE:COL: message, when it fails `check`
  std::vector<std::string> stopped, started, restarted;  // node paths
  std::vector<std::string> notes;     // what it does not apply (the run's own settings)
};

/// Ends a subscription when destroyed (or reset): its callback is never called again.
class Subscription {
 public:
  Subscription() = default;
  explicit Subscription(std::function<void()> end) : end_(std::move(end)) {}
  Subscription(Subscription&& o) noexcept : end_(std::exchange(o.end_, nullptr)) {}
  Subscription& operator=(Subscription&& o) noexcept {
    if (this != &o) {
      reset();
      end_ = std::exchange(o.end_, nullptr);
    }
    return *this;
  }
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription() { reset(); }
  void reset() {
    if (auto end = std::exchange(end_, nullptr)) end();
  }

 private:
  std::function<void()> end_;
};

/// What the server may ask of a run. Implemented by the supervisor (run/control.cpp).
/// Every call and every callback happens on the run's loop; a callback never blocks and
/// never throws; the server copies what it needs and bounds what it keeps per client.
class Target {
 public:
  virtual ~Target() = default;

  virtual RunStatus status() const = 0;
  virtual std::vector<NodeStatus> ps() const = 0;

  /// "" when each of PATHS (a leading `/` allowed) names a node; else the message for
  /// the client: the unknown path, a did-you-mean, and the paths that exist.
  virtual std::string check_nodes(const std::vector<std::string>& paths) const = 0;

  /// Carries out VERB on PATHS (none for down) for PEER, SIG for Verb::signal. DONE is
  /// called once, when it has taken effect (stop: the nodes finished; start: started and
  /// ready; restart: both; signal: sent; down: the cancel delivered), with "" or why it
  /// could not be done. Writes the `control` event and a log line naming PEER.
  virtual void act(Verb verb, const std::vector<std::string>& paths, int sig, Peer peer,
                   std::function<void(std::string error)> done) = 0;

  /// Re-reads the run's spec and applies the difference for PEER; DONE once it has taken
  /// effect (the removed stopped, the added and changed started and ready).
  virtual void reload(Peer peer, std::function<void(ReloadResult)> done) {
    (void)peer;
    done({"this run cannot reload its spec", {}, {}, {}, {}, {}});
  }

  /// The last N lines of each node of PATHS (every node when empty; treerun's own lines
  /// about a node included), oldest first, as the log stream shows them without colour,
  /// then, when FOLLOW, each new line as it comes. LINE gets (node path, line, seq): SEQ
  /// numbers the run's log lines from 1 in the order they came, over all nodes.
  virtual Subscription logs(const std::vector<std::string>& paths, std::size_t n, bool follow,
                            std::function<void(std::string_view node, std::string_view line, std::uint64_t seq)> line) = 0;

  /// The event log (contract 5) from the run's start, one JSON object per call, then,
  /// when FOLLOW, each new event up to and including `done`. SEQ numbers the events from 1.
  virtual Subscription events(bool follow, std::function<void(std::string_view json, std::uint64_t seq)> event) = 0;

  /// treerun's own console as its terminal shows it from now on: progress lines, the
  /// messages about the run, and the summary at the end (what `down` prints).
  virtual Subscription console(std::function<void(std::string_view text)> text) = 0;

  /// CODE, once, when the run has ended (after `done`): `wait` and `down` answer with it.
  virtual Subscription on_end(std::function<void(int code)> ended) = 0;
};

}  // namespace treerun::control
