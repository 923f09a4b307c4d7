"""§4.5 the terminal (tty lock), and the terminal parts of §4.4 (one ctrl-c on a pty).

Every test here runs treerun (or a shell that runs it) on a real pseudo-terminal, as
its controlling terminal, except the one that checks what happens without one. Node
programs that need a prompt are small Python scripts written into the test's temp dir
and run by the interpreter that runs pytest.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from pathlib import Path

import harness
from harness import PtySession, find, node_notes, one, pid_alive, signal_counts, wait_gone

PY = sys.executable


def script(tr, name: str, text: str) -> str:
    """Writes a Python node program into the temp dir; returns its path."""
    p = tr.path(name)
    p.write_text(text)
    return str(p)


def wait_until(cond, what: str, timeout: float = 10.0) -> None:
    """Polls `cond()` every 10 ms (harness-side only), failing after `timeout`."""
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.01)


# Blocking calls a program sits in while it waits at a prompt (x86_64, aarch64).
_WAITING_SYSCALLS = {"x86_64": {0, 7, 23, 270, 271}, "aarch64": {63, 72, 73}}


def wait_blocked_reading(pid: int, timeout: float = 10.0) -> None:
    """Waits until `pid` sleeps inside read/select/poll. A Python program that has just
    written its prompt may not be there yet; a signal that arrives in that gap only sets
    the interpreter's flag, and the handler (or KeyboardInterrupt) would wait for the
    next line of input. Once it is blocked in the call, a signal interrupts it."""
    wanted = _WAITING_SYSCALLS.get(os.uname().machine)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            with open(f"/proc/{pid}/syscall") as f:
                call = f.read().split()[0]
        except OSError:
            state, call = "?", "?"
        if state == "S" and call.isdigit() and (wanted is None or int(call) in wanted):
            return
        assert time.monotonic() < deadline, f"pid {pid} never blocked reading ({state} {call})"
        time.sleep(0.01)


def shell_pty(tr, script_text: str) -> PtySession:
    """A non-interactive bash on a pty (its session leader, the terminal's foreground
    group), running `script_text`; treerun started by it inherits that terminal."""
    s = PtySession(["bash", "--norc", "--noprofile", "-c", script_text],
                   tr.env({"TERM": "xterm-256color"}), cwd=tr.dir)
    tr.ptys.append(s)
    return s


def index_of(events: list[dict], **fields) -> int:
    for i, e in enumerate(events):
        if all(e.get(k) == v for k, v in fields.items()):
            return i
    raise AssertionError(f"no event {fields} in {events}")


# ---------------------------------------------------------------------------------------


def test_tty_node_is_the_foreground_group_and_its_stdio_is_the_terminal(tr):
    spec = tr.spec(f"""\
children:
  - name: t
    tty: true
    cmd: [{PY}, -c, "import os; print('FG', os.getpgrp() == os.tcgetpgrp(0), os.isatty(0), os.isatty(1), os.isatty(2), flush=True)"]
  - name: h
    after: [t]
    tty: true
    cmd: [{{H}}, is-foreground]
""")
    s = tr.pty(["up", str(spec)])
    s.expect(r"^FG True True True True\r?$")
    s.expect(r"^foreground yes\r?$")
    status = s.wait(10)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, (status, s.text)
    events = s.waiter.events()
    t = one(events, event="spawn", node="t")
    assert t["pgid"] == t["pid"], t
    # The terminal's output is the node's own: not prefixed into the log stream.
    assert not any("FG True" in line for line in harness.node_lines(s.text, "t")), s.text
    assert one(events, event="done")["code"] == 0


def test_ctrl_c_at_a_prompt_reaches_the_tty_node_not_treerun(tr):
    prog = script(tr, "prompt.py", """\
import sys
while True:
    try:
        line = input("prompt> ")
    except KeyboardInterrupt:
        print("caught", flush=True)
        continue
    print("got", line, flush=True)
    sys.exit(0)
""")
    spec = tr.spec(f"""\
children:
  - name: d
    daemon: true
    cmd: [{{H}}, count-signals, {{T}}/d.sig, touch, {{T}}/d.up, sleep, forever]
  - name: t
    tty: true
    after: [d]
    cmd: [{PY}, {prog}]
""")
    s = tr.pty(["up", str(spec)])
    tr.wait_files("d.up")
    s.expect(r"prompt> ")
    wait_blocked_reading(s.waiter.wait_for(event="spawn", node="t")["pid"])
    s.send(b"\x03")
    s.expect(r"caught")
    s.expect(r"prompt> ")
    # treerun did not take the ctrl-c: no cancel, no stop, and the sibling daemon (in its
    # own process group) got nothing.
    events = s.waiter.events()
    assert not find(events, event="cancel"), events
    assert not find(events, event="stop"), events
    assert not signal_counts(tr.path("d.sig")), tr.path("d.sig").read_text()
    assert s.proc.poll() is None
    s.send(b"hello\n")
    s.expect(r"got hello")
    status = s.wait(10)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, (status, s.text)
    assert not re.search(r"(?i)stopping gracefully", s.text), s.text
    events = s.waiter.events()
    assert not find(events, event="cancel", cause="sigint"), events
    assert one(events, event="exit", node="t")["outcome"] == "ok"
    assert one(events, event="done")["code"] == 0
    # d was torn down at the end of the successful run: once, by treerun.
    assert list(signal_counts(tr.path("d.sig")).keys())[0][0] == "SIGTERM"
    assert sum(signal_counts(tr.path("d.sig")).values()) == 1


def test_debugger_holding_the_terminal_is_not_killed_at_grace(tr):
    # pdb at its prompt survives SIGINT (it prints --KeyboardInterrupt-- and prompts
    # again), so `stop_signal: SIGINT` is the graceful stop a debugger session survives;
    # a SIGTERM would end python at once.
    prog = script(tr, "dbg.py", """\
import os, pdb, sys
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
def boom():
    raise RuntimeError("boom-for-pdb")
try:
    boom()
except RuntimeError:
    pdb.post_mortem()
print("left-pdb", flush=True)
""")
    spec = tr.spec(f"""\
grace: 1s
children:
  - name: dbg
    tty: true
    stop_signal: SIGINT
    cmd: [{PY}, {prog}, {{T}}/dbg.pid]
  - name: sib
    cmd: [{{H}}, wait-file, {{T}}/go, exit, "3"]
""")
    s = tr.pty(["up", str(spec)])
    s.expect(r"boom-for-pdb")
    s.expect(r"\(Pdb\) ")
    tr.wait_files("dbg.pid")
    pid = int(tr.path("dbg.pid").read_text())
    wait_blocked_reading(pid)
    tr.path("go").touch()  # the sibling fails now, with the debugger at its prompt
    assert s.waiter.wait_for(event="exit", node="sib")["code"] == 3
    stop = s.waiter.wait_for(event="stop", node="dbg")
    assert stop["how"] == "SIGINT", stop
    s.expect(r"KeyboardInterrupt")
    s.expect(r"\(Pdb\) ")
    # Well past the 1 s grace: the holder of the terminal is waited for, not killed.
    time.sleep(2.5)
    events = s.waiter.events()
    assert pid_alive(pid), "the debugger was killed while it held the terminal"
    assert not find(events, event="kill"), events
    assert not find(events, event="exit", node="dbg"), events
    assert s.proc.poll() is None
    s.send(b"q\n")
    s.expect(r"left-pdb")
    status = s.wait(10)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 3, (status, s.text)
    events = s.waiter.events()
    assert len(find(events, event="stop", node="dbg")) == 1, events
    assert one(events, event="exit", node="dbg")["outcome"] == "cancelled"
    assert one(events, event="cancel", node="/")["cause"] == "failure"
    assert one(events, event="done")["code"] == 3
    # The note about waiting for the holder was held back, and shown after it let go.
    assert re.search(r"holds the terminal", s.text), s.text


def turn_script(tr) -> str:
    return script(tr, "turn.py", """\
import sys
label = sys.argv[1]
print(label + "-start", flush=True)
line = sys.stdin.readline()
print(label + "-done", line.strip(), flush=True)
""")


def test_two_tty_nodes_take_turns(tr):
    prog = turn_script(tr)
    spec = tr.spec(f"""\
children:
  - {{name: a, tty: true, cmd: [{PY}, {prog}, A]}}
  - {{name: b, tty: true, cmd: [{PY}, {prog}, B]}}
""")
    s = tr.pty(["up", str(spec)])
    first = s.expect(r"([AB])-start").group(1)
    second = "B" if first == "A" else "A"
    f, g = first.lower(), second.lower()
    events = s.waiter.events()
    assert find(events, event="spawn", node=f) and not find(events, event="spawn", node=g), events
    s.send(b"one\n")
    s.expect(rf"{first}-done one")
    s.expect(rf"{second}-start")
    s.send(b"two\n")
    s.expect(rf"{second}-done two")
    status = s.wait(10)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, (status, s.text)
    events = s.waiter.events()
    assert any(f"waiting for the terminal (held by {f})" in n for n in node_notes(s.text, g)), s.text
    # The first node's output came before the second started.
    assert s.text.index(f"{first}-done") < s.text.index(f"{second}-start")
    assert one(events, event="done")["code"] == 0
    # The event log tells the same story: the holder's exit, then the next one's spawn.
    assert index_of(events, event="exit", node=f) < index_of(events, event="spawn", node=g), \
        "\n".join(map(str, events))


def test_tty_waiters_get_the_terminal_first_come_first_served(tr):
    prog = turn_script(tr)
    spec = tr.spec(f"""\
children:
  - {{name: a, tty: true, cmd: [{PY}, {prog}, A]}}
  - {{name: b, tty: true, cmd: [{PY}, {prog}, B]}}
  - {{name: c, tty: true, cmd: [{PY}, {prog}, C]}}
""")
    s = tr.pty(["up", str(spec)])
    order = []
    for i in range(3):
        label = s.expect(r"([ABC])-start").group(1)
        order.append(label.lower())
        s.send(f"line{i}\n".encode())
        s.expect(rf"{label}-done line{i}")
    status = s.wait(10)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, (status, s.text)
    assert sorted(order) == ["a", "b", "c"], order
    events = s.waiter.events()
    spawns = [e["node"] for e in events if e["event"] == "spawn"]
    assert spawns == order, (spawns, order)
    # The queue order: the order in which the two waiters said they were waiting.
    text = harness.strip_ansi(s.text)
    waiters = order[1:]
    asked = sorted(waiters, key=lambda n: min(
        i for i, (shown, mark, t) in enumerate(harness.parse_log(text))
        if mark == "*" and harness.is_node(shown, n) and "waiting for the terminal" in t))
    assert asked == waiters, (asked, waiters, text)


def test_a_tty_node_waiting_for_the_terminal_is_dropped_when_the_tree_is_cancelled(tr):
    prog = script(tr, "hold.py", """\
import sys
print("HOLD-start", flush=True)
sys.stdin.readline()
""")
    spec = tr.spec(f"""\
children:
  - {{name: a, tty: true, cmd: [{PY}, {prog}]}}
  - {{name: b, tty: true, after: [a_up], cmd: [{PY}, {prog}]}}
  - {{name: a_up, daemon: true, cmd: [{{H}}, sleep, forever], ready: {{file: {{T}}/b.may}}}}
  - {{name: f, cmd: [{{H}}, wait-file, {{T}}/go, exit, "3"]}}
""")
    s = tr.pty(["up", str(spec)])
    s.expect(r"HOLD-start")
    pid = s.waiter.wait_for(event="spawn", node="a")["pid"]
    tr.path("b.may").touch()  # b asks for the terminal now, and queues behind a
    s.waiter.wait_for(event="ready", node="a_up")
    wait_blocked_reading(pid)
    tr.path("go").touch()
    status = s.wait(10)  # a dies of its SIGTERM; b must never get the terminal
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 3, (status, s.text)
    events = s.waiter.events()
    assert not find(events, event="spawn", node="b"), events
    assert one(events, event="exit", node="a")["outcome"] == "cancelled"
    assert s.text.count("HOLD-start") == 1, s.text
    assert any("waiting for the terminal" in n for n in node_notes(s.text, "b")), s.text


def test_terminal_modes_are_restored_after_a_tty_node_leaves_it_raw(tr):
    spec = tr.spec("""\
children:
  - name: t
    tty: true
    cmd: "stty raw -echo && stty -g > {T}/during"
""")
    s = shell_pty(tr, f"stty -g > before; {tr.bin} up {spec} --events ev.jsonl --logs log; "
                      "echo \"rc=$?\"; stty -g > after; echo ALLDONE")
    s.expect(r"ALLDONE")
    status = s.wait(10)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, (status, s.text)
    assert "rc=0" in s.text, s.text
    before, during, after = (tr.path(n).read_text().strip() for n in ("before", "during", "after"))
    assert during != before, "the node did not change the terminal's modes"
    assert after == before, (before, after)


def test_terminal_modes_are_restored_after_a_raw_tty_node_is_force_killed(tr):
    spec = tr.spec("""\
grace: 1s
children:
  - name: t
    tty: true
    cmd: "stty raw -echo && stty -g > {T}/during && exec {H} ignore TERM touch {T}/t.up sleep forever"
""")
    s = shell_pty(tr, f"stty -g > before; {tr.bin} up {spec} --events ev.jsonl --logs log; "
                      "echo \"rc=$?\"; stty -g > after; echo ALLDONE")
    tr.wait_files("t.up")
    # treerun: the shell's child (raw mode also turned ctrl-c into a plain byte).
    kids = Path(f"/proc/{s.pid}/task/{s.pid}/children").read_text().split()
    assert len(kids) == 1, kids
    tpid = int(kids[0])
    os.kill(tpid, signal.SIGTERM)
    harness.EventWaiter(tr.path("ev.jsonl")).wait_for(event="stop", node="t")
    # Only a second SIGINT forces (a repeated SIGTERM does not): the first is heard...
    os.kill(tpid, signal.SIGINT)
    wait_until(lambda: "SIGINT: already stopping" in tr.path("log").read_text(), "the first SIGINT was heard")
    os.kill(tpid, signal.SIGINT)  # ... and the second forces
    s.expect(r"ALLDONE")
    status = s.wait(10)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, (status, s.text)
    assert "rc=143" in s.text, s.text
    before, during, after = (tr.path(n).read_text().strip() for n in ("before", "during", "after"))
    assert during != before, "the node did not change the terminal's modes"
    assert after == before, (before, after)


def test_log_lines_are_held_back_while_a_tty_node_holds_the_terminal(tr):
    chat = script(tr, "chat.py", """\
import os, sys, time
count = sys.argv[1]
i = 0
while True:
    print(f"chat-{i}", flush=True)
    with open(count + ".tmp", "w") as f:
        f.write(str(i))
    os.rename(count + ".tmp", count)
    i += 1
    time.sleep(0.02)
""")
    mark = script(tr, "mark.py", """\
import sys
print("MARK-START", flush=True)
sys.stdin.readline()
print("MARK-END", flush=True)
""")
    spec = tr.spec(f"""\
children:
  - name: c
    daemon: true
    cmd: [{PY}, {chat}, {{T}}/count]
    ready: {{log: "chat-3"}}
  - name: t
    tty: true
    after: [c]
    cmd: [{PY}, {mark}]
""")
    s = tr.pty(["up", str(spec)])
    s.expect(r"MARK-START")
    n0 = int(tr.path("count").read_text())
    wait_until(lambda: int(tr.path("count").read_text()) >= n0 + 10, "ten more chat lines")
    n1 = int(tr.path("count").read_text())
    s.send(b"THE-INPUT-LINE\n")
    s.expect(r"MARK-END")
    # Held lines come out after the holder lets go of the terminal.
    s.expect(rf"chat-{n1}\b")
    status = s.wait(10)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, (status, s.text)
    text = s.text
    start, typed, end = (text.index(m) for m in ("MARK-START", "THE-INPUT-LINE", "MARK-END"))
    assert "chat-" not in text[start:typed], text[start:typed]
    assert "chat-" not in text[typed:end], text[typed:end]
    seen = [int(x) for x in re.findall(r"chat-(\d+)", text)]
    assert seen == list(range(seen[0], seen[-1] + 1)), f"lost or reordered chatter: {seen}"
    assert seen[-1] >= n1, (seen, n1)
    assert max(int(x) for x in re.findall(r"chat-(\d+)", text[end:])) >= n1


def test_no_terminal_tty_node_runs_with_ordinary_stdio(tr):
    spec = tr.spec(f"""\
children:
  - name: t
    tty: true
    cmd: [{PY}, -c, "import os, sys; print('isatty', os.isatty(0), os.isatty(1)); print('read', repr(sys.stdin.read()))"]
""")
    res = tr.up(spec, timeout=10)  # own session, stdin /dev/null: no controlling terminal
    assert res.code == 0, res.describe()
    assert "isatty False False" in harness.node_lines(res.stdout, "t"), res.describe()
    assert "read ''" in harness.node_lines(res.stdout, "t"), res.describe()
    assert re.search(r"(?i)no terminal", res.stdout + res.stderr), res.describe()


def test_background_job_does_not_take_the_terminal(tr):
    # `treerun up spec &` under job control: the terminal belongs to the shell's
    # foreground group, so the tty node runs with ordinary stdio and nothing stops on
    # SIGTTIN/SIGTTOU.
    spec = tr.spec(f"""\
children:
  - name: t
    tty: true
    cmd: [{PY}, -c, "import os, sys; print('isatty', os.isatty(0), os.isatty(1)); print('read', repr(sys.stdin.read()))"]
""")
    s = shell_pty(tr, f"set -m; stty -g > before; {tr.bin} up {spec} --events ev.jsonl & wait $!; "
                      "echo \"rc=$?\"; stty -g > after; echo ALLDONE")
    s.expect(r"ALLDONE", timeout=10)
    status = s.wait(10)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, (status, s.text)
    assert "rc=0" in s.text, s.text
    assert "isatty False False" in harness.node_lines(s.text, "t"), s.text
    assert re.search(r"(?i)no terminal", s.text), s.text
    assert tr.path("before").read_text() == tr.path("after").read_text()


def test_one_ctrl_c_stops_a_deep_tree_with_streams_once(tr):
    def d(name):
        return (f"{{name: {name}, daemon: true, cmd: [{{H}}, count-signals, {{T}}/{name}.sig, "
                f"pidfile, {{T}}/{name}.pid, sleep, forever]}}")
    # prod writes forever into cons (one-to-one: a kernel pipe), feed into fa and fb (a
    # fan-out through treerun). Producers stop first (`after`), so no consumer's exit
    # can kill one by SIGPIPE before its own stop signal arrives; consumers survive EOF.
    spec = tr.spec(f"""\
children:
  - {d("d0")}
  - name: g1
    children:
      - {d("d1")}
      - name: g2
        children:
          - {d("d2")}
          - name: g3
            children:
              - {d("d3")}
              - name: cons
                daemon: true
                stdin: prod
                stdout: "null"
                cmd: [{{H}}, count-signals, {{T}}/cons.sig, pidfile, {{T}}/cons.pid, cat, sleep, forever]
              - name: fa
                daemon: true
                stdin: feed
                stdout: "null"
                cmd: [{{H}}, count-signals, {{T}}/fa.sig, pidfile, {{T}}/fa.pid, cat, sleep, forever]
              - name: fb
                daemon: true
                stdin: feed
                stdout: "null"
                cmd: [{{H}}, count-signals, {{T}}/fb.sig, pidfile, {{T}}/fb.pid, cat, sleep, forever]
              - name: prod
                daemon: true
                after: [cons]
                cmd: [{{H}}, count-signals, {{T}}/prod.sig, pidfile, {{T}}/prod.pid, write-bytes, "1000000000000000"]
              - name: feed
                daemon: true
                after: [fa, fb]
                cmd: [{{H}}, count-signals, {{T}}/feed.sig, pidfile, {{T}}/feed.pid, write-bytes, "1000000000000000"]
""")
    names = ["d0", "d1", "d2", "d3", "cons", "fa", "fb", "prod", "feed"]
    s = tr.pty(["up", str(spec)])
    tr.wait_files(*[f"{n}.pid" for n in names])
    pids = {n: int(tr.path(f"{n}.pid").read_text()) for n in names}
    s.send(b"\x03")
    status = s.wait(15)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT, (status, s.text)
    for n in names:
        counts = signal_counts(tr.path(f"{n}.sig"))
        assert counts == {("SIGTERM", pids[n]): 1}, (n, counts, s.text)
        assert wait_gone(pids[n], 5.0), f"{n} (pid {pids[n]}) outlived the run"
    events = s.waiter.events()
    assert one(events, event="cancel", node="/")["cause"] == "sigint"
    assert not find(events, event="kill"), events
    for n in names:
        assert len(find(events, lambda e: e["node"].endswith(n), event="stop")) == 1, (n, events)
    assert one(events, event="done")["code"] == 130


def test_a_second_sigint_forces_a_tty_holder_that_ignores_sigterm(tr):
    prog = script(tr, "stubborn.py", """\
import os, signal, sys
T = sys.argv[1]
def on_term(sig, frame):
    with open(T + "/t.sig", "a") as f:
        f.write(f"SIGTERM pid={os.getpid()}\\n")
signal.signal(signal.SIGTERM, on_term)
with open(T + "/t.pid.tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(T + "/t.pid.tmp", T + "/t.pid")
while True:
    input("prompt> ")
""")
    spec = tr.spec(f"""\
grace: 1s
children:
  - name: t
    tty: true
    cmd: [{PY}, {prog}, {{T}}]
""")
    s = tr.pty(["up", str(spec), "--logs", str(tr.path("log"))])
    s.expect(r"prompt> ")
    tr.wait_files("t.pid")
    pid = int(tr.path("t.pid").read_text())
    wait_blocked_reading(pid)
    os.kill(s.pid, signal.SIGTERM)
    assert s.waiter.wait_for(event="stop", node="t")["how"] == "SIGTERM"
    wait_until(lambda: signal_counts(tr.path("t.sig")), "the stop signal reached the node")
    time.sleep(2.0)  # twice the grace: it holds the terminal, so it is not killed
    assert pid_alive(pid)
    assert not find(s.waiter.events(), event="kill")
    assert s.proc.poll() is None
    # ctrl-c goes to the holder: the line says `kill -INT` forces. A second SIGTERM
    # would not; a SIGINT after the SIGTERM is the first, the next one forces.
    assert "kill -INT" in tr.path("log").read_text()
    os.kill(s.pid, signal.SIGTERM)
    wait_until(lambda: "SIGTERM: already stopping" in tr.path("log").read_text(), "the second SIGTERM was heard")
    assert not find(s.waiter.events(), event="kill")
    os.kill(s.pid, signal.SIGINT)
    wait_until(lambda: "SIGINT: already stopping" in tr.path("log").read_text(), "the first SIGINT was heard")
    os.kill(s.pid, signal.SIGINT)
    status = s.wait(10)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM, (status, s.text)
    assert wait_gone(pid, 5.0)
    events = s.waiter.events()
    assert one(events, event="cancel", node="/")["cause"] == "sigterm"
    assert one(events, event="kill", node="t")
    assert one(events, event="exit", node="t")["outcome"] == "killed"
    assert one(events, event="done")["code"] == 143
    assert list(signal_counts(tr.path("t.sig")).values()) == [1]


def test_a_carriage_return_redraws_with_the_prefix_on_a_terminal_and_stays_as_is_in_a_file(tr):
    spec = tr.spec(r"""
children:
  - {name: bar, cmd: 'printf "10%%\r20%%\r30%%\n"'}
""")
    s = tr.pty(["up", str(spec), "--no-color"])
    status = s.wait(10)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, (status, s.text)
    raw = s.buf.decode(errors="replace")
    # Each redraw starts with the node's prefix, so the line left on screen keeps it.
    assert re.search(r"bar +\| 10%\rbar +\| 20%\rbar +\| 30%\r?\n", raw), repr(raw)

    log = tr.path("log.txt")
    res = tr.up(spec, "--logs", str(log))
    assert res.code == 0, res.describe()
    text = log.read_bytes().decode()  # read_text() would turn each \r into \n
    assert re.search(r"^bar +\| 10%\r20%\r30%$", text, re.M), repr(text)
