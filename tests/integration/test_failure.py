"""§4.2: failure propagation and the summary."""

import os
import signal
import time

import pytest

from harness import find, one, signal_counts


@pytest.mark.backends
def test_failure_cancels_the_siblings_and_propagates(tr):
    spec = tr.spec("""\
children:
  - {name: d, daemon: true, cmd: [{H}, count-signals, {T}/d.sig, touch, {T}/d.up, sleep, forever]}
  - name: g
    children:
      - {name: bad, cmd: [{H}, wait-file, {T}/d.up, wait-file, {T}/peer.up, exit, "3"]}
      - name: peer
        cmd: [{H}, count-signals, {T}/peer.sig, touch, {T}/peer.up, sleep, forever]
""")
    res = tr.up(spec)
    assert res.code == 3, res.describe()
    assert one(res.events, event="exit", node="g/bad")["outcome"] == "failed"
    for node in ("d", "g/peer"):
        assert one(res.events, event="exit", node=node)["outcome"] == "cancelled", node
    assert find(res.events, event="cancel", cause="failure", by="g/bad"), res.describe()
    assert list(signal_counts(tr.path("d.sig")).values()) == [1]
    assert list(signal_counts(tr.path("peer.sig")).values()) == [1]


@pytest.mark.backends
def test_on_failure_ignore_records_and_carries_on(tr):
    spec = tr.spec("""\
children:
  - {name: flaky, on_failure: ignore, cmd: [{H}, exit, "3"]}
  - {name: w, cmd: [{H}, sleep, "0.2", exit, "0"]}
""")
    res = tr.up(spec)
    assert res.code == 0, res.describe()
    assert one(res.events, event="exit", node="flaky")["outcome"] == "failed"
    assert one(res.events, event="exit", node="w")["outcome"] == "ok"


@pytest.mark.backends
def test_restart_gives_up_after_max_and_then_fails(tr):
    spec = tr.spec("""\
children:
  - name: f
    on_failure: restart
    restart: {max: 2, within: 60s, backoff: 10ms}
    cmd: [{H}, echo, attempt, exit, "5"]
""")
    res = tr.up(spec)
    assert res.code == 5, res.describe()
    restarts = find(res.events, event="restart", node="f")
    assert [e["attempt"] for e in restarts] == [1, 2], res.describe()
    assert len(find(res.events, event="spawn", node="f")) == 3


@pytest.mark.backends
def test_restart_that_succeeds_is_a_success(tr):
    spec = tr.spec("""\
children:
  - name: f
    on_failure: restart
    restart: {max: 3, backoff: 10ms}
    cmd: [/bin/sh, -c, "if [ -e {T}/once ]; then exit 0; fi; : > {T}/once; exit 4"]
""")
    res = tr.up(spec)
    assert res.code == 0, res.describe()
    assert len(find(res.events, event="restart", node="f")) == 1


SUMMARY_SPEC = """\
children:
  - name: a
    on_failure: ignore
    cmd: [{H}, echo, alpha-first, echo, alpha-last-words, touch, {T}/a-done, exit, "3"]
  - name: b
    cmd: [{H}, wait-file, {T}/a-done, sleep, "0.2", echo-err, beta-last-words, exit, "4"]
"""


def _failures_section(res) -> str:
    text = res.stdout + res.stderr
    assert "failures:" in text, res.describe()
    return text[text.index("failures:"):]


@pytest.mark.backends
def test_summary_reports_every_failure_with_its_last_lines(tr):
    # a fails (ignored), then b fails: both must be in the summary with their output.
    res = tr.up(tr.spec(SUMMARY_SPEC), "--no-color")
    assert res.code == 4, res.describe()
    failures = _failures_section(res)
    assert "alpha-last-words" in failures and "beta-last-words" in failures, res.describe()


@pytest.mark.backends
def test_summary_keeps_last_lines_when_the_log_stream_is_off(tr):
    res = tr.up(tr.spec(SUMMARY_SPEC), "--logs", "none")
    assert res.code == 4, res.describe()
    failures = _failures_section(res)
    assert "alpha-last-words" in failures and "beta-last-words" in failures, res.describe()


@pytest.mark.backends
def test_failures_waiting_together_are_each_a_failure_not_cancelled(tr):
    """Every error collected (issue 18, item 5): 25 workers fail while treerun is stopped
    (SIGSTOP), so all their exits wait together when it goes on. Each is judged by what it
    did: collected before any stop goes out, and a stop is never sent to a process that
    has already exited. (The narrower race, an exit that lands between the reaper's pass
    and the stop, is the unit test "a failure racing the cancel".)"""
    n = 25
    workers = "\n".join(
        f"  - {{name: w{i}, cmd: [{{H}}, wait-file, {{T}}/go, exit, \"3\"]}}" for i in range(n))
    spec = tr.spec("children:\n" + workers + "\n  - {name: d, daemon: true, cmd: [{H}, sleep, forever]}\n")
    p = tr.start(["up", str(spec)])
    pids = [p.wait_for(event="spawn", node=f"w{i}")["pid"] for i in range(n)]
    p.wait_for(event="spawn", node="d")
    os.kill(p.pid, signal.SIGSTOP)
    try:
        tr.path("go").touch()
        deadline = time.monotonic() + 20
        while not all(zombie(pid) for pid in pids):  # their exits wait for treerun
            assert time.monotonic() < deadline, "the workers did not exit"
            time.sleep(0.01)
    finally:
        os.kill(p.pid, signal.SIGCONT)
    res = p.wait(30)
    assert res.code == 3, res.describe()
    exits = [e for e in res.events if e["event"] == "exit" and e["node"].startswith("w")]
    assert len(exits) == n and all(e["outcome"] == "failed" for e in exits), res.describe()
    assert not [e for e in res.events if e["event"] == "stop" and e["node"].startswith("w")], res.describe()
    assert one(res.events, event="exit", node="d")["outcome"] == "cancelled"


def zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return False
