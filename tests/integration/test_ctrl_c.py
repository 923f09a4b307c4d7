"""§4.4: one ctrl-c, a second ctrl-c, and treerun killed outright."""

import os
import signal
import time

from harness import one, signal_counts, wait_gone


def test_one_ctrl_c_stops_everything_gracefully_and_treerun_dies_by_sigint(tr):
    spec = tr.spec("""\
children:
  - {name: a, daemon: true, cmd: [{H}, count-signals, {T}/sig, touch, {T}/a.up, sleep, forever]}
  - name: g
    children:
      - {name: b, daemon: true, cmd: [{H}, count-signals, {T}/sig, touch, {T}/b.up, sleep, forever]}
      - {name: c, cmd: [{H}, count-signals, {T}/sig, touch, {T}/c.up, sleep, forever]}
""")
    s = tr.pty(["up", str(spec)])
    tr.wait_files("a.up", "b.up", "c.up")
    s.send(b"\x03")
    s.expect(r"(?i)graceful")
    s.expect(r"(?i)(second|again|another)")
    status = s.wait(15)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT, (status, s.text)
    counts = signal_counts(tr.path("sig"))
    assert len(counts) == 3 and all(n == 1 for n in counts.values()), counts
    events = s.waiter.events()
    assert one(events, event="cancel", cause="sigint")
    assert one(events, event="done")["code"] == 130


def test_second_ctrl_c_kills_stubborn_processes_at_once(tr):
    spec = tr.spec("""\
grace: 30s
children:
  - name: d
    daemon: true
    cmd: [{H}, count-signals, {T}/sig, stubborn, touch, {T}/d.up, sleep, forever]
""")
    s = tr.pty(["up", str(spec)])
    tr.wait_files("d.up")
    s.send(b"\x03")
    s.waiter.wait_for(event="stop", node="d")
    # The helper has handled the SIGTERM (not just been sent it) before the second ^C.
    deadline = time.monotonic() + 10
    while not signal_counts(tr.path("sig")):
        assert time.monotonic() < deadline, "the stop signal never arrived"
        time.sleep(0.01)
    s.send(b"\x03")
    status = s.wait(10)  # far below the 30 s grace
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT, (status, s.text)
    events = s.waiter.events()
    assert one(events, event="kill", node="d")
    assert one(events, event="exit", node="d")["outcome"] == "killed"
    assert list(signal_counts(tr.path("sig")).values()) == [1]


def test_sigint_from_kill_behaves_like_ctrl_c(tr):
    spec = tr.spec("""\
children:
  - {name: d, daemon: true, cmd: [{H}, count-signals, {T}/sig, touch, {T}/d.up, sleep, forever]}
""")
    p = tr.start(["up", spec])
    tr.wait_files("d.up", proc=p)
    p.signal(signal.SIGINT)
    res = p.wait(15)
    assert res.code == -signal.SIGINT, res.describe()
    assert list(signal_counts(tr.path("sig")).values()) == [1]


def test_children_die_when_treerun_is_killed(tr):
    spec = tr.spec("""\
children:
  - {name: d, daemon: true, cmd: [{H}, pidfile, {T}/d.pid, sleep, forever]}
  - {name: s, daemon: true, cmd: [{H}, ignore, TERM, ignore, HUP, pidfile, {T}/s.pid, sleep, forever]}
  - name: g
    children:
      - {name: w, cmd: [{H}, pidfile, {T}/w.pid, sleep, forever]}
""")
    p = tr.start(["up", spec])
    tr.wait_files("d.pid", "s.pid", "w.pid", proc=p)
    pids = [int(tr.path(f).read_text()) for f in ("d.pid", "s.pid", "w.pid")]
    p.signal(signal.SIGKILL)
    p.wait(5)
    for pid in pids:
        assert wait_gone(pid, 5.0), f"pid {pid} outlived a SIGKILLed treerun"
    # Its control socket is left; the next `treerun ls` removes it (the leak check's).
    assert tr.run(["ls"]).code == 0
