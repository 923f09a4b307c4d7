// The bound on a client's unread replies (contract 6.1): 4 MiB queued in treerun, on top
// of what its socket holds (up to twice kSendBuffer). Counting the socket's bytes too cut
// off a `logs -f` that read at full speed whenever one turn made more than 4 MiB.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch.hpp>
#include <chrono>
#include <cstring>
#include <thread>

#include "control/client.h"
#include "control/protocol.h"
#include "test_target.h"

using namespace treerun;
using namespace treerun::control;
using treerun::test::ServerLoop;

namespace {
template <typename F>
bool soon(ServerLoop& loop, F cond, int ms = 5000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!loop.on_loop(cond)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}
UniqueFd follower(ServerLoop& loop) {
  const std::size_t before = loop.on_loop([&] { return loop.target.followers(); });
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, loop.server_path().c_str());
  REQUIRE(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  Request r = request_for(Cmd::logs);
  r.follow = true;
  r.lines = 0;
  std::string req = request_line(r);
  REQUIRE(::write(fd.get(), req.data(), req.size()) > 0);
  REQUIRE(soon(loop, [&] { return loop.target.followers() == before + 1; }));
  return fd;
}
std::size_t drain(int fd) {
  std::size_t got = 0;
  char buf[65536];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 2000) <= 0) break;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  return got;
}
}  // namespace


TEST_CASE("a stalled follower is cut off once kMaxUnread wait beyond its socket", "[control][server]") {
  ServerLoop loop;
  auto stalled = follower(loop);
  std::string line(1000, 'x');
  std::size_t made = 0;  // bytes of lines sent to it (their messages are longer)
  for (int burst = 0; burst < 2000 && loop.clients() == 1; ++burst)
    loop.on_loop([&] {
      for (int i = 0; i < 10; ++i, made += line.size()) loop.target.emit_line("web", line);
    });
  REQUIRE(loop.clients() == 0);
  // Cut off with at most 4 MiB queued here and what its socket holds: bounded memory.
  CHECK(made <= kMaxUnread + 2 * static_cast<std::size_t>(kSendBuffer) + 64 * 1024);
  CHECK(drain(stalled.get()) > 0);  // what its socket held is still there to read
}

TEST_CASE("a stalled follower with a full socket that hangs up is closed", "[control][server]") {
  ServerLoop loop;
  auto stalled = follower(loop);
  std::string line(1000, 'x');
  loop.on_loop([&] {
    for (int i = 0; i < 3000; ++i) loop.target.emit_line("web", line);  // 3 MiB: the socket is full
  });
  REQUIRE(loop.clients() == 1);
  stalled.reset();
  CHECK(soon(loop, [&] { return loop.server->clients() == 0; }));
}
