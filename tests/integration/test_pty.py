"""§8 `pty: true`: a node's stdout and stderr are one pseudo-terminal of its own.

Programs that block-buffer on a pipe (Python without -u) or drop their colours when
stdout is not a terminal behave as in a shell; their lines still reach the log stream.
The pty is not the tty lock: it is never the node's controlling terminal."""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

from harness import node_lines

PY = sys.executable

# Prints without -u and without flush: on a pipe its first line would sit in Python's
# buffer until exit, and the test, which waits for that line before it lets the program
# go on, would time out. Run with -E: a PYTHONUNBUFFERED in the test's environment
# would hide the buffering.
BUFFERED = """\
import os, sys, time
print("first line", os.isatty(1), os.isatty(2), os.isatty(0))
print("to stderr", file=sys.stderr)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.01)
print("after go")
"""

# What a program sees of its terminal: its size, and that it is not its controlling
# terminal (tcgetpgrp fails with ENOTTY on a terminal that is not).
LOOK = """\
import os
size = os.get_terminal_size(1)
try:
    os.tcgetpgrp(1)
    ctty = "controlling"
except OSError:
    ctty = "not controlling"
print(f"size {size.columns}x{size.lines} {ctty} {os.ttyname(1) == os.ttyname(2)}")
print("\\x1b[31mred\\x1b[0m and \\x1b[1mbold\\x1b[0m")
print("\\x1b]0;a title\\x07\\x1b[2J\\x1b[Hafter a clear screen")
print("\\x1b[0m")
"""


def wait_for_text(path: Path, pattern: str, proc, timeout: float = 15.0) -> None:
    """Polls the log file (harness-side) until PATTERN appears on a line."""
    deadline = time.monotonic() + timeout
    while True:
        text = path.read_text(errors="replace") if path.exists() else ""
        if re.search(pattern, text, re.M):
            return
        assert proc.proc.poll() is None, f"treerun ended before {pattern!r}:\n{proc.wait().describe()}"
        assert time.monotonic() < deadline, f"never logged {pattern!r}; log so far:\n{text}"
        time.sleep(0.01)


def program(tr, name: str, text: str) -> Path:
    p = tr.path(name)
    p.write_text(text)
    return p


def test_a_block_buffering_program_is_read_as_it_prints(tr):
    prog = program(tr, "buffered.py", BUFFERED)
    spec = tr.spec(f"""\
children:
  - name: b
    pty: true
    cmd: [{PY}, -E, {prog}, {tr.path("go")}]
""")
    log = tr.path("log.txt")
    p = tr.start(["up", str(spec), "--logs", str(log)])
    wait_for_text(log, r"^b +\| first line True True False$", p)
    wait_for_text(log, r"^b +\| to stderr$", p)
    tr.path("go").touch()
    res = p.wait(30)
    assert res.code == 0, res.describe()
    lines = node_lines(log.read_text(), "b")
    assert lines == ["first line True True False", "to stderr", "after go"], lines


def test_the_same_program_without_pty_block_buffers(tr):
    """The control experiment: without `pty`, the first line waits for the exit."""
    prog = program(tr, "buffered.py", BUFFERED)
    spec = tr.spec(f"""\
children:
  - name: b
    cmd: [{PY}, -E, {prog}, {tr.path("go")}]
""")
    log = tr.path("log.txt")
    p = tr.start(["up", str(spec), "--logs", str(log)])
    wait_for_text(log, r"^b +\| to stderr$", p)  # stderr is unbuffered
    assert "first line" not in log.read_text()
    tr.path("go").touch()
    res = p.wait(30)
    assert res.code == 0, res.describe()
    assert node_lines(log.read_text(), "b")[-2:] == ["first line False False False", "after go"]


def look_spec(tr, extra: str = ""):
    """A spec whose one node `c` runs LOOK on a pty."""
    prog = program(tr, "look.py", LOOK)
    return tr.spec(f"""\
children:
  - name: c
    pty: true
    cmd: [{PY}, {prog}]
{extra}""")


def test_colours_are_removed_when_the_log_is_not_a_terminal(tr):
    spec = look_spec(tr, '    ready: {log: "^red and bold$"}\n')
    res = tr.up(spec)
    assert res.code == 0, res.describe()
    assert "\x1b" not in res.stdout, repr(res.stdout)
    lines = node_lines(res.stdout, "c")
    # No terminal of treerun's own: the default size.
    assert lines == ["size 80x24 not controlling True", "red and bold", "after a clear screen", ""], lines
    assert one_ready(res.events, "c")


def one_ready(events, node: str) -> bool:
    return any(e.get("event") == "ready" and e.get("node") == node for e in events)


def test_colours_pass_to_a_terminal_and_the_size_is_the_terminals(tr):
    spec = look_spec(tr)
    s = tr.pty(["up", str(spec)])
    status = s.wait(30)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, s.text
    raw = s.buf.decode(errors="replace")
    assert "\x1b[31mred\x1b[0m and \x1b[1mbold\x1b[0m" in raw, repr(raw)
    # Colours only: the node's clear-screen and title would act on treerun's terminal.
    assert "after a clear screen" in raw and "\x1b[2J" not in raw and "a title" not in raw, repr(raw)
    # The session's terminal is 200x40 (harness.PtySession); the node's is the same size,
    # and is still not its controlling terminal: treerun's terminal stays treerun's.
    assert "size 200x40 not controlling True" in s.text, s.text


def test_no_color_removes_them_on_a_terminal_too(tr):
    spec = look_spec(tr)
    for args, env in ((["--no-color"], None), ([], {"NO_COLOR": "1"})):
        s = tr.pty(["up", str(spec), *args], env=env)
        status = s.wait(30)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, s.text
        raw = s.buf.decode(errors="replace")
        assert "red and bold" in raw and "\x1b[31m" not in raw, repr(raw)


def test_a_last_line_without_newline_and_the_exit_code_survive(tr):
    spec = tr.spec(f"""\
children:
  - name: w
    pty: true
    cmd: [{PY}, -c, "import sys; sys.stdout.write('no newline at the end'); sys.exit(3)"]
""")
    res = tr.up(spec)
    assert res.code == 3, res.describe()
    assert "no newline at the end" in node_lines(res.stdout, "w"), res.stdout


def test_a_restarted_pty_node_gets_a_new_terminal(tr):
    spec = tr.spec(f"""\
children:
  - name: r
    daemon: true
    pty: true
    on_failure: restart
    restart: {{max: 2, within: 1m, backoff: 0s}}
    cmd: [{PY}, -c, "import os; print('tty', os.ttyname(1), flush=True); raise SystemExit(1)"]
""")
    res = tr.up(spec)
    assert res.code == 1, res.describe()
    ttys = [line for line in node_lines(res.stdout, "r") if line.startswith("tty /dev/pts/")]
    assert len(ttys) == 3, res.stdout


def test_check_rejects_pty_with_tty_a_stream_or_another_output(tr):
    spec = tr.spec(f"""\
children:
  - name: a
    pty: true
    tty: true
    cmd: [{PY}, -c, "pass"]
  - name: b
    pty: true
    cmd: [{PY}, -c, "pass"]
  - name: c
    stdin: b
    cmd: [cat]
  - name: d
    pty: true
    stdout: null
    cmd: [{PY}, -c, "pass"]
  - name: e
    pty: true
""")
    res = tr.run(["check", str(spec)])
    assert res.code != 0, res.describe()
    err = res.stderr
    assert re.search(r"spec\.yaml:3:10: .*`a` has both `pty: true` and `tty: true`", err), err
    assert re.search(r"spec\.yaml:7:10: .*`b` has `pty: true`: .*cannot feed `c`", err), err
    assert re.search(r"spec\.yaml:13:10: .*`d` has `pty: true`: .*drop its `stdout`", err), err
    assert re.search(r"spec\.yaml:17:10: .*`pty` needs a `cmd`", err), err
