// Readiness-latency helper: stamp [--notify] [--exit]
// Prints "READY <CLOCK_MONOTONIC ns>" on stdout at once (the moment it started, i.e.
// just after exec), with --notify also sends READY=1 to $NOTIFY_SOCKET (sd_notify),
// then sleeps until killed (or exits 0 with --exit).
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  long long t = ts.tv_sec * 1000000000LL + ts.tv_nsec;
  bool notify = false, exit_ = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--notify")) notify = true;
    if (!std::strcmp(argv[i], "--exit")) exit_ = true;
  }
  char line[64];
  int len = std::snprintf(line, sizeof line, "READY %lld\n", t);
  if (write(1, line, len) != len) return 1;
  if (notify) {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (!path || !*path) return 3;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    size_t plen = std::strlen(path);
    if (plen >= sizeof addr.sun_path) return 3;
    std::memcpy(addr.sun_path, path, plen);
    if (path[0] == '@') addr.sun_path[0] = '\0';
    const char msg[] = "READY=1";
    if (sendto(fd, msg, sizeof msg - 1, 0, reinterpret_cast<sockaddr*>(&addr),
               static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + plen)) < 0)
      return 4;
    close(fd);
  }
  if (exit_) return 0;
  for (;;) pause();
}
