"""Fixtures for treerun's integration tests.

`tr` gives each test a temp dir, a unique tag, spec writing and ways to run treerun
(to completion, in the background, or in a pty). After every test, the leak checker
asserts that no process carrying the test's tag is alive, that the test process has no
zombie child, and that treerun left no `treerun-*` runtime dir behind; leftovers are
SIGKILLed after the check so one failure does not cascade into the next test.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import pytest

import harness
from harness import PtySession, Result, TreerunProc


# TREERUN_TEST_BACKEND=slurm (tests/slurm/run sets it) runs the tests marked
# `backends` with `backend: slurm` and their nodes spread over two hosts.
BACKEND = os.environ.get("TREERUN_TEST_BACKEND", "local")
NODE_START_RE = re.compile(r"^(?P<indent> *)- (?P<flow>\{)?name: ", re.M)


def spread_over_hosts(text: str) -> str:
    """TEXT under the slurm backend: `backend: slurm` appended, and an `on:` given to
    every node written `- name: X` (the next line) or `- {name: X, ...}`, alternately
    host 0 and host 1, in the order they are written: neighbours (a producer and its
    consumer, a daemon and its dependent) land on different hosts. A block node's line
    numbers past its first line shift by one."""
    count = 0

    def add_on(m: re.Match) -> str:
        nonlocal count
        host, count = count % 2, count + 1
        if m["flow"]:
            return f"{m['indent']}- {{on: {host}, name: "
        # `- on: N` then the node's own keys, at the same indent, on the next lines.
        return f"{m['indent']}- on: {host}\n{m['indent']}  name: "

    assert not re.search(r"^\s*on:|[{,] *on:", text, re.M), "a spec run on both backends sets no `on` itself"
    return NODE_START_RE.sub(add_on, text).rstrip("\n") + "\nbackend: slurm\n"


class Harness:
    def __init__(self, test_name: str, backend: str = "local"):
        self.backend = backend
        self.dir = Path(tempfile.mkdtemp(prefix="trtest-"))
        self.tmpdir = self.dir / "tmp"  # treerun's TMPDIR: its runtime dir lands here
        self.tmpdir.mkdir()
        # Plain characters only: the tag goes into YAML and environments.
        self.tag = re.sub(r"[^A-Za-z0-9_]+", "_", test_name)[:40] + "-" + uuid.uuid4().hex[:12]
        self.H = harness.TRHELPER_BIN
        self.bin = harness.TREERUN_BIN
        self._events_n = 0
        self.procs: list[TreerunProc] = []
        self.ptys: list[PtySession] = []

    # -- files ------------------------------------------------------------------------
    def path(self, name: str) -> Path:
        return self.dir / name

    def spec(self, text: str, name: str = "spec.yaml", tag: bool = True) -> Path:
        """Writes a spec into the temp dir. `{H}` becomes the trhelper path and `{T}` the
        temp dir. Unless `tag=False` (or the text mentions TRTEST_TAG itself), a last
        top-level line `env: {TRTEST_TAG: ...}` is appended (at the end, so line numbers
        in messages stay those of `text`)."""
        text = text.replace("{H}", self.H).replace("{T}", str(self.dir))
        if tag and "TRTEST_TAG" not in text:
            assert not any(line.startswith("env:") for line in text.splitlines()), \
                "a spec with a top-level env must set TRTEST_TAG: {TAG} itself"
            text = text.rstrip("\n") + f"\nenv: {{TRTEST_TAG: {self.tag}}}\n"
        text = text.replace("{TAG}", self.tag)
        if self.backend == "slurm":
            text = spread_over_hosts(text)
        p = self.dir / name
        p.write_text(text)
        return p

    def wait_files(self, *names: str, timeout: float = 10.0, proc=None) -> None:
        """Waits until files exist in the temp dir (helpers touch them as events).
        Polls every 10 ms: fine in the harness. Stops early if `proc` has exited."""
        deadline = time.monotonic() + timeout
        while not all(self.path(n).exists() for n in names):
            missing = [n for n in names if not self.path(n).exists()]
            assert time.monotonic() < deadline, f"files never appeared: {missing}"
            if proc is not None and proc.proc.poll() is not None:
                raise AssertionError(f"treerun exited before {missing} appeared:\n"
                                     + proc.wait().describe())
            time.sleep(0.01)

    # -- environment ------------------------------------------------------------------
    def env(self, extra: dict | None = None) -> dict:
        env = dict(os.environ)
        env.pop("NO_COLOR", None)
        # The control sockets go under TMPDIR then: each test sees its own runs only.
        env.pop("XDG_RUNTIME_DIR", None)
        env.update(TRTEST_TAG=self.tag, TMPDIR=str(self.tmpdir))
        env.update(extra or {})
        return env

    def _events(self) -> Path:
        self._events_n += 1
        return self.dir / f"events{self._events_n}.jsonl"

    # -- running ----------------------------------------------------------------------
    def run(self, args, timeout: float = 60, stdin=None, env=None) -> Result:
        """Runs treerun to completion (`--events` added to `up`)."""
        p = self.start(args, stdin=stdin, env=env)
        return p.wait(timeout)

    def up(self, spec, *args, timeout: float = 60, stdin=None, env=None) -> Result:
        return self.run(["up", str(spec), *args], timeout=timeout, stdin=stdin, env=env)

    def start(self, args, stdin=None, env=None, **outputs) -> TreerunProc:
        """OUTPUTS: stdout=, stderr= for Popen (default: pipes that wait() reads)."""
        p = TreerunProc(args, self.env(env), self.dir, self._events(), stdin=stdin, **outputs)
        self.procs.append(p)
        return p

    def pty(self, args, env=None) -> PtySession:
        """treerun in a pty; the event log is at `session.events_path`."""
        events = self._events()
        s = PtySession([self.bin, *harness.with_events(args, events)],
                       self.env({"TERM": "xterm-256color", **(env or {})}), cwd=self.dir)
        s.events_path = events
        s.waiter = harness.EventWaiter(events, alive=lambda: s.proc.poll() is None
                                       if s.status is None else False)
        self.ptys.append(s)
        return s

    def cleanup_procs(self) -> None:
        for p in self.procs:
            p.kill()
        for s in self.ptys:
            s.close()


def pytest_configure(config):
    config.addinivalue_line("markers", "slurm: needs the local Slurm cluster (tests/slurm/run)")
    config.addinivalue_line("markers", "backends: also run under TREERUN_TEST_BACKEND=slurm (tests/slurm/run)")


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item, so the leak check knows if the test failed.
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _runtime_dirs(folder: Path) -> set[str]:
    try:
        return {e for e in os.listdir(folder) if e.startswith("treerun-")}
    except OSError:
        return set()


def socket_folder(h: "Harness") -> Path:
    """The folder of the test's control sockets (TMPDIR/treerun-UID): it stays, as
    /tmp/tmux-UID does, but it must hold no socket once every run has ended."""
    return h.tmpdir / f"treerun-{os.geteuid()}"


SOCKET_FOLDER_RE = re.compile(r"treerun-\d+")


def _left_sockets(h: "Harness") -> list[str]:
    left = []
    for name in _runtime_dirs(h.tmpdir):
        if SOCKET_FOLDER_RE.fullmatch(name):
            left += [f"{name}/{e}" for e in sorted(os.listdir(h.tmpdir / name))]
    return left


def check_leaks(h: Harness, sys_tmp_before: set[str]) -> list[str]:
    """Kills what outlived the test and returns what was wrong (empty: all clean)."""
    problems = []
    # A running treerun at this point is the test's own failure (reported already).
    if any(p.proc.poll() is None for p in h.procs) or any(
            s.status is None and s.proc.poll() is None for s in h.ptys):
        problems.append("treerun was still running at the end of the test")
        h.cleanup_procs()
    leaked = harness.kill_leftovers(h.tag)
    if leaked:
        problems.append("processes outlived the run:\n  " + "\n  ".join(leaked))
    zombies = harness.zombie_children(os.getpid())
    for z in zombies:  # reap them so the next test starts clean
        try:
            os.waitpid(z, os.WNOHANG)
        except ChildProcessError:
            pass
    if zombies:
        problems.append(f"zombie children of the test process: {zombies}")
    left = sorted(d for d in _runtime_dirs(h.tmpdir) if not SOCKET_FOLDER_RE.fullmatch(d)) + sorted(
        _runtime_dirs(Path(tempfile.gettempdir())) - sys_tmp_before)
    if left:
        problems.append(f"treerun left runtime dirs behind: {left}")
    if h.backend == "slurm":
        problems += harness.slurm_jobs_left()
    sockets = _left_sockets(h)
    if sockets:
        problems.append(f"treerun left control sockets behind in {h.tmpdir}: {sockets}")
    return problems


@pytest.fixture
def tr(request):
    """The per-test harness; its teardown is the leak checker."""
    sys_tmp_before = _runtime_dirs(Path(tempfile.gettempdir()))
    h = Harness(request.node.name, BACKEND if request.node.get_closest_marker("backends") else "local")
    yield h
    problems = check_leaks(h, sys_tmp_before)
    h.cleanup_procs()
    if os.environ.get("TRTEST_KEEP"):
        print(f"kept {h.dir}")
    else:
        shutil.rmtree(h.dir, ignore_errors=True)
    call = getattr(request.node, "rep_call", None)
    if problems and call is not None and call.passed:
        pytest.fail("leak check: " + "\n".join(problems), pytrace=False)
