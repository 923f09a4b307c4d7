"""treerun's own outputs (treerun(1), SEMANTICS, Outputs): a stdout or stderr that fails
or hangs up, a reader that stalls, FIFOs with no reader: none of them blocks the loop or
stops the graceful teardown; what cannot be written is dropped and counted in `done`."""

import contextlib
import fcntl
import os
import select
import signal
import stat
import subprocess
import time

from harness import TREERUN_BIN, find, one, signal_counts

# A daemon that counts the signals it gets and says when it is up, and a worker that
# writes LINES log lines of 100 bytes, then runs until it is stopped.
DAEMON_AND_CHATTY_WORKER = """\
grace: {grace}
children:
  - name: d
    daemon: true
    cmd: [{H}, count-signals, {T}/sig, touch, {T}/d.up, sleep, forever]
  - name: w
    cmd: [{H}, write-lines, "{lines}", "100", touch, {T}/w.wrote, sleep, forever]
"""


def chatty_spec(tr, lines: int, grace: str = "2s"):
    return tr.spec(DAEMON_AND_CHATTY_WORKER.replace("{lines}", str(lines)).replace("{grace}", grace))


def assert_graceful(tr, res) -> None:
    """Every process got its one graceful stop, none SIGKILL, and `done` was written."""
    assert not find(res.events, event="kill"), res.describe()
    assert one(res.events, event="exit", node="d")["outcome"] == "cancelled", res.describe()
    assert list(signal_counts(tr.path("sig")).values()) == [1], res.describe()
    one(res.events, event="done")


def stop_by(tr, p, sig: int, within: float = 15):
    """Sends SIG: treerun ends by it within WITHIN seconds, after a graceful stop."""
    p.signal(sig)
    res = p.wait(within)
    assert res.code == -sig, res.describe()  # the run's own end: no SIGABRT, no hang
    assert_graceful(tr, res)
    return res


def dropped(res, output: str) -> int:
    return one(res.events, event="done").get("output_dropped", {}).get(output, 0)


# ---------------------------------------------------------------------------------------
# A broken or hung-up stdout/stderr


def test_a_full_stdout_and_stderr_do_not_stop_the_teardown(tr):
    spec = chatty_spec(tr, 1000)
    with open("/dev/full", "wb") as full:
        p = tr.start(["up", str(spec)], stdout=full, stderr=full)
    tr.wait_files("d.up", "w.wrote", proc=p)
    res = stop_by(tr, p, signal.SIGTERM)
    assert one(res.events, event="done")["code"] == 128 + signal.SIGTERM
    assert dropped(res, "stdout") > 0, res.describe()


def test_a_full_stdout_leaves_the_exit_code_to_the_run(tr):
    spec = tr.spec("""\
children:
  - {name: w, cmd: [{H}, write-lines, "500", "100"]}
""")
    with open("/dev/full", "wb") as full:
        res = tr.start(["up", str(spec)], stdout=full, stderr=full).wait(20)
    assert res.code == 0, res.describe()
    done = one(res.events, event="done")
    assert done["code"] == 0 and done["output_dropped"]["stdout"] > 0, res.describe()


def test_a_hung_up_terminal_stops_the_tree_gracefully(tr):
    spec = chatty_spec(tr, 10)
    s = tr.pty(["up", str(spec)])
    s.expect(r"w +\| 00000009")
    tr.wait_files("d.up")
    # Hang up: every later write to the terminal fails (EIO), and treerun gets SIGHUP.
    os.close(s.master)
    s.master = -1
    try:
        s.proc.wait(20)
    except subprocess.TimeoutExpired:
        raise AssertionError("treerun did not end after the hangup")
    s.status = -s.proc.returncode if s.proc.returncode < 0 else s.proc.returncode << 8
    events = s.waiter.events()
    assert s.proc.returncode == -signal.SIGHUP, events
    assert not find(events, event="kill"), events
    assert one(events, event="exit", node="d")["outcome"] == "cancelled", events
    assert list(signal_counts(tr.path("sig")).values()) == [1]
    done = one(events, event="done")
    assert done["code"] == 128 + signal.SIGHUP
    assert done["output_dropped"]["stdout"] > 0, done  # the terminal is stdout and stderr


def test_check_and_tree_say_when_stdout_fails(tr):
    spec = tr.spec("children:\n  - {name: a, cmd: [{H}, exit, \"0\"]}\n")
    for command in ("check", "tree"):
        with open("/dev/full", "wb") as full:
            p = subprocess.run([TREERUN_BIN, command, str(spec)], stdout=full, stderr=subprocess.PIPE,
                               env=tr.env(), cwd=tr.dir, text=True, timeout=20)
        assert p.returncode == 125, (command, p.returncode, p.stderr)
        assert "cannot write stdout" in p.stderr, (command, p.stderr)


# ---------------------------------------------------------------------------------------
# A reader that stalls


@contextlib.contextmanager
def stalled_pipe():
    """A pipe (read end, write end) whose read end the test holds and never reads."""
    r, w = os.pipe()
    try:
        yield r, w
    finally:
        os.close(r)
        os.close(w)


def wait_pipe_full(w: int, proc, timeout: float = 20.0) -> None:
    """Waits until the stalled pipe takes no more (its write end polls unwritable)."""
    deadline = time.monotonic() + timeout
    while select.select([], [w], [], 0)[1]:
        assert proc.proc.poll() is None, "treerun exited before its stdout filled"
        assert time.monotonic() < deadline, "the stalled pipe never filled"
        time.sleep(0.01)


def test_a_stalled_reader_does_not_hold_up_ctrl_c(tr):
    # 20 MB of log lines: far more than the pipe and treerun's bound (4 MiB) hold.
    spec = chatty_spec(tr, 200_000, grace="1s")
    with stalled_pipe() as (_, w):
        p = tr.start(["up", str(spec)], stdout=w)
        wait_pipe_full(w, p)
        tr.wait_files("d.up", proc=p)
        # Our description of the pipe stays blocking: treerun's O_NONBLOCK is its own.
        assert not fcntl.fcntl(w, fcntl.F_GETFL) & os.O_NONBLOCK
        res = stop_by(tr, p, signal.SIGINT, within=10)  # the stall itself never ends
    assert dropped(res, "stdout") > 0, res.describe()


def test_a_stalled_reader_does_not_hold_up_the_timeout(tr):
    spec = chatty_spec(tr, 200_000, grace="1s")
    with stalled_pipe() as (_, w):
        p = tr.start(["up", str(spec), "--timeout", "3s"], stdout=w)
        wait_pipe_full(w, p)
        res = p.wait(15)
    assert res.code == 124, res.describe()
    one(res.events, event="cancel", node="/", cause="timeout")
    assert_graceful(tr, res)


def test_a_stalled_reader_does_not_starve_a_log_probe(tr):
    # 20 MB before the line the probe waits for: a node's lines are read (and dropped
    # past the bound) until it is ready, never held back from its probe.
    spec = tr.spec("""\
grace: 1s
children:
  - name: d
    daemon: true
    cmd: [{H}, write-lines, "200000", "100", echo, up, count-signals, {T}/sig, sleep, forever]
    ready: {log: "^up$", timeout: 30s}
""")
    with stalled_pipe() as (_, w):
        p = tr.start(["up", str(spec)], stdout=w)
        p.wait_for(event="ready", node="d", timeout=30)
        stop_by(tr, p, signal.SIGINT)


def up_through_a_stalled_reader(tr, spec):
    """Runs SPEC with its log stream into a pipe that is read only once it is full; the
    run's result (it must succeed) and all it wrote."""
    r, w = os.pipe()
    p = tr.start(["up", str(spec), "--quiet"], stdout=w)
    wait_pipe_full(w, p)
    os.close(w)  # treerun's is the last write end: EOF when it exits
    data = bytearray()
    with os.fdopen(r, "rb") as reader:
        while chunk := reader.read(65536):
            data += chunk
    res = p.wait(30)
    assert res.code == 0, res.describe()
    return res, bytes(data)


def test_a_slow_reader_loses_no_line_while_the_run_goes_on(tr):
    # Backpressure, not loss: the worker waits for the reader as in a shell pipeline.
    spec = tr.spec("""\
children:
  - {name: w, cmd: [{H}, write-lines, "100000", "100"]}
""")
    res, data = up_through_a_stalled_reader(tr, spec)
    lines = [ln for ln in data.decode().splitlines() if " | " in ln]
    assert len(lines) == 100_000, len(lines)
    assert "output_dropped" not in one(res.events, event="done")


def test_a_slow_reader_loses_no_empty_line_under_a_long_name(tr):
    # Review of the batch path: a 256 KiB read of empty lines becomes 7 MB once each gets
    # its head, past the outlet's bound: reads are sized from the room left.
    n = 400_000
    spec = tr.spec(f"""\
children:
  - {{name: a-fairly-long-node-name, cmd: "yes '' | head -n {n}"}}
""")
    res, data = up_through_a_stalled_reader(tr, spec)
    lines = [ln for ln in data.decode().splitlines() if ln == "a-fairly-long-node-name | "]
    assert len(lines) == n, len(lines)
    assert "output_dropped" not in one(res.events, event="done")


# ---------------------------------------------------------------------------------------
# FIFOs as outputs


def make_fifo(tr, name: str):
    path = tr.path(name)
    os.mkfifo(path)
    return path


def test_logs_to_a_fifo_with_no_reader_do_not_block(tr):
    fifo = make_fifo(tr, "logs.fifo")
    spec = chatty_spec(tr, 10)
    p = tr.start(["up", str(spec), "--logs", str(fifo)])
    tr.wait_files("d.up", "w.wrote", proc=p)
    stop_by(tr, p, signal.SIGTERM)


def test_events_to_a_fifo_reach_a_reader_that_comes_late(tr):
    fifo = make_fifo(tr, "events.fifo")
    spec = tr.spec("""\
children:
  - {name: w, cmd: [{H}, touch, {T}/w.up, wait-file, {T}/go, exit, "0"]}
""")
    p = tr.start(["up", str(spec), "--events", str(fifo)])
    tr.wait_files("w.up", proc=p)
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # the reader comes: after treerun's open
    tr.path("go").touch()
    data = read_to_eof(fd, deadline=time.monotonic() + 20)
    res = p.wait(20)
    assert res.code == 0, res.describe()
    assert b'"event":"done"' in data, data


def read_to_eof(fd: int, deadline: float) -> bytes:
    data = b""
    try:
        while time.monotonic() < deadline:
            if not select.select([fd], [], [], 0.1)[0]:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                return data
            data += chunk
        raise AssertionError(f"no EOF; read so far: {data!r}")
    finally:
        os.close(fd)


def test_a_node_writing_to_a_fifo_with_no_reader_starts_with_a_blocking_fd(tr):
    fifo = make_fifo(tr, "out.fifo")
    spec = tr.spec(f"""\
children:
  - name: d
    daemon: true
    stdout: {{file: {fifo}}}
    cmd: [{{H}}, echo, hello, count-signals, {{T}}/sig, touch, {{T}}/d.up, sleep, forever]
""")
    p = tr.start(["up", str(spec)])
    tr.wait_files("d.up", proc=p)
    pid = p.wait_for(event="spawn", node="d")["pid"]  # the node may touch d.up before it is written
    flags = int(open(f"/proc/{pid}/fdinfo/1").read().split("flags:")[1].split()[0], 8)
    assert not flags & os.O_NONBLOCK, oct(flags)
    assert stat.S_ISFIFO(os.stat(f"/proc/{pid}/fd/1").st_mode)
    stop_by(tr, p, signal.SIGINT)


# ---------------------------------------------------------------------------------------
# Unwritable files


def test_an_unwritable_event_log_or_log_file_is_said_once(tr):
    spec = tr.spec("""\
children:
  - {name: w, cmd: [{H}, write-lines, "2000", "100"]}
""")
    for flag, what in (("--events", "the event log /dev/full"), ("--logs", "the log stream to /dev/full")):
        res = tr.run(["up", str(spec), flag, "/dev/full"], timeout=20)
        assert res.code == 0, res.describe()
        said = [ln for ln in res.stderr.splitlines() if "cannot write" in ln]
        assert said == [f"treerun: cannot write {what} (No space left on device): what goes there is dropped"], \
            res.describe()
