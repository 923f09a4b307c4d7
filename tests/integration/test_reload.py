"""§8 Reload, end to end: `treerun reload` re-reads the run's spec (its includes too) and
applies only the difference: removed nodes stopped, added ones started, changed ones
restarted with their dependents (`restart` events with cause `reload`), the rest left
alone (same pid). A spec with problems changes nothing and exits 1. Every wait is on the
event log."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess

import pytest

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
    """ctrl-c: treerun says exit code 130 and dies by SIGINT, as a shell's child would."""
    p.signal(signal.SIGINT)
    res = p.wait()
    assert res.code == -signal.SIGINT, res.describe()
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
    assert "restarted: api web" in res.stdout, res.describe()
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
    assert "reload, asked on the control socket" in r.stdout  # the log stream


def test_a_second_reload_without_an_edit_does_nothing(tr):
    p = up(tr, BASE)
    p.wait_for(event="ready", node="web")
    res = reload(tr, BASE.replace("sleep, forever]\n    ready: {log: \"^up$\"}\n    env", "sleep, forever, x]\n    ready: {log: \"^up$\"}\n    env"))
    assert res.code == 0 and "restarted: api web" in res.stdout, res.describe()
    again = reload(tr)
    assert again.code == 0 and again.stdout.strip() == "nothing changed", again.describe()
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
    assert "stopped: other" in res.stdout and "started: cache" in res.stdout, res.describe()
    assert ready_count(p, "cache") == 1
    assert one(p.events(), event="exit", pid=other)["outcome"] == "cancelled"
    ps = tr.run(["ps", "--json"])
    import json
    paths = [n["path"] for n in json.loads(ps.stdout)]
    assert paths == ["db", "api", "web", "cache"], ps.describe()
    for n in ("db", "api", "web"):
        assert len(spawned(p, n)) == 1
    # a name removed and added again is a new node
    back = reload(tr, BASE)
    assert "started: other" in back.stdout and "stopped: cache" in back.stdout, back.describe()
    p.wait_for(lambda e: len(spawned(p, "other")) == 2, event="spawn", node="other")
    r = end(p)
    assert "other" in r.stdout and "cache" not in r.stdout.split("summary:")[-1], r.describe()


def test_a_spec_with_problems_changes_nothing(tr):
    p = up(tr, BASE)
    p.wait_for(event="ready", node="web")
    res = reload(tr, BASE.replace("after: [db]", "after: [nope]"))
    assert res.code == 1, res.describe()
    assert "spec.yaml:" in res.stderr and "nope" in res.stderr and "nothing changed" in res.stderr, res.describe()
    r = end(p)
    assert not find(r.events, event="restart")
    assert one(r.events, event="control", cmd="reload")["nodes"] == []
    assert all(len(find(r.events, event="spawn", node=n)) == 1 for n in ("db", "api", "web", "other"))


def test_an_edited_include_is_read_again(tr):
    def api(version: str) -> str:
        return ("children:\n  - name: api\n    daemon: true\n    cmd: [{H}, echo, up, sleep, forever]\n"
                f"    ready: {{log: \"^up$\"}}\n    env: {{V: \"{version}\"}}\n")
    tr.spec(api("1"), name="api.yaml", tag=False)
    text = "children:\n  - {name: svc, include: api.yaml}\n  - {name: other, daemon: true, cmd: [{H}, sleep, forever]}\n"
    p = tr.start(["up", str(tr.spec(text)), "--no-color"])
    p.wait_for(event="ready", node="svc/api")
    p.wait_for(event="spawn", node="other")
    tr.spec(api("2"), name="api.yaml", tag=False)
    res = tr.run(["reload"])
    assert res.code == 0 and "restarted: svc/api" in res.stdout, res.describe()
    assert len(spawned(p, "svc/api")) == 2 and len(spawned(p, "other")) == 1
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
    assert res.code == 1 and "stream" in res.stderr, res.describe()
    # a new stream is refused as well
    res = reload(tr, text + "  - {name: tap, daemon: true, cmd: [{H}, cat], stdin: src}\n")
    assert res.code == 1 and "stream" in res.stderr, res.describe()
    r = end(p)
    assert not find(r.events, event="restart") and not find(r.events, event="spawn", node="tap")


def test_a_reload_past_the_descriptor_limit_is_refused_and_nothing_changes(tr):
    """An added node's log pipe counts against RLIMIT_NOFILE beside what runs now: a
    reload past it is refused with the numbers, as `up` refuses such a tree, not failed
    at its Nth spawn. The run's limit is lowered while it runs (prlimit --pid)."""
    if not shutil.which("prlimit"):
        pytest.skip("needs prlimit (util-linux)")
    p = up(tr, BASE)
    limit = len(os.listdir(f"/proc/{p.pid}/fd")) + 40  # room for the reserve (32) and a few nodes
    subprocess.run(["prlimit", f"--pid={p.pid}", f"--nofile={limit}:{limit}"], check=True)

    def more(n):
        return "".join(f"  - {{name: x{i}, daemon: true, cmd: [{{H}}, sleep, forever]}}\n" for i in range(n))

    res = reload(tr, BASE + more(20))
    assert res.code == 1, res.describe()
    assert "the 20 nodes it adds need" in res.stderr and f"limit of {limit} (RLIMIT_NOFILE" in res.stderr, \
        res.describe()
    res = reload(tr, BASE + more(3))  # these fit
    assert res.code == 0, res.describe()
    p.wait_for(event="spawn", node="x2")
    r = end(p)
    assert not find(r.events, event="spawn", node="x3")
    assert not find(r.events, event="restart")


def test_a_spec_from_stdin_cannot_be_reloaded(tr):
    with open(tr.spec(BASE)) as spec:  # a file as its stdin: read before the run starts
        p = tr.start(["up", "-", "--no-color"], stdin=spec)
        p.wait_for(event="ready", node="web")
    res = tr.run(["reload"])
    assert res.code == 1 and "standard input" in res.stderr, res.describe()
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


def churn_spec(i: int) -> str:
    """Round I of the churn: probes that keep polling (never edited), a chatty node and
    its dependent edited each round, and one node named after the round (the last one
    removed, a new one added)."""
    return f"""\
children:
  - name: exec_probe
    daemon: true
    cmd: [{{H}}, sleep, forever]
    ready: {{exec: "test -f {{T}}/never", timeout: 60s, interval: 10ms}}
  - name: log_probe
    daemon: true
    cmd: [{{H}}, write-lines, "2000", "40", sleep, forever]
    ready: {{log: "^never$", timeout: 60s}}
  - name: chatty
    daemon: true
    cmd: [{{H}}, write-lines, "2000", "40", sleep, forever]
    env: {{ROUND: "{i}"}}
  - name: follower
    daemon: true
    after: [chatty]
    cmd: [{{H}}, write-lines, "2000", "40", sleep, forever]
  - name: extra{i}
    daemon: true
    cmd: [{{H}}, write-lines, "200", "40", echo, up, sleep, forever]
    ready: {{log: "^up$"}}
"""


def test_reloads_while_probes_poll_and_nodes_log(tr):
    """Each reload moves the supervisor's node table (an added node grows it) and swaps
    the plan in force while probes poll, readers read and a `logs -f` follows: none of
    them may hold a reference into the old ones (the sanitized build checks it)."""
    out = tr.path("up.out").open("wb")
    p = tr.start(["up", str(tr.spec(churn_spec(0))), "--no-color"], stdout=out)
    p.wait_for(event="ready", node="extra0")
    p.wait_for(event="ready", node="follower")
    follow = tr.path("follow.out").open("wb")
    import subprocess
    logs = subprocess.Popen([tr.bin, "logs", "-f", "-n", "0"], env=tr.env(), stdout=follow,
                            stderr=subprocess.STDOUT)
    rounds = 12
    for i in range(1, rounds):
        res = reload(tr, churn_spec(i))
        assert res.code == 0, res.describe()
        assert f"stopped: extra{i - 1}" in res.stdout and f"started: extra{i}" in res.stdout, res.describe()
        assert "restarted: chatty follower" in res.stdout, res.describe()
    ps = tr.run(["ps", "--json"])
    import json
    assert [n["path"] for n in json.loads(ps.stdout)] == ["exec_probe", "log_probe", "chatty", "follower",
                                                      f"extra{rounds - 1}"], ps.describe()
    r = end(p)
    logs.wait(timeout=30)
    assert "internal error" not in r.stderr, r.describe()
    evs = r.events
    # the probes were never restarted: one spawn each, still polling at the end
    assert len(find(evs, event="spawn", node="exec_probe")) == 1
    assert len(find(evs, event="spawn", node="log_probe")) == 1
    assert len(find(evs, event="spawn", node="chatty")) == rounds
    assert len(find(evs, event="ready", node=f"extra{rounds - 1}")) == 1
    # The follower is here as load: a slow one (a sanitized client) is cut off 4 MiB
    # behind the chatty node, by design. That it sees the nodes a reload adds is
    # test_a_follower_of_every_nodes_logs_sees_the_nodes_a_reload_adds's.


def test_a_follower_of_every_nodes_logs_sees_the_nodes_a_reload_adds(tr):
    """`logs -f` of every node follows the nodes added after it began, past the first 64
    log sources (a bitmap's first word)."""
    text = "children:\n  - {name: first, daemon: true, cmd: [{H}, echo, up, sleep, forever], ready: {log: \"^up$\"}}\n"
    out = tr.path("up.out").open("wb")
    p = tr.start(["up", str(tr.spec(text)), "--no-color"], stdout=out)
    p.wait_for(event="ready", node="first")
    follow = tr.path("follow.out").open("wb")
    import subprocess
    logs = subprocess.Popen([tr.bin, "logs", "-f"], env=tr.env(), stdout=follow, stderr=subprocess.STDOUT)
    added = "".join(f"  - {{name: n{k}, daemon: true, cmd: [{{H}}, echo, hello-{k}, echo, up, sleep, forever], "
                    f"ready: {{log: \"^up$\"}}}}\n" for k in range(80))
    res = reload(tr, text + added)
    assert res.code == 0 and "started: n0 " in res.stdout, res.describe()
    end(p)
    logs.wait(timeout=30)
    followed = tr.path("follow.out").read_text(errors="replace")
    for k in (0, 63, 79):
        assert f"hello-{k}" in followed, followed[-3000:]


# BASE with `api` replicated (`web` is after it, `db` before it).
REPLICATED = BASE.replace("    after: [db]\n", "    after: [db]\n    replicas: 2\n", 1)
assert REPLICATED != BASE


def up_replicated(tr):
    p = tr.start(["up", str(tr.spec(REPLICATED)), "--no-color"])
    p.wait_for(event="ready", node="web")
    return p


def test_a_changed_replicated_node_restarts_every_copy_and_what_waits_for_the_group(tr):
    # chaos (devloop mixed/reload families): the copies restarted, `web` (after the group
    # `api`) kept running against the copies it had waited for.
    p = up_replicated(tr)
    other = spawned(p, "other")
    res = reload(tr, REPLICATED.replace('VERSION: "1"', 'VERSION: "2"'))
    assert res.code == 0, res.describe()
    restarted = res.stdout.split("restarted:")[-1].split()
    assert sorted(restarted) == ["api/0", "api/1", "web"], res.describe()
    assert spawned(p, "other") == other
    r = end(p)
    evs = r.events
    web_exit = find(evs, event="exit", node="web")[0]["t"]
    for copy in ("api/0", "api/1"):
        assert web_exit <= find(evs, event="stop", node=copy)[0]["t"], r.describe()
        assert find(evs, event="ready", node=copy)[1]["t"] <= find(evs, event="spawn", node="web")[1]["t"]


def test_a_change_to_a_scaled_node_starts_or_stops_the_difference_and_restarts_the_rest(tr):
    # Replicas: each copy has TREERUN_REPLICAS, so the kept copies take the new count.
    p = up_replicated(tr)
    res = reload(tr, REPLICATED.replace("replicas: 2", "replicas: 3"))
    assert res.code == 0, res.describe()
    assert "started: api/2" in res.stdout and "restarted: api web" in res.stdout, res.describe()
    res = reload(tr, REPLICATED.replace("replicas: 2", "replicas: 1"))
    assert "stopped: api/1 api/2" in res.stdout and "restarted: api web" in res.stdout, res.describe()
    assert len(spawned(p, "api/0")) == 3 and len(spawned(p, "other")) == 1
    end(p)
