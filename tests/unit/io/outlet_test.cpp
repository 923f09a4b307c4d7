// Outlet on real pipes, FIFOs and devices, with a real loop driven from this thread:
// nothing it does may block, nor change a description that others share.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <catch.hpp>
#include <filesystem>
#include <string>

#include "io/outlet.h"

using namespace treerun;

namespace {

struct Stalled {
  boost::asio::io_context io;
  // As treerun's loop, which always waits for a signal: the context never runs dry.
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> busy = boost::asio::make_work_guard(io);
  Pipe pipe;  // the read end is never read unless a test says so

  Stalled() {
    ::signal(SIGPIPE, SIG_IGN);
    std::error_code ec;
    pipe = make_pipe(ec);
    REQUIRE_FALSE(ec);
  }

  /// Reads what waits in the pipe now.
  std::string read_some() {
    set_nonblocking(pipe.read.get());
    std::string got;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(pipe.read.get(), buf, sizeof buf)) > 0) got.append(buf, static_cast<std::size_t>(n));
    return got;
  }
};

std::string line(std::size_t i) { return std::to_string(i) + std::string(90, 'x') + "\n"; }

std::filesystem::path temp_path(const char* name) {
  return std::filesystem::temp_directory_path() / (std::string(name) + "-" + std::to_string(::getpid()));
}

}  // namespace

TEST_CASE("an outlet never blocks on a pipe nobody reads, never grows past its bound, and counts what it drops",
          "[outlet]") {
  Stalled s;
  auto out = Outlet::inherited(s.io, s.pipe.write.get(), "stdout");
  std::size_t offered = 0;
  for (std::size_t i = 0; offered < 3 * kOutletLimit; ++i) {
    std::string l = line(i);
    out->write(l);
    offered += l.size();
    s.io.poll();
  }
  CHECK(out->pending() <= kOutletLimit);
  CHECK(out->dropped() > 0);
  CHECK(out->dropped() + out->pending() + 65536 >= offered);
  // The shared description (the shell's, the nodes') is as it was: blocking.
  CHECK_FALSE(::fcntl(s.pipe.write.get(), F_GETFL) & O_NONBLOCK);
}

TEST_CASE("a reader that keeps up gets every line whole and in order", "[outlet]") {
  Stalled s;
  auto out = Outlet::inherited(s.io, s.pipe.write.get(), "stdout");
  std::string want, got;
  for (std::size_t i = 0; i < 50000; ++i) {
    want += line(i);
    out->write(line(i));
    if (i % 1000 == 0) {
      s.io.poll();
      got += s.read_some();
    }
  }
  while (!out->idle()) {
    s.io.run_one_for(std::chrono::milliseconds(10));
    got += s.read_some();
  }
  got += s.read_some();
  CHECK(out->dropped() == 0);
  CHECK(got.size() == want.size());
  CHECK((got == want));  // (not stringified: megabytes)
}

TEST_CASE("a producer that can wait is told when there is room again", "[outlet]") {
  Stalled s;
  auto out = Outlet::inherited(s.io, s.pipe.write.get(), "stdout");
  for (std::size_t i = 0; !out->full(); ++i) out->write(line(i));
  bool resumed = false;
  out->when_room([&] { resumed = true; });
  s.io.poll();
  CHECK_FALSE(resumed);
  while (!resumed) {
    s.read_some();
    s.io.run_one_for(std::chrono::milliseconds(10));
  }
  CHECK(out->pending() <= kOutletLimit / 2);
}

TEST_CASE("a pipe whose reader left breaks the outlet quietly: EPIPE is no failure to report", "[outlet]") {
  Stalled s;
  auto out = Outlet::inherited(s.io, s.pipe.write.get(), "stdout");
  int reports = 0;
  out->on_failure([&](const std::string&) { ++reports; });
  s.pipe.read.reset();
  out->write("gone\n");
  out->write("again\n");
  s.io.poll();
  CHECK(out->broken());
  CHECK(out->dropped() == 11);
  CHECK(reports == 0);
}

TEST_CASE("a device that fails is reported once, and what it was given is counted", "[outlet]") {
  boost::asio::io_context io;
  std::error_code ec;
  auto out = Outlet::open(io, "/dev/full", false, "events", ec);
  REQUIRE_FALSE(ec);
  std::vector<std::string> reports;
  out->on_failure([&](const std::string& why) { reports.push_back(why); });
  out->write("one\n");
  out->write("two\n");
  io.poll();
  CHECK(reports.size() == 1);
  CHECK(out->dropped() == 8);
}

TEST_CASE("a FIFO with no reader opens at once, and a reader that comes later gets what was written",
          "[outlet]") {
  auto path = temp_path("treerun-outlet-fifo");
  std::filesystem::remove(path);
  REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
  boost::asio::io_context io;
  std::error_code ec;
  auto out = Outlet::open(io, path, false, "events", ec);  // would block in open() if it waited
  REQUIRE_FALSE(ec);
  out->write("early\n");
  UniqueFd reader(::open(path.c_str(), O_RDONLY | O_NONBLOCK));
  REQUIRE(reader);
  char buf[16] = {};
  CHECK(::read(reader.get(), buf, sizeof buf) == 6);
  CHECK(std::string(buf) == "early\n");
  std::filesystem::remove(path);
}

TEST_CASE("open_without_waiting gives a node's FIFO an fd that can be made blocking", "[outlet]") {
  auto path = temp_path("treerun-node-fifo");
  std::filesystem::remove(path);
  REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
  std::error_code ec;
  UniqueFd fd = open_without_waiting(path, false, ec);
  REQUIRE_FALSE(ec);
  CHECK(::fcntl(fd.get(), F_GETFL) & O_NONBLOCK);  // ours until cleared
  struct stat st {};
  REQUIRE(::fstat(fd.get(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
  std::filesystem::remove(path);
}
