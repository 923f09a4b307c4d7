"""`up -d` (treerun(1), DETACHED RUNS; contract 6.3): the run goes on in a background
process of its own session, and the command returns once every daemon is ready; a run
that fails before that is reported by the foreground, with nothing left behind. Real
runs: the background writes the event log `--events` names, so the tests follow it.
"""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

from conftest import socket_folder
from harness import children, daemon, find, one, pid_alive, wait_gone, worker
from test_control import waiting_for_the_run

GATED = children(
    daemon("d", '[{H}, wait-file, "{T}/gate", echo, up, sleep, forever]', '{log: "^up$"}'),
    worker("w", '[{H}, echo, "w says hi", sleep, forever]'))


def bg_pid(res) -> int:
    """The background run's pid, as `up -d` said it."""
    m = re.search(r"is up \(pid (\d+)\)", res.stderr)
    assert m, res.describe()
    return int(m.group(1))


def up_d(tr, text: str = GATED, *flags, gate: bool = True):
    """`up -d` of TEXT, the gate open: its result once it has returned."""
    if gate:
        tr.path("gate").touch()
    return tr.up(tr.spec(text), "-d", *flags)


def down(tr, name: str = "spec"):
    res = tr.run(["down", "-r", name])
    return res


def stat_fields(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2:].split()  # after "pid (comm) "


def test_returns_only_once_the_daemon_is_ready_and_says_how_to_follow(tr):
    p = tr.start(["up", tr.spec(GATED), "-d"])
    p.wait_for(event="spawn", node="d")
    assert p.proc.poll() is None, "up -d returned before the daemon was ready"  # d waits for the gate
    tr.path("gate").touch()
    res = p.wait(30)
    assert res.code == 0, res.describe()
    assert one(res.events, event="ready", node="d"), "up -d returned before the ready event"
    assert res.stdout == "spec\n"
    assert "treerun logs -f -r spec" in res.stderr and "treerun down -r spec" in res.stderr
    evs = p.events()
    assert one(evs, event="ready", node="d")
    assert find(evs, event="spawn", node="w")
    ps = tr.run(["ps", "-r", "spec"])
    assert ps.code == 0 and re.search(r"^d\s+daemon\s+ready", ps.stdout, re.M), ps.describe()
    res = down(tr)
    assert res.code == 0, res.describe()
    assert not (socket_folder(tr) / "spec.sock").exists()


def test_down_ends_it_with_the_runs_code(tr):
    spec = children(daemon("d"), worker("w", '[{H}, wait-file, "{T}/fail", exit, "7"]'))
    res = up_d(tr, spec)
    assert res.code == 0, res.describe()
    pid = bg_pid(res)
    waiter = tr.start(["wait", "-r", "spec"])
    waiting_for_the_run(waiter.pid)  # connected before the run can end
    tr.path("fail").touch()
    res = waiter.wait()
    assert res.code == 7, res.describe()
    assert wait_gone(pid)


def test_a_failure_before_ready_is_reported_with_its_lines_and_code_leaving_nothing(tr):
    spec = children(daemon("d", '[{H}, echo, "db: cannot bind", exit, "3"]', '{log: "^up$"}'),
                    daemon("e"))
    res = tr.up(tr.spec(spec), "-d")
    assert res.code == 3, res.describe()
    assert "db: cannot bind" in res.stderr, res.describe()
    assert "ended before it was up" in res.stderr
    assert res.stdout == ""
    folder = socket_folder(tr)
    assert not (folder / "spec.sock").exists()
    assert os.listdir(folder) == []  # RUN.log goes with the run (contract 6.3)
    # The leak check (conftest) asserts no process of the run is left.


def test_the_background_has_no_terminal_its_own_session_and_stdin_from_dev_null(tr):
    res = up_d(tr)
    assert res.code == 0, res.describe()
    pid = bg_pid(res)
    f = stat_fields(pid)
    session, tty_nr = int(f[3]), int(f[4])
    assert (session, tty_nr) == (pid, 0)
    assert os.readlink(f"/proc/{pid}/fd/0") == "/dev/null"
    log = str(socket_folder(tr) / "spec.log")
    assert os.readlink(f"/proc/{pid}/fd/1") == log and os.readlink(f"/proc/{pid}/fd/2") == log
    assert down(tr).code == 0


def test_run_log_holds_the_log_stream_while_the_run_lives_and_goes_with_it(tr):
    res = up_d(tr)
    assert res.code == 0, res.describe()
    log = socket_folder(tr) / "spec.log"
    text = log.read_text()
    assert re.search(r"^d\s+\| up$", text, re.M), text
    assert down(tr).code == 0
    assert not log.exists()  # removed when the run ends (contract 6.3)


def test_logs_file_takes_the_log_and_no_run_log_is_made(tr):
    out = tr.path("out.log")
    res = up_d(tr, GATED, "--logs", str(out))
    assert res.code == 0, res.describe()
    assert str(out) in res.stderr
    assert down(tr).code == 0
    assert "w says hi" in out.read_text()
    assert not (socket_folder(tr) / "spec.log").exists()


def test_a_live_name_is_refused_and_its_log_is_untouched(tr):
    res = up_d(tr)
    assert res.code == 0, res.describe()
    log = socket_folder(tr) / "spec.log"
    before = log.read_text()
    again = tr.up(tr.spec(GATED, name="spec.yaml"), "-d")
    assert again.code == 125, again.describe()
    assert "a run named 'spec' is live" in again.stderr
    assert log.read_text().startswith(before)
    assert down(tr).code == 0


def test_a_spec_error_is_said_before_anything_forks(tr):
    spec = tr.spec("children:\n  - name: a\n    cmd: [x]\n    bogus: 1\n")
    res = tr.up(spec, "-d")
    assert res.code == 125
    assert re.search(r"spec\.yaml:4:\d+:", res.stderr), res.stderr
    assert not socket_folder(tr).exists() or not os.listdir(socket_folder(tr))


def test_a_tty_node_is_refused_under_d(tr):
    res = tr.up(tr.spec(children(worker("t", '[{H}, exit, "0"]', tty="true"))), "-d")
    assert res.code == 125, res.describe()
    assert "tty: true" in res.stderr and "nothing was started" in res.stderr
    assert res.events == []


def test_ctrl_c_while_waiting_cancels_the_run(tr):
    p = tr.start(["up", tr.spec(GATED), "-d"])
    p.wait_for(event="spawn", node="d")
    p.signal(signal.SIGINT)
    res = p.wait(30)
    assert res.code == 130, res.describe()
    assert one(res.events, event="cancel")["cause"] == "sigint"
    assert not (socket_folder(tr) / "spec.sock").exists()


def test_kill_9_of_the_background_leaves_no_process(tr):
    res = up_d(tr)
    assert res.code == 0, res.describe()
    pid = bg_pid(res)
    node = one(res.events, event="spawn", node="d")["pid"]
    os.kill(pid, signal.SIGKILL)
    assert wait_gone(pid) and wait_gone(node)  # the guardian took the nodes down
    assert tr.run(["ls"]).code == 0  # and ls removes the socket it left
    assert not (socket_folder(tr) / "spec.sock").exists()
    assert not pid_alive(node)
