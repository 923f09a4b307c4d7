"""§8, the development loop, plan side: a part of the tree (`up SPEC NODE...`),
`${...}` variables and `--env-file`, replicas, and `import procfile`."""

from __future__ import annotations

import re
import signal

from harness import find, node_lines, one, parse_log, t_of

# A tree with a chain of `after` across groups, a pipeline and nodes nobody needs.
PART_SPEC = """\
children:
  - {name: db, daemon: true, cmd: [{H}, touch, {T}/db, sleep, forever]}
  - name: svc
    children:
      - {name: migrate, after: [/db], cmd: [{H}, touch, {T}/migrate]}
      - {name: api, after: [migrate], cmd: [{H}, touch, {T}/api]}
      - {name: lint, cmd: [{H}, touch, {T}/lint]}
  - name: pipeline
    children:
      - {name: produce, cmd: [{H}, write-lines, "250", "20"]}
      - {name: count, cmd: [wc, -l], stdin: produce}
  - {name: other, cmd: [{H}, touch, {T}/other]}
"""


def spawned(res) -> set[str]:
    return {e["node"] for e in find(res.events, event="spawn")}


# -- a part of the tree --------------------------------------------------------------


def test_up_named_node_runs_what_it_needs_through_after_and_its_groups_only(tr):
    res = tr.up(tr.spec(PART_SPEC), "svc/api", "--no-color")
    assert res.code == 0, res.describe()
    assert spawned(res) == {"db", "svc/migrate", "svc/api"}, res.describe()
    for left_out in ("lint", "other"):
        assert not tr.path(left_out).exists()
    # in order: db ready, then migrate, then api once migrate is done
    assert t_of(res.events, "spawn", "svc/migrate") >= t_of(res.events, "ready", "db")
    assert t_of(res.events, "spawn", "svc/api") >= t_of(res.events, "exit", "svc/migrate")
    summary = res.stdout[res.stdout.index("summary:"):]
    assert "svc/api" in summary and "lint" not in summary and "other" not in summary, summary
    assert "pipeline" not in summary, summary


def test_up_named_consumer_brings_its_producer(tr):
    res = tr.up(tr.spec(PART_SPEC), "pipeline/count", "--no-color")
    assert res.code == 0, res.describe()
    assert spawned(res) == {"pipeline/produce", "pipeline/count"}, res.describe()
    assert node_lines(res.stdout, "pipeline/count") == ["250"], res.describe()


def test_tree_with_nodes_shows_the_selection(tr):
    code, out, err, _ = tr.run(["tree", str(tr.spec(PART_SPEC)), "/svc/api"])
    assert code == 0, err
    assert re.search(r"^├─ db +daemon", out, re.M), out
    assert "migrate" in out and "api" in out
    for left_out in ("lint", "other", "pipeline"):
        assert left_out not in out, out


def test_unknown_node_is_125_with_a_did_you_mean_and_starts_nothing(tr):
    res = tr.up(tr.spec(PART_SPEC), "svc/api", "svc/apj")
    assert res.code == 125, res.describe()
    assert "no node `svc/apj`" in res.stderr and "(did you mean `svc/api`?)" in res.stderr, res.stderr
    assert "nothing was started" in res.stderr
    assert not find(res.events, event="spawn")
    assert not tr.path("db").exists()
    code, _, err, _ = tr.run(["tree", str(tr.path("spec.yaml")), "apii"])
    assert code == 125 and "(did you mean `svc/api`?)" in err, err


def test_words_that_are_no_spec_are_nodes_of_treerun_yaml(tr):
    tr.spec(PART_SPEC, name="treerun.yaml")
    res = tr.run(["up", "svc/migrate", "--no-color"])
    assert res.code == 0, res.describe()
    assert spawned(res) == {"db", "svc/migrate"}, res.describe()
    tr.path("treerun.yaml").unlink()
    res = tr.run(["up", "svc/migrate"])
    assert res.code == 125, res.describe()
    assert "no treerun.yaml" in res.stderr and "`svc/migrate` is no file" in res.stderr, res.stderr


# -- variables -----------------------------------------------------------------------


def test_variables_in_cmd_env_ready_and_paths(tr):
    tr.path("prod.env").write_text("MODE=prod\n")
    tr.path("work").mkdir()
    spec = tr.spec("""\
env_file: "${STAGE}.env"
env: {TRTEST_TAG: "{TAG}", GREETING: "hello ${WHO:-world}"}
children:
  - name: server
    daemon: true
    cwd: "${SUB}"
    env: {SEEN: "${MODE}/${GREETING}"}
    cmd: [{H}, print-env, SEEN, print-cwd, echo, "${GREETING}", echo, "$${NOT_A_VAR}", touch, up, sleep, forever]
    ready: {file: "${SUB}/up"}
  - name: logger
    after: [server]
    cmd: [{H}, echo, "to a file"]
    stdout: {file: "${SUB}/${TREERUN_NODE}.log"}
  - {name: shell, cmd: "echo \\"shell sees $GREETING ${UNSET_IN_SHELL}.\\""}
""")
    res = tr.up(spec, "--no-color", env={"STAGE": "prod", "SUB": "work"})
    assert res.code == 0, res.describe()
    lines = node_lines(res.stdout, "server")
    assert "SEEN=prod/hello world" in lines, res.describe()
    assert f"cwd {tr.path('work')}" in lines
    assert "hello world" in lines and "${NOT_A_VAR}" in lines
    assert find(res.events, event="ready", node="server")
    assert tr.path("work/logger.log").read_text() == "to a file\n"
    assert node_lines(res.stdout, "shell") == ["shell sees hello world ."], res.describe()


def test_tree_shows_values_after_expansion(tr):
    spec = tr.spec("""\
children:
  - {name: a, cmd: [{H}, echo, "port ${PORT:-8080}"], ready: {tcp: "${host:a}:${PORT:-8080}"}}
""")
    code, out, err, _ = tr.run(["tree", str(spec)], env={"PORT": "9090"})
    assert code == 0, err
    assert "echo 'port 9090'" in out and "ready: tcp localhost:9090" in out, out


def test_undefined_variable_is_a_check_error_at_its_dollar(tr):
    spec = tr.spec("""\
children:
  - name: a
    cmd: [{H}, echo, "--port=${PORT}"]
    env: {KEY: "${API_KEY:?set API_KEY to your key}"}
""")
    code, out, err, _ = tr.run(["check", str(spec)])
    assert code == 1, (out, err)
    col = 5 + len("cmd: [") + len(tr.H) + len(', echo, "--port=')
    assert f"{spec}:3:{col}: `PORT` is not set" in err, err
    assert f"{spec}:4:17: set API_KEY to your key (`API_KEY` is not set)" in err, err
    res = tr.up(spec)
    assert res.code == 125 and not find(res.events, event="spawn"), res.describe()
    code, _, err, _ = tr.run(["check", str(spec)], env={"PORT": "1", "API_KEY": "k"})
    assert code == 0, err


def test_env_file_on_the_command_line_sits_below_the_spec_and_later_wins(tr):
    tr.path("one.env").write_text("A=one\nB=one\nC=one\n")
    tr.path("two.env").write_text("B=two\n")
    spec = tr.spec("""\
env: {TRTEST_TAG: "{TAG}", C: spec}
children:
  - {name: a, cmd: [{H}, echo, "${A} ${B} ${C} ${D}", print-env, A, print-env, B]}
""")
    res = tr.up(spec, "--no-color", "--env-file", str(tr.path("one.env")), "--env-file", "two.env",
                env={"A": "outer", "D": "outer"})
    assert res.code == 0, res.describe()
    assert node_lines(res.stdout, "a") == ["one two spec outer", "A=one", "B=two"], res.describe()
    code, _, err, _ = tr.run(["check", str(spec), "--env-file", "missing.env"])
    assert code == 1 and "cannot read --env-file `missing.env`" in err, err


# -- replicas ------------------------------------------------------------------------


def test_replicas_get_their_index_and_after_waits_for_all(tr):
    spec = tr.spec("""\
children:
  - name: web
    replicas: 3
    daemon: true
    env: {NAME: "web-${TREERUN_REPLICA}-of-${TREERUN_REPLICAS}"}
    cmd: [{H}, sleep, "0.${TREERUN_REPLICA}", print-env, NAME, echo, up, sleep, forever]
    ready: {log: "^up$"}
  - {name: client, after: [web], cmd: [{H}, exit, "0"]}
""")
    res = tr.up(spec, "--no-color")
    assert res.code == 0, res.describe()
    for i in range(3):
        assert f"NAME=web-{i}-of-3" in node_lines(res.stdout, f"web/{i}"), res.describe()
    client = t_of(res.events, "spawn", "client")
    assert all(t_of(res.events, "ready", f"web/{i}") <= client for i in range(3)), res.describe()
    code, out, _, _ = tr.run(["tree", str(spec)])
    assert re.search(r"web +group +replicas: 3\n[│ ]+├─ 0 +daemon", out), out


def test_after_replicated_workers_waits_for_every_copy_to_finish(tr):
    spec = tr.spec("""\
children:
  - {name: batch, replicas: 2, cmd: [{H}, sleep, "0.${TREERUN_REPLICA}"]}
  - {name: report, after: [batch], cmd: [{H}, exit, "0"]}
""")
    res = tr.up(spec)
    assert res.code == 0, res.describe()
    report = t_of(res.events, "spawn", "report")
    assert all(t_of(res.events, "exit", f"batch/{i}") <= report for i in range(2)), res.describe()


def test_replicated_source_merges_line_by_line(tr):
    spec = tr.spec("""\
children:
  - name: gen
    replicas: 3
    cmd: [{H}, echo, "r${TREERUN_REPLICA} first", write-lines, "2000", "80", echo, "r${TREERUN_REPLICA} last"]
  - {name: sink, cmd: [{H}, cat], stdin: gen, stdout: {file: "{T}/merged"}}
""")
    res = tr.up(spec)
    assert res.code == 0, res.describe()
    lines = tr.path("merged").read_text().splitlines()
    assert len(lines) == 3 * 2002
    data = [line for line in lines if not line.startswith("r")]
    assert all(re.fullmatch(r"\d{8} [a-z]{71}", line) for line in data), "a line was cut or mixed"
    for i in range(3):
        mine = [n for n, line in enumerate(lines) if line.startswith(f"r{i} ")]
        assert [lines[n] for n in mine] == [f"r{i} first", f"r{i} last"], lines[:10]


def test_replicated_consumer_is_a_check_error(tr):
    spec = tr.spec("""\
children:
  - {name: src, cmd: [{H}, echo, x]}
  - {name: many, replicas: 2, cmd: [{H}, cat], stdin: src}
""")
    code, out, err, _ = tr.run(["check", str(spec)])
    assert code == 1, (out, err)
    assert f"{spec}:3:" in err and "a replicated node cannot read a stream" in err, err


def test_up_one_replica(tr):
    spec = tr.spec("children:\n  - {name: w, replicas: 3, cmd: [{H}, exit, \"0\"]}\n")
    res = tr.up(spec, "w/1")
    assert res.code == 0, res.describe()
    assert spawned(res) == {"w/1"}, res.describe()


# -- import procfile -----------------------------------------------------------------


def test_import_procfile_runs_end_to_end(tr):
    app = tr.path("app")
    app.mkdir()
    (app / "Procfile").write_text(f"""\
# the app's processes
web: {tr.H} print-env GREETING print-cwd echo web-up touch {tr.dir}/web-up sleep forever

worker:   {tr.H} print-env TRTEST_TAG echo "worker up" touch {tr.dir}/worker-up sleep forever
""")
    (app / ".env").write_text(f"GREETING=hi from dotenv\nTRTEST_TAG={tr.tag}\n")
    code, out, err, _ = tr.run(["import", "procfile", "app/Procfile"])
    assert code == 0, err
    assert out.startswith("# made by `treerun import procfile app/Procfile`"), out
    tr.path("treerun.yaml").write_text(out)
    code, _, err, _ = tr.run(["check"])
    assert code == 0, err
    p = tr.start(["up", "--no-color"])
    tr.wait_files("web-up", "worker-up", proc=p)  # each has printed its lines
    p.signal(signal.SIGINT)
    res = p.wait()
    assert res.code == -signal.SIGINT, res.describe()
    web = node_lines(res.stdout, "web")
    assert "GREETING=hi from dotenv" in web and f"cwd {app}" in web, res.describe()
    assert "worker up" in node_lines(res.stdout, "worker"), res.describe()
    assert {e["node"] for e in find(res.events, event="exit")} == {"web", "worker"}


def test_import_procfile_bad_line_is_file_line_col(tr):
    tr.path("Procfile").write_text("web: ok\n\nthis line has no colon\n")
    code, out, err, _ = tr.run(["import", "procfile", "Procfile"])
    assert code == 1 and out == "", (out, err)
    assert "Procfile:3:1: expected `name: command`" in err, err
    code, _, err, _ = tr.run(["import", "dockerfile", "Procfile"])
    assert code == 125, err
