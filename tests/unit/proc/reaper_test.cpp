// One look at every child: a zombie is seen, and not collected by the look.
#include <sys/wait.h>
#include <unistd.h>

#include <catch.hpp>

#include "proc/reaper.h"

using namespace treerun;

TEST_CASE("some_child_exited sees a zombie without collecting it", "[proc]") {
  CHECK_FALSE(some_child_exited());  // no child of the test has exited uncollected
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(3);
  REQUIRE(pid > 0);
  siginfo_t info{};
  REQUIRE(::waitid(P_PID, pid, &info, WEXITED | WNOWAIT) == 0);  // it is a zombie now
  CHECK(some_child_exited());
  CHECK(some_child_exited());  // still there: the look did not collect it
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WEXITSTATUS(status) == 3);
  CHECK_FALSE(some_child_exited());
}

TEST_CASE("some_child_exited with a live child", "[proc]") {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    char c;
    ::close(p[1]);
    while (::read(p[0], &c, 1) < 0) {
    }
    ::_exit(0);
  }
  ::close(p[0]);
  CHECK_FALSE(some_child_exited());
  ::close(p[1]);  // it exits
  REQUIRE(::waitpid(pid, nullptr, 0) == pid);
}
