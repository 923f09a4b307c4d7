// LineReader on real pipes: a busy pipe is grown and read several times per wake-up,
// a quiet one keeps the kernel's default, and no line is lost or cut either way.
#include <fcntl.h>
#include <unistd.h>

#include <catch.hpp>
#include <string>
#include <vector>

#include "base/fd.h"
#include "io/line_reader.h"

using namespace treerun;

namespace {

struct Reading {
  boost::asio::io_context io;
  Pipe pipe;
  std::vector<std::string> lines;
  int batches = 0;
  bool eof = false;
  int write_end = -1;

  Reading() {
    std::error_code ec;
    pipe = make_pipe(ec);
    REQUIRE_FALSE(ec);
    write_end = pipe.write.get();
    set_nonblocking(pipe.read.get());
    LineReader::Callbacks cb;
    cb.on_line = [this](std::string_view line, bool) { lines.emplace_back(line); };
    cb.after_batch = [this] { batches++; };
    cb.on_eof = [this] { eof = true; };
    auto reader = std::make_shared<LineReader>(io, std::move(pipe.read), 4096, std::move(cb));
    reader->start();
  }

  void write(const std::string& bytes) {
    REQUIRE(::write(write_end, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  }
  /// Runs the loop until every line written so far is read.
  void read_until(std::size_t count) {
    while (lines.size() < count) io.run_one();
  }
};

std::string numbered_lines(int from, int count) {
  std::string out;
  for (int i = from; i < from + count; ++i) {
    std::string line = "line " + std::to_string(i) + " ";
    line.resize(79, 'x');
    out += line + "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("LineReader grows a busy pipe and keeps every line whole", "[io][line_reader]") {
  Reading r;
  const int default_size = ::fcntl(r.write_end, F_GETPIPE_SZ);
  r.write(numbered_lines(0, 819));  // 65 520 bytes: one full read
  r.read_until(819);
  REQUIRE(::fcntl(r.write_end, F_GETPIPE_SZ) > default_size);  // else the next write would block
  // The grown pipe takes more than the default at once, and all of it comes out in order.
  r.write(numbered_lines(819, 4 * 819));
  r.read_until(5 * 819);
  REQUIRE(r.lines.size() == 5 * 819);
  for (int i = 0; i < 5 * 819; ++i) REQUIRE(r.lines[static_cast<std::size_t>(i)].rfind("line " + std::to_string(i) + " ", 0) == 0);
  CHECK(r.batches < 5 * 819);
  r.pipe.write.reset();
  while (!r.eof) r.io.run_one();
}

TEST_CASE("LineReader leaves a quiet pipe at the kernel's size", "[io][line_reader]") {
  Reading r;
  const int default_size = ::fcntl(r.write_end, F_GETPIPE_SZ);
  r.write("hello\n");
  r.read_until(1);
  CHECK(r.lines == std::vector<std::string>{"hello"});
  CHECK(::fcntl(r.write_end, F_GETPIPE_SZ) == default_size);
}
