// The Watcher on real files in a temporary folder, with a real loop driven from this
// thread. Absence is shown without sleeping: after what must not count, a change in a
// second set (a marker) is made and awaited; the first set's debounce ends first, so
// anything it would have told would have come by then.
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "io/watcher.h"

using namespace treerun;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMarker = 99;

struct Watching {
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> busy = boost::asio::make_work_guard(io);
  fs::path top, dir;
  std::vector<std::pair<std::size_t, std::string>> told;
  std::vector<std::string> warnings;
  Watcher watcher{io, [this](std::size_t set, const std::string& path) { told.emplace_back(set, path); },
                  [this](const std::string& text) { warnings.push_back(text); }};

  // The tests' files are under dir/w (DIR below), the marker's under dir/m: what a
  // test makes before it watches is seen by no watch.
  Watching() {
    char tmpl[] = "/tmp/watcher-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    top = tmpl;
    dir = top / "w";
    fs::create_directories(dir);
    fs::create_directories(top / "m/marker");
    watcher.watch(kMarker, {{(top / "m/marker").string()}, {}, Millis(20)});
  }
  ~Watching() {
    std::error_code ec;
    fs::remove_all(top, ec);
  }

  std::string at(const std::string& rel) const { return (dir / rel).string(); }
  void write(const std::string& rel, const std::string& text = "x") { std::ofstream(dir / rel) << text; }

  /// Runs the loop until N tellings have come (10 s at most).
  void await(std::size_t n) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (told.size() < n && std::chrono::steady_clock::now() < deadline) io.run_one_for(std::chrono::milliseconds(50));
    REQUIRE(told.size() >= n);
  }
  /// What SET was told, once a marker change has come through after everything so far.
  std::vector<std::string> settled(std::size_t set) {
    static int markers = 0;
    std::ofstream(top / "m/marker" / std::to_string(++markers)) << "m";
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    auto marked = [&] {
      return !told.empty() && told.back().first == kMarker;
    };
    while (!marked() && std::chrono::steady_clock::now() < deadline) io.run_one_for(std::chrono::milliseconds(50));
    REQUIRE(marked());
    std::vector<std::string> out;
    for (auto& [s, path] : told)
      if (s == set) out.push_back(path);
    return out;
  }
};

}  // namespace

TEST_CASE("watch_ignores: .git always, globs on any part, on leading folders and on the whole path", "[watcher]") {
  CHECK(watch_ignores({}, ".git"));
  CHECK(watch_ignores({}, "a/.git/HEAD"));
  CHECK_FALSE(watch_ignores({}, "a/.gitignore"));
  CHECK(watch_ignores({"*.log"}, "deep/down/x.log"));
  CHECK(watch_ignores({"node_modules"}, "web/node_modules/lib/index.js"));
  CHECK(watch_ignores({"build/*"}, "build/out/a.o"));
  CHECK_FALSE(watch_ignores({"build/*"}, "src/build.c"));
  CHECK_FALSE(watch_ignores({"*.log"}, "src/main.c"));
}

TEST_CASE("a watched folder: a file made in it, deep or new, is a change named by its path", "[watcher]") {
  Watching w;
  fs::create_directories(w.dir / "src/deep");
  w.watcher.watch(1, {{w.at("src")}, {}, Millis(20)});
  w.write("src/deep/a.c");
  w.await(1);
  CHECK(w.told.at(0) == std::pair<std::size_t, std::string>(1, w.at("src/deep/a.c")));

  // A folder made after the watch began is watched too, and the folders in it.
  fs::create_directories(w.dir / "src/new/inner");
  w.await(2);
  w.write("src/new/inner/b.c");
  w.await(3);
  CHECK(w.told.at(2) == std::pair<std::size_t, std::string>(1, w.at("src/new/inner/b.c")));
}

TEST_CASE("ignored paths and .git are not changes: the first change told is the first one that counts",
          "[watcher]") {
  Watching w;
  fs::create_directories(w.dir / "src/.git");
  fs::create_directories(w.dir / "src/node_modules/pkg");
  w.watcher.watch(1, {{w.at("src")}, {"*.log", "node_modules"}, Millis(20)});
  std::size_t folders = w.watcher.folders();
  w.write("src/.git/index");
  w.write("src/x.log");
  w.write("src/node_modules/pkg/i.js");
  CHECK(w.settled(1).empty());
  w.write("src/main.c");
  w.await(w.told.size() + 1);
  CHECK(w.settled(1) == std::vector<std::string>{w.at("src/main.c")});
  // The ignored folders were never watched.
  fs::create_directories(w.dir / "src/node_modules/other");
  CHECK(w.watcher.folders() == folders);
}

TEST_CASE("a burst of 1000 writes is one change; so is an editor's save by rename", "[watcher]") {
  Watching w;
  fs::create_directories(w.dir / "src");
  w.write("config.toml", "a");
  w.watcher.watch(1, {{w.at("src"), w.at("config.toml")}, {}, Millis(100)});
  for (int i = 0; i < 1000; ++i) w.write("src/f" + std::to_string(i % 10), std::to_string(i));
  w.await(1);
  CHECK(w.settled(1).size() == 1);

  // Write a temporary file beside it, rename it over: one change, of the watched file.
  w.write("config.toml.tmp", "b");
  fs::rename(w.dir / "config.toml.tmp", w.dir / "config.toml");
  w.await(w.told.size() + 1);
  CHECK(w.settled(1) == std::vector<std::string>{w.at("src/f0"), w.at("config.toml")});
  // Files beside a watched file are not watched.
  w.write("other.txt");
  CHECK(w.settled(1).size() == 2);
}

TEST_CASE("a watched folder removed and made again is watched again", "[watcher]") {
  Watching w;
  fs::create_directories(w.dir / "src/sub");
  w.watcher.watch(1, {{w.at("src")}, {}, Millis(20)});
  fs::remove_all(w.dir / "src");
  w.await(1);
  fs::create_directories(w.dir / "src/sub");
  w.await(2);
  w.write("src/sub/back.c");
  w.await(3);
  CHECK(w.told.back() == std::pair<std::size_t, std::string>(1, w.at("src/sub/back.c")));
  // A folder moved away is no longer watched under its old name, and moved back is.
  fs::rename(w.dir / "src/sub", w.dir / "moved");
  w.await(4);
  w.write("moved/away.c");
  CHECK(w.settled(1).size() == 4);
}

TEST_CASE("a forgotten set is never told again", "[watcher]") {
  Watching w;
  fs::create_directories(w.dir / "src");
  w.watcher.watch(1, {{w.at("src")}, {}, Millis(20)});
  w.write("src/a");
  w.watcher.forget(1);
  CHECK(w.settled(1).empty());
  CHECK(w.watcher.folders() == 2);  // the marker's folder and the one that holds it
}
