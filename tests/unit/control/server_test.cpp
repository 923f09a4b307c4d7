// The control server on a TestTarget, with real clients over a real Unix socket: what
// each command does, and that no client (too many, too big, garbage, silent, half a
// message, never reading, another user) changes anything or slows the run.
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch.hpp>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "control/client.h"
#include "control/protocol.h"
#include "test_target.h"

using namespace treerun;
using namespace treerun::control;
using treerun::test::read_all;
using treerun::test::ServerLoop;
using json = nlohmann::ordered_json;

namespace {

/// Waits until COND (checked on the loop) holds; fails after 5 s. Test-side only.
template <typename F>
void eventually(ServerLoop& loop, F cond, const char* what) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!loop.on_loop(cond)) {
    if (std::chrono::steady_clock::now() > deadline) FAIL("never happened: " << what);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

Request nodes_request(Cmd cmd, std::vector<std::string> nodes) {
  Request r = request_for(cmd);
  r.nodes = std::move(nodes);
  return r;
}

/// A raw connection, for clients that do not speak the protocol.
UniqueFd raw_connect(const std::string& path) {
  int err = 0;
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  err = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  REQUIRE(err == 0);
  return fd;
}

/// Everything FD gives until EOF or an error (within 5 s).
std::string read_to_end(int fd) {
  std::string got;
  char buf[65536];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) break;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

/// Joins a test's helper thread however the test ends (a failed REQUIRE included).
struct JoinAtEnd {
  std::thread& thread;
  ~JoinAtEnd() {
    if (thread.joinable()) thread.join();
  }
};

json final_of(Client& client) {
  auto all = read_all(client);
  REQUIRE_FALSE(all.empty());
  REQUIRE(is_final(all.back()));
  return all.back();
}

}  // namespace

TEST_CASE("status and ps answer with one final reply", "[control][server]") {
  ServerLoop loop;
  auto st = loop.send(request_for(Cmd::status));
  json s = final_of(st);
  CHECK(s["ok"] == true);
  CHECK(s["run"]["pid"] == 4242);
  auto ps = loop.send(request_for(Cmd::ps));
  json p = final_of(ps);
  REQUIRE(p["nodes"].size() == 3);
  CHECK(p["nodes"][0]["path"] == "web");
  CHECK(p["nodes"][2]["outcome"] == "ok");
  eventually(loop, [&] { return loop.server->clients() == 0; }, "both clients gone");
}

TEST_CASE("an action is carried out for its peer, and answered once done", "[control][server]") {
  ServerLoop loop;
  auto c = loop.send(nodes_request(Cmd::stop, {"web", "/jobs"}));
  json r = final_of(c);
  CHECK(r == json::parse(R"({"v":1,"ok":true})"));
  auto acts = loop.on_loop([&] { return loop.target.acts; });
  REQUIRE(acts.size() == 1);
  CHECK(acts[0].verb == Verb::stop);
  CHECK(acts[0].paths == std::vector<std::string>{"web", "/jobs"});
  CHECK(acts[0].peer.uid == ::geteuid());
  CHECK(acts[0].peer.pid == ::getpid());

  Request sig = nodes_request(Cmd::signal, {"web"});
  sig.signal = SIGHUP;
  auto s = loop.send(sig);
  CHECK(final_of(s)["ok"] == true);
  CHECK(loop.on_loop([&] { return loop.target.acts.back().sig; }) == SIGHUP);

  loop.on_loop([&] { loop.target.act_answer = "web is not running"; });
  auto f = loop.send(nodes_request(Cmd::start, {"web"}));
  CHECK(final_of(f) == json::parse(R"({"v":1,"ok":false,"error":"web is not running"})"));
}

TEST_CASE("an action answers when it has taken effect, not before", "[control][server]") {
  ServerLoop loop;
  loop.on_loop([&] { loop.target.act_answer.reset(); });
  auto c = loop.send(nodes_request(Cmd::restart, {"web"}));
  eventually(loop, [&] { return bool(loop.target.pending_done); }, "the action started");
  std::string why;
  CHECK_FALSE(c.next(why, 100));  // nothing yet
  loop.on_loop([&] { loop.target.pending_done(""); });
  CHECK(final_of(c)["ok"] == true);
}

TEST_CASE("an unknown node is refused, and nothing is done", "[control][server]") {
  ServerLoop loop;
  auto c = loop.send(nodes_request(Cmd::stop, {"web", "nope"}));
  json r = final_of(c);
  CHECK(r["ok"] == false);
  CHECK(r["error"] == "no node `nope`");
  auto l = loop.send(nodes_request(Cmd::logs, {"nope"}));
  CHECK(final_of(l)["ok"] == false);
  CHECK(loop.on_loop([&] { return loop.target.acts.size() + loop.target.logs_asked.size(); }) == 0);
}

TEST_CASE("logs: the history of the nodes asked for, then the end", "[control][server]") {
  ServerLoop loop;
  Request r = nodes_request(Cmd::logs, {"web"});
  r.lines = 1;
  auto c = loop.send(r);
  auto all = read_all(c);
  REQUIRE(all.size() == 2);
  CHECK(all[0] == json::parse(R"({"v":1,"seq":2,"node":"web","line":"web | two"})"));
  CHECK(all[1] == json::parse(R"({"v":1,"ok":true})"));

  auto every = loop.send(request_for(Cmd::logs));
  CHECK(read_all(every).size() == 4);  // 3 lines of 2 nodes, and the end
}

TEST_CASE("logs -f and events -f: history, each new one, then the run's code", "[control][server]") {
  ServerLoop loop;
  Request lr = request_for(Cmd::logs);
  lr.follow = true;
  auto logs = loop.send(lr);
  Request er = request_for(Cmd::events);
  er.follow = true;
  auto events = loop.send(er);
  std::string why;
  for (int i = 0; i < 3; ++i) REQUIRE(logs.next(why, 5000));  // the history
  auto past = events.next(why, 5000);
  REQUIRE(past);
  CHECK((*past)["event"]["event"] == "spawn");
  CHECK(events.last_line().find(R"("event":{"t":0.001000,)") != std::string::npos);  // as written

  loop.on_loop([&] {
    loop.target.emit_line("web", "web | three");
    loop.target.emit_event(R"({"t":1.0,"event":"done","code":3,"duration":1.0})");
    loop.target.end(3);
  });
  auto all = read_all(logs);
  REQUIRE(all.size() == 2);
  CHECK(all[0]["line"] == "web | three");
  CHECK(all[1] == json::parse(R"({"v":1,"ok":true,"code":3})"));
  auto evs = read_all(events);
  REQUIRE(evs.size() == 2);
  CHECK(evs[0]["event"]["event"] == "done");
  CHECK(evs[1]["code"] == 3);
  eventually(loop, [&] { return loop.target.followers() == 0; }, "the subscriptions ended");
}

TEST_CASE("followers each get every line, numbered, and another run's line of that number is its own",
          "[control][server]") {
  // The line's message is made once for all followers (session.cpp); numbers start
  // again with each run, so a line of the same number must not be taken for it.
  for (const char* text : {"web | from the first run", "web | from the second run"}) {
    ServerLoop loop;
    Request lr = request_for(Cmd::logs);
    lr.follow = true;
    lr.lines = 0;
    auto a = loop.send(lr);
    auto b = loop.send(lr);
    eventually(loop, [&] { return loop.target.followers() == 2; }, "both follow");
    loop.on_loop([&] {
      loop.target.emit_line("web", text);
      loop.target.end(0);
    });
    for (auto* c : {&a, &b}) {
      auto all = read_all(*c);
      REQUIRE(all.size() == 2);
      CHECK(all[0]["line"] == text);
      CHECK(all[0]["seq"] == 1);
    }
  }
}

TEST_CASE("wait answers with the run's code when it ends", "[control][server]") {
  ServerLoop loop;
  auto c = loop.send(request_for(Cmd::wait));
  eventually(loop, [&] { return loop.server->waiting() == 1; }, "the wait is in");
  loop.on_loop([&] { loop.target.end(7); });
  CHECK(final_of(c) == json::parse(R"({"v":1,"ok":true,"code":7})"));
  CHECK_FALSE(std::filesystem::exists(loop.dir / "sock/t.sock"));  // the name is free at the end
}

TEST_CASE("down: the cancel, the console as it goes, then the run's code", "[control][server]") {
  ServerLoop loop;
  auto c = loop.send(request_for(Cmd::down));
  eventually(loop, [&] { return loop.target.acts.size() == 1; }, "the down was asked");
  CHECK(loop.on_loop([&] { return loop.target.acts[0].verb; }) == Verb::down);
  loop.on_loop([&] {
    loop.target.emit_console("treerun * stopping\n");
    loop.target.end(0);
  });
  auto all = read_all(c);
  REQUIRE(all.size() == 2);
  CHECK(all[0]["text"] == "treerun * stopping\n");
  CHECK(all[1] == json::parse(R"({"v":1,"ok":true,"code":0})"));
}

TEST_CASE("down that the run refuses says why", "[control][server]") {
  ServerLoop loop;
  loop.on_loop([&] { loop.target.act_answer = "not now"; });
  auto c = loop.send(request_for(Cmd::down));
  CHECK(final_of(c) == json::parse(R"({"v":1,"ok":false,"error":"not now"})"));
}

TEST_CASE("a client that hangs up ends its subscriptions", "[control][server]") {
  ServerLoop loop;
  Request r = request_for(Cmd::events);
  r.follow = true;
  {
    auto c = loop.send(r);
    std::string why;
    REQUIRE(c.next(why, 5000));
    CHECK(loop.on_loop([&] { return loop.target.followers(); }) == 1);
  }  // closed
  eventually(loop, [&] { return loop.target.followers() == 0 && loop.server->clients() == 0; }, "it was let go");
}

TEST_CASE("a client that half-closes after its request is still answered", "[control][server]") {
  ServerLoop loop;
  auto c = loop.send(request_for(Cmd::wait));
  eventually(loop, [&] { return loop.server->waiting() == 1; }, "the wait is in");
  // What `nc -N` and `socat` do once they have sent: no more requests, still reading.
  auto raw = raw_connect(loop.server_path());
  std::string req = request_line(request_for(Cmd::wait));
  REQUIRE(::write(raw.get(), req.data(), req.size()) == static_cast<ssize_t>(req.size()));
  REQUIRE(::shutdown(raw.get(), SHUT_WR) == 0);
  eventually(loop, [&] { return loop.server->waiting() == 2; }, "the second wait is in");
  loop.on_loop([&] { loop.target.end(4); });
  CHECK(read_to_end(raw.get()) == R"({"v":1,"ok":true,"code":4})"
                                  "\n");
  CHECK(final_of(c)["code"] == 4);
}

TEST_CASE("at most 64 clients; the 65th hears why and is closed", "[control][server]") {
  ServerLoop loop;
  std::vector<Client> held;
  for (std::size_t i = 0; i < kMaxClients; ++i) held.push_back(loop.send(request_for(Cmd::wait)));
  eventually(loop, [&] { return loop.server->waiting() == kMaxClients; }, "64 waits are in");
  auto extra = raw_connect(loop.server_path());
  CHECK(read_to_end(extra.get()) ==
        R"({"v":1,"ok":false,"error":"too many clients (64 at once): try again later"})"
        "\n");
  held.pop_back();  // one leaves: there is room again
  eventually(loop, [&] { return loop.server->clients() == kMaxClients - 1; }, "one left");
  auto now = loop.send(request_for(Cmd::status));
  CHECK(final_of(now)["ok"] == true);
  loop.on_loop([&] { loop.target.end(0); });
  for (auto& c : held) CHECK(final_of(c)["code"] == 0);
}

TEST_CASE("an oversized request, garbage, half a message: refused, nothing done", "[control][server]") {
  ServerLoop loop;
  {
    auto fd = raw_connect(loop.server_path());
    std::string big = R"({"v":1,"cmd":"stop","nodes":[")" + std::string(70 * 1024, 'a') + "\"]}\n";
    // The server refuses once it has 64 KiB: the rest may never be read.
    ::send(fd.get(), big.data(), big.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    std::string got = read_to_end(fd.get());
    CHECK(got.find(R"("error":"request too long: over 64 KiB")") != std::string::npos);
  }
  {
    auto fd = raw_connect(loop.server_path());
    std::string junk = "\x01\x02 not json \xff\n";
    REQUIRE(::write(fd.get(), junk.data(), junk.size()) > 0);
    CHECK(read_to_end(fd.get()).find(R"("ok":false,"error":"malformed request)") != std::string::npos);
  }
  {
    auto fd = raw_connect(loop.server_path());
    std::string half = R"({"v":1,"cmd":"stop","nod)";
    REQUIRE(::write(fd.get(), half.data(), half.size()) > 0);
  }  // and hangs up
  {
    auto fd = raw_connect(loop.server_path());  // and says nothing at all
  }
  eventually(loop, [&] { return loop.server->clients() == 0; }, "all four let go");
  CHECK(loop.on_loop([&] { return loop.target.acts.size(); }) == 0);
  auto ok = loop.send(request_for(Cmd::status));  // the server goes on serving
  CHECK(final_of(ok)["ok"] == true);
}

TEST_CASE("a client that sends no request in time is refused", "[control][server]") {
  ServerOptions options;
  options.request_timeout = std::chrono::milliseconds(100);
  ServerLoop loop(options);
  auto fd = raw_connect(loop.server_path());
  CHECK(read_to_end(fd.get()) == R"({"v":1,"ok":false,"error":"no request within 100ms"})"
                                 "\n");
}

namespace {

/// `logs -f` of new lines only: the request.
Request follow_new_lines() {
  Request r = request_for(Cmd::logs);
  r.follow = true;
  r.lines = 0;
  return r;
}

/// A raw connection that asked for follow_new_lines(), once the run follows for it.
UniqueFd raw_follower(ServerLoop& loop) {
  const std::size_t before = loop.on_loop([&] { return loop.target.followers(); });
  auto fd = raw_connect(loop.server_path());
  std::string req = request_line(follow_new_lines());
  REQUIRE(::write(fd.get(), req.data(), req.size()) > 0);
  eventually(loop, [&] { return loop.target.followers() == before + 1; }, "it follows");
  return fd;
}

}  // namespace

TEST_CASE("a client that never reads is cut off; the run never waits for it", "[control][server]") {
  ServerLoop loop;
  auto stalled = raw_follower(loop);
  auto reader = loop.send(follow_new_lines());
  eventually(loop, [&] { return loop.target.followers() == 2; }, "both follow");

  // 10 MiB of lines while one client reads nothing: each burst goes at once, and the
  // client that reads gets every line.
  std::string line(1000, 'x');
  std::atomic<std::size_t> got_lines{0};
  std::thread read_side([&] {
    std::string why;
    while (auto m = reader.next(why, 10000)) {
      if (is_final(*m)) break;
      ++got_lines;
    }
  });
  JoinAtEnd join{read_side};
  for (std::size_t burst = 1; burst <= 100; ++burst) {
    auto t0 = std::chrono::steady_clock::now();
    loop.on_loop([&] {
      for (int i = 0; i < 100; ++i) loop.target.emit_line("web", line);
    });
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
    // The reading client keeps up (it is not the one under test).
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (got_lines < burst * 100 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  eventually(loop, [&] { return loop.server->clients() == 1 && loop.target.followers() == 1; },
             "the stalled client was cut off");
  std::string got = read_to_end(stalled.get());
  CHECK(got.size() <= kMaxUnread + 4 * 1024 * 1024);  // the bound, plus what the kernel held
  CHECK(got.find(R"("ok")") == std::string::npos);   // no last reply: it was cut off
  loop.on_loop([&] { loop.target.end(0); });
  CHECK(got_lines == 10000);  // the reading client lost nothing
}

// The bound is 4 MiB queued in treerun, on top of what the client's socket holds (up to
// twice kSendBuffer). Counting the socket's bytes too cut off a `logs -f` that read at
// full speed whenever one turn made more than 4 MiB.
TEST_CASE("a stalled follower is cut off once kMaxUnread wait beyond its socket", "[control][server]") {
  ServerLoop loop;
  auto stalled = raw_follower(loop);
  std::string line(1000, 'x');
  std::size_t made = 0;  // bytes of lines sent to it (their messages are longer)
  for (int burst = 0; burst < 2000 && loop.clients() == 1; ++burst)
    loop.on_loop([&] {
      for (int i = 0; i < 10; ++i, made += line.size()) loop.target.emit_line("web", line);
    });
  REQUIRE(loop.clients() == 0);
  // Cut off with at most 4 MiB queued here and what its socket holds: bounded memory.
  CHECK(made <= kMaxUnread + 2 * static_cast<std::size_t>(kSendBuffer) + 64 * 1024);
  CHECK_FALSE(read_to_end(stalled.get()).empty());  // what its socket held is still there to read
}

TEST_CASE("a stalled follower with a full socket that hangs up is closed", "[control][server]") {
  ServerLoop loop;
  auto stalled = raw_follower(loop);
  std::string line(1000, 'x');
  loop.on_loop([&] {
    for (int i = 0; i < 3000; ++i) loop.target.emit_line("web", line);  // 3 MiB: the socket is full
  });
  REQUIRE(loop.clients() == 1);
  stalled.reset();
  eventually(loop, [&] { return loop.server->clients() == 0; }, "it is closed");
}

TEST_CASE("a burst of one turn over 4 MiB reaches a client that reads it as it comes", "[control][server]") {
  // A pipe's read of short lines is many times its size in messages, all made in one
  // turn of the loop: the bound is on what the client leaves unread, not on the burst.
  ServerLoop loop;
  auto fast = raw_follower(loop);
  std::atomic<std::size_t> got_bytes{0};
  std::string got;
  std::thread read_side([&] {
    char buf[1 << 16];
    for (ssize_t n; (n = ::read(fast.get(), buf, sizeof buf)) > 0;) {
      got.append(buf, static_cast<std::size_t>(n));
      got_bytes += static_cast<std::size_t>(n);
    }
  });
  JoinAtEnd join{read_side};

  const std::string line(1000, 'x');
  constexpr std::size_t kLines = 8000;  // ~8 MiB of messages
  loop.on_loop([&] {
    std::size_t made = 0;
    bool kept_up = true;
    for (std::size_t i = 1; i <= kLines; ++i) {
      loop.target.emit_line("web", line);
      made += line_message("web", line, i).size();
      // Every ~1 MiB, the client reads what was offered (all but the last kWriteAt):
      // it keeps up, as one on another core does. The turn goes on either way.
      if (i % 1000 != 0 || !kept_up) continue;
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (got_bytes + kWriteAt < made && (kept_up = std::chrono::steady_clock::now() < deadline))
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    loop.target.end(0);
  });
  read_side.join();
  std::size_t lines = 0;
  for (std::size_t at = 0; (at = got.find(R"("line")", at)) != std::string::npos; ++at) ++lines;
  CHECK(lines == kLines);  // every line: not cut off
  CHECK(got.ends_with(ok_reply(0)));
}

TEST_CASE("a history over 4 MiB keeps its newest part and says what it left out", "[control][server]") {
  ServerLoop loop;
  loop.on_loop([&] {
    auto& web = loop.target.history["web"];
    web.clear();
    for (int i = 0; i < 6000; ++i) web.push_back(std::to_string(i) + std::string(1000, '.'));
  });
  Request r = nodes_request(Cmd::logs, {"web"});
  r.lines = 6000;
  auto c = loop.send(r);
  auto all = read_all(c, 10000);
  REQUIRE(all.size() > 3);
  REQUIRE(all.front().contains("skipped"));
  std::size_t skipped = all.front()["skipped"];
  CHECK(skipped > 0);
  CHECK(all.size() - 2 + skipped == 6000);
  CHECK(all[all.size() - 2]["line"].get<std::string>().starts_with("5999."));
  CHECK(all.back()["ok"] == true);
}

TEST_CASE("finish: the last replies go out, then the socket is gone", "[control][server]") {
  ServerLoop loop;
  auto waiting = loop.send(request_for(Cmd::wait));
  auto silent = raw_connect(loop.server_path());  // no request yet
  eventually(loop, [&] { return loop.server->waiting() == 1 && loop.server->clients() == 2; }, "both in");
  std::string path = loop.server_path();
  loop.pause();
  std::thread finisher([&] {
    loop.server->finish(9, std::chrono::steady_clock::now() + std::chrono::seconds(2));
  });
  JoinAtEnd join{finisher};
  CHECK(final_of(waiting) == json::parse(R"({"v":1,"ok":true,"code":9})"));
  CHECK(read_to_end(silent.get()).find("the run has ended") != std::string::npos);
  finisher.join();
  CHECK(loop.server->clients() == 0);
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("another user's connection is closed unanswered, and said on stderr", "[control][server]") {
  std::error_code ec;
  Pipe notices = make_pipe(ec);
  REQUIRE_FALSE(ec);
  ServerOptions options;
  options.notices = notices.write.get();
  bool as_root = ::geteuid() == 0;
  // Not root: this process is the stranger, to a server that serves another uid.
  if (!as_root) options.owner = ::geteuid() + 1;
  ServerLoop loop(options);
  std::string path = loop.server_path();
  pid_t stranger = 0;
  std::string heard;
  if (as_root) {
    // A real other user: a child that becomes nobody, then connects. Its way in: the
    // folders searchable by all (not writable), the socket writable by all.
    for (auto p = std::filesystem::path(path).parent_path(); p != "/tmp" && p != "/"; p = p.parent_path())
      REQUIRE(::chmod(p.c_str(), 0711) == 0);
    REQUIRE(::chmod(path.c_str(), 0666) == 0);
    stranger = ::fork();
    REQUIRE(stranger >= 0);
    if (stranger == 0) {
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
      int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      std::strcpy(addr.sun_path, path.c_str());
      if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) ::_exit(4);
      const char req[] = "{\"v\":1,\"cmd\":\"ps\"}\n";
      // The server may have closed already: EPIPE, not a SIGPIPE that kills us.
      (void)!::send(fd, req, sizeof req - 1, MSG_NOSIGNAL);
      char buf[64];
      // EOF without a word (ECONNRESET: closed with our request unread, as Linux says it).
      ssize_t n = ::read(fd, buf, sizeof buf);
      ::_exit(n == 0 || (n < 0 && errno == ECONNRESET) ? 0 : 5);
    }
    int status = 0;
    REQUIRE(::waitpid(stranger, &status, 0) == stranger);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  } else {
    auto fd = raw_connect(path);
    std::string req = request_line(request_for(Cmd::ps));
    REQUIRE(::write(fd.get(), req.data(), req.size()) > 0);
    CHECK(read_to_end(fd.get()).empty());
    stranger = ::getpid();
  }
  pollfd p{notices.read.get(), POLLIN, 0};
  REQUIRE(::poll(&p, 1, 5000) == 1);
  char buf[512];
  ssize_t n = ::read(notices.read.get(), buf, sizeof buf);
  REQUIRE(n > 0);
  heard.assign(buf, static_cast<std::size_t>(n));
  std::string uid = as_root ? "65534" : std::to_string(::geteuid());
  CHECK(heard == "treerun: refused a control connection from uid " + uid + " (pid " + std::to_string(stranger) +
                     "): only uid " + std::to_string(options.owner) + " may use this run\n");
  CHECK(loop.on_loop([&] { return loop.server->clients(); }) == 0);
}
