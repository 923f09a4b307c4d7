"""Never hang, never skip the graceful stop: repeated signals and a large start-up."""

import signal
import time

from harness import find, one, pid_alive, signal_counts, wait_gone


def wait_for_text(path, pattern: str, proc, timeout: float = 10.0) -> None:
    """Waits until the log file holds PATTERN (treerun writes it as an event)."""
    deadline = time.monotonic() + timeout
    while not (path.exists() and pattern in path.read_text(errors="replace")):
        assert proc.proc.poll() is None, "treerun exited before writing: " + pattern
        assert time.monotonic() < deadline, f"never logged: {pattern}"
        time.sleep(0.01)


STUBBORN_DAEMON = """\
grace: 30s
children:
  - name: d
    daemon: true
    cmd: [{H}, count-signals, {T}/sig, stubborn, touch, {T}/d.up, wait-file, {T}/release, exit, "0"]
"""


def stubborn_daemon_sigtermed(tr):
    """A run whose daemon outlives its stop signal, SIGTERMed and stopping."""
    spec = tr.spec(STUBBORN_DAEMON)
    log = tr.path("log")
    p = tr.start(["up", str(spec), "--logs", str(log)])
    tr.wait_files("d.up", proc=p)
    p.signal(signal.SIGTERM)
    p.wait_for(event="stop", node="d")
    return p, log


def test_a_second_sigterm_does_not_force(tr):
    p, log = stubborn_daemon_sigtermed(tr)
    p.signal(signal.SIGTERM)
    wait_for_text(log, "SIGTERM: already stopping gracefully (two SIGINTs force)", p)
    p.signal(signal.SIGHUP)  # a closing terminal: no force either
    wait_for_text(log, "SIGHUP: already stopping", p)
    tr.path("release").touch()
    res = p.wait(20)
    assert res.code == -signal.SIGTERM, res.describe()
    assert not find(res.events, event="kill"), res.describe()
    assert one(res.events, event="exit", node="d")["outcome"] == "cancelled"
    assert list(signal_counts(tr.path("sig")).values()) == [1]
    assert "SIGTERM: stopping gracefully (two SIGINTs force)" in log.read_text()


def test_sigint_after_sigterm_is_the_first_sigint_and_the_next_one_forces(tr):
    p, log = stubborn_daemon_sigtermed(tr)
    p.signal(signal.SIGINT)
    wait_for_text(log, "SIGINT: already stopping gracefully (SIGINT again to force)", p)
    assert not find(p.events(), event="kill")
    p.signal(signal.SIGINT)  # the second SIGINT forces
    res = p.wait(10)  # far below the 30 s grace
    assert res.code == -signal.SIGTERM, res.describe()  # dies by the first signal
    assert one(res.events, event="kill", node="d")
    assert one(res.events, event="exit", node="d")["outcome"] == "killed"


def test_a_ctrl_c_during_a_large_start_stops_the_spawns(tr):
    # 1500 sleepers start in batches; a SIGINT that comes after the first spawn is heard
    # at once: nothing is spawned after the cancel, and most were never started.
    n = 1500
    children = "\n".join(f"  - {{name: s{i}, daemon: true, cmd: [{{H}}, sleep, forever]}}" for i in range(n))
    spec = tr.spec("children:\n" + children + "\n")
    p = tr.start(["up", str(spec), "--logs", "none", "--quiet"])
    p.wait_for(event="spawn", timeout=30)
    p.signal(signal.SIGINT)
    res = p.wait(60)
    assert res.code == -signal.SIGINT, res.describe()
    events = res.events
    cancel_at = next(i for i, e in enumerate(events) if e["event"] == "cancel")
    assert not find(events[cancel_at:], event="spawn"), "spawned after the cancel"
    spawned = len(find(events, event="spawn"))
    assert 0 < spawned < n, spawned
    assert len(find(events, event="exit")) == spawned


def test_nothing_survives_kill_9_not_even_what_left_its_group(tr):
    # A setsid grandchild left its node's process group while its parent lived: the
    # guardian finds it by the run's TREERUN_RUN_ID in its environment.
    spec = tr.spec("""\
children:
  - {name: d, daemon: true, cmd: [{H}, fork-orphan-setsid, "100", touch, {T}/d.up, sleep, forever]}
""")
    log = tr.path("log")
    p = tr.start(["up", str(spec), "--logs", str(log)])
    tr.wait_files("d.up", proc=p)
    wait_for_text(log, "orphan ", p)
    orphan = int(log.read_text().split("orphan ", 1)[1].split()[0])
    assert pid_alive(orphan)
    p.signal(signal.SIGKILL)
    p.wait(5)
    assert wait_gone(orphan, 5.0), f"pid {orphan} outlived a SIGKILLed treerun"
    assert tr.run(["ls"]).code == 0  # removes its control socket


def test_a_notify_socket_that_cannot_be_made_fails_the_node_at_once(tr):
    spec = tr.spec("""\
children:
  - {name: d, daemon: true, ready: {notify: true, timeout: 30s}, cmd: [{H}, sleep, forever]}
""")
    t0 = time.monotonic()
    # TMPDIR for the notify socket only: the control socket goes to XDG_RUNTIME_DIR.
    res = tr.up(spec, "--logs", "stdout", timeout=25,
                env={"TMPDIR": str(tr.path("no-such-folder")), "XDG_RUNTIME_DIR": str(tr.dir)})
    assert time.monotonic() - t0 < 15, res.describe()  # far below the probe's 30 s
    assert res.code == 126, res.describe()  # it cannot start: it is not spawned
    assert "cannot make the notify socket's folder" in res.stdout, res.describe()
    assert not find(res.events, event="spawn", node="d"), res.describe()
    assert one(res.events, event="exit", node="d")["outcome"] == "failed"
