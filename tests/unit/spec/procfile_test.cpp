// `treerun import procfile` (contract 8): a Procfile as a spec that `check` accepts.
#include <catch.hpp>

#include "spec/procfile.h"
#include "spec_fixture.h"

using namespace treerun;
using namespace treerun::test;

namespace {

const ProcfilePlace kPlace{"app", ".", ".env", "treerun import procfile Procfile"};

bool has(const ProcfileSpec& s, const std::string& text, int line, int col) {
  for (const auto& p : s.problems)
    if (p.pos.line == line && p.pos.col == col && p.message.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("procfile: each line a daemon, comments and blank lines skipped", "[procfile]") {
  TempDir dir;
  dir.write(".env", "PORT=5000\n");
  auto s = procfile_to_spec("# the app\n\nweb: bundle exec puma -p $PORT\r\n  worker:   sidekiq -q \"a b\"  \n"
                            "clock.x: echo 'tick: \\\\ tock'\n",
                            "Procfile", kPlace);
  REQUIRE(s.problems.empty());
  CHECK(s.text.find("# made by `treerun import procfile Procfile`") == 0);
  auto r = load(s.text, dir.path());
  REQUIRE_LOADS(r);
  const Plan& p = *r.plan;
  CHECK(p.name == "app");
  REQUIRE(p.root().children.size() == 3);
  const PlanNode& web = p[*p.find("web")];
  CHECK(web.daemon);
  CHECK(web.cmd->display() == "sh -c 'bundle exec puma -p $PORT'");  // left to the shell, as foreman does
  CHECK(web.cwd == dir.path());
  CHECK(web.env == EnvList{{"PORT", "5000"}});
  CHECK(p[*p.find("worker")].cmd->argv == std::vector<std::string>{"sidekiq", "-q", "a b"});
  CHECK(p[*p.find("clock.x")].cmd->argv.back() == "echo 'tick: \\\\ tock'");  // byte for byte
}

TEST_CASE("procfile: no name or env_file when there is none", "[procfile]") {
  auto s = procfile_to_spec("a: x\n", "Procfile", {"", "sub", "", "c"});
  REQUIRE(s.problems.empty());
  CHECK(s.text.find("name:") == s.text.find("  - name:") + 4);  // only the node's
  CHECK(s.text.find("\nenv_file:") == std::string::npos);
  CHECK(s.text.find("cwd: sub") != std::string::npos);
}

TEST_CASE("procfile: a bad line is a problem at FILE:LINE:COL", "[procfile]") {
  auto s = procfile_to_spec("web: ok\nno colon here\nbad name!: x\n  empty:   \nweb: again\n", "app/Procfile", kPlace);
  CHECK(s.text.empty());
  INFO(s.problems.size());
  CHECK(has(s, "expected `name: command`, not `no colon here`", 2, 1));
  CHECK(has(s, "bad process name `bad name!`", 3, 1));
  CHECK(has(s, "`empty` has no command", 4, 9));
  CHECK(has(s, "duplicate name `web`: line 1 has it already", 5, 1));
  CHECK(s.problems.front().pos.file == "app/Procfile");
  auto none = procfile_to_spec("# nothing\n\n", "Procfile", kPlace);
  REQUIRE(none.problems.size() == 1);
  CHECK(none.problems[0].str() == "Procfile: no process: a Procfile has `name: command` lines");
}
