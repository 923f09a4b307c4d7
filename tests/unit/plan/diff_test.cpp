// diff_plans (contract 8, Reload): by path, what is gone, new, or changed in its own settings.
#include <catch.hpp>

#include "plan/diff.h"
#include "spec_fixture.h"

using namespace treerun;
using namespace treerun::test;

namespace {

using Paths = std::vector<std::string>;

}  // namespace

TEST_CASE("diff: the same spec twice changes nothing", "[diff]") {
  const char* spec = R"(children:
  - {name: db, daemon: true, cmd: [redis], env: {A: "1"}}
  - name: pipe
    children:
      - {name: p, cmd: [seq, "9"]}
      - {name: c, cmd: [wc], stdin: p}
)";
  CHECK(diff_plans(plan_of(spec), plan_of(spec)).empty());
}

TEST_CASE("diff: added, removed and changed nodes, each list in start order", "[diff]") {
  Plan old_plan = plan_of(R"(children:
  - {name: db, daemon: true, cmd: [redis]}
  - {name: api, daemon: true, cmd: [api, --v1], after: [db]}
  - {name: gone, cmd: [x]}
  - {name: same, cmd: [y], env: {K: v}}
)");
  Plan new_plan = plan_of(R"(children:
  - {name: new2, cmd: [z], after: [new1]}
  - {name: new1, cmd: [z]}
  - {name: db, daemon: true, cmd: [redis]}
  - {name: api, daemon: true, cmd: [api, --v2], after: [db]}
  - {name: same, cmd: [y], env: {K: v}}
)");
  PlanDiff d = diff_plans(old_plan, new_plan);
  CHECK(d.removed == Paths{"gone"});
  CHECK(d.added == Paths{"new1", "new2"});
  CHECK(d.changed == Paths{"api"});
}

TEST_CASE("diff: an environment, a probe, a stop signal or a watch is a change of the node", "[diff]") {
  auto with = [](const std::string& keys) {
    return plan_of("children:\n  - {name: n, daemon: true, cmd: [x]" + keys + "}\n  - {name: o, cmd: [y]}\n");
  };
  Plan base = with("");
  for (const char* keys : {", env: {A: b}", ", ready: {tcp: \"127.0.0.1:1\"}", ", stop_signal: SIGINT",
                           ", watch: [.]", ", grace: 9s", ", tty: true"}) {
    INFO(keys);
    PlanDiff d = diff_plans(base, with(keys));
    CHECK(d.changed == Paths{"n"});
    CHECK(d.added.empty());
    CHECK(d.removed.empty());
  }
}

TEST_CASE("diff: a consumer added to a source changes the source; a group's env changes its children", "[diff]") {
  Plan old_plan = plan_of(R"(children:
  - {name: p, daemon: true, cmd: [seq]}
  - {name: c1, cmd: [wc], stdin: p}
  - name: g
    env: {A: "1"}
    children: [{name: k, cmd: [x]}]
)");
  Plan new_plan = plan_of(R"(children:
  - {name: p, daemon: true, cmd: [seq]}
  - {name: c1, cmd: [wc], stdin: p}
  - {name: c2, cmd: [wc], stdin: p}
  - name: g
    env: {A: "2"}
    children: [{name: k, cmd: [x]}]
)");
  PlanDiff d = diff_plans(old_plan, new_plan);
  CHECK(d.added == Paths{"c2"});
  // the fan-out's wiring changed for every end of it
  CHECK(std::find(d.changed.begin(), d.changed.end(), "p") != d.changed.end());
  CHECK(std::find(d.changed.begin(), d.changed.end(), "c1") != d.changed.end());
  CHECK(std::find(d.changed.begin(), d.changed.end(), "g/k") != d.changed.end());
  CHECK(std::find(d.changed.begin(), d.changed.end(), "g") == d.changed.end());
}

TEST_CASE("diff: a run's kept own_settings of its last plan give the same answer", "[diff]") {
  Plan a = plan_of("children:\n  - {name: x, cmd: [a]}\n  - {name: y, cmd: [b], env: {K: \"1\"}}\n");
  Plan b = plan_of("children:\n  - {name: x, cmd: [a]}\n  - {name: y, cmd: [b], env: {K: \"2\"}}\n  - {name: z, cmd: [c]}\n");
  OwnSettings kept = own_settings(a);
  PlanDiff d = diff_plans(a, kept, b, own_settings(b));
  CHECK(d.changed == Paths{"y"});
  CHECK(d.added == Paths{"z"});
  CHECK(d.removed.empty());
  // The settings text is the node's own: equal where nothing of it changed.
  CHECK(kept.by_path.at("x") == own_settings(b).by_path.at("x"));
  CHECK(kept.by_path.at("y") != own_settings(b).by_path.at("y"));
}
