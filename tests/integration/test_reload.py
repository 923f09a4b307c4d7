"""§8 Reload, end to end: `treerun reload` re-reads the run's spec (its includes too) and
applies only the difference: removed nodes stopped, added ones started, changed ones
restarted with their dependents (`restart` events with cause `reload`), the rest left
alone (same pid). A spec with problems changes nothing and exits 1. Every wait is on the
event log."""

from __future__ import annotations

import signal

from harness import find, one

BASE = """\
children:
  - name: db
    daemon: true
    cmd: [{H}, echo, up, sleep, forever]
    ready: {log: "^up$"}
  - name: api
    daemon: true
    after: [db]
    cmd: [{H}, echo, up, sleep, forever]
    ready: {log: "^up$"}
    env: {VERSION: "1"}
  - name: web
    daemon: true
    after: [api]
    cmd: [{H}, echo, up, sleep, forever]
    ready: {log: "^up$"}
  - {name: other, daemon: true, cmd: [{H}, sleep, forever]}
"""


def spawned(p, node: str) -> list[int]:
    return [e["pid"] for e in find(p.events(), event="spawn", node=node)]


def ready_count(p, node: str) -> int:
    return len(find(p.events(), event="ready", node=node))


def up(tr, text: str):
    spec = tr.spec(text)
    p = tr.start(["up", str(spec), "--no-color"])
    for node in ("db", "api", "web", "other"):
        if f"name: {node}" in text:
            p.wait_for(event="spawn", node=node)
    return p


def end(p):
    p.signal(signal.SIGINT)
    res = p.wait()
    assert res.code == 130, res.describe()
    return res


def reload(tr, text: str | None = None):
    if text is not None:
        tr.spec(text)
    return tr.run(["reload"])


def test_a_changed_node_restarts_with_its_dependents_and_nothing_else(tr):
    p = up(tr, BASE)
    p.wait_for(event="ready", node="web")
    before = {n: spawned(p, n)[0] for n in ("db", "api", "web", "other")}
    res = reload(tr, BASE.replace('VERSION: "1"', 'VERSION: "2"'))
    assert res.code == 0, res.describe()
    assert "restarted: api web" in res.out, res.describe()
    # it answers once the restart has taken effect: both are up again
    assert len(spawned(p, "api")) == 2 and ready_count(p, "web") == 2
    for n in ("db", "other"):
        assert spawned(p, n) == [before[n]]
    r = end(p)
    evs = r.events
    assert {e["node"]: e["cause"] for e in find(evs, event="restart")} == {"api": "reload", "web": "reload"}
    control = one(evs, event="control", cmd="reload")
    assert control["nodes"] == ["api", "web"], r.describe()
    # web (the dependent) stops first and starts after api is ready again
    exits = {e["pid"]: e["t"] for e in find(evs, event="exit")}
    assert exits[before["web"]] <= find(evs, event="stop", node="api")[0]["t"]
    assert find(evs, event="ready", node="api")[1]["t"] <= find(evs, event="spawn", node="web")[1]["t"]
    assert "reload, asked on the control socket" in r.err


def test_a_second_reload_without_an_edit_does_nothing(tr):
    p = up(tr, BASE)
    p.wait_for(event="ready", node="web")
    res = reload(tr, BASE.replace("sleep, forever]\n    ready: {log: \"^up$\"}\n    env", "sleep, forever, x]\n    ready: {log: \"^up$\"}\n    env"))
    assert res.code == 0 and "restarted: api web" in res.out, res.describe()
    again = reload(tr)
    assert again.code == 0 and again.out.strip() == "nothing changed", again.describe()
    r = end(p)
    assert len(find(r.events, event="restart")) == 2
    assert [e["nodes"] for e in find(r.events, event="control", cmd="reload")] == [["api", "web"], []]


def test_removed_nodes_stop_added_ones_start_and_are_gone_from_ps(tr):
    p = up(tr, BASE)
    p.wait_for(event="ready", node="web")
    other = spawned(p, "other")[0]
    text = BASE.replace("  - {name: other, daemon: true, cmd: [{H}, sleep, forever]}\n",
                        "  - name: cache\n    daemon: true\n    after: [db]\n"
                        "    cmd: [{H}, echo, up, sleep, forever]\n    ready: {log: \"^up$\"}\n")
    res = reload(tr, text)
    assert res.code == 0, res.describe()
    assert "stopped: other" in res.out and "started: cache" in res.out, res.describe()
    assert ready_count(p, "cache") == 1
    assert one(p.events(), event="exit", pid=other)["outcome"] == "cancelled"
    ps = tr.run(["ps", "--json"])
    import json
    paths = [n["path"] for n in json.loads(ps.out)]
    assert paths == ["db", "api", "web", "cache"], ps.describe()
    for n in ("db", "api", "web"):
        assert len(spawned(p, n)) == 1
    # a name removed and added again is a new node
    back = reload(tr, BASE)
    assert "started: other" in back.out and "stopped: cache" in back.out, back.describe()
    p.wait_for(lambda e: len(spawned(p, "other")) == 2, event="spawn", node="other")
    r = end(p)
    assert "other" in r.err and "cache" not in r.err.split("summary:")[-1], r.describe()


def test_a_spec_with_problems_changes_nothing(tr):
    p = up(tr, BASE)
    p.wait_for(event="ready", node="web")
    res = reload(tr, BASE.replace("after: [db]", "after: [nope]"))
    assert res.code == 1, res.describe()
    assert "spec.yaml:" in res.err and "nope" in res.err and "nothing changed" in res.err, res.describe()
    r = end(p)
    assert not find(r.events, event="restart")
    assert one(r.events, event="control", cmd="reload")["nodes"] == []
    assert all(len(find(r.events, event="spawn", node=n)) == 1 for n in ("db", "api", "web", "other"))


def test_an_edited_include_is_read_again(tr):
    tr.spec("name: api\ndaemon: true\ncmd: [{H}, echo, up, sleep, forever]\nready: {log: \"^up$\"}\n"
            "env: {V: \"1\"}\n", name="api.yaml", tag=False)
    text = "children:\n  - {include: api.yaml}\n  - {name: other, daemon: true, cmd: [{H}, sleep, forever]}\n"
    p = tr.start(["up", str(tr.spec(text)), "--no-color"])
    p.wait_for(event="ready", node="api")
    p.wait_for(event="spawn", node="other")
    tr.spec("name: api\ndaemon: true\ncmd: [{H}, echo, up, sleep, forever]\nready: {log: \"^up$\"}\n"
            "env: {V: \"2\"}\n", name="api.yaml", tag=False)
    res = tr.run(["reload"])
    assert res.code == 0 and "restarted: api" in res.out, res.describe()
    assert len(spawned(p, "api")) == 2 and len(spawned(p, "other")) == 1
    end(p)


def test_a_changed_consumer_on_a_pipe_is_refused_and_nothing_changes(tr):
    text = """\
children:
  - {name: src, daemon: true, cmd: [{H}, echo, up, sleep, forever]}
  - {name: sink, daemon: true, cmd: [{H}, cat], stdin: src, env: {V: "1"}}
"""
    p = tr.start(["up", str(tr.spec(text)), "--no-color"])
    p.wait_for(event="spawn", node="sink")
    p.wait_for(event="spawn", node="src")
    res = reload(tr, text.replace('V: "1"', 'V: "2"'))
    assert res.code == 1 and "stream" in res.err, res.describe()
    # a new stream is refused as well
    res = reload(tr, text + "  - {name: tap, daemon: true, cmd: [{H}, cat], stdin: src}\n")
    assert res.code == 1 and "stream" in res.err, res.describe()
    r = end(p)
    assert not find(r.events, event="restart") and not find(r.events, event="spawn", node="tap")


def test_a_spec_from_stdin_cannot_be_reloaded(tr):
    p = tr.start(["up", "-", "--no-color"], stdin=tr.spec(BASE).read_bytes())
    p.wait_for(event="ready", node="web")
    res = tr.run(["reload"])
    assert res.code == 1 and "standard input" in res.err, res.describe()
    end(p)


def test_reloads_asked_together_run_one_after_the_other(tr):
    p = up(tr, BASE)
    p.wait_for(event="ready", node="web")
    tr.spec(BASE.replace('VERSION: "1"', 'VERSION: "2"'))
    import subprocess
    procs = [subprocess.Popen([tr.bin, "reload"], env=tr.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    outs = [pr.communicate(timeout=30) for pr in procs]
    assert all(pr.returncode == 0 for pr in procs), outs
    texts = sorted(o[0].decode().strip() for o in outs)
    # the first applies the edit; the second, begun once it is over, finds nothing new
    assert texts[0] == "nothing changed" and "restarted: api web" in texts[1], outs
    r = end(p)
    assert len(find(r.events, event="restart", node="api")) == 1
