// The log stream as written to an outlet (a real file): each line whole, prefixed as
// the contract says, and kept in the history exactly as written, whichever path made it.
#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <algorithm>
#include <catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "io/log_stream.h"

using namespace treerun;

namespace {

struct ToFile {
  boost::asio::io_context io;
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("log-stream-" + std::to_string(::getpid()) + ".log");
  std::shared_ptr<Outlet> out;

  ToFile() {
    std::filesystem::remove(path);
    std::error_code ec;
    out = Outlet::open(io, path.string(), true, "logs", ec);
    REQUIRE_FALSE(ec);
  }
  ~ToFile() { std::filesystem::remove(path); }

  std::string written() {
    std::ifstream in(path);
    std::stringstream all;
    all << in.rdbuf();
    return all.str();
  }
};

LogStream::Options options(const std::shared_ptr<Outlet>& out, std::size_t history_lines = 100) {
  LogStream::Options o;
  o.out = out;
  o.history_lines = history_lines;
  o.history_bytes = 1 << 20;
  return o;
}

}  // namespace

TEST_CASE("log stream to a file: each line prefixed, notes marked, the history as written", "[io][log]") {
  ToFile f;
  LogStream log(options(f.out));
  int web = log.add_source("web");
  int db = log.add_source("db-main");
  log.line(web, "GET /");
  log.line(db, "a long line", false);
  log.line(db, " goes on", true);
  log.note(web, "ready");
  log.line(web, "");
  log.flush();
  CHECK(f.written() ==
        "web     | GET /\n"
        "db-main | a long line\n"
        "db-main +  goes on\n"
        "web     * ready\n"
        "web     | \n");
  const LineRing& h = log.history(web);
  REQUIRE(h.size() == 3);
  CHECK(h.line(0) == "web     | GET /");
  CHECK(h.line(1) == "web     * ready");
  CHECK(h.line(2) == "web     | ");
  CHECK(log.history(db).line(1) == "db-main +  goes on");
}

TEST_CASE("log stream to a file: a source added later widens every prefix after it", "[io][log]") {
  ToFile f;
  LogStream log(options(f.out));
  int a = log.add_source("a");
  log.line(a, "1");
  int b = log.add_source("bbb");
  log.line(a, "2");
  log.line(b, "3");
  log.flush();
  CHECK(f.written() == "a | 1\na   | 2\nbbb | 3\n");
}

TEST_CASE("log stream to a file: many lines of several sources, each whole and in its order", "[io][log]") {
  ToFile f;
  LogStream log(options(f.out, 10));
  int a = log.add_source("a"), b = log.add_source("b");
  std::string expected;
  for (int i = 0; i < 20000; ++i) {  // past the outlet's flush size many times
    std::string text = std::to_string(i) + std::string(static_cast<std::size_t>(i % 97), 'x');
    log.line(i % 3 ? a : b, text);
    expected += (i % 3 ? "a | " : "b | ") + text + "\n";
  }
  log.flush();
  CHECK(f.written() == expected);
  const LineRing& h = log.history(a);
  REQUIRE(h.size() == 10);  // the last ten of a's, oldest first
  CHECK(h.line(9) == "a | 19999" + std::string(19999 % 97, 'x'));
  CHECK(h.seq(8) < h.seq(9));
}

TEST_CASE("log stream with timestamps: each line to the file has its time, the history the same", "[io][log]") {
  ToFile f;
  LogStream::Options o = options(f.out);
  o.timestamps = true;
  LogStream log(o);
  int a = log.add_source("a");
  log.line(a, "x");
  log.line(a, "y");
  log.flush();
  std::string all = f.written();
  // "HH:MM:SS.mmm a | x\n" twice
  REQUIRE(all.size() == 2 * 19);
  CHECK(all[2] == ':');
  CHECK(all[8] == '.');
  CHECK(all.substr(12, 7) == " a | x\n");
  CHECK(all.substr(19 + 12, 7) == " a | y\n");
  CHECK(log.history(a).line(0) == all.substr(0, 18));
  CHECK(log.history(a).line(1) == all.substr(19, 18));
}

TEST_CASE("log stream: a line the outlet drops (nobody reads) is dropped whole and still kept", "[io][log]") {
  boost::asio::io_context io;
  std::error_code ec;
  Pipe pipe = make_pipe(ec);  // its read end is never read
  REQUIRE_FALSE(ec);
  std::string path = "/proc/self/fd/" + std::to_string(pipe.write.get());
  auto out = Outlet::open(io, path, true, "logs", ec);
  REQUIRE_FALSE(ec);
  LogStream log(options(out, 3));
  int a = log.add_source("a");
  const std::string text(1000, 'x');
  int i = 0;
  for (; out->dropped() == 0; ++i) log.line(a, std::to_string(i) + text);
  CHECK(out->dropped() == 4 + std::to_string(i - 1).size() + text.size() + 1);  // the whole line
  CHECK(log.history(a).line(2) == "a | " + std::to_string(i - 1) + text);
  log.flush();
  CHECK(out->pending() <= kOutletLimit);
}

TEST_CASE("log stream: lines at once are written and kept as one by one; TAKE leaves the rest to the caller",
          "[io][log]") {
  ToFile f;
  LogStream log(options(f.out));
  int a = log.add_source("a");
  int bb = log.add_source("bb");
  CHECK(log.lines(a, "1\n\n3\n") == 5);
  auto not_srun = [](std::string_view line) { return !line.starts_with("srun: "); };
  std::string_view rest = "4\nsrun: error\n5\n";
  std::size_t taken = log.lines(bb, rest, not_srun);
  CHECK(rest.substr(taken) == "srun: error\n5\n");  // left to the caller, from the line not taken
  log.note(bb, "noted");
  log.flush();
  CHECK(f.written() == "a  | 1\na  | \na  | 3\nbb | 4\nbb * noted\n");
  const LineRing& h = log.history(a);
  REQUIRE(h.size() == 3);
  CHECK(h.line(1) == "a  | ");
  CHECK(h.seq(2) < log.history(bb).seq(0));
}

TEST_CASE("log stream: lines at once while held or with no outlet go the way each line goes", "[io][log]") {
  ToFile f;
  LogStream log(options(f.out));
  int a = log.add_source("a");
  log.hold(true);  // a node has the terminal
  log.lines(a, "1\n2\n");
  log.flush();
  CHECK(f.written().empty());
  log.hold(false);
  CHECK(f.written() == "a | 1\na | 2\n");

  LogStream nowhere(options(nullptr));
  int b = nowhere.add_source("b");
  CHECK(nowhere.lines(b, "x\ny\n") == 4);
  REQUIRE(nowhere.history(b).size() == 2);
  CHECK(nowhere.history(b).line(1) == "b | y");
}

TEST_CASE("log stream: a read of more lines than the history holds keeps the same last ones, numbered the same",
          "[io][log]") {
  ToFile f;
  std::string many;
  for (int i = 0; i < 25; ++i) many += "l" + std::to_string(i) + "\n";
  LogStream at_once(options(f.out, 10));
  ToFile g;
  LogStream one_by_one(options(g.out, 10));
  int a = at_once.add_source("a"), b = one_by_one.add_source("a");
  at_once.note(a, "before");
  one_by_one.note(b, "before");
  CHECK(at_once.lines(a, many) == many.size());
  for (std::string_view rest = many; !rest.empty(); rest.remove_prefix(rest.find('\n') + 1))
    one_by_one.line(b, rest.substr(0, rest.find('\n')));
  at_once.note(a, "after");
  one_by_one.note(b, "after");
  const LineRing &x = at_once.history(a), &y = one_by_one.history(b);
  REQUIRE(x.size() == 10);
  REQUIRE(y.size() == 10);
  for (std::size_t i = 0; i < 10; ++i) {
    CHECK(x.line(i) == y.line(i));
    CHECK(x.seq(i) == y.seq(i));
  }
  CHECK(x.line(0) == "a | l16");
  CHECK(x.line(9) == "a * after");
  at_once.flush();
  one_by_one.flush();
  CHECK(f.written() == g.written());
}

namespace {

std::size_t count_lines(const std::string& text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

}  // namespace

// One read of a busy pipe (256 KiB) of empty lines: with a long name (or --timestamps)
// the lines with their heads are more than the outlet's bound. A regular file takes all
// that is flushed: line() by line never drops there, and lines() must not either.
TEST_CASE("log stream to a file: a read whose lines with heads pass the outlet's bound loses none", "[io][log]") {
  ToFile f;
  LogStream log(options(f.out, 10));
  int a = log.add_source("a-fairly-long-node-name");
  const std::string read(256 * 1024, '\n');
  CHECK(log.lines(a, read) == read.size());
  for (std::size_t i = 0; i < read.size(); ++i) log.line(a, "");
  log.flush();
  CHECK(f.out->dropped() == 0);
  CHECK(count_lines(f.written()) == 2 * read.size());
}

// A pipe nobody reads: each read is sized from the room left (read_budget), so what the
// lines become with their heads never passes the bound, and the reader is held back
// before it would.
TEST_CASE("log stream to a stalled pipe: reads sized by read_budget never pass the bound", "[io][log]") {
  boost::asio::io_context io;
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0);
  UniqueFd read_end(p[0]);
  auto out = std::make_shared<Outlet>(io, "stdout", 1, UniqueFd(p[1]), Outlet::Mode::nonblocking);
  LogStream log(options(out, 10));
  int a = log.add_source("a-fairly-long-node-name");
  bool resumed = false, held = false;
  for (int reads = 0; reads < 10000 && !held; ++reads) {
    std::size_t budget = std::min<std::size_t>(256 * 1024, log.read_budget(a, [&] { resumed = true; }));
    held = budget == 0;
    if (!held) log.lines(a, std::string(budget, '\n'));
    log.flush();
    REQUIRE(out->dropped() == 0);
  }
  CHECK(held);  // the reader waits: the lines stay in its pipe
  CHECK_FALSE(resumed);
  CHECK(out->pending() <= kOutletLimit);
}
