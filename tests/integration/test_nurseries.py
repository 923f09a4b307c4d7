"""§4.1: groups are nurseries."""

import signal
import time

import harness

from harness import find, one, signal_counts


def test_worker_after_daemon_starts_once_the_daemon_is_ready(tr):
    spec = tr.spec("""\
children:
  - name: db
    daemon: true
    cmd: [{H}, sleep, "0.2", touch, {T}/db-ready, sleep, forever]
    ready: {file: {T}/db-ready, interval: 20ms}
  - name: load
    after: [db]
    cmd: [/bin/sh, -c, "test -e {T}/db-ready"]
""")
    res = tr.up(spec)
    assert res.code == 0, res.describe()
    ready = one(res.events, event="ready", node="db")
    spawn = one(res.events, event="spawn", node="load")
    assert ready["t"] <= spawn["t"]


def test_group_done_tears_daemons_down_gracefully_as_cancelled(tr):
    spec = tr.spec("""\
children:
  - {name: d, daemon: true, cmd: [{H}, count-signals, {T}/d.sig, touch, {T}/d.up, sleep, forever]}
  - {name: w, cmd: [{H}, wait-file, {T}/d.up, exit, "0"]}
""")
    res = tr.up(spec)
    assert res.code == 0, res.describe()
    d = one(res.events, event="exit", node="d")
    assert d["outcome"] == "cancelled", res.describe()
    assert one(res.events, event="stop", node="d")["how"] == "SIGTERM"
    assert not find(res.events, event="kill")
    assert list(signal_counts(tr.path("d.sig")).values()) == [1]
    assert find(res.events, event="cancel", cause="done"), res.describe()


def test_group_of_only_daemons_runs_until_cancelled(tr):
    spec = tr.spec("""\
children:
  - {name: a, daemon: true, cmd: [{H}, sleep, forever]}
  - {name: b, daemon: true, cmd: [{H}, sleep, "0.3", touch, {T}/late, sleep, forever]}
""")
    p = tr.start(["up", spec])
    p.wait_for(event="ready", node="a")
    deadline = time.monotonic() + 10
    while not tr.path("late").exists():
        assert time.monotonic() < deadline and p.proc.poll() is None, p.events()
        time.sleep(0.01)
    assert p.proc.poll() is None, "a group with no workers ended on its own"
    assert not find(p.events(), event="exit")
    p.signal(15)
    res = p.wait(10)
    assert res.code == -15, res.describe()
    for node in ("a", "b"):
        assert one(res.events, event="exit", node=node)["outcome"] == "cancelled"


def test_node_children_start_after_it_is_ready_and_end_with_its_process(tr):
    # p becomes ready (file probe), c starts and lets p finish; p's exit cancels c.
    spec = tr.spec("""\
children:
  - name: p
    cmd: [{H}, touch, {T}/p-ready, wait-file, {T}/go]
    ready: {file: {T}/p-ready, interval: 20ms}
    children:
      - name: c
        daemon: true
        cmd: [{H}, count-signals, {T}/c.sig, touch, {T}/go, sleep, forever]
""")
    res = tr.up(spec)
    assert res.code == 0, res.describe()
    assert one(res.events, event="ready", node="p")["t"] <= \
        one(res.events, event="spawn", node="p/c")["t"]
    c = one(res.events, event="exit", node="p/c")
    assert c["outcome"] == "cancelled", res.describe()
    assert c["t"] >= one(res.events, event="exit", node="p")["t"]
    assert list(signal_counts(tr.path("c.sig")).values()) == [1]


def test_nested_group_done_lets_the_parent_carry_on(tr):
    spec = tr.spec("""\
children:
  - name: g
    children:
      - {name: d, daemon: true, cmd: [{H}, sleep, forever]}
      - {name: w, cmd: [{H}, exit, "0"]}
  - {name: after-g, after: [g], cmd: [{H}, exit, "0"]}
""")
    res = tr.up(spec)
    assert res.code == 0, res.describe()
    assert one(res.events, event="exit", node="g/d")["outcome"] == "cancelled"
    assert one(res.events, event="spawn", node="after-g")


def test_a_setup_step_does_not_end_a_dev_stack(tr):
    # db -> migrate -> api: the migration must succeed, but its end is not the stack's.
    spec = tr.spec("""\
children:
  - {name: db, daemon: true, cmd: [{H}, touch, {T}/db.up, sleep, forever]}
  - {name: migrate, after: [db], cmd: [{H}, exit, "0"]}
  - {name: api, daemon: true, after: [migrate], cmd: [{H}, touch, {T}/api.up, sleep, forever]}
""")
    tree = tr.run(["tree", str(spec)])
    assert "migrate  worker (setup step)" in harness.strip_ansi(tree.stdout), tree.describe()
    p = tr.start(["up", str(spec)])
    tr.wait_files("db.up", "api.up", proc=p)
    p.wait_for(event="exit", node="migrate")
    assert p.proc.poll() is None  # still up: nothing but a setup step has ended
    p.signal(signal.SIGINT)
    res = p.wait(15)
    assert res.code == -signal.SIGINT, res.describe()
    assert one(res.events, event="exit", node="api")["outcome"] == "cancelled"


def test_the_log_says_why_a_group_is_done(tr):
    spec = tr.spec("""\
children:
  - {name: server, daemon: true, cmd: [{H}, sleep, forever]}
  - {name: test, cmd: [{H}, exit, "0"]}
""")
    res = tr.up(spec, timeout=20)
    assert res.code == 0, res.describe()
    assert "done: its workers (test) are done; stopping what still runs" in res.stdout, res.describe()
