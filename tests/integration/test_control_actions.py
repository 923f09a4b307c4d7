"""The control socket's commands that act on a run or follow it (treerun(1), A RUNNING
TREE; contract 6.2), end to end: stop, start, restart, signal, down, logs, events, and a
follower that never reads. They need the run's side of the socket (Target::act, logs,
events, console, on_end: branch h-run); until that is merged they are skipped.
"""

from __future__ import annotations

import json
import select
import os
import signal
import subprocess
import sys
import time

import pytest

from harness import children, daemon, find, group, node_lines, one, signal_counts, worker
from test_control import ask, sock, waiting_for_the_run




def counting(name: str, **settings: str) -> str:
    """A daemon NAME that counts the signals it gets in {T}/NAME.sig and touches
    {T}/NAME.up once it does, ready then."""
    return daemon(name, f'[{{H}}, count-signals, "{{T}}/{name}.sig", touch, "{{T}}/{name}.up", sleep, forever]',
                  f'{{file: "{{T}}/{name}.up"}}', **settings)


def test_stop_a_group_children_first_one_signal_each_dependents_untouched(tr):
    spec = tr.spec(children(group("g", counting("a"), counting("b")), counting("dep", after=["g"]), counting("o")))
    p = tr.start(["up", spec])
    p.wait_for(event="ready", node="dep")
    res = tr.run(["stop", "g"])
    assert res.code == 0, res.describe()
    assert "stopped g" in res.stderr
    evs = p.events()
    control = one(evs, event="control")
    assert (control["cmd"], control["nodes"], control["uid"]) == ("stop", ["g"], os.geteuid())
    for node in ("g/a", "g/b"):
        assert one(evs, event="exit", node=node)["outcome"] == "cancelled"
    counts = signal_counts(tr.path("a.sig")) + signal_counts(tr.path("b.sig"))
    assert sorted(n for (sig, _), n in counts.items()) == [1, 1]
    assert not find(evs, event="stop", node="dep") and not find(evs, event="stop", node="o")
    ps = {n["path"]: n for n in json.loads(tr.run(["ps", "--json"]).stdout)}
    assert ps["g/a"]["state"] == "stopped" and ps["dep"]["state"] == "ready"
    p.signal(signal.SIGINT)
    p.wait()


def test_start_after_stop_is_a_new_incarnation_with_its_probe(tr):
    spec = tr.spec(children(counting("d")))
    p = tr.start(["up", spec])
    first = p.wait_for(event="spawn", node="d")["pid"]
    p.wait_for(event="ready", node="d")
    assert tr.run(["stop", "d"]).code == 0
    tr.path("d.up").unlink()
    res = tr.run(["start", "d"])
    assert res.code == 0, res.describe()
    evs = p.events()
    spawns = find(evs, event="spawn", node="d")
    assert len(spawns) == 2 and spawns[1]["pid"] != first
    assert one(evs, event="restart", node="d")["cause"] == "control"
    assert len(find(evs, event="ready", node="d")) == 2  # it answered once ready again
    p.signal(signal.SIGINT)
    p.wait()


def test_restart_of_a_group_restarts_it_as_a_whole(tr):
    spec = tr.spec(children(group("g", counting("a"), counting("b"))))
    p = tr.start(["up", spec])
    p.wait_for(event="ready", node="g")
    res = tr.run(["restart", "g"])
    assert res.code == 0, res.describe()
    evs = p.events()
    for node in ("g/a", "g/b"):
        assert len(find(evs, event="spawn", node=node)) == 2
    p.signal(signal.SIGINT)
    p.wait()


def test_a_signal_that_kills_its_node_is_a_failure(tr):
    spec = tr.spec(children(daemon("d"), worker("w", '[{H}, sleep, forever]')))
    p = tr.start(["up", spec])
    p.wait_for(event="spawn", node="w")
    res = tr.run(["signal", "HUP", "w"])
    assert res.code == 0, res.describe()
    run = p.wait()
    assert run.code == 129, run.describe()
    assert one(run.events, event="control")["signal"] == "SIGHUP"
    assert one(run.events, event="exit", node="w")["outcome"] == "failed"


def test_down_shows_the_teardown_and_exits_with_the_runs_code(tr):
    spec = tr.spec(children(counting("d")))
    p = tr.start(["up", spec])
    p.wait_for(event="ready", node="d")
    other = tr.start(["wait", "-r", "spec"])
    waiting_for_the_run(other.pid)
    res = tr.run(["down"])
    assert res.code == 0, res.describe()
    assert "summary" in res.stderr
    run = p.wait()
    assert run.code == 0, run.describe()
    assert one(run.events, event="cancel", node="/")["cause"] == "down"
    assert other.wait().code == 0
    assert not sock(tr).exists()


def test_logs_last_lines_then_follow_until_the_run_ends(tr):
    # w ends the run only once d has written "four" (then touched `end`).
    spec = tr.spec(children(daemon("d", '[{H}, echo, one, echo, two, echo, three, wait-file, "{T}/go", '
                                        'echo, four, touch, "{T}/end", sleep, forever]', '{log: "^three$"}'),
                            worker("w", '[{H}, wait-file, "{T}/end", exit, "0"]')))
    p = tr.start(["up", spec])
    p.wait_for(event="ready", node="d")
    # The last 3 of the log stream's lines about d: its own two, and treerun's "ready".
    res = tr.run(["logs", "-n", "3", "d"])
    assert res.code == 0, res.describe()
    assert node_lines(res.stdout, "d") == ["two", "three"], res.describe()
    assert "ready" in res.stdout.splitlines()[-1], res.describe()
    follower = tr.start(["logs", "-f", "-n", "0", "-r", "spec", "d"])
    waiting_for_the_run(follower.pid)
    tr.path("go").touch()
    assert p.wait().code == 0
    out = follower.wait()
    assert out.code == 0, out.describe()
    assert node_lines(out.stdout, "d") == ["four"]


def test_events_from_the_start_and_followed_through_done(tr):
    spec = tr.spec(children(daemon("d"), worker("w", '[{H}, wait-file, "{T}/go", exit, "0"]')))
    p = tr.start(["up", spec])
    p.wait_for(event="spawn", node="w")
    follower = tr.start(["events", "-f", "-r", "spec"])
    waiting_for_the_run(follower.pid)
    tr.path("go").touch()
    run = p.wait()
    out = follower.wait()
    assert out.code == 0, out.describe()
    got = [json.loads(line) for line in out.stdout.splitlines()]
    assert got == run.events  # the same objects, in order, through done


def test_a_follower_under_sigstop_is_cut_off_and_the_run_loses_nothing(tr):
    n = 200_000
    spec = tr.spec(children(daemon("d"), worker("flood", f'[{{H}}, wait-file, "{{T}}/go", write-lines, "{n}", "100"]')))
    log = tr.path("log")
    p = tr.start(["up", spec, "--logs", str(log)])
    p.wait_for(event="spawn", node="flood")
    follower = tr.start(["logs", "-f", "-r", "spec", "flood"])
    waiting_for_the_run(follower.pid)
    os.kill(follower.pid, signal.SIGSTOP)
    t0 = time.monotonic()
    tr.path("go").touch()
    p.wait_for(event="exit", node="flood", timeout=60)
    took = time.monotonic() - t0
    os.kill(follower.pid, signal.SIGCONT)
    p.signal(signal.SIGINT)
    p.wait()
    assert len(node_lines(log.read_text(), "flood")) == n  # every line, in the run's log stream
    out = follower.wait()
    assert out.code == 1, out.describe()
    assert "cut off" in out.stderr
    assert took < 30


def test_an_action_is_answered_after_its_events_are_in_the_event_log(tr):
    # The loop writes a burst's events together, and a flood of lines makes its bursts
    # long: an answer must not overtake the events of what it answers.
    flood = daemon("flood", '[{H}, write-lines, "1000000000", "80"]')
    p = tr.start(["up", tr.spec(children(daemon("d"), flood)), "--logs", "none"])
    p.wait_for(event="ready", node="d")
    for n in range(1, 21):
        replies = ask(sock(tr), {"v": 1, "cmd": "restart", "nodes": ["d"]})
        assert replies[-1]["ok"], replies
        evs = p.events()
        assert len(find(evs, event="control")) == n and len(find(evs, event="ready", node="d")) == n + 1
    p.signal(signal.SIGINT)
    p.wait()


# A `logs -f` client that reads as fast as the socket gives (`cat > /dev/null` speed),
# into a file: connect, send the request, say "following" once the history has come
# (the run has answered: it follows), copy to EOF.
FULL_SPEED_FOLLOWER = """
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\\n")
told = False
with open(sys.argv[3], "wb") as out:
    while d := s.recv(1 << 20):
        out.write(d)
        if not told:
            print("following", flush=True)
            told = True
"""


@pytest.mark.parametrize("client", ["socket", "treerun"])
def test_a_follower_that_reads_at_full_speed_is_not_cut_off_by_a_burst(tr, client):
    # One pipe read of short lines (seq's: 256 KiB is 37 000 of them) becomes many times
    # its size in messages, made in one turn of the loop: the bound is on what the
    # follower leaves unread, not on what one turn made (it used to cut this one off).
    # The follower: a raw socket read to a file, or `treerun logs -f` into a file.
    gate = 'wait-file \\"{T}/go\\"'
    spec = tr.spec(children(daemon("d"),
                            worker("a", f'[sh, -c, "{{H}} {gate} && seq 300000"]'),
                            worker("bb", f'[sh, -c, "{{H}} {gate} && seq 200000"]')))
    p = tr.start(["up", spec, "--logs", "none"])
    p.wait_for(event="spawn", node="bb")
    got = tr.path("got")
    if client == "socket":
        request = json.dumps({"v": 1, "cmd": "logs", "nodes": ["a", "bb"], "lines": 1, "follow": True})
        follower = subprocess.Popen([sys.executable, "-c", FULL_SPEED_FOLLOWER, str(sock(tr)), request, str(got)],
                                    stdout=subprocess.PIPE, text=True)
        assert follower.stdout.readline() == "following\n"  # each node's last line: "started"
    else:
        follower = tr.start(["logs", "-f", "-n", "0", "-r", "spec", "a", "bb"], stdout=open(got, "w"))
        waiting_for_the_run(follower.pid)
    tr.path("go").touch()
    p.wait_for(event="exit", node="a", timeout=60)
    p.wait_for(event="exit", node="bb", timeout=60)
    p.signal(signal.SIGINT)
    p.wait()
    if client == "socket":
        assert follower.wait(timeout=30) == 0
        messages = [json.loads(line) for line in got.read_bytes().splitlines()]
        assert messages[-1].get("ok") is True, messages[-3:]  # the run's end, not cut off
        shown = "\n".join(m["line"] for m in messages[:-1])
    else:
        out = follower.wait()
        assert out.code == 0, out.describe()  # not cut off
        shown = got.read_text()
    assert node_lines(shown, "a") == [str(i) for i in range(1, 300_001)]
    assert node_lines(shown, "bb") == [str(i) for i in range(1, 200_001)]


def test_a_follower_into_a_pipe_sees_each_line_as_it_comes(tr):
    # A stdout that is not a terminal is fully buffered: `logs -f | grep ERR` used to show
    # nothing until 8 KiB of lines had come, or the run had ended.
    gate = 'wait-file \\"{T}/go\\"'
    spec = tr.spec(children(daemon("d", f'[sh, -c, "{{H}} {gate} && echo hello && exec sleep 1000"]')))
    p = tr.start(["up", spec, "--logs", "none"])
    p.wait_for(event="spawn", node="d")
    follower = tr.start(["logs", "-f", "-n", "0", "-r", "spec", "d"], stdout=subprocess.PIPE)
    waiting_for_the_run(follower.pid)
    tr.path("go").touch()
    ready, _, _ = select.select([follower.proc.stdout], [], [], 30)
    assert ready, "the follower printed nothing while the run went on"
    assert b"hello" in follower.proc.stdout.readline()
    assert p.proc.poll() is None  # the run is still going: this was no final flush
    p.signal(signal.SIGINT)
    p.wait()
    assert follower.wait().code == 0  # told of the run's end
