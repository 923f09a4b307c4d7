"""Regression tests, each named after a problem the chaos test found (issue 9)."""

from __future__ import annotations

from harness import find, one


def test_daemon_with_worker_children_does_not_make_its_parents_wait(tr):
    # chaos seeds 101/125: the root counted the daemon as a worker and never finished.
    spec = tr.spec("""\
children:
  - {name: d, daemon: true, cmd: [{H}, sleep, forever], children: [{name: w, cmd: [{H}, exit, "0"]}]}
  - {name: x, cmd: [{H}, exit, "0"]}
""")
    res = tr.up(spec, timeout=20)
    assert res.code == 0, res.describe()
    assert one(res.events, event="exit", node="d")["outcome"] == "cancelled"


def test_after_a_group_stops_the_groups_processes_after_the_dependent(tr):
    # chaos: g/a was stopped while b (after: [g]) was still running.
    spec = tr.spec("""\
children:
  - name: g
    children:
      - {name: a, daemon: true, cmd: [{H}, sleep, forever]}
  - {name: b, daemon: true, after: [g], grace: 500ms, cmd: [{H}, stubborn, count-signals, {T}/sig, sleep, forever]}
  - {name: w, cmd: [{H}, sleep, "0.1", exit, "0"]}
""")
    res = tr.up(spec, timeout=20)
    assert res.code == 0, res.describe()
    b_exit = one(res.events, event="exit", node="b")
    a_stop = one(res.events, event="stop", node="g/a")
    assert a_stop["t"] >= b_exit["t"], res.describe()


def test_cancel_cascade_marks_every_dependent_before_any_stop(tr):
    # chaos seed 78 (ASan): a pending dependent finishing inside the cascade sent its
    # target's stop before the target's group's dependents were marked.
    spec = tr.spec("""\
children:
  - name: g1
    children:
      - name: d
        daemon: true
        cmd: [{H}, sleep, forever]
        children:
          - {name: p, cmd: [{H}, touch, {T}/p.up, sleep, forever]}
          - {name: s, daemon: true, after: [p], cmd: [{H}, sleep, forever]}
  - name: g9
    after: [g1]
    children:
      - {name: w, grace: 500ms, cmd: [{H}, stubborn, count-signals, {T}/sig, touch, {T}/w.up, sleep, forever]}
""")
    p = tr.start(["up", str(spec)])
    tr.wait_files("p.up", "w.up", proc=p)
    p.signal(2)
    res = p.wait(20)
    w_exit = one(res.events, event="exit", node="g9/w")
    p_stop = one(res.events, event="stop", node="g1/d/p")
    assert p_stop["t"] >= w_exit["t"], res.describe()


def test_restarted_group_gets_fresh_streams(tr):
    # chaos seed 10034: after a group restart its consumers read EOF at once (0 bytes).
    spec = tr.spec("""\
children:
  - name: g
    on_failure: restart
    restart: {max: 1, within: 60s, backoff: 50ms}
    children:
      - {name: p, cmd: [{H}, write-bytes, "100000", exit, "0"]}
      - {name: c, cmd: "{H} checksum-stdin >> {T}/sums; test -e {T}/second || { touch {T}/second; exit 3; }", stdin: p}
""")
    res = tr.up(spec, timeout=20)
    assert res.code == 0, res.describe()
    assert len(find(res.events, event="restart", node="g")) == 1, res.describe()
    sums = tr.path("sums").read_text().splitlines()
    assert len(sums) == 2 and sums[0] == sums[1] and sums[0].startswith("bytes 100000 "), sums


def test_after_a_node_inside_a_group_that_never_starts_does_not_hang(tr):
    # chaos seed 24437: g never started (its dependency failed), so g/inner stayed
    # pending for ever, and so did `late`, which waited for it: the run never ended.
    spec = tr.spec("""\
children:
  - {name: dep, cmd: [{H}, exit, "1"], on_failure: ignore}
  - name: g
    after: [dep]
    children:
      - {name: inner, daemon: true, cmd: [{H}, sleep, forever]}
  - {name: late, cmd: [{H}, exit, "0"], after: ["/g/inner"]}
""")
    res = tr.up(spec, timeout=20)
    assert res.code == 0, res.describe()
    assert not find(res.events, event="spawn", node="g/inner")
    assert not find(res.events, event="spawn", node="late")


def test_a_node_killed_while_its_nursery_is_torn_down_is_not_restarted(tr):
    # chaos seed 40600: g is done and cancelled; d waits for its dependent s (stubborn,
    # in its grace) before its own stop. d, killed from outside meanwhile, was restarted
    # under on_failure: restart, and the new incarnation was never stopped: a hang.
    spec = tr.spec("""\
children:
  - name: g
    children:
      - {name: d, daemon: true, on_failure: restart, cmd: [{H}, pidfile, "{T}/d.pid", sleep, forever]}
      - {name: s, daemon: true, after: [d], grace: 1s, cmd: [{H}, stubborn, count-signals, "{T}/sig", touch, "{T}/s.up", sleep, forever]}
      - {name: w, after: [s], cmd: [{H}, wait-file, "{T}/d.pid", wait-file, "{T}/s.up", exit, "0"]}
""")
    p = tr.start(["up", spec])
    p.wait_for(event="stop", node="g/s", timeout=10)
    import os, signal
    os.kill(int(tr.path("d.pid").read_text()), signal.SIGKILL)
    res = p.wait(10)
    assert not find(res.events, event="restart"), res.describe()
    assert len(find(res.events, event="spawn", node="g/d")) == 1, res.describe()
    d_exit = one(res.events, event="exit", node="g/d")
    assert (d_exit["signal"], d_exit["outcome"]) == ("SIGKILL", "failed"), res.describe()
    assert res.code == 137, res.describe()  # its death is still the run's first failure


def test_what_a_dead_leader_left_behind_is_stopped_after_its_dependents(tr):
    # chaos seed 51652: o's stop waited for its dependent g; o's leader was SIGKILLed
    # from outside meanwhile, and what it had left in its group was stopped at once,
    # before g's stubborn process was gone.
    spec = tr.spec("""\
children:
  - {name: o, daemon: true, cmd: [{H}, pidfile, "{T}/o.pid", fork-orphan, forever, touch, "{T}/o.up", sleep, forever]}
  - name: g
    after: [o]
    children:
      - {name: s, daemon: true, grace: 600ms, cmd: [{H}, stubborn, count-signals, "{T}/sig", touch, "{T}/s.up", sleep, forever]}
  - {name: w, after: [g], cmd: [{H}, wait-file, "{T}/o.up", wait-file, "{T}/s.up", exit, "5"]}
""")
    p = tr.start(["up", spec])
    p.wait_for(event="stop", node="g/s", timeout=10)
    import os, signal
    os.kill(int(tr.path("o.pid").read_text()), signal.SIGKILL)
    res = p.wait(10)
    assert res.code == 5, res.describe()
    o_stop = one(res.events, event="stop", node="o")
    assert o_stop["t"] >= one(res.events, event="exit", node="g/s")["t"], res.describe()


def test_the_run_timeout_does_not_strike_a_run_already_tearing_down(tr):
    # chaos seed 52164: the workers were done and the daemons being stopped (one in its
    # grace) when the run's timeout came: the run ended 124 instead of 0.
    spec = tr.spec("""\
timeout: 400ms
children:
  - {name: s, daemon: true, grace: 1s, cmd: [{H}, stubborn, count-signals, "{T}/sig", touch, "{T}/s.up", sleep, forever]}
  - {name: w, cmd: [{H}, wait-file, "{T}/s.up", exit, "0"]}
""")
    res = tr.up(spec, timeout=10)
    assert res.code == 0, res.describe()
    assert [e["cause"] for e in find(res.events, event="cancel", node="/")] == ["done"], res.describe()
    assert one(res.events, event="exit", node="s")["outcome"] == "killed"


def test_a_node_that_fails_restarts_and_succeeds_is_reported_ok(tr):
    # architecture-review §2.8, 2: after a restart that succeeded, the summary still said
    # `w  failed  exit 0` and listed `w: exit 3` under failures: (the old failure reason
    # survived the restart), though the event log said ok and the run exited 0.
    import re
    spec = tr.spec("""\
children:
  - name: w
    on_failure: restart
    restart: {max: 3, within: 60s, backoff: 50ms}
    cmd: "if [ -f cnt ]; then exit 0; else touch cnt; exit 3; fi"
""")
    res = tr.up(spec, timeout=20)
    assert res.code == 0, res.describe()
    exits = find(res.events, event="exit", node="w")
    assert [(e["code"], e["outcome"]) for e in exits] == [(3, "failed"), (0, "ok")], res.describe()
    assert len(find(res.events, event="restart", node="w")) == 1, res.describe()
    from harness import strip_ansi
    out = strip_ansi(res.stdout)
    assert re.search(r"^  w +ok +exit 0 ", out, re.M), res.describe()
    assert "failures:" not in out, res.describe()
    assert re.search(r"^exit code 0 after \d+\.\d\ds$", out, re.M), res.describe()


def test_tree_and_the_run_agree_on_after_a_daemon_with_worker_children(tr):
    # architecture-review §2.8, 1: for x after d, a daemon whose child w is a worker,
    # `tree` printed `x  (after d done)` while the run started x once d was ready. Here
    # the root's only worker is x, so the run ends by itself once x has run.
    from harness import strip_ansi
    spec = tr.spec("""\
timeout: 10s
children:
  - name: d
    daemon: true
    cmd: "sleep 100"
    children:
      - {name: w, cmd: "true"}
  - {name: x, after: [d], cmd: "echo x"}
""")
    tree = tr.run(["tree", str(spec)], timeout=10)
    assert tree.code == 0, tree.describe()
    lines = [line.strip() for line in strip_ansi(tree.stdout).splitlines()]
    assert "3. x  (after d ready)" in lines, tree.describe()
    res = tr.up(spec, timeout=20)
    assert res.code == 0, res.describe()
    evs = res.events
    x_spawn = evs.index(one(evs, event="spawn", node="x"))
    d_exit = one(evs, event="exit", node="d")
    assert x_spawn < evs.index(d_exit), res.describe()
    assert x_spawn < evs.index(one(evs, event="stop", node="d")), res.describe()
    assert d_exit["outcome"] == "cancelled", res.describe()
    assert one(evs, event="exit", node="x")["outcome"] == "ok", res.describe()
