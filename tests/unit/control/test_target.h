// A control::Target for the server's tests: a run reduced to what the socket may ask,
// whose lines, events, console text and end the test makes happen. It is no mock of
// the OS: the server under test talks to real clients over a real Unix socket, in a
// real Asio loop on a thread of its own (ServerLoop), and every call into this Target
// happens on that loop, as it would in treerun.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <catch.hpp>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "control/claim.h"
#include "control/client.h"
#include "control/server.h"
#include "control/target.h"
#include "spec_fixture.h"

namespace treerun::test {

class TestTarget : public control::Target {
 public:
  struct Act {
    control::Verb verb;
    std::vector<std::string> paths;
    int sig;
    control::Peer peer;
  };

  std::vector<control::NodeStatus> nodes{{"web", "daemon", "ready", 41, 2.5, 0, {}, {}, {}, {}},
                                         {"jobs", "group", "ready", {}, {}, 0, {}, {}, {}, {}},
                                         {"jobs/a", "worker", "exited", {}, {}, 1, 0, {}, std::string("ok"), {}}};
  /// What each node has logged so far (history).
  std::map<std::string, std::vector<std::string>> history{{"web", {"web | one", "web | two"}}, {"jobs/a", {"a | x"}}};
  std::vector<std::string> past_events{R"({"t":0.001000,"event":"spawn","node":"web","pid":41,"pgid":41})"};
  std::vector<Act> acts;
  /// Set: act() answers at once with it; unset: act() keeps DONE in `pending_done`.
  std::optional<std::string> act_answer = std::string();
  std::function<void(std::string)> pending_done;
  std::vector<std::string> logs_asked;  // the paths of each logs() call, joined

  control::RunStatus status() const override { return {"t", 4242, "/x/t.yaml", 3.0, 1}; }
  std::vector<control::NodeStatus> ps() const override { return nodes; }

  std::string check_nodes(const std::vector<std::string>& paths) const override {
    for (const auto& p : paths) {
      std::string_view path = p;
      if (path.starts_with('/')) path.remove_prefix(1);
      bool known = false;
      for (const auto& n : nodes) known = known || n.path == path;
      if (!known) return "no node `" + p + "`";
    }
    return "";
  }

  void act(control::Verb verb, const std::vector<std::string>& paths, int sig, control::Peer peer,
           std::function<void(std::string)> done) override {
    acts.push_back({verb, paths, sig, peer});
    if (act_answer) done(*act_answer);
    else pending_done = std::move(done);
  }

  control::Subscription logs(const std::vector<std::string>& paths, std::size_t n, bool follow,
                             std::function<void(std::string_view, std::string_view, std::uint64_t)> line) override {
    std::string asked;
    for (const auto& p : paths) asked += p + " ";
    logs_asked.push_back(asked);
    for (const auto& [node, lines] : history) {
      if (!paths.empty() && std::find(paths.begin(), paths.end(), node) == paths.end()) continue;
      std::size_t from = lines.size() > n ? lines.size() - n : 0;
      for (std::size_t i = from; i < lines.size(); ++i) line(node, lines[i], i + 1);
    }
    return follow ? subscribe(line_subs_, std::move(line)) : control::Subscription();
  }

  control::Subscription events(bool follow, std::function<void(std::string_view, std::uint64_t)> event) override {
    for (std::size_t i = 0; i < past_events.size(); ++i) event(past_events[i], i + 1);
    return follow ? subscribe(event_subs_, std::move(event)) : control::Subscription();
  }

  control::Subscription console(std::function<void(std::string_view)> text) override {
    return subscribe(console_subs_, std::move(text));
  }

  control::Subscription on_end(std::function<void(int)> ended) override {
    return subscribe(end_subs_, std::move(ended));
  }

  // ---- what the test makes happen (on the loop) ----
  void emit_line(const std::string& node, const std::string& line) {
    ++emitted_;
    for (auto& [id, f] : copy(line_subs_)) f(node, line, emitted_);
  }
  void emit_event(const std::string& json) {
    ++emitted_;
    for (auto& [id, f] : copy(event_subs_)) f(json, emitted_);
  }
  void emit_console(const std::string& text) {
    for (auto& [id, f] : copy(console_subs_)) f(text);
  }
  void end(int code) {
    for (auto& [id, f] : copy(end_subs_)) f(code);
  }
  std::size_t followers() const { return line_subs_.size() + event_subs_.size(); }

 private:
  template <typename F>
  using Subs = std::map<int, F>;

  template <typename F>
  control::Subscription subscribe(Subs<F>& subs, F f) {
    int id = next_id_++;
    subs.emplace(id, std::move(f));
    return control::Subscription([&subs, id] { subs.erase(id); });
  }
  /// Callbacks may end their subscription: iterate over a copy.
  template <typename F>
  static Subs<F> copy(const Subs<F>& subs) {
    return subs;
  }

  int next_id_ = 0;
  Subs<std::function<void(std::string_view, std::string_view, std::uint64_t)>> line_subs_;
  Subs<std::function<void(std::string_view, std::uint64_t)>> event_subs_;
  Subs<std::function<void(std::string_view)>> console_subs_;
  Subs<std::function<void(int)>> end_subs_;
  std::uint64_t emitted_ = 0;
};

/// A Server on a TestTarget, its loop on a thread of its own; the test is the client.
class ServerLoop {
 public:
  explicit ServerLoop(control::ServerOptions options = {}) {
    std::string why;
    auto claim = control::SocketClaim::claim(dir.path() + "/sock", "t", why);
    REQUIRE(claim);
    server = std::make_unique<control::Server>(io, target, std::move(*claim), options);
    thread_ = std::thread([this] { io.run(); });
  }
  ~ServerLoop() { stop(); }

  /// Runs F on the loop and returns what it returns.
  template <typename F>
  auto on_loop(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    boost::asio::post(io, [&task] { task(); });
    return result.get();
  }

  /// Stops the loop's thread (the server stays); finish() can then run the loop here.
  void stop() {
    if (!thread_.joinable()) return;
    if (server) on_loop([this] { server.reset(); });
    busy_.reset();
    io.stop();
    thread_.join();
  }

  /// Stops the thread but keeps the server, for a test that calls finish() itself.
  void pause() {
    busy_.reset();
    io.stop();
    thread_.join();
  }

  std::size_t clients() { return on_loop([this] { return server->clients(); }); }

  /// A request's client, connected and sent.
  control::Client send(const control::Request& r) {
    int err = 0;
    auto client = control::Client::connect(server_path(), err);
    REQUIRE(client.valid());
    std::string why;
    REQUIRE(client.send(r, why));
    return client;
  }

  std::string server_path() { return on_loop([this] { return server->path(); }); }

  TempDir dir;
  boost::asio::io_context io;
  TestTarget target;
  std::unique_ptr<control::Server> server;

 private:
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> busy_ = boost::asio::make_work_guard(io);
  std::thread thread_;
};

/// Every message up to and including the final one (or the end), with TIMEOUT_MS per read.
inline std::vector<nlohmann::ordered_json> read_all(control::Client& client, int timeout_ms = 5000) {
  std::vector<nlohmann::ordered_json> out;
  std::string why;
  while (auto m = client.next(why, timeout_ms)) {
    out.push_back(*m);
    if (control::is_final(*m)) break;
  }
  return out;
}

}  // namespace treerun::test
