// merge_plans (contract 8, Reload): the fresh plan laid over the running one, ids kept.
#include <catch.hpp>

#include "plan/merge.h"
#include "spec_fixture.h"

using namespace treerun;
using namespace treerun::test;

namespace {

std::vector<NodeId> identity(const Plan& p) {
  std::vector<NodeId> ids;
  for (const PlanNode& n : p.nodes) ids.push_back(n.id);
  return ids;
}

}  // namespace

TEST_CASE("merge: kept nodes keep their ids, added are appended, removed stay as tombstones", "[merge]") {
  Plan old_plan = plan_of(R"(children:
  - {name: db, daemon: true, cmd: [redis]}
  - {name: gone, daemon: true, cmd: [x]}
  - {name: api, daemon: true, cmd: [api, --v1], after: [db]}
)");
  Plan fresh = plan_of(R"(children:
  - {name: new, daemon: true, cmd: [n]}
  - {name: db, daemon: true, cmd: [redis]}
  - {name: api, daemon: true, cmd: [api, --v2], after: [db, new]}
)");
  PlanMerge m = merge_plans(old_plan, identity(old_plan), old_plan, fresh, diff_plans(old_plan, fresh));
  NodeId db = *old_plan.find("db"), gone = *old_plan.find("gone"), api = *old_plan.find("api");
  REQUIRE(m.plan.nodes.size() == old_plan.nodes.size() + 1);
  NodeId added = old_plan.nodes.size();
  CHECK(*m.plan.find("db") == db);
  CHECK(*m.plan.find("api") == api);
  CHECK(*m.plan.find("new") == added);
  CHECK_FALSE(m.plan.find("gone"));          // a tombstone is no child of its parent
  CHECK(m.plan.nodes[gone].path == "gone");  // but stays where it was
  CHECK(m.plan[api].after == std::vector<NodeId>{db, added});
  CHECK(m.plan[api].cmd->argv.back() == "--v2");
  CHECK(m.removed == std::vector<NodeId>{gone});
  CHECK(m.added == std::vector<NodeId>{added});
  CHECK(m.changed == std::vector<NodeId>{api});
  CHECK(m.refusal.empty());
  for (NodeId id : m.plan.start_order) CHECK(id != gone);
}

TEST_CASE("merge: a second merge maps through the first one's ids", "[merge]") {
  Plan a = plan_of("children:\n  - {name: x, cmd: [x]}\n  - {name: y, cmd: [y]}\n");
  Plan b = plan_of("children:\n  - {name: y, cmd: [y]}\n  - {name: z, cmd: [z]}\n");
  PlanMerge first = merge_plans(a, identity(a), a, b, diff_plans(a, b));
  Plan c = plan_of("children:\n  - {name: z, cmd: [z2]}\n  - {name: x, cmd: [x]}\n");
  PlanMerge second = merge_plans(first.plan, first.ids, b, c, diff_plans(b, c));
  NodeId z = *first.plan.find("z");
  CHECK(*second.plan.find("z") == z);
  CHECK(second.changed == std::vector<NodeId>{z});
  NodeId x_again = *second.plan.find("x");
  CHECK(x_again != *a.find("x"));  // removed once, then added: a new node
  CHECK(x_again == first.plan.nodes.size());
}

TEST_CASE("merge: a new or rewired stream is refused, the run's own settings are noted", "[merge]") {
  Plan a = plan_of("timeout: 1m\nchildren:\n  - {name: p, cmd: [seq]}\n  - {name: c, cmd: [wc]}\n");
  Plan b = plan_of("timeout: 2m\nchildren:\n  - {name: p, cmd: [seq]}\n  - {name: c, cmd: [wc], stdin: p}\n");
  PlanMerge m = merge_plans(a, identity(a), a, b, diff_plans(a, b));
  CHECK(m.refusal.find("the stream p → c is new") != std::string::npos);
  REQUIRE(m.notes.size() == 1);
  CHECK(m.notes[0].find("timeout") != std::string::npos);
  CHECK(m.plan.timeout == a.timeout);
}
