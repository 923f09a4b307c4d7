"""§4.3: graceful cancel, then reap."""

import re

import pytest

from harness import find, one, signal_counts, wait_gone


@pytest.mark.backends
def test_every_process_gets_exactly_one_stop_signal(tr):
    # Three daemons at the root, two in a nested group, one with a child in its process
    # group: a group-wide signal per level or per sibling would show up as duplicates.
    spec = tr.spec("""\
children:
  - {name: a, daemon: true, cmd: [{H}, count-signals, {T}/sig, touch, {T}/a.up, sleep, forever]}
  - {name: b, daemon: true, cmd: [{H}, count-signals, {T}/sig, touch, {T}/b.up, sleep, forever]}
  - name: c
    daemon: true
    cmd: [{H}, count-signals, {T}/sig, fork-child, forever, touch, {T}/c.up, sleep, forever]
  - name: g
    children:
      - {name: x, daemon: true, cmd: [{H}, count-signals, {T}/sig, touch, {T}/x.up, sleep, forever]}
      - {name: y, daemon: true, cmd: [{H}, count-signals, {T}/sig, touch, {T}/y.up, sleep, forever]}
  - name: w
    cmd: [{H}, wait-file, {T}/a.up, wait-file, {T}/b.up, wait-file, {T}/c.up,
          wait-file, {T}/x.up, wait-file, {T}/y.up, exit, "0"]
""")
    res = tr.up(spec)
    assert res.code == 0, res.describe()
    counts = signal_counts(tr.path("sig"))
    assert len(counts) == 6, counts  # 5 daemons + c's child, each one line
    assert all(n == 1 for n in counts.values()), counts
    assert {name for name, _ in counts} == {"SIGTERM"}


@pytest.mark.backends
def test_stubborn_process_is_killed_after_grace(tr):
    spec = tr.spec("""\
children:
  - name: d
    daemon: true
    grace: 300ms
    cmd: [{H}, count-signals, {T}/d.sig, stubborn, touch, {T}/d.up, sleep, forever]
  - {name: w, cmd: [{H}, wait-file, {T}/d.up, exit, "0"]}
""")
    res = tr.up(spec, timeout=15)
    assert res.code == 0, res.describe()
    assert one(res.events, event="kill", node="d")
    d = one(res.events, event="exit", node="d")
    assert d["outcome"] == "killed" and d["signal"] == "SIGKILL", res.describe()
    assert list(signal_counts(tr.path("d.sig")).values()) == [1]
    stop_t = one(res.events, event="stop", node="d")["t"]
    kill_t = one(res.events, event="kill", node="d")["t"]
    assert 0.2 <= kill_t - stop_t < 3, (stop_t, kill_t)


@pytest.mark.backends
def test_stop_command_is_used_instead_of_the_signal(tr):
    spec = tr.spec("""\
children:
  - name: d
    daemon: true
    stop: "kill -USR1 $(cat {T}/d.pid)"
    cmd: [{H}, count-signals, {T}/d.sig, pidfile, {T}/d.pid, sleep, forever]
  - {name: w, cmd: [{H}, wait-file, {T}/d.pid, exit, "0"]}
""")
    res = tr.up(spec, timeout=15)
    assert res.code == 0, res.describe()
    assert one(res.events, event="stop", node="d")["how"] == "command"
    assert [name for name, _ in signal_counts(tr.path("d.sig"))] == ["SIGUSR1"]
    assert one(res.events, event="exit", node="d")["outcome"] == "cancelled"


@pytest.mark.backends
def test_children_stop_before_parents(tr):
    spec = tr.spec("""\
children:
  - name: p
    daemon: true
    cmd: [{H}, count-signals, {T}/p.sig, sleep, forever]
    children:
      - name: c
        daemon: true
        cmd: [{H}, count-signals, {T}/c.sig, touch, {T}/c.up, sleep, forever]
  - {name: w, cmd: [{H}, wait-file, {T}/c.up, exit, "0"]}
""")
    res = tr.up(spec)
    assert res.code == 0, res.describe()
    c_exit = one(res.events, event="exit", node="p/c")["t"]
    p_stop = one(res.events, event="stop", node="p")["t"]
    assert c_exit <= p_stop, res.describe()


@pytest.mark.backends
def test_dependents_stop_before_their_dependencies(tr):
    spec = tr.spec("""\
children:
  - {name: db, daemon: true, cmd: [{H}, count-signals, {T}/db.sig, sleep, forever]}
  - name: api
    daemon: true
    after: [db]
    cmd: [{H}, count-signals, {T}/api.sig, touch, {T}/api.up, sleep, forever]
  - {name: w, cmd: [{H}, wait-file, {T}/api.up, exit, "0"]}
""")
    res = tr.up(spec)
    assert res.code == 0, res.describe()
    api_exit = one(res.events, event="exit", node="api")["t"]
    db_stop = one(res.events, event="stop", node="db")["t"]
    assert api_exit <= db_stop, res.describe()


@pytest.mark.backends
def test_deep_tree_of_cooperative_daemons_stops_in_well_under_one_grace(tr):
    def level(depth: int, indent: str) -> str:
        lines = []
        for i in range(3):
            lines.append(f"{indent}- {{name: d{i}, daemon: true, "
                         f"cmd: [{{H}}, count-signals, {{T}}/sig, sleep, forever]}}")
        if depth < 3:
            lines.append(f"{indent}- name: g{depth + 1}")
            lines.append(f"{indent}  children:")
            lines.append(level(depth + 1, indent + "    "))
        return "\n".join(lines)

    spec = tr.spec(f"grace: 5s\nchildren:\n  - name: g1\n    children:\n"
                   f"{level(1, '      ')}\n"
                   f"  - {{name: w, after: [g1], cmd: [{{H}}, exit, \"0\"]}}\n")
    res = tr.up(spec, timeout=30)
    assert res.code == 0, res.describe()
    exits = find(res.events, lambda e: e["node"] != "w", event="exit")
    assert len(exits) == 9 and all(e["outcome"] == "cancelled" for e in exits), res.describe()
    teardown_start = min(e["t"] for e in find(res.events, event="stop"))
    done = one(res.events, event="done")
    assert done["t"] - teardown_start < 3.0, res.describe()
    assert all(n == 1 for n in signal_counts(tr.path("sig")).values())


def _orphan_pids(text: str) -> list[int]:
    return [int(p) for p in re.findall(r"orphan (\d+)", text)]


def test_orphans_of_a_daemon_are_gone_after_the_run(tr):
    spec = tr.spec("""\
children:
  - name: d
    daemon: true
    cmd: [{H}, fork-orphan, forever, fork-orphan-setsid, forever, touch, {T}/d.up, sleep, forever]
  - {name: w, cmd: [{H}, wait-file, {T}/d.up, exit, "0"]}
""")
    res = tr.up(spec, timeout=20)
    assert res.code == 0, res.describe()
    pids = _orphan_pids(res.stdout + res.stderr)
    assert len(pids) == 2, res.describe()
    for pid in pids:
        assert wait_gone(pid, 1.0), f"orphan {pid} outlived the run"


def test_setsid_orphan_of_a_finished_worker_is_gone_after_the_run(tr):
    spec = tr.spec("""\
children:
  - {name: w, cmd: [{H}, fork-orphan-setsid, forever, exit, "0"]}
""")
    res = tr.up(spec, timeout=20)
    assert res.code == 0, res.describe()
    pids = _orphan_pids(res.stdout + res.stderr)
    assert len(pids) == 1, res.describe()
    assert wait_gone(pids[0], 1.0), f"orphan {pids[0]} outlived the run"


@pytest.mark.backends
def test_stop_to_a_process_that_already_exited_is_not_an_error(tr):
    # `quick` exits 0 in the same instant its sibling's failure cancels the group.
    spec = tr.spec("""\
children:
  - {name: quick, cmd: [{H}, exit, "0"]}
  - {name: bad, cmd: [{H}, exit, "2"]}
""")
    res = tr.up(spec)
    assert res.code == 2, res.describe()
    assert one(res.events, event="exit", node="quick")["outcome"] in ("ok", "cancelled")
    assert one(res.events, event="done")["code"] == 2
