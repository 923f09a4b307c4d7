// `watch:` (contract 8): paths relative to the spec's folder, `${...}` expanded, each
// one existing; a list or {paths, ignore, debounce, cascade}; a replicated node's on its group.
#include <catch.hpp>

#include "spec_fixture.h"

using namespace treerun;
using namespace treerun::test;

TEST_CASE("watch: a list of paths, made absolute against the spec's folder, with the defaults", "[load][watch]") {
  TempDir dir;
  dir.write("src/main.c", "");
  dir.write("config.toml", "");
  auto r = load("children:\n  - {name: api, cmd: x, watch: [src, ./config.toml]}\n", dir.path());
  REQUIRE_LOADS(r);
  const PlanNode& api = at(*r.plan, "api");
  REQUIRE(api.watch);
  CHECK(api.watch->paths == std::vector<std::string>{dir / "src", dir / "config.toml"});
  CHECK(api.watch->ignore.empty());
  CHECK(api.watch->debounce == Millis(200));
  CHECK(api.watch->cascade);
  CHECK_FALSE(at(*r.plan, "api").is_group());
}

TEST_CASE("watch: the mapping form, and `${...}` in its paths", "[load][watch]") {
  TempDir dir;
  dir.write("web/app.py", "");
  auto r = load(R"(children:
  - name: api
    cmd: x
    env: {APP: web}
    watch: {paths: ["${APP}"], ignore: ["*.pyc", __pycache__], debounce: 50ms, cascade: false}
)",
                dir.path());
  REQUIRE_LOADS(r);
  const WatchPlan& w = *at(*r.plan, "api").watch;
  CHECK(w.paths == std::vector<std::string>{dir / "web"});
  CHECK(w.ignore == std::vector<std::string>{"*.pyc", "__pycache__"});
  CHECK(w.debounce == Millis(50));
  CHECK_FALSE(w.cascade);
}

TEST_CASE("watch: a path that does not exist, a bad key or value, is a problem at its place", "[load][watch]") {
  TempDir dir;
  auto missing = load("children:\n  - {name: api, cmd: x, watch: [srcc]}\n", dir.path());
  REQUIRE_PROBLEM(missing, "cannot watch `srcc`", 2, 33);
  auto key = load("children:\n  - {name: api, cmd: x, watch: {paths: [.], debunce: 1s}}\n", dir.path());
  REQUIRE_PROBLEM(key, "debunce", 2, 45);
  auto duration = load("children:\n  - {name: api, cmd: x, watch: {paths: [.], debounce: soon}}\n", dir.path());
  REQUIRE_PROBLEM(duration, "debounce", 2, 55);
  auto none = load("children:\n  - {name: api, cmd: x, watch: []}\n", dir.path());
  REQUIRE_PROBLEM(none, "`watch` needs at least one path", 2, 32);
  auto scalar_map = load("children:\n  - {name: api, cmd: x, watch: {paths: [.], cascade: maybe}}\n", dir.path());
  REQUIRE_FALSE(scalar_map.ok());
}

TEST_CASE("watch on a replicated node is its group's: the copies restart together", "[load][watch][replicas]") {
  TempDir dir;
  auto r = load("children:\n  - {name: w, cmd: x, replicas: 2, watch: [.]}\n", dir.path());
  REQUIRE_LOADS(r);
  CHECK(at(*r.plan, "w").watch);
  CHECK_FALSE(at(*r.plan, "w/0").watch);
  CHECK_FALSE(at(*r.plan, "w/1").watch);
}
