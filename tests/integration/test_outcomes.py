"""One outcome per node, shared by the event log and the summary: a test per row."""

import re
import signal

from harness import find, one


def summary_row(text: str, node: str) -> list[str]:
    """The summary's row for NODE, split on runs of two or more spaces."""
    for line in text.split("summary:", 1)[1].splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if cells and cells[0] == node:
            return cells
    raise AssertionError(f"no summary row for {node}:\n{text}")


def test_a_worker_skipped_because_its_after_failed_is_a_failure(tr):
    spec = tr.spec("""\
children:
  - {name: build, on_failure: ignore, cmd: [{H}, exit, "3"]}
  - {name: test, after: [build], cmd: [{H}, exit, "0"]}
""")
    res = tr.up(spec, timeout=20)
    assert res.code == 1, res.describe()
    assert not find(res.events, event="spawn", node="test"), res.describe()
    assert "test: skipped: its `after` build failed" in res.stdout, res.describe()
    assert summary_row(res.stdout, "test")[1] == "not started"


def test_a_skipped_worker_that_is_itself_ignore_is_no_failure(tr):
    spec = tr.spec("""\
children:
  - {name: build, on_failure: ignore, cmd: [{H}, exit, "3"]}
  - {name: test, after: [build], on_failure: ignore, cmd: [{H}, exit, "0"]}
""")
    res = tr.up(spec, timeout=20)
    assert res.code == 0, res.describe()
    assert "skipped: its `after` build failed (ignored)" in res.stdout, res.describe()


def test_a_node_whose_probe_timed_out_failed_it_was_not_cancelled(tr):
    spec = tr.spec("""\
children:
  - name: d
    daemon: true
    ready: {file: never, timeout: 300ms}
    cmd: [{H}, sleep, forever]
""")
    res = tr.up(spec, timeout=20)
    assert res.code == 124, res.describe()
    assert one(res.events, event="exit", node="d")["outcome"] == "failed", res.describe()
    assert summary_row(res.stdout, "d")[1] == "failed", res.describe()


def test_a_daemon_restarted_once_then_cancelled_is_no_failure(tr):
    spec = tr.spec("""\
children:
  - name: d
    daemon: true
    on_failure: restart
    restart: {max: 3, within: 60s, backoff: 50ms}
    cmd: "if [ -f {T}/again ]; then touch {T}/d.up; exec sleep 100; else touch {T}/again; exit 3; fi"
  - {name: w, cmd: [{H}, wait-file, {T}/d.up, exit, "0"]}
""")
    res = tr.up(spec, timeout=20)
    assert res.code == 0, res.describe()
    assert len(find(res.events, event="restart", node="d")) == 1, res.describe()
    assert "failures:" not in res.stdout, res.describe()
    assert summary_row(res.stdout, "d")[1] == "cancelled", res.describe()


def test_a_node_forced_before_its_graceful_turn_shows_a_true_stop_time(tr):
    spec = tr.spec("""\
grace: 30s
children:
  - {name: a, daemon: true, cmd: [{H}, count-signals, {T}/sig, stubborn, touch, {T}/a.up, sleep, forever]}
  - {name: b, daemon: true, after: [a], cmd: [{H}, count-signals, {T}/sig, stubborn, touch, {T}/b.up, sleep, forever]}
""")
    p = tr.start(["up", str(spec)])
    tr.wait_files("a.up", "b.up", proc=p)
    p.signal(signal.SIGINT)
    p.wait_for(event="stop", node="b")  # a waits for its dependent b: not stopped yet
    p.signal(signal.SIGINT)
    res = p.wait(15)
    assert not find(res.events, event="stop", node="a"), res.describe()
    stop = summary_row(res.stdout, "a")[4]
    took = float(re.fullmatch(r"SIGKILL, took (-?[\d.]+)s", stop).group(1))
    assert 0 <= took < 15, res.describe()


def test_a_shell_producer_whose_command_died_of_sigpipe_has_not_failed(tr):
    # dash forks `yes` instead of exec'ing it: the shell exits 141 when yes dies of
    # SIGPIPE after head has what it wants. As in a shell pipeline, that is a success.
    spec = tr.spec("""\
children:
  - {name: src, cmd: "yes | cat"}
  - {name: head, cmd: "head -n 1", stdin: src}
""")
    res = tr.up(spec, timeout=20)
    assert res.code == 0, res.describe()
    src = one(res.events, event="exit", node="src")
    assert src["code"] == 141 and src["outcome"] == "ok", res.describe()
