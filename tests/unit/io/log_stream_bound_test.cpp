// The log stream's bound against a read's lines: a file, which takes all that is flushed, loses none.
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "io/log_stream.h"

using namespace treerun;

namespace {

struct LogFile {
  boost::asio::io_context io;
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("log-stream-review-" + std::to_string(::getpid()) + ".log");
  std::shared_ptr<Outlet> out;
  LogFile() {
    std::filesystem::remove(path);
    std::error_code ec;
    out = Outlet::open(io, path.string(), true, "logs", ec);
    REQUIRE_FALSE(ec);
  }
  ~LogFile() { std::filesystem::remove(path); }
  std::size_t lines_written() {
    std::ifstream in(path);
    std::size_t n = 0;
    for (std::string l; std::getline(in, l);) ++n;
    return n;
  }
};

}  // namespace

// One read of a busy pipe (256 KiB) of empty lines: with a long name (or --timestamps)
// the lines with their heads are more than the outlet's bound. To a regular file, which
// takes everything at once, line() by line never drops: lines() must not either.
TEST_CASE("log stream: a read whose lines with heads exceed the outlet's bound is not dropped on a file",
          "[io][log]") {
  LogFile f;
  LogStream::Options o;
  o.out = f.out;
  o.history_lines = 10;
  o.history_bytes = 1 << 20;
  LogStream log(o);
  int a = log.add_source("a-fairly-long-node-name");
  const std::string read(256 * 1024, '\n');  // one read's worth
  CHECK(log.lines(a, read) == read.size());
  log.flush();
  CHECK(f.out->dropped() == 0);
  CHECK(f.lines_written() == read.size());
}

TEST_CASE("log stream: the same lines one by one (line()) are not dropped on a file", "[io][log]") {
  LogFile f;
  LogStream::Options o;
  o.out = f.out;
  LogStream log(o);
  int a = log.add_source("a-fairly-long-node-name");
  for (int i = 0; i < 256 * 1024; ++i) log.line(a, "");
  log.flush();
  CHECK(f.out->dropped() == 0);
  CHECK(f.lines_written() == 256u * 1024);
}
