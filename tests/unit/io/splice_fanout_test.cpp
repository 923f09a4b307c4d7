// SpliceFanout on real pipes and a real loop, driven from this one thread: the producer
// writes without blocking, the loop runs, the consumers read what has arrived.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <catch.hpp>
#include <string>
#include <vector>

#include "io/splice_fanout.h"

using namespace treerun;

namespace {

struct Rig {
  boost::asio::io_context io;
  UniqueFd producer;                    // the producer's write end
  std::vector<UniqueFd> consumers;      // each consumer's read end
  std::vector<std::string> received;
  std::vector<std::string> logged;
  std::shared_ptr<SpliceFanout> fanout;

  Rig(int n, std::size_t buffer, bool with_log) {
    ::signal(SIGPIPE, SIG_IGN);
    std::error_code ec;
    Pipe in = make_pipe(ec);
    REQUIRE_FALSE(ec);
    std::vector<SpliceFanout::Consumer> ends;
    for (int i = 0; i < n; ++i) {
      Pipe c = make_pipe(ec);
      REQUIRE_FALSE(ec);
      set_nonblocking(c.read.get());
      consumers.push_back(std::move(c.read));
      ends.push_back({std::move(c.write), buffer});
    }
    received.resize(static_cast<std::size_t>(n));
    std::unique_ptr<LogCopy> log;
    if (with_log)
      log = std::make_unique<LogCopy>(
          LogCopy{LineCutter(1 << 16, [this](std::string_view l, bool) { logged.emplace_back(l); }), [] {}});
    set_nonblocking(in.write.get());
    producer = std::move(in.write);
    fanout = std::make_shared<SpliceFanout>(io, std::move(in.read), std::move(ends), std::move(log));
    fanout->start();
  }

  /// Runs the loop and reads every open consumer until nothing moves.
  void settle() {
    for (bool moved = true; moved;) {
      moved = io.poll() > 0;
      for (std::size_t i = 0; i < consumers.size(); ++i) {
        if (!consumers[i]) continue;
        char buf[65536];
        ssize_t r;
        while ((r = ::read(consumers[i].get(), buf, sizeof buf)) > 0) {
          received[i].append(buf, static_cast<std::size_t>(r));
          moved = true;
        }
      }
    }
  }

  /// Writes all of DATA, letting the loop and the consumers make room as needed.
  void write_all(std::string_view data) {
    while (!data.empty()) {
      ssize_t r = ::write(producer.get(), data.data(), data.size());
      if (r > 0) data.remove_prefix(static_cast<std::size_t>(r));
      else settle();
    }
  }
};

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  unsigned x = 12345;
  for (auto& c : s) c = static_cast<char>((x = x * 1103515245 + 12345) >> 16);
  return s;
}

}  // namespace

TEST_CASE("every consumer of a spliced fan-out gets every byte, in order, and EOF", "[splice]") {
  std::size_t buffer = GENERATE(4096u, 1u << 20);
  Rig rig(3, buffer, false);
  std::string data = pattern(3 << 20);
  rig.write_all(data);
  rig.producer.reset();
  rig.settle();
  for (const auto& got : rig.received) CHECK(got == data);
  CHECK(rig.fanout->done());
  for (auto& c : rig.consumers) {
    char b;
    CHECK(::read(c.get(), &b, 1) == 0);  // EOF after the last byte
  }
}

TEST_CASE("a consumer that leaves does not stop the others; when all leave the producer gets EPIPE", "[splice]") {
  Rig rig(2, 1 << 16, false);
  std::string data = pattern(1 << 20);
  rig.write_all(data.substr(0, 1000));
  rig.settle();
  rig.consumers[0].reset();  // the first consumer exits
  rig.write_all(data.substr(1000));
  rig.settle();
  CHECK(rig.received[1] == data);
  rig.consumers[1].reset();
  rig.write_all("more\n");  // noticed by the splice that follows
  rig.settle();
  CHECK(::write(rig.producer.get(), "x", 1) == -1);
  CHECK(errno == EPIPE);
}

TEST_CASE("bytes drained past a full consumer stay ahead of what comes after", "[splice]") {
  // drain() at the producer's exit holds bytes for a consumer whose pipe is full; a
  // descendant (or the restarted producer) writing on must not overtake them.
  Rig rig(1, 1 << 16, true);
  rig.settle();  // the input wait is armed, every stage empty
  std::string fill(64 * 1024, 'x');
  ::fcntl(rig.consumers[0].get(), F_SETPIPE_SZ, 64 * 1024);
  {
    // Fill the consumer's pipe from outside the fan-out, so it has no room.
    int w = ::open(("/proc/self/fd/" + std::to_string(rig.consumers[0].get())).c_str(), O_WRONLY | O_NONBLOCK);
    REQUIRE(w >= 0);
    while (::write(w, fill.data(), fill.size()) > 0) {
    }
    ::close(w);
  }
  CHECK(::write(rig.producer.get(), "OLD1\n", 5) == 5);
  rig.fanout->drain();
  CHECK(rig.logged == std::vector<std::string>{"OLD1"});
  CHECK(::write(rig.producer.get(), "NEW2\n", 5) == 5);
  rig.settle();
  std::string got = rig.received[0];
  got.erase(0, got.find_first_not_of('x'));
  CHECK(got == "OLD1\nNEW2\n");
}

TEST_CASE("the log copy's unfinished line is logged at the producer's exit, and its tail starts afresh", "[splice]") {
  Rig rig(1, 1 << 16, true);
  rig.write_all("first\nno-newline");
  rig.settle();
  CHECK(rig.logged == std::vector<std::string>{"first"});
  rig.fanout->drain();
  CHECK(rig.fanout->take_exit_tail() == "first\nno-newline");
  CHECK(rig.logged == std::vector<std::string>{"first", "no-newline"});
  rig.write_all("second\n");  // the restarted producer
  rig.settle();
  CHECK(rig.fanout->take_exit_tail() == "second\n");
  CHECK(rig.received[0] == "first\nno-newlinesecond\n");  // the consumer's bytes are untouched
}
