// A whole run on a real loop with fake processes: a Plan from YAML text, an io_context,
// a FakeLauncher and the Supervisor, made the way run_plan makes them.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "../spec_fixture.h"
#include "fake_launcher.h"
#include "run/supervisor.h"

namespace treerun::test {

struct RunRig {
  TempDir dir;
  Plan plan;
  boost::asio::io_context io;
  FakeLauncher launcher{io};
  std::unique_ptr<Supervisor> supervisor;
  std::string events_path;
  RunResult result;
  std::function<void()> on_up;  // RunOptions::on_up
  bool quiet = true;
  std::string logs_path;  // the log stream's file (--logs); none when empty

  /// Loads YAML (as spec.yaml in a temp folder); with EVENTS, the run writes its event
  /// log there.
  explicit RunRig(const std::string& yaml, bool events = false) {
    LoadResult r = load(yaml, dir.path());
    INFO(problems(r));
    REQUIRE(r.ok());
    plan = std::move(*r.plan);
    if (events) events_path = dir / "events.jsonl";
  }

  RunOptions options() const {
    RunOptions o;
    o.logs.type = logs_path.empty() ? LogTarget::Type::none : LogTarget::Type::file;
    o.logs.path = logs_path;
    o.quiet = true;
    o.events_path = events_path;
    o.quiet = quiet;
    o.on_up = on_up;
    return o;
  }

  /// The Supervisor, made on first use: a test may subscribe to it before the run.
  Supervisor& sup() {
    if (!supervisor) supervisor = std::make_unique<Supervisor>(plan, options(), io, launcher);
    return *supervisor;
  }

  /// Makes the Supervisor (if a test has not already) and runs it to the end.
  RunResult run() {
    result = sup().run();
    return result;
  }

  NodeId id(const std::string& path) const {
    auto found = plan.find(path);
    INFO("no node " << path);
    REQUIRE(found.has_value());
    return *found;
  }
  const Node& node(const std::string& path) const { return supervisor->node(id(path)); }
  Outcome outcome(const std::string& path) const { return node(path).outcome; }

  /// The event log, one line per event without its time: `"event":"spawn","node":"x",...}`.
  std::vector<std::string> events() const {
    std::vector<std::string> out;
    std::ifstream in(events_path);
    static const std::regex time_field(R"(^\{"t":[0-9.]+,)");
    for (std::string line; std::getline(in, line);) out.push_back(std::regex_replace(line, time_field, ""));
    return out;
  }
  /// The index of the first event line containing every one of PARTS (-1: none).
  long event_index(std::initializer_list<std::string> parts) const {
    auto lines = events();
    for (std::size_t i = 0; i < lines.size(); ++i) {
      bool all = true;
      for (const auto& p : parts) all = all && lines[i].find(p) != std::string::npos;
      if (all) return static_cast<long>(i);
    }
    return -1;
  }
};

/// The journal entries, one per line, for failure messages.
inline std::string lines(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += "  " + s + "\n";
  return out;
}

/// The journal from ENTRY on (empty if ENTRY is absent): the part a rule orders, when
/// what came before it (the order of independent spawns) is no rule.
inline std::vector<std::string> from(const std::vector<std::string>& journal, const std::string& entry) {
  auto it = std::find(journal.begin(), journal.end(), entry);
  return {it, journal.end()};
}

/// Sorted, for sets of nodes whose order is no rule.
inline std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

/// Index of ENTRY in the journal (-1: absent).
inline long at(const std::vector<std::string>& journal, const std::string& entry) {
  for (std::size_t i = 0; i < journal.size(); ++i)
    if (journal[i] == entry) return static_cast<long>(i);
  return -1;
}

/// Stops the loop if the run has not ended by then: a run that hangs fails its test
/// instead of hanging the suite.
struct Watchdog {
  boost::asio::steady_timer timer;
  bool fired = false;
  Watchdog(boost::asio::io_context& io, std::chrono::milliseconds after) : timer(io, after) {
    timer.async_wait([this, &io](const boost::system::error_code& ec) {
      if (ec) return;
      fired = true;
      io.stop();
    });
  }
};

}  // namespace treerun::test
