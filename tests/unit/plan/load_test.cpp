// The loader: every key read into the plan, inheritance, includes, standard input.
#include <unistd.h>

#include <catch.hpp>

#include "spec/env_file.h"
#include "spec_fixture.h"

using namespace treerun;
using namespace treerun::test;

TEST_CASE("every node key is read into the plan", "[load]") {
  TempDir dir;  // `cwd` must name a folder that is there
  std::filesystem::create_directories(dir / "work");
  auto r = load(R"(
name: full
timeout: 1m
grace: 2s
stop_signal: INT
logs: stderr
env: {TOP: "1"}
cwd: work
children:
  - name: db
    daemon: true
    cmd: [redis-server, --port, "6390", --save, ""]
    ready: {tcp: "127.0.0.1:6390", timeout: 10s, interval: 50ms}
    stop: "redis-cli -p 6390 shutdown nosave"
    timeout: 5m
    grace: 500ms
    stop_signal: SIGQUIT
    on_failure: restart
    restart: {max: 5, within: 2m, backoff: 1s}
    env: {PORT: "6390"}
    cwd: /var/tmp
    stdout: {file: db.log, append: true}
    stderr: log
  - name: load
    after: [db]
    cmd: "redis-benchmark -q"
    on_failure: ignore
    stdin: inherit
    stdout: log
    stderr: inherit
  - name: shell
    cmd: bash
    tty: true
    stderr: null
  - name: tail
    cmd: cat
    stdin: {from: ["db:stderr", /load], lag: drop, buffer: 64KiB}
    stdout: "null"
)", dir.path());
  REQUIRE_LOADS(r);
  const Plan& p = *r.plan;
  CHECK(p.name == "full");
  CHECK(p.spec_file == "spec.yaml");
  CHECK(p.timeout == Millis(60'000));
  CHECK(p.logs.type == LogTarget::Type::stderr_);
  CHECK(p.root().path.empty());
  CHECK(p.root().is_group());
  CHECK(p.root().cwd == dir / "work");

  const PlanNode& db = at(p, "db");
  CHECK(db.daemon);
  CHECK_FALSE(db.cmd->shell);
  CHECK(db.cmd->argv == std::vector<std::string>{"redis-server", "--port", "6390", "--save", ""});
  CHECK(db.ready.type == Probe::Type::tcp);
  CHECK(db.ready.arg == "127.0.0.1:6390");
  CHECK(db.ready.timeout == Millis(10'000));
  CHECK(db.ready.interval == Millis(50));
  CHECK(db.ready.pos.line == 13);
  // Plain words: run directly, split as the shell would (interface.md 3, `cmd`).
  CHECK_FALSE(db.stop->shell);
  CHECK(db.stop->argv == std::vector<std::string>{"redis-cli", "-p", "6390", "shutdown", "nosave"});
  CHECK(db.timeout == Millis(300'000));
  CHECK(db.grace == Millis(500));
  CHECK(db.stop_signal == 3);
  CHECK(db.on_failure == OnFailure::restart);
  CHECK(db.restart.max == 5);
  CHECK(db.restart.within == Millis(120'000));
  CHECK(db.restart.backoff == Millis(1000));
  CHECK((db.env == EnvList{{"TOP", "1"}, {"PORT", "6390"}}));
  CHECK(db.cwd == "/var/tmp");
  CHECK(db.stdout_spec.type == OutputSpec::Type::file);
  CHECK(db.stdout_spec.path == dir / "db.log");
  CHECK(db.stdout_spec.append);
  CHECK(db.stderr_spec.type == OutputSpec::Type::log);
  CHECK(db.stderr_spec.log_explicit);
  CHECK(at(p, "shell").stderr_spec.type == OutputSpec::Type::null);
  CHECK(db.pos.line == 10);
  CHECK(db.pos.col == 5);

  const PlanNode& load_ = at(p, "load");
  CHECK_FALSE(load_.cmd->shell);
  CHECK(load_.cmd->argv == std::vector<std::string>{"redis-benchmark", "-q"});
  CHECK(load_.after == std::vector<NodeId>{db.id});
  CHECK(load_.on_failure == OnFailure::ignore);
  CHECK(load_.stdin_spec.type == StdinSpec::Type::inherit);
  CHECK(load_.stdout_spec.type == OutputSpec::Type::log);
  CHECK(load_.stdout_spec.log_explicit);
  CHECK(load_.stderr_spec.type == OutputSpec::Type::inherit);
  CHECK(load_.grace == Millis(2000));  // inherited from the top
  CHECK(load_.stop_signal == 2);
  CHECK_FALSE(load_.timeout.has_value());  // a node's timeout is not inherited

  CHECK(at(p, "shell").tty);
  const PlanNode& tail = at(p, "tail");
  CHECK(tail.stdin_spec.type == StdinSpec::Type::sources);
  CHECK(tail.stdin_spec.from == std::vector<SourceRef>{{db.id, true}, {load_.id, false}});
  CHECK(tail.stdin_spec.lag == Lag::drop);
  CHECK(tail.stdin_spec.buffer == 64u * 1024);
  CHECK(tail.stdout_spec.type == OutputSpec::Type::null);
}

TEST_CASE("defaults when keys are left out", "[load]") {
  auto r = load("children: [{name: a, cmd: \"true\"}]", "/srv");
  REQUIRE_LOADS(r);
  const PlanNode& a = at(*r.plan, "a");
  CHECK(r.plan->name == "spec");  // the file's stem
  CHECK_FALSE(r.plan->timeout.has_value());
  CHECK(r.plan->logs.type == LogTarget::Type::stdout_);
  CHECK(a.grace == Millis(3000));
  CHECK(a.stop_signal == 15);
  CHECK(a.cwd == "/srv");  // the spec file's folder
  CHECK_FALSE(a.daemon);
  CHECK(a.ready.type == Probe::Type::none);
  CHECK(a.ready.timeout == Millis(30'000));
  CHECK(a.ready.interval == Millis(100));
  CHECK(a.on_failure == OnFailure::cancel);
  CHECK(a.restart.max == 3);
  CHECK(a.restart.within == Millis(60'000));
  CHECK(a.restart.backoff == Millis(100));
  CHECK(a.stdin_spec.type == StdinSpec::Type::null);
  CHECK(a.stdout_spec.type == OutputSpec::Type::log);
  CHECK_FALSE(a.stdout_spec.log_explicit);
  CHECK_FALSE(a.tty);
  CHECK(a.env.empty());
}

TEST_CASE("each probe type", "[load]") {
  auto r = load(R"(
children:
  - {name: a, cmd: x, daemon: true, ready: {log: "listening on \\d+"}}
  - {name: b, cmd: x, daemon: true, ready: {http: "http://localhost:8080/health"}}
  - {name: c, cmd: x, daemon: true, ready: {exec: "pg_isready"}}
  - {name: d, cmd: x, daemon: true, ready: {file: run/ready}}
  - {name: e, cmd: x, daemon: true, ready: {notify: true}}
)", "/srv");
  REQUIRE_LOADS(r);
  const Plan& p = *r.plan;
  CHECK(at(p, "a").ready.type == Probe::Type::log);
  CHECK(at(p, "a").ready.arg == "listening on \\d+");
  CHECK(at(p, "b").ready.type == Probe::Type::http);
  CHECK(at(p, "c").ready.type == Probe::Type::exec);
  CHECK(at(p, "d").ready.type == Probe::Type::file);
  CHECK(at(p, "d").ready.arg == "/srv/run/ready");
  CHECK(at(p, "e").ready.type == Probe::Type::notify);
  CHECK(at(p, "e").ready.arg.empty());
}

TEST_CASE("stdin and stdout forms", "[load]") {
  auto r = load(R"(
children:
  - {name: p, cmd: x}
  - {name: q, cmd: x, stderr: log}
  - {name: a, cmd: x, stdin: p}
  - {name: b, cmd: x, stdin: [p, "q:stderr"]}
  - {name: c, cmd: x, stdin: null}
  - {name: d, cmd: x, stdin: "null"}
  - {name: e, cmd: x, stdin: {from: p}}
  - {name: f, cmd: x, stdin: "p:stdout", stdout: null}
  - {name: g, cmd: x, stdout: {file: /tmp/x}}
)");
  REQUIRE_LOADS(r);
  const Plan& p = *r.plan;
  NodeId pid = *p.find("p"), qid = *p.find("q");
  CHECK(at(p, "a").stdin_spec.from == std::vector<SourceRef>{{pid, false}});
  CHECK(at(p, "b").stdin_spec.from == std::vector<SourceRef>{{pid, false}, {qid, true}});
  CHECK(at(p, "c").stdin_spec.type == StdinSpec::Type::null);
  CHECK(at(p, "d").stdin_spec.type == StdinSpec::Type::null);
  CHECK(at(p, "e").stdin_spec.from == std::vector<SourceRef>{{pid, false}});
  CHECK(at(p, "e").stdin_spec.lag == Lag::block);
  CHECK(at(p, "e").stdin_spec.buffer == 1u << 20);
  CHECK(at(p, "f").stdin_spec.from == std::vector<SourceRef>{{pid, false}});
  CHECK(at(p, "f").stdout_spec.type == OutputSpec::Type::null);
  CHECK(at(p, "g").stdout_spec.path == "/tmp/x");
  CHECK_FALSE(at(p, "g").stdout_spec.append);
  CHECK(at(p, "q").stderr_spec.log_explicit);
}

TEST_CASE("logs targets", "[load]") {
  CHECK(load("logs: none\nchildren: [{name: a, cmd: x}]").plan->logs.type == LogTarget::Type::none);
  auto r = load("logs: out/run.log\nchildren: [{name: a, cmd: x}]", "/srv");
  REQUIRE_LOADS(r);
  CHECK(r.plan->logs.type == LogTarget::Type::file);
  CHECK(r.plan->logs.path == "/srv/out/run.log");
  CHECK(load("logs: stdout\nchildren: [{name: a, cmd: x}]").plan->logs.type == LogTarget::Type::stdout_);
}

TEST_CASE("env, env_file, cwd, grace and stop_signal are inherited and layered", "[load]") {
  TempDir dir;
  dir.write("top.env", "# defaults\nA=from-top-file\nexport B=\"quoted\"\n\nC='single'\n");
  dir.write("sub/node.env", "A=from-node-file\nD=d\n");
  std::filesystem::create_directories(dir / "elsewhere");
  auto r = load(R"(
grace: 5s
stop_signal: HUP
env_file: top.env
env: {A: top, E: e}
children:
  - name: g
    env_file: sub/node.env
    env: {D: from-env}
    cwd: sub
    grace: 1s
    children:
      - {name: leaf, cmd: x}
      - {name: own, cmd: x, cwd: elsewhere, stop_signal: USR1, env: {A: own}}
  - {name: plain, cmd: x}
)", dir.path());
  REQUIRE_LOADS(r);
  const Plan& p = *r.plan;
  const PlanNode& leaf = at(p, "g/leaf");
  // env wins over env_file; both over what is inherited; first position kept
  CHECK((leaf.env == EnvList{{"A", "from-node-file"}, {"B", "quoted"}, {"C", "single"}, {"E", "e"}, {"D", "from-env"}}));
  CHECK(leaf.cwd == dir / "sub");
  CHECK(leaf.grace == Millis(1000));
  CHECK(leaf.stop_signal == 1);
  const PlanNode& own = at(p, "g/own");
  CHECK(own.env.front() == std::pair<std::string, std::string>{"A", "own"});
  CHECK(own.cwd == dir / "elsewhere");  // against the file's folder, not the parent's cwd
  CHECK(own.stop_signal == 10);
  const PlanNode& plain = at(p, "plain");
  CHECK((plain.env == EnvList{{"A", "top"}, {"B", "quoted"}, {"C", "single"}, {"E", "e"}}));
  CHECK(plain.grace == Millis(5000));
  CHECK(plain.cwd == dir.path());
}

TEST_CASE("command-line grace and timeout replace the top level, not the nodes", "[load]") {
  Overrides o;
  o.grace = Millis(7000);
  o.timeout = Millis(9000);
  o.logs = LogTarget{LogTarget::Type::none, ""};
  auto r = load("grace: 1s\ntimeout: 1s\nlogs: stderr\nchildren: [{name: a, cmd: x}, {name: b, cmd: x, grace: 2s}]",
                "/tmp", o);
  REQUIRE_LOADS(r);
  CHECK(r.plan->timeout == Millis(9000));
  CHECK(r.plan->logs.type == LogTarget::Type::none);
  CHECK(at(*r.plan, "a").grace == Millis(7000));
  CHECK(at(*r.plan, "b").grace == Millis(2000));
}

TEST_CASE("include: the file's children, with its own defaults and folder", "[load][include]") {
  TempDir dir;
  dir.write("lib/db.yaml", R"(grace: 9s
env: {ROLE: db}
children:
  - name: server
    daemon: true
    cmd: x
    cwd: data
  - name: migrate
    after: [server]
    cmd: y
)");
  dir.write("main.yaml", R"(env: {TOP: "1", ROLE: none}
stop_signal: INT
children:
  - name: db
    include: lib/db.yaml
  - {name: app, cmd: z, after: [/db/migrate]}
)");
  std::filesystem::create_directories(dir / "lib/data");
  auto r = load_plan(dir / "main.yaml");
  REQUIRE_LOADS(r);
  const Plan& p = *r.plan;
  const PlanNode& server = at(p, "db/server");
  CHECK(server.grace == Millis(9000));
  CHECK(server.stop_signal == 2);  // from main, since db.yaml says nothing
  CHECK((server.env == EnvList{{"TOP", "1"}, {"ROLE", "db"}}));
  CHECK(server.cwd == dir / "lib/data");
  CHECK(at(p, "db/migrate").cwd == dir.path());  // inherited from the including node
  CHECK(at(p, "db/migrate").after == std::vector<NodeId>{server.id});
  CHECK(at(p, "app").after == std::vector<NodeId>{*p.find("db/migrate")});
  CHECK(at(p, "db").is_group());
  CHECK(server.pos.file == dir / "lib/db.yaml");
}

TEST_CASE("a problem in an included file points into that file", "[load][include]") {
  TempDir dir;
  dir.write("inc/part.yaml", "children:\n  - name: a\n    cmd: x\n    daemon: maybe\n");
  dir.write("main.yaml", "children:\n  - {name: p, include: inc/part.yaml}\n");
  auto r = load_plan(dir / "main.yaml");
  REQUIRE_PROBLEM(r, "`daemon` must be true or false, not `maybe`", 4, 13);
  CHECK(r.problems.front().pos.file == dir / "inc/part.yaml");
  // Named relative to the spec as the user gave it:
  char old[4096];
  REQUIRE(getcwd(old, sizeof old));
  REQUIRE(chdir(dir.path().c_str()) == 0);
  auto rel = load_plan("main.yaml");
  REQUIRE(chdir(old) == 0);
  REQUIRE(rel.problems.size() == 1);
  CHECK(rel.problems.front().str() == "inc/part.yaml:4:13: `daemon` must be true or false, not `maybe`");
}

TEST_CASE("a spec on standard input is named stdin and resolves against the cwd", "[load]") {
  TempDir dir;
  std::filesystem::create_directories(dir / "sub");
  auto r = load_plan_from_string("children: [{name: a, cmd: x, cwd: sub}]", "-", dir.path());
  REQUIRE_LOADS(r);
  CHECK(r.plan->name == "stdin");
  CHECK(r.plan->spec_file == "-");
  CHECK(at(*r.plan, "a").cwd == dir / "sub");
  auto bad = load_plan_from_string("children: [{name: a, cmd: x, dameon: true}]", "-", "/srv");
  REQUIRE(bad.problems.size() == 1);
  CHECK(bad.problems[0].str() == "-:1:30: unknown key `dameon` in a node (did you mean `daemon`?)");
}

TEST_CASE("load_plan reads a real file and names problems after it", "[load]") {
  TempDir dir;
  std::string path = dir.write("my-spec.yaml", "children:\n  - {name: a, cmd: x}\n");
  auto r = load_plan(path);
  REQUIRE_LOADS(r);
  CHECK(r.plan->name == "my-spec");
  CHECK(r.plan->spec_file == path);
  CHECK(at(*r.plan, "a").cwd == dir.path());
}

TEST_CASE("the example specs in configs/ load", "[load][configs]") {
  for (const char* f : {"configs/demo.yaml", "configs/pipeline.yaml", "configs/include/main.yaml"}) {
    auto r = load_plan(std::string(TREERUN_SOURCE_DIR) + "/" + f);
    INFO(f);
    REQUIRE_LOADS(r);
  }
}

TEST_CASE("x- keys hold anchors; << merges them; keys written win", "[load]") {
  auto r = load(R"(
x-service: &service
  daemon: true
  grace: 9s
  ready: {tcp: "127.0.0.1:80"}
children:
  - <<: *service
    name: web
    cmd: nginx
    grace: 1s
    x-note: ignored
  - {<<: [*service], name: api, cmd: api, after: [web, web]}
)");
  REQUIRE_LOADS(r);
  const PlanNode& web = at(*r.plan, "web");
  CHECK(web.daemon);
  CHECK(web.grace == Millis(1000));
  CHECK(web.ready.type == Probe::Type::tcp);
  const PlanNode& api = at(*r.plan, "api");
  CHECK(api.grace == Millis(9000));
  CHECK(api.after == std::vector<NodeId>{web.id});  // named twice, waited for once
  auto bad = load("x-a: &a {daemon: true, dameon: true}\nchildren:\n  - {<<: *a, name: w, cmd: x}\n");
  REQUIRE_PROBLEM(bad, "unknown key `dameon` in a node (did you mean `daemon`?)", 1, 24);
}
