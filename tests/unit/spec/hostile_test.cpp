// Hostile input: the loader must answer with a clear problem, never crash or hang.
#include <sys/stat.h>

#include <catch.hpp>
#include <time.h>
#include <random>

#include "spec/read.h"
#include "spec_fixture.h"

// Sanitizer builds run several times slower; the bounds are about hangs, not speed.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr double kSlowdown = 6;
#else
constexpr double kSlowdown = 1;
#endif


using namespace treerun;
using namespace treerun::test;

namespace {

/// CPU seconds LOAD takes: what a quadratic loader would blow up, and what a shared,
/// loaded machine does not inflate as it does the wall clock.
template <class F>
double timed(F&& load) {
  auto cpu = [] {
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  };
  double t0 = cpu();
  load();
  return cpu() - t0;
}

bool mentions(const LoadResult& r, const std::string& text) {
  for (const auto& p : r.problems)
    if (p.message.find(text) != std::string::npos) return true;
  return false;
}

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

/// A billion laughs: KEY0, anchored as ANCHOR0, holds FIRST; each KEYi up to KEY29
/// holds ten aliases of the one before, between OPEN and CLOSE.
std::string laughs(const std::string& key, const std::string& anchor, const std::string& first,
                   const std::string& open, const std::string& close) {
  std::string spec = key + "0: &" + anchor + "0 " + first + "\n";
  for (int i = 1; i < 30; ++i) {
    spec += key + std::to_string(i) + ": &" + anchor + std::to_string(i) + " " + open;
    for (int k = 0; k < 10; ++k) spec += std::string(k ? ", " : "") + "*" + anchor + std::to_string(i - 1);
    spec += close + "\n";
  }
  return spec;
}

}  // namespace

TEST_CASE("nesting 10 000 deep is refused before the readers recurse", "[hostile]") {
  auto flow = load("children: " + repeat("[", 10000) + repeat("]", 10000));
  REQUIRE_PROBLEM(flow, "the spec nests deeper than 200 levels", 1, 210);
  auto maps = load("children: " + repeat("{a: ", 10000) + "x" + repeat("}", 10000));
  REQUIRE_PROBLEM(maps, "the spec nests deeper than 200 levels", 1, 807);
  auto dashes = load("children:\n" + repeat("- ", 10000) + "x\n");
  REQUIRE_PROBLEM(dashes, "the spec nests deeper than 200 levels", 2, 399);
  std::string block = "children:\n";
  for (int i = 0; i < 5000; ++i) block += std::string(std::size_t(i), ' ') + "- a:\n";  // 12 MB
  REQUIRE_PROBLEM(load(block), "the spec nests deeper than 200 levels", 201, 200);
  // The same brackets inside a quoted string or a block scalar are text, not nesting.
  REQUIRE_LOADS(load("children: [{name: a, cmd: \"" + repeat("[", 10000) + "\"}]"));
  REQUIRE_LOADS(load("children:\n  - name: a\n    cmd: |\n      " + repeat("{", 10000) + "\n      echo\n"));
}

TEST_CASE("tree nesting deeper than the cap is refused", "[hostile]") {
  std::string spec = "children:\n";
  std::string inner = "{name: leaf, cmd: x}";
  for (int i = 0; i < 90; ++i) inner = "{name: n, children: [" + inner + "]}";
  REQUIRE_LOADS(load(spec + "  - " + inner + "\n"));  // 91 levels: fine
}

TEST_CASE("billion laughs through children is cut off by the node budget", "[hostile]") {
  std::string spec = laughs("x", "n", "{name: x, cmd: \"true\"}", "{name: x, children: [", "]}");
  spec += "children: [*n29]\n";
  LoadResult r;
  double secs = timed([&] { r = load(spec); });
  CHECK(secs < 5 * kSlowdown);
  INFO(problems(r));
  REQUIRE_FALSE(r.plan);
  CHECK(mentions(r, "the spec is too large: more than 100000 nodes"));
}

TEST_CASE("billion laughs in values nobody walks costs nothing", "[hostile]") {
  std::string spec = laughs("a", "a", "[lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]", "[", "]");
  spec += "children:\n  - name: x\n    cmd: *a29\n";
  LoadResult r;
  double secs = timed([&] { r = load(spec); });
  CHECK(secs < 5 * kSlowdown);
  REQUIRE_PROBLEM(r, "unknown key `a0` in the spec's top level", 1, 1);
  CHECK(mentions(r, "`cmd` must be a string, not a list"));
}

TEST_CASE("an alias that contains itself stops at the depth cap", "[hostile]") {
  auto r = load("children:\n  - &a {name: x, children: [*a, *a]}\n");
  REQUIRE_PROBLEM(r, "nodes nest deeper than 256 levels", 2, 5);
}

TEST_CASE("a 10 MB spec loads within a few seconds", "[hostile][slow]") {
  std::string spec = "children:\n";
  std::string filler(450, 'x');
  for (int i = 0; spec.size() < (10u << 20); ++i)
    spec += "  - {name: n" + std::to_string(i) + ", cmd: \"echo " + filler + "\", env: {K: v}}\n";
  LoadResult r;
  double secs = timed([&] { r = load(spec); });
  REQUIRE_LOADS(r);
  CHECK(r.plan->nodes.size() > 20'000);
  CHECK(secs < 8 * kSlowdown);  // the load took about 2s for 10 MB with yaml-cpp on a loaded CI machine
}

TEST_CASE("more than 100 000 nodes is refused", "[hostile][slow]") {
  std::string spec = "children:\n";
  for (int i = 0; i < 100'001; ++i) spec += "- {name: n" + std::to_string(i) + ", cmd: x}\n";
  LoadResult r;
  double secs = timed([&] { r = load(spec); });
  CHECK(secs < 8 * kSlowdown);
  REQUIRE_PROBLEM(r, "the spec is too large: more than 100000 nodes", 100'002, 3);
}

TEST_CASE("a spec over 16 MiB is refused without parsing it", "[hostile]") {
  std::string big((16u << 20) + 1, '#');
  auto r = load(big);
  REQUIRE(r.problems.size() == 1);
  CHECK(r.problems[0].str() == "spec.yaml: cannot read the spec: larger than 16 MiB");
  TempDir dir;
  std::string path = dir.write("big.yaml", big);
  auto f = load_plan(path);
  REQUIRE(f.problems.size() == 1);
  CHECK(f.problems[0].str() == path + ": cannot read the spec: larger than 16 MiB");
}

TEST_CASE("environments that add up past the budget are refused", "[hostile]") {
  std::string spec = "env: {";
  for (int i = 0; i < 20'000; ++i) spec += std::string(i ? ", " : "") + "V" + std::to_string(i) + ": x";
  spec += "}\nchildren:\n";
  for (int i = 0; i < 300; ++i) spec += "  - {name: n" + std::to_string(i) + ", cmd: x}\n";
  LoadResult r;
  double secs = timed([&] { r = load(spec); });
  CHECK(secs < 5 * kSlowdown);
  INFO(problems(r));
  CHECK(mentions(r, "environments add up to more than 5000000 variables"));
}

TEST_CASE("/dev/zero, a directory and a FIFO are refused as spec, include and env_file", "[hostile]") {
  TempDir dir;
  std::string fifo = dir / "fifo";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  for (const std::string& bad : {std::string("/dev/zero"), dir.path(), fifo}) {
    INFO(bad);
    auto spec = load_plan(bad);
    REQUIRE(spec.problems.size() == 1);
    CHECK(spec.problems[0].pos.file == bad);
    CHECK(spec.problems[0].message.find("cannot read the spec: ") == 0);
    auto env = load("env_file: " + bad + "\nchildren: [{name: a, cmd: x}]");
    REQUIRE_PROBLEM(env, "cannot read env_file `" + bad + "`: ", 1, 11);
    auto inc = load("children: [{name: a, include: " + bad + "}]");
    REQUIRE_PROBLEM(inc, "cannot read include `" + bad + "`: ", 1, 31);
  }
  CHECK(load_plan("/dev/zero").problems[0].message == "cannot read the spec: not a regular file");
  CHECK(load_plan(dir.path()).problems[0].message == "cannot read the spec: is a directory");
  CHECK(load_plan(dir / "nope.yaml").problems[0].message == "cannot read the spec: No such file or directory");
}

TEST_CASE("includes nested past the cap, or multiplying, are refused", "[hostile][include]") {
  TempDir dir;
  for (int i = 0; i < 40; ++i)
    dir.write("c" + std::to_string(i) + ".yaml",
              "children: [{name: n, include: c" + std::to_string(i + 1) + ".yaml}]\n");
  dir.write("c40.yaml", "children: [{name: leaf, cmd: x}]\n");
  auto chain = load_plan(dir / "c0.yaml");
  INFO(problems(chain));
  REQUIRE_FALSE(chain.plan);
  CHECK(mentions(chain, "includes nest deeper than 32 files"));

  for (int i = 0; i < 25; ++i)
    dir.write("m" + std::to_string(i) + ".yaml", "children: [{name: a, include: m" + std::to_string(i + 1) +
                                                     ".yaml}, {name: b, include: m" + std::to_string(i + 1) + ".yaml}]\n");
  dir.write("m25.yaml", "children: [{name: leaf, cmd: x}]\n");
  LoadResult bomb;
  double secs = timed([&] { bomb = load_plan(dir / "m0.yaml"); });
  CHECK(secs < 3 * kSlowdown);
  INFO(problems(bomb));
  REQUIRE_FALSE(bomb.plan);
  CHECK(mentions(bomb, "the spec is too large: more than 1000 included files"));
}

TEST_CASE("garbage bytes give problems, not crashes", "[hostile]") {
  std::mt19937 rng(42);
  for (int round = 0; round < 200; ++round) {
    std::string junk(std::size_t(rng() % 4096), '\0');
    for (char& c : junk) c = char(rng() % 256);
    auto r = load(junk);
    CHECK_FALSE(r.ok());
  }
  auto nul = load(std::string("children: [{name: a, cmd: \"x\\0y\"}]"));
  REQUIRE_PROBLEM(nul, "`cmd` contains a NUL byte", 1, 27);
  auto raw_nul = load(std::string("children:\0 [x]", 14));
  CHECK_FALSE(raw_nul.ok());
}

TEST_CASE("problems stop at a cap", "[hostile]") {
  std::string spec = "children:\n  - name: a\n    cmd: x\n";
  for (int i = 0; i < 20'000; ++i) spec += "    k" + std::to_string(i) + ": 1\n";
  auto r = load(spec);
  REQUIRE(r.problems.size() == Diagnostics::kMax + 1);
  CHECK(mentions(r, "too many problems: stopping after 10000"));
}

TEST_CASE("the fuzz corpus and its regressions load without crashing", "[hostile][fuzz]") {
  namespace fs = std::filesystem;
  for (const char* sub : {"tests/fuzz/corpus", "tests/fuzz/regressions"}) {
    fs::path dir = fs::path(TREERUN_SOURCE_DIR) / sub;
    if (!fs::is_directory(dir)) continue;
    for (const auto& entry : fs::directory_iterator(dir)) {
      INFO(entry.path());
      auto r = load_plan(entry.path().string());
      CHECK((r.ok() || !r.problems.empty()));
    }
  }
}

TEST_CASE("a long list that holds itself makes room for no more nodes than the budget", "[hostile]") {
  // Each level of `*a` is the whole list again: room made for it at every level would be
  // levels x items nodes of memory before the depth cap stops the reading.
  std::string spec = "children: &a\n  - {name: x, children: *a}\n";
  for (int i = 0; i < 20'000; ++i) spec += "  - {name: y" + std::to_string(i) + "}\n";
  Diagnostics diags;
  ReadContext ctx{diags, {}, {}, {}};
  read_spec_text(spec, "spec.yaml", "/", "", ctx, 1);
  CHECK(ctx.budget.exhausted);
  CHECK(ctx.budget.reserved <= kMaxNodes);
}
