"""§5 the event log, and what every process gets: environment, fds, signal state."""

import re

from harness import find, node_lines, one


def _fields(text: str, node: str, key: str) -> str:
    for line in node_lines(text, node):
        m = re.search(rf"\b{key} (\S+)", line)
        if m:
            return m.group(1)
    raise AssertionError(f"no '{key}' line from {node}:\n{text}")


def test_event_fields_and_order(tr):
    spec = tr.spec("""\
children:
  - {name: d, daemon: true, cmd: [{H}, count-signals, {T}/sig, touch, {T}/d.up, sleep, forever]}
  - name: g
    children:
      - {name: w, cmd: [{H}, wait-file, {T}/d.up, exit, "0"]}
""")
    res = tr.up(spec)
    assert res.code == 0, res.describe()
    ev = res.events
    ts = [e["t"] for e in ev]
    assert all(isinstance(t, (int, float)) for t in ts)
    assert ts == sorted(ts), "t is monotonic"
    assert ev[-1]["event"] == "done" and ev[-1]["code"] == 0
    assert isinstance(ev[-1]["duration"], (int, float)) and ev[-1]["duration"] >= 0

    for node in ("d", "g/w"):
        spawn = one(ev, event="spawn", node=node)
        assert isinstance(spawn["pid"], int) and spawn["pgid"] == spawn["pid"], spawn
        exit_ = one(ev, event="exit", node=node)
        assert exit_["pid"] == spawn["pid"]
        assert exit_["t"] >= spawn["t"]
    w = one(ev, event="exit", node="g/w")
    assert (w["code"], w["signal"], w["outcome"]) == (0, None, "ok")
    d = one(ev, event="exit", node="d")
    assert d["outcome"] == "cancelled" and (d["code"] is None) != (d["signal"] is None)
    assert one(ev, event="ready", node="d")["t"] >= one(ev, event="spawn", node="d")["t"]
    assert one(ev, event="stop", node="d")["how"] == "SIGTERM"
    assert find(ev, event="cancel", cause="done")
    known = {"spawn", "ready", "stop", "kill", "exit", "cancel", "lag", "restart", "done"}
    assert {e["event"] for e in ev} <= known


def test_cancel_event_names_the_failing_node(tr):
    spec = tr.spec("""\
children:
  - name: g
    children:
      - {name: bad, cmd: [{H}, exit, "9"]}
""")
    res = tr.up(spec)
    assert res.code == 9, res.describe()
    cancels = find(res.events, event="cancel", cause="failure")
    assert cancels and all(c["by"] == "g/bad" for c in cancels), res.describe()
    assert all(not c["node"].startswith("/") or c["node"] == "/" for c in cancels)
    ex = one(res.events, event="exit", node="g/bad")
    assert (ex["code"], ex["signal"], ex["outcome"]) == (9, None, "failed")


def test_every_process_gets_treerun_node_and_run_id(tr):
    spec = tr.spec("""\
children:
  - {name: top, cmd: [{H}, print-env, TREERUN_NODE, print-env, TREERUN_RUN_ID]}
  - name: pipeline
    children:
      - {name: keep, cmd: [{H}, print-env, TREERUN_NODE, print-env, TREERUN_RUN_ID]}
""")
    res = tr.up(spec)
    assert res.code == 0, res.describe()
    top = node_lines(res.stdout, "top")
    keep = node_lines(res.stdout, "pipeline/keep")
    assert "TREERUN_NODE=top" in top, res.describe()
    assert "TREERUN_NODE=pipeline/keep" in keep, res.describe()
    ids = {line for line in top + keep if line.startswith("TREERUN_RUN_ID=")}
    assert len(ids) == 1 and list(ids)[0] != "TREERUN_RUN_ID=", ids
    res2 = tr.up(spec)
    ids2 = {line for line in node_lines(res2.stdout, "top") if line.startswith("TREERUN_RUN_ID=")}
    assert ids2 and ids2 != ids, "the run id is unique per run"


def test_spec_env_reaches_the_process(tr):
    spec = tr.spec("""\
env: {TRTEST_TAG: {TAG}, GREETING: hello}
children:
  - {name: a, env: {LOCAL: here}, cmd: [{H}, print-env, GREETING, print-env, LOCAL]}
""")
    res = tr.up(spec)
    assert res.code == 0, res.describe()
    lines = node_lines(res.stdout, "a")
    assert "GREETING=hello" in lines and "LOCAL=here" in lines, res.describe()


def test_child_has_only_fds_0_1_2_and_stdin_is_dev_null(tr):
    spec = tr.spec("""\
children:
  - {name: a, cmd: [{H}, print-fds]}
""")
    res = tr.up(spec)
    assert res.code == 0, res.describe()
    fds = {}
    for line in node_lines(res.stdout, "a"):
        m = re.match(r"fd (\d+) -> (.*)", line)
        if m:
            fds[int(m.group(1))] = m.group(2)
    assert sorted(fds) == [0, 1, 2], fds
    assert fds[0] == "/dev/null", fds


def test_child_signal_mask_is_empty_and_nothing_is_ignored(tr):
    spec = tr.spec("""\
children:
  - {name: a, cmd: [{H}, print-sigmask]}
""")
    res = tr.up(spec)
    assert res.code == 0, res.describe()
    lines = node_lines(res.stdout, "a")
    blk = [line for line in lines if line.startswith("SigBlk:")]
    ign = [line for line in lines if line.startswith("SigIgn:")]
    assert blk and set(blk[0].split()[1]) == {"0"}, lines
    assert ign and set(ign[0].split()[1]) == {"0"}, lines


def test_each_process_leads_its_own_process_group(tr):
    spec = tr.spec("""\
children:
  - {name: a, cmd: [{H}, print-pgid]}
  - {name: b, cmd: [/bin/sh, -c, "{H} print-pgid"]}
""")
    res = tr.up(spec)
    assert res.code == 0, res.describe()
    for node in ("a", "b"):
        pgid = int(_fields(res.stdout, node, "pgid"))
        spawn = one(res.events, event="spawn", node=node)
        assert pgid == spawn["pid"] == spawn["pgid"], (node, pgid, spawn)
