#include <catch.hpp>
#include <string>
#include <vector>

#include "io/line_cutter.h"

using namespace treerun;

namespace {
struct Cut {
  std::vector<std::string> lines;
  std::vector<std::string> runs;  // what came at once (with on_lines)
  LineCutter cutter;
  // A piece that continues the one before it is recorded with a leading "+". With
  // RUNS, whole lines may come at once: each is recorded as a line all the same, so the
  // lines must be the same either way.
  explicit Cut(std::size_t max, bool runs = GENERATE(false, true))
      : cutter(max, [this](std::string_view l, bool continued) { lines.push_back((continued ? "+" : "") + std::string(l)); },
               runs ? LineCutter::OnLines([this](std::string_view r) { run(r); }) : LineCutter::OnLines()) {}

  void run(std::string_view r) {
    REQUIRE(r.ends_with('\n'));
    runs.emplace_back(r);
    for (std::size_t nl; (nl = r.find('\n')) != std::string_view::npos; r.remove_prefix(nl + 1)) lines.emplace_back(r.substr(0, nl));
  }
};
}  // namespace

TEST_CASE("lines are cut at newlines, across reads, without them", "[lines]") {
  Cut c(100);
  c.cutter.feed("one\ntw");
  c.cutter.feed("o\n\nthr");
  CHECK(c.lines == std::vector<std::string>{"one", "two", ""});
  CHECK(c.cutter.finish());  // a last line without a newline is still a line
  CHECK(c.lines.back() == "thr");
  CHECK_FALSE(c.cutter.finish());
}

TEST_CASE("a line longer than the limit goes on in whole pieces", "[lines]") {
  Cut c(4);
  c.cutter.feed("abcdefghij\nxy");
  c.cutter.feed("zw\n");
  CHECK(c.lines == std::vector<std::string>{"abcd", "+efgh", "+ij", "xyzw"});
  Cut exact(4);
  exact.cutter.feed("abcd\n");  // exactly the limit: one line, not a piece and an empty one
  CHECK(exact.lines == std::vector<std::string>{"abcd"});
}

TEST_CASE("a piece that fills the limit is passed on before its newline arrives", "[lines]") {
  Cut c(4);
  c.cutter.feed("ab");
  c.cutter.feed("cdef");
  CHECK(c.lines == std::vector<std::string>{"abcd"});
  c.cutter.feed("\n");
  CHECK(c.lines == std::vector<std::string>{"abcd", "+ef"});
  Cut edge(4);
  edge.cutter.feed("abcd");  // a line of exactly the limit, its newline in the next read
  edge.cutter.feed("\nnext\n");
  CHECK(edge.lines == std::vector<std::string>{"abcd", "next"});
}

TEST_CASE("a line cut at the limit that ends at EOF ends continued; the next is its own", "[lines]") {
  Cut c(3);
  c.cutter.feed("abcdefg");
  CHECK(c.lines == std::vector<std::string>{"abc", "+def"});
  CHECK(c.cutter.finish());
  CHECK(c.lines.back() == "+g");
  c.cutter.feed("new\nline\n");
  CHECK(c.lines == std::vector<std::string>{"abc", "+def", "+g", "new", "lin", "+e"});
}

TEST_CASE("the tail keeps the last bytes seen, bounded", "[lines]") {
  Cut c(1 << 20);
  c.cutter.feed("first\n");
  CHECK(c.cutter.tail() == "first\n");
  std::string big(10000, 'x');
  c.cutter.feed(big + "\nlast\n");
  CHECK(c.cutter.tail().size() <= 4096);
  CHECK(c.cutter.tail().ends_with("x\nlast\n"));
  for (int i = 0; i < 1000; ++i) c.cutter.feed("0123456789\n");
  CHECK(c.cutter.tail().size() <= 4096);
  CHECK(c.cutter.tail().ends_with("0123456789\n0123456789\n"));
}

TEST_CASE("whole lines come at once, up to the last newline of a read; a line split across reads on its own",
          "[lines]") {
  Cut c(100, true);
  c.cutter.feed("ab\ncd\nef");
  c.cutter.feed("g\nh\n\ni");
  CHECK(c.runs == std::vector<std::string>{"ab\ncd\n", "h\n\n"});
  CHECK(c.lines == std::vector<std::string>{"ab", "cd", "efg", "h", ""});
  CHECK(c.cutter.finish());
  CHECK(c.lines.back() == "i");
}

TEST_CASE("lines that could be over the limit, and the pieces after a cut, never come at once", "[lines]") {
  Cut c(4, true);
  c.cutter.feed("ab\nabcdefg\n");  // the last newline is past the limit: each line on its own
  c.cutter.feed("abcdef");           // a piece cut at the limit ...
  c.cutter.feed("gh\nij\n");         // ... goes on: its end is a piece; after it, whole lines again
  c.cutter.feed("kl\nm\n");
  CHECK(c.lines == std::vector<std::string>{"ab", "abcd", "+efg", "abcd", "+efgh", "ij", "kl", "m"});
  CHECK(c.runs == std::vector<std::string>{"ij\n", "kl\nm\n"});
}
