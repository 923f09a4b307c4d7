// One look at every child: a zombie is seen, and not collected by the look.
#include <sys/wait.h>
#include <unistd.h>

#include <catch.hpp>

#include "proc/reaper.h"

using namespace treerun;

TEST_CASE("uncollected_exit sees a zombie without collecting it", "[proc]") {
  CHECK_FALSE((uncollected_exit(P_ALL) != 0));  // no child of the test has exited uncollected
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(3);
  REQUIRE(pid > 0);
  siginfo_t info{};
  REQUIRE(::waitid(P_PID, pid, &info, WEXITED | WNOWAIT) == 0);  // it is a zombie now
  CHECK((uncollected_exit(P_ALL) != 0));
  CHECK((uncollected_exit(P_ALL) != 0));  // still there: the look did not collect it
  CHECK(uncollected_exit(P_PID, static_cast<id_t>(pid)) == pid);  // and by its pid
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WEXITSTATUS(status) == 3);
  CHECK_FALSE((uncollected_exit(P_ALL) != 0));
}

TEST_CASE("uncollected_exit with a live child", "[proc]") {
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
  CHECK_FALSE((uncollected_exit(P_ALL) != 0));
  ::close(p[1]);  // it exits
  REQUIRE(::waitpid(pid, nullptr, 0) == pid);
}
