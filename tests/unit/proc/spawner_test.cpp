// The spawner's requests in flight: what a lost spawner had answered is kept, the one it
// may have had in hand fails, the ones it never took are the caller's to start.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch.hpp>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "proc/spawner.h"

using namespace treerun;

namespace {

std::vector<pid_t> children_named(const std::string& comm) {
  std::vector<pid_t> out;
  std::ifstream in("/proc/self/task/" + std::to_string(::getpid()) + "/children");
  pid_t pid;
  while (in >> pid) {
    std::ifstream c("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    std::getline(c, name);
    if (name == comm) out.push_back(pid);
  }
  return out;
}

char state_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), {});
  auto at = all.rfind(')');
  return at == std::string::npos || at + 2 >= all.size() ? '?' : all[at + 2];
}

/// Polls a fact of another process (its state in /proc), which no event of ours tells.
template <typename F>
bool wait_until(F f) {
  for (int i = 0; i < 1000; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

ChildSpec sleeper(int null) {
  ChildSpec spec;
  spec.candidates = {"/bin/sleep"};
  spec.argv = {"sleep", "30"};
  spec.fds[0] = spec.fds[1] = spec.fds[2] = null;
  return spec;
}

void end_all(const std::vector<pid_t>& pids) {
  for (pid_t p : pids) {
    ::kill(p, SIGKILL);
    ::waitpid(p, nullptr, 0);
  }
}

}  // namespace

TEST_CASE("spawner: lost mid-round, its written answers are kept and a request it never took is the caller's",
          "[proc][spawner]") {
  Spawner spawner({});
  REQUIRE(spawner.pid() > 0);
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  auto t0 = spawner.send(sleeper(null));
  auto t1 = spawner.send(sleeper(null));
  REQUIRE(t0);
  REQUIRE(t1);
  pid_t sp = spawner.pid();
  // Both made (our children: CLONE_PARENT) and answered: it waits for the next request.
  REQUIRE(wait_until([sp] { return children_named("sleep").size() == 2 && state_of(sp) == 'S'; }));
  ::kill(sp, SIGKILL);
  REQUIRE(wait_until([sp] { return state_of(sp) == 'Z'; }));
  CHECK_FALSE(spawner.send(sleeper(null)));  // EPIPE: lost; not sent, so the caller's
  std::optional<ChildStarted> a = spawner.receive(*t0);
  std::optional<ChildStarted> b = spawner.receive(*t1);
  std::vector<pid_t> running = children_named("sleep");
  CHECK(running.size() == 2);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->pid > 0);  // not EIO: the caller watches both processes
  CHECK(b->pid > 0);
  end_all(running);
  ::close(null);
}

TEST_CASE("spawner: stopped with requests in flight, it fails the one in its hands and gives back the rest",
          "[proc][spawner]") {
  Spawner spawner({});
  REQUIRE(spawner.pid() > 0);
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  pid_t sp = spawner.pid();
  ::kill(sp, SIGSTOP);
  REQUIRE(wait_until([sp] { return state_of(sp) == 'T'; }));
  auto t0 = spawner.send(sleeper(null));
  auto t1 = spawner.send(sleeper(null));
  auto t2 = spawner.send(sleeper(null));
  REQUIRE(t0);
  REQUIRE(t1);
  REQUIRE(t2);
  auto start = std::chrono::steady_clock::now();
  std::optional<ChildStarted> a = spawner.receive(*t0);  // no answer within its limit
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));
  REQUIRE(a);
  CHECK(a->pid < 0);
  CHECK(a->clone_errno == EIO);  // in its hands: perhaps made, never made again
  CHECK_FALSE(spawner.receive(*t1));  // never taken: the caller starts them elsewhere
  CHECK_FALSE(spawner.receive(*t2));
  CHECK(state_of(sp) != 'T');  // killed and reaped, stopped or not
  CHECK(children_named("sleep").empty());
  ::close(null);
}
