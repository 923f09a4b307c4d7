"""The faults chaos injects around treerun itself (issue 15): its own outputs that stall,
fail or hang up, and stop signals that come twice, mixed or in bursts.

chaos.py draws them per seed and checks the invariants; this module only wires them up
and records what it did (when a signal was sent, which stop signals were still pending
in treerun then, when a reader stalled or hung up), so that the oracle can stay exact.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import select
import signal
import subprocess
import sys
import termios
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")
PIPE_SIZE = 4096  # the smallest pipe: a reader that stalls holds treerun up at once
READ_STEP = 0.02  # how long a reader thread waits for data before it looks at the clock


# ---------------------------------------------------------------------------------------
# Stop signals to treerun


@dataclass
class Sent:
    """One stop signal the harness sent to treerun (or caused: a terminal that closed)."""
    name: str
    t: float  # seconds since treerun was started
    done_seen: bool  # the event log already had `done`
    pending: frozenset  # stop signals pending in treerun just before this one was sent
    # On treerun's own clock (its events' `t`), a time no earlier than the signal's
    # arrival; `t` is no such bound: the harness may lose the CPU between reading its
    # clock and sending, and treerun's clock may start before the harness's. None: `t`.
    t_surely_sent: float | None = None


def pending_stop_signals(pid: int) -> frozenset:
    """The stop signals sent to PID and not delivered yet (blocked, or not run yet)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return frozenset()
    mask = 0
    for line in text.splitlines():
        if line.startswith(("ShdPnd:", "SigPnd:")):
            mask |= int(line.split()[1], 16)
    return frozenset(n for n in STOP_SIGNALS if mask & (1 << (signal.Signals[n].value - 1)))


def has_controlling_tty(pid: int) -> bool:
    """Whether PID has a controlling terminal (tty_nr, field 7 of /proc/PID/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return int(stat.rsplit(")", 1)[1].split()[4]) != 0


# Signal patterns, as (name, delay before it) lists: the cases and random bursts.
PATTERNS = {
    "int_int": 3,       # ctrl-c twice quickly: the second forces
    "term_int": 3,      # kill -TERM; kill -INT: still one graceful stop
    "int_term": 2,
    "term_term": 2,     # a service manager repeating its SIGTERM
    "hup_hup": 2,       # a closing terminal sends SIGHUP twice
    "hup_term": 2,      # SIGHUP and SIGTERM at once
    "term_int_int": 2,  # the second SIGINT forces even after a SIGTERM
    "burst": 4,         # 3 to 20 stop signals, microseconds to milliseconds apart
}
_SHORT = {"INT": "SIGINT", "TERM": "SIGTERM", "HUP": "SIGHUP"}


def signal_pattern(rng: random.Random) -> tuple[str, list[tuple[str, float]]]:
    name = rng.choices(list(PATTERNS), list(PATTERNS.values()))[0]
    if name == "burst":
        seq = [(rng.choices(STOP_SIGNALS, [1, 2, 2])[0], round(rng.uniform(0, 0.003), 4))
               for _ in range(rng.randint(3, 20))]
        return name, seq
    at_once = name in ("hup_hup", "hup_term")
    quick = name in ("int_int",)
    seq = []
    for i, short in enumerate(name.split("_")):
        gap = 0.0 if i == 0 or at_once else round(
            rng.uniform(0, 0.01) if quick else rng.uniform(0, 0.3), 4)
        seq.append((_SHORT[short.upper()], gap))
    return name, seq


def send(proc: subprocess.Popen, name: str, clock, lead: float, done_seen: bool) -> Sent | None:
    """Sends stop signal NAME to treerun, noting what was still pending in it. CLOCK gives
    the harness's seconds since it started treerun; treerun's own clock started at most
    LEAD seconds before the harness's."""
    if proc.poll() is not None:
        return None
    t = clock()
    pending = pending_stop_signals(proc.pid)
    try:
        proc.send_signal(signal.Signals[name])
    except ProcessLookupError:
        return None
    return Sent(name, t, done_seen, pending, clock() + lead)


def first_signal_candidates(sent: list[Sent]) -> list[str]:
    """The signals treerun may have taken as its first. treerun(1), SIGNALS: the first
    stop signal decides. That is the first one sent, unless a later one was sent while
    the first was still pending in treerun (blocked during its start-up, or not yet
    delivered on a busy machine): signal(7) leaves the order in which pending standard
    signals are delivered unspecified (Linux: the lowest number first)."""
    if not sent:
        return []
    out = [sent[0].name]
    for s in sent[1:]:
        if sent[0].name in s.pending and s.name not in out:
            out.append(s.name)
    return out


def forcing_time(sent: list[Sent]) -> float | None:
    """When a second SIGINT certainly reached treerun as a signal of its own (an earlier
    SIGINT had been delivered, not merely pending, when it was sent), or None."""
    ints = [s for s in sent if s.name == "SIGINT"]
    for s in ints[1:]:
        if "SIGINT" not in s.pending:
            return s.t
    return None


# ---------------------------------------------------------------------------------------
# treerun's own outputs


# kind: what happens to which output (weights)
OUTPUT_FAULTS = {
    "stdout_stall": 3,          # stdout a pipe the harness stops reading for a while
    "stdout_stall_forever": 2,  # ... and never reads again
    "stdout_hangup": 3,         # ... whose read end the harness closes (EPIPE)
    "stdout_full": 2,           # stdout /dev/full (ENOSPC), stderr too half the time
    "pty_eio": 1,               # stdout a terminal that hangs up (EIO), not the controlling one
    "tty_close": 2,             # the controlling terminal closes: EIO on writes, and SIGHUP
    "logs_full": 2,             # --logs /dev/full
    "logs_fifo": 2,             # --logs a FIFO nobody reads (or a reader that comes late)
    "events_stall": 3,          # --events a FIFO the harness reads with pauses
}
# Outputs that stall for good: the log stream then holds back lines of nodes that run
# undisturbed once 4 MiB wait (treerun(1), Outputs), so a tree that logs more waits for
# a reader that never comes, by design: chaos gives those runs a timeout.
STALLS_FOR_GOOD = ("stdout_stall_forever", "logs_fifo")
FOR_GOOD_LOG_LIMIT = 3 * 1024 * 1024
# Outputs that may still hold bytes when the run ends.
STALLING = ("stdout_stall", "stdout_stall_forever", "logs_fifo", "events_stall")
# An event log that stalls has up to the root's grace at the end (treerun(1), Outputs);
# the harness's pauses stay well below it, so `done` and every event arrive.
EVENTS_PAUSE_MAX = 0.4


@dataclass
class OutputFault:
    kind: str = "none"
    at: float = 0.0  # seconds after the start: the stall or the hang-up begins
    length: float | None = None  # stall length (None: for good)
    quiet: bool = True
    stderr_full: bool = False
    late_reader: float | None = None  # logs_fifo: a reader opens it then
    pauses_seed: int = 0  # events_stall: the reader's pauses

    def __str__(self) -> str:
        if self.kind == "none":
            return "none"
        bits = [self.kind, f"at={self.at}"]
        if self.length is not None:
            bits.append(f"len={self.length}")
        if self.stderr_full:
            bits.append("stderr=/dev/full")
        if self.late_reader is not None:
            bits.append(f"reader@{self.late_reader}")
        if not self.quiet:
            bits.append("summary")
        return " ".join(bits)


def output_fault(rng: random.Random) -> OutputFault:
    kind = rng.choices(list(OUTPUT_FAULTS), list(OUTPUT_FAULTS.values()))[0]
    # A stall from (nearly) the start meets the run's busiest part; a hang-up any time.
    at = rng.uniform(0, 0.15 if kind in STALLING else 0.5)
    f = OutputFault(kind, at=round(at, 3), quiet=rng.random() < 0.5,
                    pauses_seed=rng.randint(0, 1 << 30))
    if kind == "stdout_stall":
        f.length = round(rng.uniform(0.1, 3.0), 3)
    elif kind == "stdout_full":
        f.stderr_full = rng.random() < 0.5
    elif kind == "logs_fifo" and rng.random() < 0.4:
        f.late_reader = round(rng.uniform(0.1, 2.0), 3)
    return f


@dataclass
class OutputRig:
    """The outputs of one run, wired for its fault: treerun's extra arguments, the
    Popen arguments, reader threads that stall or hang up on time, and the event log."""
    fault: OutputFault
    run_dir: Path
    start: float = 0.0
    pid: int = 0
    hung_up_at: float | None = None  # when the terminal or the pipe was closed
    hangup_pending: frozenset = frozenset()  # stop signals pending in treerun then
    stall_bit: bool = False  # a stalled pipe filled up: treerun had to hold its bytes
    _threads: list = field(default_factory=list)
    _fds: dict = field(default_factory=dict)  # role -> fd the harness holds
    _child_fds: list = field(default_factory=list)  # fds to close once treerun has them
    _over: threading.Event = field(default_factory=threading.Event)
    _events: "EventFeed | None" = None

    # -- set-up ----------------------------------------------------------------------
    def __post_init__(self):
        k = self.fault.kind
        if k == "events_stall":
            path = self.run_dir / "events.fifo"
            os.mkfifo(path)
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
            self._events = EventFeed(fd=fd)
            self.events_arg = str(path)
        else:
            self.events_arg = str(self.run_dir / "events.jsonl")
            Path(self.events_arg).touch()
            self._events = EventFeed(path=Path(self.events_arg))
        if k == "logs_fifo":
            os.mkfifo(self.run_dir / "log.fifo")
        if k == "stdout_full":
            self._child_fds.append(os.open("/dev/full", os.O_WRONLY | os.O_CLOEXEC))
        elif k.startswith("stdout_"):
            r, w = os.pipe()  # sized before treerun writes (later, it may be EBUSY)
            fcntl.fcntl(r, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
            self._fds["stdout"] = r
            self._child_fds.append(w)
        if k in ("pty_eio", "tty_close"):
            master, slave = os.openpty()
            os.set_inheritable(master, False)
            self._fds["master"] = master
            self._child_fds.append(slave)

    def argv(self) -> list[str]:
        k = self.fault.kind
        args = ["--events", self.events_arg]
        if self.fault.quiet:
            args.append("--quiet")
        if k == "logs_full":
            args += ["--logs", "/dev/full"]
        elif k == "logs_fifo":
            args += ["--logs", str(self.run_dir / "log.fifo")]
        elif not self.on_stdout():
            args += ["--logs", str(self.run_dir / "log")]
        return args

    def on_stdout(self) -> bool:
        """The log stream and the summary go to stdout: the fault is stdout's."""
        return self.fault.kind.startswith(("stdout_", "pty_", "tty_"))

    def prefix(self) -> list[str]:
        # setsid -c makes its stdin (the terminal) the controlling terminal of a new
        # session led by treerun itself (no fork: the harness's child leads no group).
        return ["setsid", "-c"] if self.fault.kind == "tty_close" else []

    def popen_kwargs(self) -> dict:
        k = self.fault.kind
        kw = dict(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                  start_new_session=True)
        if k.startswith("stdout_") or k == "pty_eio":
            kw["stdout"] = self._child_fds[0]
            if self.fault.stderr_full:
                kw["stderr"] = self._child_fds[0]
        elif k == "tty_close":
            kw.update(stdin=self._child_fds[0], stdout=self._child_fds[0], start_new_session=False)
        return kw

    def started(self, proc: subprocess.Popen, start: float) -> None:
        self.start, self.pid = start, proc.pid
        for fd in self._child_fds:
            os.close(fd)
        self._child_fds = []
        k = self.fault.kind
        if "stdout" in self._fds:
            self._thread(self._read_stdout_pipe)
        if "master" in self._fds:
            self._thread(self._read_terminal)
        if k == "logs_fifo" and self.fault.late_reader is not None:
            self._thread(self._late_fifo_reader)
        if k == "events_stall":
            self._thread(self._read_events_in_stalls, random.Random(self.fault.pauses_seed))

    def _thread(self, fn, *args) -> None:
        t = threading.Thread(target=fn, args=args, daemon=True)
        t.start()
        self._threads.append(t)

    def now(self) -> float:
        return time.monotonic() - self.start

    # -- the readers -----------------------------------------------------------------
    def _drain(self, fd: int, until: float | None, feed=None) -> bool:
        """Reads FD until UNTIL (seconds since the start; None: to its end), handing what
        comes to FEED. False at its end: EOF (for a FEED, the FIFO of the event log: EOF
        only once treerun has exited, before that it has no writer yet) or EIO."""
        while until is None or self.now() < until:
            r, _, _ = select.select([fd], [], [], READ_STEP)
            if not r:
                if self._over.is_set():
                    return False
                continue
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                continue
            except OSError:  # EIO: a terminal whose other side is gone
                return False
            if data and feed:
                feed(data)
            elif not data and (not feed or self._over.is_set()):
                return False
            elif not data:
                time.sleep(READ_STEP)  # a FIFO without a writer polls readable: EOF
        return True

    def _pause(self, until: float | None, fd: int | None = None) -> None:
        """Reads nothing until UNTIL (None: until treerun has exited). With the FD of a
        pipe, notes whether it filled up meanwhile: the stall held treerun's writes up."""
        while (until is None or self.now() < until) and not self._over.wait(READ_STEP):
            if fd is not None and not self.stall_bit:
                ready = bytearray(4)
                fcntl.ioctl(fd, termios.FIONREAD, ready)
                self.stall_bit = int.from_bytes(ready, sys.byteorder) >= PIPE_SIZE

    def _read_stdout_pipe(self) -> None:
        fd, f = self._fds["stdout"], self.fault
        if not self._drain(fd, f.at):
            return
        if f.kind == "stdout_hangup":
            self.hung_up_at = self.now()
            os.close(self._fds.pop("stdout"))
            return
        self._pause(None if f.length is None else f.at + f.length, fd)
        self._drain(fd, None)

    def _read_terminal(self) -> None:
        fd = self._fds["master"]
        running = self._drain(fd, self.fault.at)
        # A terminal that closes before `setsid -c` made it the controlling one fails
        # setsid itself (seed 21011): that is no fault of treerun's to test.
        while running and self.fault.kind == "tty_close" and not has_controlling_tty(self.pid):
            running = self._drain(fd, self.now() + READ_STEP)
        if running:  # still running: hang up
            self.hangup_pending = pending_stop_signals(self.pid)
            self.hung_up_at = self.now()
            os.close(self._fds.pop("master"))

    def _late_fifo_reader(self) -> None:
        self._pause(self.fault.late_reader)
        if self._over.is_set():
            return
        fd = os.open(self.run_dir / "log.fifo", os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        self._fds["fifo_reader"] = fd
        self._drain(fd, None)

    def _read_events_in_stalls(self, rng: random.Random) -> None:
        fd, feed = self._events.fd, self._events.feed
        while self._drain(fd, self.now() + rng.uniform(0, 0.3), feed):
            self._pause(self.now() + rng.uniform(0.05, EVENTS_PAUSE_MAX), fd)
            if self._over.is_set():
                break
        # treerun has exited. Whatever it wrote last is read now, even when the end was
        # seen between an empty select() and its check (seeds 32945, 40108, 40226, 40291
        # lost `done` so).
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EAGAIN: a writer outside treerun still holds it
                return
            if not data:
                return
            feed(data)

    # -- the run's end ---------------------------------------------------------------
    def caused_signals(self) -> list[Sent]:
        """Stop signals the fault itself sent: a controlling terminal that closes sends
        SIGHUP to its session leader, treerun (done_seen: not known, taken as not)."""
        if self.fault.kind == "tty_close" and self.hung_up_at is not None:
            return [Sent("SIGHUP", self.hung_up_at, False, self.hangup_pending)]
        return []

    def events(self) -> list[dict]:
        return self._events.events()

    def unterminated(self) -> bytes:
        """What came after the last newline of the event log (a line cut short)."""
        return self._events._buf

    def effect(self) -> str | None:
        """Whether the fault met treerun while it ran (for the summary): a stall that
        filled the pipe, a hang-up before treerun's end."""
        if self.stall_bit:
            return "stall filled the pipe"
        if self.hung_up_at is not None:
            return "hung up while running"
        return None

    def finish(self) -> None:
        """treerun has exited: the readers take what is left and stop."""
        self._over.set()
        for t in self._threads:
            t.join(timeout=10)
        for fd in self._fds.values():
            try:
                os.close(fd)
            except OSError:
                pass
        self._fds = {}
        self._events.close()


class EventFeed:
    """The event log as it grows: a file read from where it was left off, or the bytes a
    reader thread hands over from a FIFO. Complete lines only."""

    def __init__(self, path: Path | None = None, fd: int | None = None):
        self.path, self.fd = path, fd
        self._file = None
        self._closed = False
        self.raw_bytes = 0  # all that came, for a report
        self._buf = b""
        self._events: list[dict] = []
        self._lock = threading.Lock()

    def feed(self, data: bytes) -> None:
        with self._lock:
            self.raw_bytes += len(data)
            self._buf += data
            *lines, self._buf = self._buf.split(b"\n")
            self._events += [json.loads(x) for x in lines if x.strip()]

    def events(self) -> list[dict]:
        if self.path is not None and not self._closed:
            if self._file is None:
                self._file = open(self.path, "rb")
            data = self._file.read()
            if data:
                self.feed(data)
        with self._lock:
            return list(self._events)

    def close(self) -> None:
        """The last of the file is read; from now on events() gives what was read."""
        if self.path is not None:
            self.events()
        if self._file is not None:
            self._file.close()
        self._closed = True
        if self.fd is not None:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = None


# ---------------------------------------------------------------------------------------
# Control actions from other terminals (issue 16): clients of the run's control socket

# Signals a `signal` action sends: none is a node's stop signal or one trhelper counts
# (TERM/INT/HUP/USR1/USR2/QUIT), so the count of stop signals per process stays exact;
# SIGKILL and SIGALRM kill their node (a failure, judged as any exit), the others do not.
CONTROL_SIGNALS = ("SIGWINCH", "SIGCONT", "SIGKILL", "SIGALRM")
CONTROL_VERBS = ("stop", "start", "restart", "signal", "down")
CONTROL_SHARE = 0.3  # of the ordinary runs: how many get control actions
# After the run's end, every client has its answer within this (a sanitized client, on a
# machine busy with the parallel suite, takes far longer to start and to exit).
CONTROL_ANSWER_BOUND = 20.0 if os.environ.get("TREERUN_SANITIZED") else 5.0
# A node waiting for one that a client stopped waits until someone starts it (treerun(1),
# stop: "what waits for it waits on"), as a user would see in `ps`; a run still going
# this long after its start gets the user's last word, a `down`, which must end it.
FINAL_DOWN_AFTER = 4.0


@dataclass
class Control:
    """One client command, sent once the K-th event of the run is logged."""
    after_events: int
    verb: str
    node: str = ""  # none for down
    sig: str = ""  # for signal

    def argv(self, treerun: str) -> list[str]:
        args = [treerun, self.verb]
        if self.verb == "signal":
            args.append(self.sig)
        return args + ([self.node] if self.node else [])

    def __str__(self) -> str:
        return " ".join([self.verb, self.sig, self.node]).replace("  ", " ").strip() + f"@{self.after_events}"


def controls(rng: random.Random, paths: list[str]) -> list[Control]:
    """1 to 4 client commands on random nodes at random moments; `down` is rarer (it
    ends the run, and what comes after it is refused)."""
    out = []
    for _ in range(rng.randint(1, 4)):
        verb = rng.choices(CONTROL_VERBS, [3, 2, 3, 2, 2])[0]
        c = Control(rng.randint(1, 15), verb)
        if verb != "down":
            c.node = rng.choice(paths)
        if verb == "signal":
            c.sig = rng.choice(CONTROL_SIGNALS)
        out.append(c)
    return sorted(out, key=lambda c: c.after_events)


@dataclass
class Client:
    """A control client that was started: its command, process, and at the end what it
    said."""
    control: Control
    proc: subprocess.Popen
    t: float
    rc: int | None = None
    out: str = ""


class ControlRig:
    """Starts each control client once its moment has come, and collects them at the end.
    Clients do not carry the run's tag: they are the user's, not the run's processes."""

    def __init__(self, planned: list[Control], treerun: str, env: dict, cwd: Path):
        self.pending = list(planned)
        self.clients: list[Client] = []
        self.treerun, self.cwd = treerun, cwd
        self.env = {k: v for k, v in env.items() if k != "TRTEST_TAG"}
        self.final_down = False

    def poll(self, events: list[dict], now: float) -> None:
        while self.pending and len(events) >= self.pending[0].after_events:
            self.start(self.pending.pop(0), now)
        if self.clients and now >= FINAL_DOWN_AFTER and not self.final_down:
            self.pending = []  # their moment never came
            self.final_down = True
            self.start(Control(0, "down"), now)

    def start(self, c: Control, now: float) -> None:
        proc = subprocess.Popen(c.argv(self.treerun), env=self.env, cwd=self.cwd, close_fds=True,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.clients.append(Client(c, proc, now))

    def describe(self) -> str:
        return "".join(f"\n--- control `{c.control}` at {c.t:.3f}s: exit {c.rc} ---\n{c.out.rstrip()}"
                       for c in self.clients)

    def finish(self) -> list[str]:
        """Waits for every client (the run has ended); what hung is a violation."""
        v = []
        deadline = time.monotonic() + CONTROL_ANSWER_BOUND
        for c in self.clients:
            try:
                out, _ = c.proc.communicate(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                c.proc.kill()
                out, _ = c.proc.communicate()
                v.append(f"control client `{c.control}` had no answer {CONTROL_ANSWER_BOUND}s after the run's end")
            c.rc, c.out = c.proc.returncode, out.decode(errors="replace")
        return v
