"""How a node's command runs and where its output goes, and what `check` and `tree` tell
a tool (treerun(1), THE SPEC › cmd, stdout, stderr; COMMANDS › check, tree):

- a string `cmd` of plain words runs directly, as the shell would split it, with no
  /bin/sh between treerun and the program; one with shell syntax runs by `/bin/sh -c`
  (issue 14, item 3);
- `stdout` and `stderr` to one file share one open file description, as `>f 2>&1`, and
  `stderr: stdout` says so (issue 14, item 5);
- `check` refuses a consumer `after` its own producer (issue 15, item 8);
- `check --json` and `tree --json` (issue 14, item 10).
"""

import json

from harness import node_lines, one


def test_a_plain_string_cmd_runs_directly_so_yes_dies_of_sigpipe(tr):
    # With `/bin/sh -c yes`, dash forks yes and exits 141 when yes dies of SIGPIPE.
    # Run directly, yes itself dies of SIGPIPE: signal 13 in its exit event.
    spec = tr.spec("""\
children:
  - {name: src, cmd: "yes"}
  - {name: head, cmd: "head -n 1", stdin: src}
""")
    res = tr.up(spec, timeout=20)
    assert res.code == 0, res.describe()
    src = one(res.events, event="exit", node="src")
    assert src["signal"] == "SIGPIPE" and src["code"] is None, res.describe()
    assert src["outcome"] == "ok", res.describe()
    assert node_lines(res.stdout, "head") == ["y"], res.describe()

    tree = tr.run(["tree", str(spec)])
    assert tree.code == 0, tree.describe()
    assert "├─ src  worker  `yes`\n" in tree.stdout, tree.stdout
    assert "└─ head  worker  `head -n 1`  stdin: src\n" in tree.stdout, tree.stdout


def test_a_plain_string_cmd_is_the_program_itself_with_its_quotes_honoured(tr):
    # The process treerun spawned is the program (no shell in between), and its words
    # are what the shell would have made of the quotes and backslashes.
    spec = tr.spec("""\
children:
  - {name: n, cmd: '{H} print-pgid echo ''a  b'' echo "c\\"d" echo e\\ f'}
""")
    res = tr.up(spec)
    assert res.code == 0, res.describe()
    lines = node_lines(res.stdout, "n")
    assert lines[1:] == ["a  b", 'c"d', "e f"], res.describe()
    printed_pid = int(lines[0].split()[1])
    assert printed_pid == one(res.events, event="spawn", node="n")["pid"], res.describe()


def test_a_string_cmd_with_shell_syntax_still_runs_by_the_shell(tr):
    # A pipe and a variable are the shell's, and `tree` says so. (Its exit 141 after its
    # command died of SIGPIPE while feeding a stream is test_outcomes.py's.)
    spec = tr.spec("""\
children:
  - {name: shout, cmd: "echo $TREERUN_NODE | tr a-z A-Z"}
  - {name: quiet, cmd: "{H} echo hidden > {T}/hidden.txt"}
""")
    res = tr.up(spec)
    assert res.code == 0, res.describe()
    assert node_lines(res.stdout, "shout") == ["SHOUT"], res.describe()
    assert node_lines(res.stdout, "quiet") == [], res.describe()
    assert tr.path("hidden.txt").read_text() == "hidden\n"

    tree = tr.run(["tree", str(spec)])
    assert "├─ shout  worker  `sh -c 'echo $TREERUN_NODE | tr a-z A-Z'`\n" in tree.stdout, tree.stdout
    assert "└─ quiet  worker  `sh -c " in tree.stdout, tree.stdout


def interleaved(pairs: int) -> str:
    """A trhelper argv (YAML flow list) that writes out-N to stdout and err-N to stderr,
    alternately, each line its own write."""
    words = []
    for i in range(pairs):
        words += ["echo", f"out-{i}", "echo-err", f"err-{i}"]
    return "[{H}, " + ", ".join(words) + "]"


def expected_lines(pairs: int) -> list[str]:
    return [line for i in range(pairs) for line in (f"out-{i}", f"err-{i}")]


def test_stdout_and_stderr_to_the_same_file_lose_no_line(tr):
    # Two descriptions of one file each keep their own offset, and overwrite each
    # other's lines; one description (as `>f 2>&1`) keeps them all, in order.
    spec = tr.spec(f"""\
children:
  - name: both
    cmd: {interleaved(200)}
    stdout: {{file: both.log}}
    stderr: {{file: ./both.log}}
  - name: merged
    cmd: {interleaved(200)}
    stdout: {{file: merged.log, append: true}}
    stderr: stdout
""")
    tr.path("merged.log").write_text("before\n")
    res = tr.up(spec)
    assert res.code == 0, res.describe()
    assert tr.path("both.log").read_text().splitlines() == expected_lines(200)
    assert tr.path("merged.log").read_text().splitlines() == ["before"] + expected_lines(200)


def test_stderr_stdout_follows_stdout_to_the_log_and_into_a_stream(tr):
    spec = tr.spec(f"""\
children:
  - {{name: logged, cmd: {interleaved(3)}, stderr: stdout}}
  - {{name: src, cmd: {interleaved(3)}, stderr: stdout}}
  - {{name: sink, cmd: [cat], stdin: src}}
""")
    res = tr.up(spec)
    assert res.code == 0, res.describe()
    assert node_lines(res.stdout, "logged") == expected_lines(3), res.describe()
    assert node_lines(res.stdout, "src") == [], res.describe()
    assert node_lines(res.stdout, "sink") == expected_lines(3), res.describe()


def test_check_validates_stderr_stdout(tr):
    spec = tr.spec("""\
children:
  - {name: a, cmd: x, stderr: stdout}
  - {name: b, cmd: x, stdin: "a:stderr"}
  - {name: c, cmd: x, stdout: stderr}
""")
    res = tr.run(["check", str(spec)])
    assert res.code == 1, res.describe()
    assert (f"{spec}:2:31: `a`'s stderr goes to its stdout (`stderr: stdout`), so it cannot also feed `b`"
            in res.stderr), res.describe()
    assert (f"{spec}:4:31: `stdout` must be log, inherit, null or {{file: PATH}}, not `stderr` "
            "(to send stderr where stdout goes, write `stderr: stdout`)" in res.stderr), res.describe()


def test_check_refuses_a_consumer_after_its_own_producer(tr):
    # c would start only once p is done, and p blocks once the pipe to c is full: a hang
    # as soon as p writes more than the buffers hold.
    spec = tr.spec("""\
children:
  - {name: p, cmd: [{H}, write-bytes, "50000000"]}
  - {name: c, cmd: [{H}, checksum-stdin], stdin: p, after: [p]}
""")
    res = tr.run(["check", str(spec)])
    assert res.code == 1, res.describe()
    assert f"{spec}:3:" in res.stderr and "deadlock: c -> p -> c (`c` is after `p`; `p` writes into " \
        "`c`'s stdin" in res.stderr, res.describe()
    up = tr.up(spec, timeout=20)
    assert up.code == 125, up.describe()
    assert "nothing was started" in up.stderr, up.describe()
    assert not up.events, up.describe()


def test_a_script_without_a_shebang_runs_by_the_shell_as_execvp_does(tr):
    script = tr.path("noshebang")
    script.write_text('echo "hello from $1"\n')
    script.chmod(0o755)
    spec = tr.spec(f"""\
children:
  - {{name: a, cmd: "{script} there"}}
""")
    res = tr.up(spec, timeout=20)
    assert res.code == 0, res.describe()
    assert "hello from there" in res.stdout, res.describe()


def test_check_json_says_ok_or_lists_each_problem(tr):
    good = tr.spec("children:\n  - {name: a, cmd: \"true\"}\n", name="good.yaml")
    res = tr.run(["check", "--json", str(good)])
    assert res.code == 0, res.describe()
    assert json.loads(res.stdout) == {"ok": True, "problems": []}, res.describe()
    assert res.stderr == "", res.describe()

    bad = tr.spec("children:\n  - {name: a, cmd: x, after: [b]}\n  - {name: a, cmd: x}\n", name="bad.yaml")
    res = tr.run(["check", "--json", str(bad)])
    assert res.code == 1, res.describe()
    answer = json.loads(res.stdout)
    assert answer["ok"] is False
    assert len(answer["problems"]) >= 2, res.describe()
    for p in answer["problems"]:
        assert set(p) == {"file", "line", "col", "message"}, p
        assert p["file"] == str(bad) and isinstance(p["line"], int) and isinstance(p["col"], int), p

    res = tr.run(["check", "--json", str(tr.path("missing.yaml"))])
    assert res.code == 1, res.describe()
    answer = json.loads(res.stdout)
    assert answer["ok"] is False and answer["problems"][0]["file"].endswith("missing.yaml"), res.describe()


def test_tree_json_prints_the_plan(tr):
    spec = tr.spec("""\
children:
  - {name: db, daemon: true, cmd: [{H}, sleep, forever], ready: {file: "{T}/up"}}
  - name: pipe
    after: [db]
    children:
      - {name: src, cmd: "yes"}
      - {name: head, cmd: "head -n 1 | cat", stdin: src, stderr: stdout}
""")
    res = tr.run(["tree", "--json", str(spec)])
    assert res.code == 0, res.describe()
    plan = json.loads(res.stdout)
    nodes = {n["path"]: n for n in plan["nodes"]}
    assert list(nodes) == ["db", "pipe", "pipe/src", "pipe/head"]
    assert nodes["db"]["kind"] == "daemon" and nodes["pipe"]["kind"] == "group"
    assert nodes["pipe/src"]["kind"] == "worker"
    assert nodes["pipe/src"]["cmd"] == ["yes"]
    assert nodes["pipe/head"]["cmd"] == "head -n 1 | cat"  # a string: the shell's
    assert nodes["db"]["ready"]["type"] == "file"
    assert nodes["pipe"]["after"] == [{"path": "db", "waits_for": "ready"}]
    assert nodes["db"]["stop_sequence"] == [{"signal": "SIGTERM", "wait": 3.0}, {"signal": "SIGKILL"}]
    assert nodes["pipe/head"]["stderr"] == "stdout"
    assert plan["streams"] == [
        {"source": "pipe/src", "consumers": ["pipe/head"], "carrier": "pipe", "log": False}]
    assert plan["start_order"][0] == "db"
