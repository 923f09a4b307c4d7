"""§2: the exit code of `treerun up`."""

import os
import signal

import pytest

from harness import find, one, signal_counts


@pytest.mark.backends
def test_all_workers_exit_0_gives_0(tr):
    spec = tr.spec("""\
children:
  - {name: a, cmd: [{H}, exit, "0"]}
  - {name: b, cmd: [{H}, sleep, "0.1"]}
""")
    res = tr.up(spec)
    assert res.code == 0, res.describe()
    assert one(res.events, event="done")["code"] == 0


@pytest.mark.backends
def test_failing_worker_code_is_the_exit_code(tr):
    spec = tr.spec("""\
children:
  - {name: bad, cmd: [{H}, exit, "3"]}
  - {name: slow, cmd: [{H}, wait-file, {T}/never]}
""")
    res = tr.up(spec)
    assert res.code == 3, res.describe()
    assert one(res.events, event="done")["code"] == 3


@pytest.mark.backends
def test_daemon_exiting_0_on_its_own_gives_1(tr):
    spec = tr.spec("""\
children:
  - {name: d, daemon: true, cmd: [{H}, exit, "0"]}
  - {name: w, cmd: [{H}, wait-file, {T}/never]}
""")
    res = tr.up(spec)
    assert res.code == 1, res.describe()
    assert one(res.events, event="exit", node="d")["outcome"] == "failed"


@pytest.mark.backends
def test_daemon_exiting_nonzero_gives_its_code(tr):
    spec = tr.spec("""\
children:
  - {name: d, daemon: true, cmd: [{H}, exit, "7"]}
  - {name: w, cmd: [{H}, wait-file, {T}/never]}
""")
    res = tr.up(spec)
    assert res.code == 7, res.describe()


@pytest.mark.backends
def test_run_timeout_gives_124(tr):
    spec = tr.spec("""\
timeout: 500ms
children:
  - {name: w, cmd: [{H}, sleep, forever]}
""")
    res = tr.up(spec, timeout=10)
    assert res.code == 124, res.describe()
    assert find(res.events, event="cancel", cause="timeout"), res.describe()
    assert one(res.events, event="exit", node="w")["outcome"] == "cancelled"


def test_command_line_timeout_replaces_the_spec_timeout(tr):
    spec = tr.spec("""\
timeout: 1h
children:
  - {name: w, cmd: [{H}, sleep, forever]}
""")
    res = tr.up(spec, "--timeout", "300ms", timeout=10)
    assert res.code == 124, res.describe()


@pytest.mark.backends
def test_node_timeout_gives_124(tr):
    spec = tr.spec("""\
children:
  - {name: w, timeout: 300ms, cmd: [{H}, sleep, forever]}
  - {name: other, cmd: [{H}, wait-file, {T}/never]}
""")
    res = tr.up(spec, timeout=10)
    assert res.code == 124, res.describe()


@pytest.mark.backends
def test_ready_probe_timeout_gives_124(tr):
    spec = tr.spec("""\
children:
  - name: d
    daemon: true
    cmd: [{H}, sleep, forever]
    ready: {file: {T}/never, timeout: 300ms, interval: 20ms}
""")
    res = tr.up(spec, timeout=10)
    assert res.code == 124, res.describe()


@pytest.mark.backends
def test_command_not_executable_gives_126(tr):
    prog = tr.path("not-executable")
    prog.write_text("#!/bin/sh\nexit 0\n")
    os.chmod(prog, 0o644)
    spec = tr.spec("""\
children:
  - {name: w, cmd: [{T}/not-executable]}
""")
    res = tr.up(spec)
    assert res.code == 126, res.describe()


@pytest.mark.backends
def test_command_not_found_gives_127(tr):
    spec = tr.spec("""\
children:
  - {name: w, cmd: [treerun-test-no-such-program]}
""")
    res = tr.up(spec)
    assert res.code == 127, res.describe()


@pytest.mark.backends
def test_worker_killed_by_signal_gives_128_plus_n(tr):
    spec = tr.spec("""\
children:
  - {name: w, cmd: [{H}, kill-self, USR1]}
""")
    res = tr.up(spec)
    assert res.code == 128 + signal.SIGUSR1, res.describe()
    ev = one(res.events, event="exit", node="w")
    assert ev["signal"] == "SIGUSR1" and ev["code"] is None and ev["outcome"] == "failed"


@pytest.mark.backends
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP],
                         ids=["SIGINT-130", "SIGTERM-143", "SIGHUP-129"])
def test_signal_to_treerun_cancels_and_treerun_dies_by_it(tr, sig):
    spec = tr.spec("""\
children:
  - {name: d, daemon: true, cmd: [{H}, count-signals, {T}/d.sig, touch, {T}/d.up, sleep, forever]}
  - {name: w, cmd: [{H}, count-signals, {T}/w.sig, touch, {T}/w.up, sleep, forever]}
""")
    p = tr.start(["up", spec])
    tr.wait_files("d.up", "w.up", proc=p)
    p.signal(sig)
    res = p.wait(15)
    # The shell sees a death by the signal (128+N in $?), so Popen reports -N.
    assert res.code == -sig, res.describe()
    cause = {signal.SIGINT: "sigint", signal.SIGTERM: "sigterm", signal.SIGHUP: "sighup"}[sig]
    assert find(res.events, event="cancel", cause=cause), res.describe()
    assert one(res.events, event="done")["code"] == 128 + sig
    for node in ("d", "w"):
        assert one(res.events, event="exit", node=node)["outcome"] == "cancelled"
        assert list(signal_counts(tr.path(f"{node}.sig")).values()) == [1]


@pytest.mark.backends
def test_a_cwd_gone_at_start_says_cannot_chdir_and_gives_126(tr):
    # The folder is there when the spec is checked and gone when `b` starts: the
    # message names the folder (not "command not found"), and the code is 126, not 127.
    tr.path("work").mkdir()
    spec = tr.spec("""\
logs: stderr
children:
  - {name: rm, cmd: [rmdir, {T}/work]}
  - {name: b, cmd: [echo, hi], cwd: work, after: [rm]}
""")
    res = tr.up(spec)
    assert res.code == 126, res.describe()
    assert f"cannot chdir to {tr.path('work')}: No such file or directory" in res.stderr, res.describe()
    assert "not found" not in res.stdout + res.stderr, res.describe()


@pytest.mark.backends
@pytest.mark.parametrize("code", [124, 126, 200, 255])
def test_a_workers_own_code_passes_through_even_past_123(tr, code):
    spec = tr.spec(f'children:\n  - {{name: w, cmd: [{{H}}, exit, "{code}"]}}\n')
    res = tr.up(spec)
    assert res.code == code, res.describe()
    assert one(res.events, event="exit", node="w")["code"] == code
    assert not find(res.events, event="cancel", cause="timeout"), res.describe()
