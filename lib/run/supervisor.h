// The Supervisor: the nodes, the loop, and the table that decides what each event does
// to each node (table.cpp). Which file decides what:
//   table.cpp     the state × event table, its dispatch, and the lifecycle actions
//   start.cpp     spawning a node: stdio, log pipes, terminal lending, node timeout
//   exit.cpp      a leader's exit, draining its output, deciding its outcome
//   stop.cpp      cancel marking; stepping through the stop sequence
//   failure.cpp   on_failure: cancel, ignore, restart
//   shutdown.cpp  signals to the run, force, progress lines, the final sweep of strays
//   streams.cpp   opening the pipes and carriers of the plan's streams
//   outputs.cpp   treerun's own outputs: opening them, their failures, the last drain
//   summary.cpp   the summary `up` prints at the end
//   control.cpp   control::Target: what `ls` and `ps` show, node paths
//   control_act.cpp    control::Target::act: stop, start, restart, signal, down
//   control_feeds.cpp  control::Target's histories and subscriptions: logs, events,
//                      console, on_end; and RunOptions::on_up
//   reload.cpp    `reload`: the spec read again, its difference applied
//   watch.cpp     `watch`: a change restarts the node (and its dependents) through the
//                 control socket's restart
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/left_to_exit.h"
#include "control/target.h"
#include "io/deadlines.h"
#include "io/event_log.h"
#include "io/line_relay.h"
#include "io/line_ring.h"
#include "io/watcher.h"
#include "plan/merge.h"
#include "io/log_stream.h"
#include "probes/probe.h"
#include "proc/terminal.h"
#include "run/fd_budget.h"
#include "run/node.h"
#include "run/run.h"
#include "run/subscribers.h"

namespace treerun {

/// The longest line the log stream passes whole, a stream's default `buffer`; longer
/// ones go on in pieces, each after the first marked `+` (treerun(1), Streams).
constexpr std::size_t kMaxLogLine = 1024 * 1024;
/// What the control socket replays from memory (contract 6.2): per node, its last lines
/// as the log stream shows them; the event log from the start. Past a bound the oldest go.
constexpr std::size_t kLogHistoryLines = 1000;
constexpr std::size_t kLogHistoryBytes = 1 << 20;
constexpr std::size_t kEventHistoryBytes = 16 << 20;

class Supervisor;
/// The cell of the table (table.cpp) for a group or a process node: never null.
using TableAction = void (Supervisor::*)(NodeId);
TableAction table_cell(bool group, State s, Event e);

class Supervisor final : public ProbeHost, public control::Target {
 public:
  /// PLAN is kept as the plan in force (moved in: a caller that keeps no copy pays for one).
  Supervisor(Plan plan, const RunOptions& options, boost::asio::io_context& io, Launcher& launcher);
  ~Supervisor();
  RunResult run();

  // ProbeHost: what probes may ask.
  boost::asio::io_context& io() override { return io_; }
  void probe_passed(NodeId id) override;
  void probe_failed(NodeId id, std::string why) override;
  void note(NodeId id, const std::function<std::string()>& text, bool verbose_only) override;
  long run_beside(NodeId id, const Command& cmd, std::function<void(ExitStatus)> on_exit, std::string& why) override;
  void stop_beside(long handle) override;
  void health_failed(NodeId id, std::string why) override;

  // control::Target (control.cpp): what the control socket may ask and do.
  control::RunStatus status() const override;
  std::vector<control::NodeStatus> ps() const override;
  std::string check_nodes(const std::vector<std::string>& paths) const override;
  void act(control::Verb verb, const std::vector<std::string>& paths, int sig, control::Peer peer,
           std::function<void(std::string error)> done) override;
  void reload(control::Peer peer, std::function<void(control::ReloadResult)> done) override;
  control::Subscription logs(const std::vector<std::string>& paths, std::size_t n, bool follow,
                             std::function<void(std::string_view node, std::string_view line, std::uint64_t seq)> line) override;
  control::Subscription events(bool follow, std::function<void(std::string_view json, std::uint64_t seq)> event) override;
  control::Subscription console(std::function<void(std::string_view text)> text) override;
  control::Subscription on_end(std::function<void(int code)> ended) override;

  /// For tests: the nodes as they stand.
  const Node& node(NodeId id) const { return nodes_[id]; }

  // ---- the table (table.cpp) ----
  using Action = void (Supervisor::*)(NodeId);
  /// Delivers E to ID: runs the table's cell for ID's state. The one way state changes.
  void on(NodeId id, Event e);
  // The cells' actions. Each is named for what it does; `nothing` is a decision that
  // nothing is to be done, `impossible` a broken invariant (aborts in debug builds).
  void nothing(NodeId id);
  void impossible(NodeId id);
  void start(NodeId id);
  void start_group(NodeId id);
  void spawn_now(NodeId id);
  void skip_lost(NodeId id);
  void skip_cancelled(NodeId id);
  void unqueue_cancelled(NodeId id);
  void become_ready(NodeId id);
  void fail_not_ready(NodeId id);
  void fail_timed_out(NodeId id);
  void fail_unhealthy(NodeId id);
  void leader_gone(NodeId id);
  void report_exit(NodeId id);
  void cancel_running(NodeId id);
  void cancel_after_exit(NodeId id);
  void cancel_group(NodeId id);
  void complete_group(NodeId id);
  void first_stop_step(NodeId id);
  void next_stop_step(NodeId id);
  void stop_leftovers(NodeId id);
  void kill_leftovers(NodeId id);
  void expire_leftovers(NodeId id);
  void force_kill(NodeId id);
  void finish(NodeId id);
  void drop_restart(NodeId id);
  void restart(NodeId id);
  void start_again(NodeId id);

 private:
  void set_state(NodeId id, State s) { nodes_[id].state = s; }
  void trace(NodeId id, State before, Event e);

  // evaluations that raise events (table.cpp)
  enum class StartCheck { not_yet, lost, go };
  StartCheck start_check(NodeId id);
  void consider_start(NodeId id);
  void start_batch();
  void consider_stop(NodeId id);
  void consider_stop_subtree(NodeId id);
  void consider_settled(NodeId id);
  void consider_workers_done(NodeId id);
  bool has_workers(NodeId id) const;
  bool held_by_control(NodeId id) const;
  /// EXITED: the dependent waits for DEP to have exited (`{NAME: exited}`).
  bool dependency_met(NodeId dep, bool exited = false) const;
  bool dependency_lost(NodeId dep, bool exited = false) const;
  bool group_ready(NodeId id) const;
  void skip(NodeId id, const std::string& reason, bool tell = true);
  bool reopen_streams(NodeId id);
  bool restart_still_allowed(NodeId id) const;
  void notify_finished(NodeId id);

  // start.cpp
  struct OutputEnds {  // this incarnation's output ends, closed once it is spawned
    UniqueFd out, err;
  };
  /// A spawn submitted to the launcher and not yet collected.
  struct Spawning {
    NodeId id;
    SpawnRequest req;
    OutputEnds ends;
    Launcher::Ticket ticket = 0;
    bool cancelled_before = false;  // the node was cancelled before this spawn began
  };
  void spawn(NodeId id);
  void collect_spawns();
  void collect_spawn(Spawning& s);
  void collect_spawns_after_error();
  void failed_in_round(const Spawning& s, std::string error);
  std::string wire_stdio(NodeId id, SpawnRequest& req, OutputEnds& ends);
  std::string wire_output(NodeId id, const OutputSpec& out, bool is_stderr, int& fd, OutputEnds& ends);
  void start_failed(NodeId id, std::string error);
  void drop_start(NodeId id);
  void spawned(NodeId id, const SpawnRequest& req, const SpawnResult& r);
  void arm_node_timeout(NodeId id);
  void open_log_pipe(NodeId id, int& child_fd, UniqueFd& keep, std::error_code& ec);
  std::string open_pty_output(NodeId id, SpawnRequest& req, OutputEnds& ends);
  void read_into_log(NodeId id, UniqueFd fd);
  /// A line of the node's output (or a piece of a long one, CONTINUED after the first):
  /// to the log stream, and to its `log:` probe.
  void output_line(NodeId id, std::string_view line, bool current = true, bool continued = false);
  void output_lines(NodeId id, std::string_view lines, bool current);
  void release_stream_ends(NodeId id);
  void open_terminal();
  void lend_terminal(NodeId id, SpawnRequest& req);
  void take_terminal_back(NodeId id);
  SpawnRequest request_for(NodeId id, const Command& cmd);

  // exit.cpp
  void on_leader_exit(NodeId id, ExitStatus status);
  void on_pipe_eof(NodeId id);
  void maybe_drained(NodeId id);
  bool refresh_group(NodeId id);
  void on_collected(bool stray);
  Outcome decide_outcome(const Node& n) const;
  void report_failure(NodeId id);

  // stop.cpp
  void cancel(NodeId id, Cancel c);
  void cancel(std::span<const NodeId> ids, Cancel c);
  void defer_stop_check(NodeId id);
  void cancel_subtree(NodeId id, bool dependents);
  bool waits_for_dependents(NodeId id) const;
  void run_step(NodeId id, bool leftovers);
  void stop_sent(NodeId id, bool leftovers);
  bool run_stop_command(NodeId id);
  void kill_group(NodeId id);
  void arm_grace(NodeId id, Millis wait);
  void disarm_grace(NodeId id);
  bool grace_due(Deadlines::Key key);

  // failure.cpp
  /// BY: the node whose failure this is, at the bottom (empty: this node itself).
  void node_failed(NodeId id, int code, std::string reason, std::string by = "");
  void propagate_failure(NodeId id, int code, const std::string& by);
  bool may_restart(NodeId id);
  /// `on_failure: continue`: the failure is recorded, its groups carry on, and it
  /// decides the exit code unless an earlier failure did.
  void carry_on(NodeId id, int code);
  /// Whether DEP's failure was one that let its group carry on (`continue`).
  bool kept_going(NodeId dep) const;
  void schedule_restart(NodeId id);

  // shutdown.cpp
  void on_signal(int sig);
  std::string how_to_force(int sig) const;
  void force_all();
  void arm_progress();
  void report_progress();
  void sweep_strays();
  void continue_sweep();
  void arm_run_timeout();

  // streams.cpp
  void open_streams(std::optional<NodeId> within = std::nullopt);
  void name_pipe_holders(NodeId id);
  bool stream_within(const StreamWiring& s, NodeId top) const;
  std::string describe(const StreamWiring& s) const;
  std::vector<LineRelay::Target> relay_targets(const StreamWiring& s, std::vector<std::shared_ptr<StreamSink>>& sinks);
  std::unique_ptr<LogCopy> log_copy(const StreamWiring& s);

  // outputs.cpp
  void open_outputs();
  std::shared_ptr<Outlet> open_own_file(const std::string& path, bool append, const char* name,
                                        const char* what);
  std::vector<Outlet*> outlets() const;
  std::string describe(const Outlet& o) const;
  void output_failed(const Outlet& o, const std::string& why);
  bool may_hold_back(NodeId id) const;
  std::function<bool(const std::function<void()>&)> hold_back(NodeId id);
  std::function<std::size_t(const std::function<void()>&)> read_budget(NodeId id);
  void finish_outputs(int code, double duration);
  void drain(const std::vector<Outlet*>& outlets, Clock::time_point deadline);

  // summary.cpp
  void print_summary(int code, double duration);
  std::string summary_table() const;
  std::string summary_failures() const;

  // control.cpp
  std::optional<NodeId> find_node(std::string_view path) const;
  control::NodeStatus node_status(const Node& n) const;
  /// ID and every node inside it, parents before children.
  std::vector<NodeId> subtree(NodeId id) const;

  // control_act.cpp
  /// An acting command under way: DONE is called once it has taken effect.
  struct ControlAction {
    control::Verb verb;
    std::vector<NodeId> nodes;   // as named, none inside another
    std::vector<NodeId> starts;  // where its start goes (what_to_start)
    bool starting = false;  // the start (of `start`, or `restart` once stopped) is sent
    std::function<void(std::string error)> done;
    std::string cause = "control";  // of the `restart` events: control, watch, reload
    std::string path;               // watch: the first changed path
  };
  void tell_control(control::Verb verb, const std::vector<NodeId>& ids, int sig, control::Peer peer);
  std::vector<NodeId> what_to_start(const std::vector<NodeId>& ids) const;
  std::string refusal(control::Verb verb, const std::vector<NodeId>& ids, const std::vector<NodeId>& starts,
                      int sig) const;
  std::string start_refusal(const std::vector<NodeId>& ids, bool again) const;
  std::string stream_refusal(NodeId id) const;
  std::string dependency_refusal(NodeId id, const std::vector<NodeId>& ids) const;
  void stop_for_control(const std::vector<NodeId>& ids, Hold hold);
  std::string send_signal(const std::vector<NodeId>& ids, int sig);
  void down(control::Peer peer);
  std::optional<std::string> progress(ControlAction& action);
  std::optional<std::string> start_outcome(NodeId id) const;
  /// After a change of state: pending actions and on_up are looked at in a later turn,
  /// once the cascade of events it set off is over.
  void after_change();
  void check_controls();
  void keep_stopped(const std::vector<NodeId>& ids);
  void end_controls();

  // watch.cpp
  void open_watches();
  void hold_for_watches();
  bool held_for_watches(NodeId id) const;
  void on_watch_change(NodeId id, const std::string& path);
  std::vector<NodeId> with_dependents(NodeId id) const;
  bool busy(NodeId id) const;
  void consider_watch_pending();
  /// Restarts IDS as the control socket's `restart` does (stop, then start with their
  /// probes), their `restart` events saying CAUSE and PATH; DONE as for act(). The
  /// reason it cannot be done, or "".
  std::string restart_nodes(std::vector<NodeId> ids, std::string cause, std::string path,
                            std::function<void(std::string error)> done);

  // reload.cpp
  struct PendingReload {
    control::Peer peer;
    std::function<void(control::ReloadResult)> done;
  };
  void consider_reload();
  struct ReloadJob {
    PendingReload request;
    control::ReloadResult result;
    std::shared_ptr<PlanMerge> merge;
    std::shared_ptr<Plan> fresh;
    OwnSettings fresh_settings;  // fresh's, for the next reload's diff
    int waiting = 0;  // its restart and its start, while under way
  };
  void begin_reload(PendingReload request);
  void reload_stopped(const std::string& error);
  void reload_part_done(const std::string& error);
  void end_reload(const std::string& error);
  std::string reload_refusal(const PlanMerge& m) const;
  std::vector<NodeId> reload_restarts(const std::vector<NodeId>& changed) const;
  void apply_merge(PlanMerge& m, Plan fresh);
  void rewatch(const std::vector<NodeId>& ids);

  // control_feeds.cpp
  void open_feeds();
  void on_log_line(int source, std::string_view line, bool note);
  void to_console(std::string_view text);
  /// Writes the events and log lines of this burst now, before a client is answered.
  void flush_outputs_now();
  bool tree_up() const;
  void consider_up();
  void end_feeds(int code);

  void verbose(NodeId id, const std::function<std::string()>& text) { note(id, text, true); }

  Plan running_plan_;  // the plan in force: the one given, then each reload's merge
  LeftToExit<Plan> plan_left_{running_plan_};
  const Plan& plan_;   // = running_plan_
  RunOptions options_;
  boost::asio::io_context& io_;
  Launcher& launcher_;
  Clock::time_point start_ = Clock::now();
  std::shared_ptr<Outlet> stdout_, stderr_;  // one outlet when they are the same file
  std::shared_ptr<Outlet> logs_file_;         // --logs PATH
  EventLog events_{start_};
  std::unique_ptr<LogStream> log_;
  /// For LogStream::lines: a line that is srun's word, not the node's, is output_line's.
  std::function<bool(std::string_view)> not_backend_line_ = [this](std::string_view line) {
    return !launcher_.backend_line(line);
  };
  boost::asio::signal_set signals_;
  boost::asio::steady_timer run_timer_;
  boost::asio::steady_timer progress_timer_;
  boost::asio::steady_timer sweep_timer_;
  /// Every node's stop-step wait on one timer (arm_grace); a key is (node << 32 | token).
  Deadlines graces_{io_, [this](Deadlines::Key key) { return grace_due(key); }};
  std::uint32_t grace_tokens_ = 0;
  std::vector<Node> nodes_;
  LeftToExit<std::vector<Node>> nodes_left_{nodes_};
  std::vector<std::string> base_env_;  // treerun's environment, minus what we set
  std::string run_id_;
  int signalled_ = 0;  // the first SIGINT/SIGTERM/SIGHUP
  int sigints_ = 0;    // SIGINTs so far: the second forces
  bool forced_ = false;
  bool run_finished_ = false;
  bool sweeping_ = false;
  bool strays_killed_ = false;
  bool outputs_abandoned_ = false;  // a signal during the last drain: drop what is left
  std::optional<int> first_code_;  // the first failure's (or timeout's) exit code
  std::optional<Cancel> cancel_;   // the payload of the cancel being delivered
  std::string reason_;             // the payload of probe_failed
  std::string note_text_;          // a note of each node's stop and exit, made in place
  bool marking_ = false;           // a cancel is marking: stop checks wait for it
  std::vector<NodeId> stop_checks_;  // stops to consider in the next turn
  /// While those are considered: the stops signalled whose event, note and grace come
  /// after every signal of the batch has gone (null: at once).
  std::vector<std::pair<NodeId, bool>>* stops_sent_ = nullptr;
  bool none_exited_ = false;  // during that batch: no child had exited at its start
  unsigned generations_ = 0;       // incarnations spawned so far
  // A batch of starts submits every spawn before it collects the first, so that the
  // launcher starts one process while this prepares the next (start_batch).
  bool batching_ = false;
  std::deque<Spawning> spawning_;
  std::deque<NodeId> start_queue_; // processes whose start is due, oldest first
  std::vector<std::shared_ptr<Carrier>> carriers_;
  std::unique_ptr<TerminalLock> terminal_;  // only when some node has `tty: true`
  std::vector<pid_t> strays_;      // escaped processes that came back to us, still alive
  std::vector<NodeId> lingering_;  // nodes whose leader is gone but not its whole group

  // The control socket's side (control_act.cpp, control_feeds.cpp).
  bool down_ = false;               // a `down` cancelled the run
  std::list<ControlAction> actions_;
  bool check_posted_ = false;
  bool up_told_ = false;
  std::vector<NodeId> source_node_;     // by log source; the log stream keeps their lines
  LineRing event_history_{SIZE_MAX, kEventHistoryBytes};
  std::string console_text_;
  Subscribers<std::size_t, std::string_view, std::uint64_t> log_followers_;  // (log source, line, seq)
  Subscribers<std::string_view, std::uint64_t> event_followers_;                // (event, seq)
  std::uint64_t events_seen_ = 0;
  Subscribers<std::string_view> console_followers_;
  Subscribers<int> end_followers_;
  std::optional<int> end_code_;

  // reload.cpp
  /// The spec as last read, with its own ids; none until a reload reads one that
  /// differs from plan_: until then it is plan_ itself (fresh_plan()), whose ids are its
  /// own (fresh_ids_ empty), not a second copy of every node.
  std::optional<Plan> fresh_;
  std::vector<NodeId> fresh_ids_;  // by fresh_'s id: the id in plan_; empty: the same id
  const Plan& fresh_plan() const { return fresh_ ? *fresh_ : plan_; }
  std::optional<OwnSettings> fresh_settings_;  // fresh_'s (plan/diff.h), once a reload needed them
  /// The plan the last reload replaced, kept until the next one: nothing holds a
  /// PlanNode across a turn of the loop (callbacks, probes and readers keep NodeIds and
  /// copies), this only keeps what a frame below the merge still reads valid.
  Plan retired_;
  std::deque<PendingReload> reloads_;  // asked, not begun: one at a time, in order
  std::optional<ReloadJob> job_;  // the reload under way

  // watch.cpp
  std::unique_ptr<Watcher> watcher_;  // only when some node has `watch`
  /// Some node has `watch`: the run waits for changes when its workers are done.
  bool watching_ = false;
  std::vector<bool> held_for_watches_;  // by node: a group that waits for changes
};

}  // namespace treerun
