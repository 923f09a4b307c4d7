"""Helpers for treerun's integration tests: running the binary, reading its event log,
driving it through a pseudo-terminal, and parsing what the trhelper nodes report.

Standard library only. The fixtures that wire these together live in conftest.py.
"""

from __future__ import annotations

import collections
import dataclasses
import errno
import fcntl
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import termios
import textwrap
import time
from pathlib import Path

# The checkout these tests belong to, and by default the binaries of its `build/`
# (ctest sets all three to the build it runs).
SOURCE_DIR = Path(os.environ.get("TREERUN_SOURCE_DIR", Path(__file__).resolve().parents[2]))
TREERUN_BIN = os.environ.get("TREERUN_BIN", str(SOURCE_DIR / "build" / "treerun"))
TRHELPER_BIN = os.environ.get("TRHELPER_BIN", str(SOURCE_DIR / "build" / "tests" / "trhelper"))

ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    return ANSI_RE.sub("", text)


# ---------------------------------------------------------------------------
# The event log


def parse_events(path: Path) -> list[dict]:
    """Every complete JSON line of the event log (a half-written last line is skipped)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return []
    events = []
    for line in data.split(b"\n")[:-1]:  # the part after the last newline is incomplete
        if line.strip():
            events.append(json.loads(line))
    return events


def matches(ev: dict, pred=None, /, **fields) -> bool:
    if any(ev.get(k) != v for k, v in fields.items()):
        return False
    return pred is None or pred(ev)


def find(events: list[dict], pred=None, /, **fields) -> list[dict]:
    """The events with all of `fields` (and, if given, `pred(event)` true)."""
    return [e for e in events if matches(e, pred, **fields)]


def one(events: list[dict], pred=None, /, **fields) -> dict:
    found = find(events, pred, **fields)
    assert len(found) == 1, f"expected exactly one event {fields}, got {found}\nall: {events}"
    return found[0]


def t_of(events: list[dict], event: str, node: str) -> float:
    """The time of the one EVENT about NODE."""
    return one(events, event=event, node=node)["t"]


class EventWaiter:
    """Tails an event log until an event matching a predicate appears.

    Polls the file every 10 ms: acceptable in the test harness (never in treerun), and
    it keeps the harness free of inotify plumbing. Gives up early if `alive()` says the
    process that writes the log has gone, so a failure reports at once.
    """

    def __init__(self, path: Path, alive=lambda: True):
        self.path = Path(path)
        self.alive = alive

    def events(self) -> list[dict]:
        return parse_events(self.path)

    def wait_for(self, pred=None, /, timeout: float = 10.0, **fields) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            evs = self.events()
            found = find(evs, pred, **fields)
            if found:
                return found[0]
            if time.monotonic() > deadline or not self.alive():
                # One last read: the writer may have flushed just before exiting.
                found = find(self.events(), pred, **fields)
                if found:
                    return found[0]
                raise AssertionError(
                    f"no event {fields} within {timeout}s "
                    f"(writer {'alive' if self.alive() else 'gone'}); events so far:\n"
                    + "\n".join(json.dumps(e) for e in evs))
            time.sleep(0.01)


# ---------------------------------------------------------------------------
# Specs: the shapes tests write again and again, as YAML text for `tr.spec` (which
# fills in {H} and {T}). Each node is a list item under `children:`.


def children(*nodes: str) -> str:
    """A spec whose root has NODES as its children."""
    return "children:\n" + "".join(nodes)


def group(name: str, *nodes: str) -> str:
    """A group NAME (no cmd) with NODES as its children."""
    return f"  - name: {name}\n    children:\n" + textwrap.indent("".join(nodes), "    ")


def daemon(name: str, cmd: str | None = None, ready: str | None = None, *,
           after: tuple[str, ...] | list[str] = (), up_after: float = 0.1, **settings: str) -> str:
    """A daemon NAME. With CMD (a YAML flow list): that, with the probe READY (a flow
    mapping), or none. Without: a trhelper that prints `up` after UP_AFTER seconds (at
    once for 0) and sleeps forever, ready (unless READY says otherwise) when `up` is
    logged. AFTER: its `after`; SETTINGS: more keys, as YAML text (on_failure="ignore")."""
    if cmd is None:
        wait = f'sleep, "{up_after:g}", ' if up_after else ""
        cmd = f"[{{H}}, {wait}echo, up, sleep, forever]"
        ready = ready or '{log: "^up$"}'
    lines = [f"  - name: {name}", "    daemon: true"]
    if after:
        lines.append(f"    after: [{', '.join(after)}]")
    lines += [f"    {key}: {value}" for key, value in settings.items()]
    lines.append(f"    cmd: {cmd}")
    if ready:
        lines.append(f"    ready: {ready}")
    return "\n".join(lines) + "\n"


def worker(name: str, cmd: str = '[{H}, exit, "0"]', *,
           after: tuple[str, ...] | list[str] = (), **settings: str) -> str:
    """A worker NAME running CMD (a YAML flow list), on one line. AFTER: its `after`;
    SETTINGS: more keys, as YAML text (stdin="p")."""
    keys = [f"name: {name}"]
    if after:
        keys.append(f"after: [{', '.join(after)}]")
    keys += [f"{key}: {value}" for key, value in settings.items()]
    keys.append(f"cmd: {cmd}")
    return "  - {" + ", ".join(keys) + "}\n"


def assert_ready_after(res: Result, node: str, at_least: float,
                       dependent: str | None = None) -> float:
    """NODE became ready at least AT_LEAST seconds after its spawn, and DEPENDENT (if
    given) was spawned only once NODE was ready. Returns when NODE became ready."""
    ready = t_of(res.events, "ready", node)
    assert ready - t_of(res.events, "spawn", node) >= at_least, res.describe()
    if dependent is not None:
        assert t_of(res.events, "spawn", dependent) >= ready, res.describe()
    return ready


# ---------------------------------------------------------------------------
# Running treerun


@dataclasses.dataclass
class Result:
    code: int  # Popen.returncode: negative N when treerun died by signal N
    stdout: str
    stderr: str
    events: list[dict]
    stdout_bytes: bytes = b""  # stdout as it came, for raw-data tests

    def __iter__(self):  # so `code, out, err, events = run(...)` works
        return iter((self.code, self.stdout, self.stderr, self.events))

    def describe(self) -> str:
        return (f"exit {self.code}\n--- stdout ---\n{self.stdout}\n--- stderr ---\n"
                f"{self.stderr}\n--- events ---\n" + "\n".join(json.dumps(e) for e in self.events))


def with_events(args: list[str], events_path: Path) -> list[str]:
    """Adds `--events FILE` to an `up` command line."""
    args = [str(a) for a in args]
    if args and args[0] == "up" and "--events" not in args:
        return args + ["--events", str(events_path)]
    return args


class TreerunProc:
    """treerun running in the background (its own session, pipes for stdout/stderr)."""

    def __init__(self, args, env, cwd, events_path: Path, stdin=None,
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE):
        """STDOUT, STDERR: as for Popen (an fd or a file for outputs the test shapes;
        then wait() has nothing of them to return)."""
        self.events_path = Path(events_path)
        self.argv = [TREERUN_BIN, *with_events(args, events_path)]
        stdin_arg = subprocess.PIPE if isinstance(stdin, (bytes, str)) else (
            stdin if stdin is not None else subprocess.DEVNULL)
        self._input = stdin.encode() if isinstance(stdin, str) else stdin
        self.proc = subprocess.Popen(
            self.argv, stdin=stdin_arg, stdout=stdout, stderr=stderr,
            env=env, cwd=cwd, start_new_session=True)
        self.waiter = EventWaiter(self.events_path, alive=lambda: self.proc.poll() is None)
        self.pid = self.proc.pid

    def wait_for(self, pred=None, /, timeout: float = 10.0, **fields) -> dict:
        return self.waiter.wait_for(pred, timeout, **fields)

    def events(self) -> list[dict]:
        return self.waiter.events()

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 60.0) -> Result:
        try:
            out, err = self.proc.communicate(self._input, timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(self.proc.pid)
            out, err = self.proc.communicate()
            res = self._result(out, err)
            raise AssertionError(f"treerun did not finish within {timeout}s: {self.argv}\n"
                                 + res.describe())
        return self._result(out, err)

    def _result(self, out: bytes | None, err: bytes | None) -> Result:
        out, err = out or b"", err or b""
        return Result(self.proc.returncode, out.decode(errors="replace"),
                      err.decode(errors="replace"), parse_events(self.events_path), out)

    def kill(self) -> None:
        if self.proc.poll() is None:
            kill_group(self.proc.pid)
            self.proc.wait()


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class PtySession:
    """treerun in a real pseudo-terminal, as its controlling terminal.

    The child becomes a session leader (setsid) and opens the slave with TIOCSCTTY, so
    treerun's process group is the terminal's foreground group: ctrl-c typed with
    `send(b"\\x03")` reaches treerun through the line discipline, as at a real terminal.
    """

    def __init__(self, argv: list[str], env: dict, cwd=None, rows=40, cols=200):
        self.argv = argv
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.master = master

        def take_terminal():  # runs in the child between fork and exec
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     cwd=cwd, preexec_fn=take_terminal, close_fds=True)
        os.close(slave)
        self.pid = self.proc.pid
        self.buf = b""  # everything read so far
        self.pos = 0  # expect() searches from here
        self.status = None  # raw wait status once reaped

    def _read(self, timeout: float) -> bool:
        """Reads what is available within `timeout`; False at EOF/EIO (slave closed)."""
        r, _, _ = select.select([self.master], [], [], max(timeout, 0))
        if not r:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError as e:
            if e.errno == errno.EIO:  # every slave fd closed
                return False
            raise
        if not data:
            return False
        self.buf += data
        return True

    @property
    def text(self) -> str:
        return strip_ansi(self.buf.decode(errors="replace"))

    def expect(self, pattern: str, timeout: float = 10.0) -> re.Match:
        """Waits for `pattern` (regex, on ANSI-stripped text) after the previous match."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while True:
            text = self.text
            m = rx.search(text, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(min(left, 0.1)):  # timed out, or EOF
                m = rx.search(self.text, self.pos)
                if m:
                    self.pos = m.end()
                    return m
                raise AssertionError(f"pty: no /{pattern}/ within {timeout}s "
                                     f"({'timeout' if left <= 0 else 'EOF'}); output:\n"
                                     + self.text[self.pos:])

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def wait(self, timeout: float = 30.0) -> int:
        """Reaps treerun, draining the terminal meanwhile; returns the raw wait status."""
        deadline = time.monotonic() + timeout
        while self.status is None:
            # Popen reaps (its poll() may be called elsewhere, e.g. by an event waiter);
            # rebuild the raw status from its returncode: -N for a death by signal N.
            rc = self.proc.poll()
            if rc is not None:
                self.status = -rc if rc < 0 else rc << 8
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"pty: treerun still running after {timeout}s; output:\n"
                                     + self.text)
            self._read(0.01)
        while self._read(0.05):  # what was written just before the exit
            if not select.select([self.master], [], [], 0)[0]:
                break
        return self.status

    def close(self) -> None:
        if self.status is None and self.proc.poll() is None:
            kill_group(self.pid)
            try:
                self.wait(5)
            except AssertionError:
                pass
        try:
            os.close(self.master)
        except OSError:
            pass


# ---------------------------------------------------------------------------
# What the nodes report


# A log-stream line: an optional `--timestamps` time, the node's name padded to the
# widest name, then `|` and the node's own text, or `*` and one of treerun's own lines
# about that node ("name  | text", "name  * exited 0").
LOG_LINE_RE = re.compile(
    r"^(?:\d\d:\d\d:\d\d\.\d+ )?(?P<node>\S+?) +(?P<mark>[|*])(?: (?P<text>.*))?$")


def parse_log(text: str) -> list[tuple[str | None, str, str]]:
    """Each line of a log stream as (node, mark, text); (None, "", line) if unprefixed."""
    out = []
    for line in strip_ansi(text).splitlines():
        m = LOG_LINE_RE.match(line)
        if m:
            out.append((m.group("node"), m.group("mark"), m.group("text") or ""))
        else:
            out.append((None, "", line))
    return out


def is_node(shown: str | None, node: str) -> bool:
    """`shown` names `node`: its path, or its last component."""
    return shown is not None and (shown == node or shown == node.rsplit("/", 1)[-1]
                                  or shown.endswith("/" + node))


def node_lines(text: str, node: str) -> list[str]:
    """The texts of `node`'s own output lines in a log stream."""
    return [t for shown, mark, t in parse_log(text) if mark == "|" and is_node(shown, node)]


def node_notes(text: str, node: str) -> list[str]:
    """treerun's own lines about `node` in a log stream."""
    return [t for shown, mark, t in parse_log(text) if mark == "*" and is_node(shown, node)]


def signal_counts(path: Path) -> collections.Counter:
    """Lines 'SIGTERM pid=N' of a count file, as Counter{(signame, pid): n}."""
    c: collections.Counter = collections.Counter()
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return c
    for line in text.splitlines():
        name, _, pid = line.partition(" pid=")
        c[(name, int(pid) if pid else None)] += 1
    return c


def signals_received(path: Path) -> list[str]:
    try:
        return [line.split()[0] for line in Path(path).read_text().splitlines() if line]
    except FileNotFoundError:
        return []


PERIOD = 65521


def pattern_bytes(n: int, seed: int = 0) -> bytes:
    """The bytes of `trhelper write-bytes N seed S` (xorshift32, period 65521)."""
    x = (seed * 2654435761 + 1) & 0xFFFFFFFF or 1
    block = bytearray(PERIOD)
    for i in range(PERIOD):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        block[i] = x & 0xFF
    reps, rest = divmod(n, PERIOD)
    return bytes(block) * reps + bytes(block[:rest])


def fnv1a(data: bytes) -> str:
    """FNV-1a 64 as `trhelper checksum-stdin` prints it (16 hex digits)."""
    h = 1469598103934665603
    for b in data:
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def free_port() -> int:
    """A port nobody listens on right now (bind to 0, read it, close)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pid_alive(pid: int) -> bool:
    """True if `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def processes_with_env(needle: bytes) -> list[int]:
    """Pids (not zombies) whose environment contains `needle` (e.g. b'TRTEST_TAG=x')."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read()
        except (FileNotFoundError, ProcessLookupError, PermissionError, OSError):
            continue
        if needle in env.split(b"\0") and pid_alive(int(entry)):
            found.append(int(entry))
    return found


def describe_pid(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return f"pid {pid} state {stat[0]} ppid {stat[1]} pgid {stat[2]}: {cmd}"
    except OSError:
        return f"pid {pid} (gone)"


def kill_leftovers(tag: str) -> list[str]:
    """Processes of run `tag` (TRTEST_TAG in their environment) still alive after a 2 s
    grace for dying ones (a SIGKILL in flight, a parent-death signal): SIGKILLs them and
    returns their descriptions (empty: nothing outlived the run)."""
    needle = f"TRTEST_TAG={tag}".encode()
    deadline = time.monotonic() + 2.0
    left = processes_with_env(needle)
    while left and time.monotonic() < deadline:
        time.sleep(0.02)
        left = processes_with_env(needle)
    described = [describe_pid(p) for p in left]
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return described


def slurm_jobs_left(timeout: float = 15.0) -> list[str]:
    """Jobs and steps of treerun runs still in squeue once a run has ended (a released
    allocation may show as completing for a moment): a problem each, or none."""
    deadline = time.monotonic() + timeout
    while True:
        out = subprocess.run(["squeue", "-h", "-s", "-o", "%i %j"], capture_output=True, text=True).stdout
        out += subprocess.run(["squeue", "-h", "-o", "%i %j %T"], capture_output=True, text=True).stdout
        left = [line for line in out.splitlines() if "treerun:" in line]
        if not left or time.monotonic() > deadline:
            return [f"left in squeue: {line}" for line in left]
        time.sleep(0.1)


def zombie_children(pid: int) -> list[int]:
    """Zombie children of `pid` (from /proc/PID/task/*/children)."""
    kids = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                kids += [int(k) for k in
                         Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
            except OSError:
                pass
    except OSError:
        return []
    return [k for k in kids if not pid_alive(k) and Path(f"/proc/{k}").exists()]


_REFERENCE_SUMS: dict = {}


def reference_checksum(*producer_args: str) -> str:
    """'bytes N fnv1a HEX16' for the output of `trhelper PRODUCER_ARGS...`, computed by
    `trhelper ... | trhelper checksum-stdin` outside treerun (a kernel pipe, no treerun):
    the same line a `checksum-stdin` node prints when every byte arrived. Fast for tens of
    megabytes, where `fnv1a()` in Python is not. Cached per argument list."""
    key = tuple(str(a) for a in producer_args)
    if key not in _REFERENCE_SUMS:
        prod = subprocess.Popen([TRHELPER_BIN, *key], stdout=subprocess.PIPE)
        out = subprocess.run([TRHELPER_BIN, "checksum-stdin"], stdin=prod.stdout,
                             stdout=subprocess.PIPE, check=True).stdout
        prod.stdout.close()
        assert prod.wait() == 0, f"reference producer failed: {key}"
        _REFERENCE_SUMS[key] = out.decode().strip()
    return _REFERENCE_SUMS[key]


# Under AddressSanitizer treerun's memory, fds and threads are not its own: tests of
# those limits are skipped there (TREERUN_SANITIZED is set by the sanitizer build's ctest).
SANITIZED = bool(os.environ.get("TREERUN_SANITIZED"))
