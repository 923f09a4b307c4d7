// Log-stream producer: lines N ID  — writes N lines of exactly 80 bytes,
//   "p<ID> <seq, 9 digits> xxxx...x\n", in writes of 819 whole lines (65520 bytes),
// so a line is never split across two write()s and the producer is never the bottleneck.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: lines N ID\n");
    return 2;
  }
  long n = std::atol(argv[1]);
  const char* id = argv[2];
  constexpr int kLine = 80, kPerWrite = 819;
  static char buf[kLine * kPerWrite];
  long seq = 0;
  while (seq < n) {
    int k = 0;
    for (; k < kPerWrite && seq < n; ++k, ++seq) {
      char* l = buf + k * kLine;
      int h = std::snprintf(l, kLine, "p%s %09ld ", id, seq);
      std::memset(l + h, 'x', kLine - 1 - h);
      l[kLine - 1] = '\n';
    }
    const char* p = buf;
    size_t left = static_cast<size_t>(k) * kLine;
    while (left > 0) {
      ssize_t w = write(1, p, left);
      if (w < 0) {
        if (errno == EINTR) continue;
        return 1;
      }
      p += w;
      left -= static_cast<size_t>(w);
    }
  }
  return 0;
}
