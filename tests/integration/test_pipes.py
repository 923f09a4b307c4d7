"""§4.6 raw streams between nodes: integrity, fan-out, merge, backpressure, lag, EOF,
EPIPE, cancelling blocked pipelines, inherited stdio and files (issue 5)."""

from __future__ import annotations

import hashlib
import re
import shlex
import subprocess
import time
from pathlib import Path

import pytest

import harness
from harness import find, node_lines, one, reference_checksum

MB = 1_000_000


def checksum_line(res, node: str) -> str | None:
    """The `bytes N fnv1a H` line a checksum-stdin node printed, or None."""
    lines = [t for t in node_lines(res.stdout, node) if t.startswith("bytes ")]
    return lines[-1] if lines else None


def expected_line(seq: int, length: int) -> str:
    """Line `seq` of `trhelper write-lines N LENGTH`, without its newline."""
    return f"{seq:08d} " + chr(ord("a") + seq % 26) * (length - 9)


def check_lines_intact(data: bytes, lengths: dict[int, str]) -> dict[str, list[int]]:
    """Splits merged write-lines output into lines; each must be one whole line of one
    source (told apart by length). Returns the sequence numbers seen per source."""
    assert data.endswith(b"\n") or not data, "output does not end with a newline"
    seen: dict[str, list[int]] = {name: [] for name in lengths.values()}
    for i, raw in enumerate(data.split(b"\n")[:-1]):
        line = raw.decode("ascii", errors="replace")
        src = lengths.get(len(line))
        assert src is not None, f"line {i}: a broken line of length {len(line)}: {line[:60]!r}"
        seq = int(line[:8])
        assert line == expected_line(seq, len(line)), f"line {i} ({src}) is mangled"
        seen[src].append(seq)
    return seen


def vm_hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


# ---------------------------------------------------------------------------
# Integrity: every byte arrives, in order, whatever the wiring.


@pytest.mark.backends
def test_one_to_one_20mb_checksum(tr):
    spec = tr.spec("""\
children:
  - {name: produce, cmd: [{H}, write-bytes, "20000000", seed, "11"]}
  - {name: consume, stdin: produce, cmd: [{H}, checksum-stdin]}
""")
    res = tr.up(spec, timeout=20)
    assert res.code == 0, res.describe()
    assert checksum_line(res, "consume") == \
        reference_checksum("write-bytes", "20000000", "seed", "11"), res.describe()
    assert one(res.events, event="exit", node="produce")["outcome"] == "ok"


@pytest.mark.backends
def test_three_stage_pipeline_20mb_checksum(tr):
    spec = tr.spec("""\
children:
  - {name: produce, cmd: [{H}, write-bytes, "20000000", seed, "12"]}
  - {name: middle, stdin: produce, cmd: [{H}, cat]}
  - {name: consume, stdin: middle, cmd: [{H}, checksum-stdin]}
""")
    res = tr.up(spec, timeout=20)
    assert res.code == 0, res.describe()
    assert checksum_line(res, "consume") == \
        reference_checksum("write-bytes", "20000000", "seed", "12"), res.describe()
    # The middle stage's stdout feeds `consume`, not the log stream.
    assert not [t for t in node_lines(res.stdout, "middle") if not t.startswith("cat bytes")]


@pytest.mark.backends
def test_fan_out_1_to_3_20mb_checksum(tr):
    spec = tr.spec("""\
children:
  - {name: produce, cmd: [{H}, write-bytes, "20000000", seed, "13"]}
  - {name: c1, stdin: produce, cmd: [{H}, checksum-stdin]}
  - {name: c2, stdin: produce, cmd: [{H}, checksum-stdin]}
  - {name: c3, stdin: produce, cmd: [{H}, checksum-stdin]}
""")
    res = tr.up(spec, timeout=20)
    assert res.code == 0, res.describe()
    want = reference_checksum("write-bytes", "20000000", "seed", "13")
    for c in ("c1", "c2", "c3"):
        assert checksum_line(res, c) == want, f"{c}:\n" + res.describe()


@pytest.mark.backends
def test_merge_3_to_1_long_lines_stay_whole_and_in_order(tr):
    n = 700  # 3 x 700 x ~10 kB = 21 MB
    spec = tr.spec(f"""\
children:
  - {{name: s0, cmd: [{{H}}, write-lines, "{n}", "10000"]}}
  - {{name: s1, cmd: [{{H}}, write-lines, "{n}", "10001"]}}
  - {{name: s2, cmd: [{{H}}, write-lines, "{n}", "10002"]}}
  - name: merged
    stdin: [s0, s1, s2]
    stdout: {{file: merged.out}}
    cmd: [cat]
""")
    res = tr.up(spec, timeout=20)
    assert res.code == 0, res.describe()
    data = tr.path("merged.out").read_bytes()
    seen = check_lines_intact(data, {10000: "s0", 10001: "s1", 10002: "s2"})
    for src, seqs in seen.items():
        assert seqs == list(range(n)), f"{src}: {len(seqs)} lines, order kept: " \
            f"{seqs == sorted(seqs)}"
    assert len(data) == n * (10001 + 10002 + 10003)


def io_counters(path: Path) -> dict[str, int]:
    """/proc/PID/task/PID/io as saved by a node: rchar and wchar count the bytes a thread
    moved with read(2) and write(2); tee(2) and splice(2) between pipes move none. (The
    process-wide /proc/PID/io also counts reaped children's.)"""
    return {k: int(v) for k, v in (line.split(": ") for line in path.read_text().splitlines())}


ZERO_COPY_WIRINGS = {
    # name: (consumers' stdin, number of consumers, whether the bytes cross treerun)
    "one-to-one": ("produce", 1, False),
    "fan-out": ("produce", 3, False),
    "fan-out-small-buffers": ("{from: produce, buffer: 4KiB}", 3, False),
    "merge": ("[produce, other]", 1, True),
}


@pytest.mark.parametrize("wiring", list(ZERO_COPY_WIRINGS))
def test_pipes_and_fan_out_move_no_byte_through_treerun(tr, wiring):
    # treerun's own read/write counters, taken by its child at the end: a direct pipe
    # and a spliced fan-out leave them near zero; a merge, which must cut lines, reads
    # every byte (the contrast shows the counters do see a relay).
    stdin, consumers, copied = ZERO_COPY_WIRINGS[wiring]
    names = [f"c{i}" for i in range(consumers)]
    nodes = "".join(f"  - {{name: {c}, stdin: {stdin}, cmd: [{{H}}, checksum-stdin]}}\n" for c in names)
    spec = tr.spec(f"""\
children:
  - {{name: produce, cmd: [{{H}}, write-bytes, "{20 * MB}", seed, "31"]}}
  - {{name: other, cmd: [{{H}}, echo, other]}}
{nodes}  - {{name: counters, after: [{", ".join(names)}], cmd: "cat /proc/$PPID/task/$PPID/io > {{T}}/io.txt"}}
""")
    res = tr.up(spec, timeout=30)
    assert res.code == 0, res.describe()
    want = reference_checksum("write-bytes", str(20 * MB), "seed", "31")
    if not copied:
        for c in names:
            assert checksum_line(res, c) == want, f"{c}:\n" + res.describe()
    io = io_counters(tr.path("io.txt"))
    print(wiring, io)
    if copied:
        assert io["rchar"] >= 20 * MB, io
    else:
        assert io["rchar"] < 2 * MB and io["wchar"] < 2 * MB, io


@pytest.mark.backends
@pytest.mark.parametrize("slow_stdin", ["produce", "[produce, other]"], ids=["spliced", "relay"])
def test_fan_out_with_a_log_copy_logs_every_line_before_the_exit(tr, slow_stdin):
    # The producer's stdout feeds two consumers and the log stream. `slow` holds the
    # fan-out back, so when the producer exits its last lines still wait in its pipe:
    # they are drained into the log (and kept for the consumers) before the exit line.
    n, length = 40000, 100  # 4 MB: more than the pipes on the way hold
    spec = tr.spec(f"""\
children:
  - {{name: produce, stdout: log, cmd: [{{H}}, write-lines, "{n}", "{length}", echo, the-last-line]}}
  - {{name: other, cmd: [{{H}}, echo, other]}}
  - {{name: fast, stdin: produce, cmd: [{{H}}, checksum-stdin]}}
  - {{name: slow, stdin: {slow_stdin}, cmd: [{{H}}, slow-cat, "2000000"], stdout: {{file: slow.out}}}}
""")
    res = tr.up(spec, timeout=30)
    assert res.code == 0, res.describe()
    log = harness.parse_log(res.stdout)
    mine = [i for i, (node, mark, _) in enumerate(log) if harness.is_node(node, "produce") and mark == "|"]
    texts = [log[i][2] for i in mine]
    assert texts[:-1] == [expected_line(seq, length) for seq in range(n)], "log copy lost or mangled lines"
    assert texts[-1] == "the-last-line"
    exit_line = [i for i, (node, mark, text) in enumerate(log)
                 if harness.is_node(node, "produce") and mark == "*" and "exited" in text]
    assert exit_line and mine[-1] < exit_line[0], res.stdout[-2000:]
    want = b"".join(expected_line(seq, length).encode() + b"\n" for seq in range(n)) + b"the-last-line\n"
    data = tr.path("slow.out").read_bytes()
    if "other" in slow_stdin:
        data = data.replace(b"other\n", b"", 1)
    assert data == want
    assert checksum_line(res, "fast").startswith(f"bytes {len(want)} "), res.describe()


def test_log_probe_sees_a_spliced_log_copy(tr):
    spec = tr.spec("""\
children:
  - name: produce
    daemon: true
    stdout: log
    ready: {log: "^up and running$"}
    cmd: [{H}, echo, "up and running", sleep, forever]
  - {name: consume, daemon: true, stdin: produce, cmd: [{H}, cat]}
  - {name: after-ready, after: produce, cmd: [{H}, echo, went]}
""")
    res = tr.up(spec, timeout=15)
    assert res.code == 0, res.describe()
    assert one(res.events, event="ready", node="produce")
    assert "went" in node_lines(res.stdout, "after-ready")


# ---------------------------------------------------------------------------
# Slow consumers: backpressure (block) and loss of whole lines (drop).


@pytest.mark.backends
@pytest.mark.skipif(harness.SANITIZED, reason="sanitizer runtime owns memory, fds and threads")
def test_lag_block_slow_consumer_loses_nothing_and_treerun_memory_stays_bounded(tr):
    # 50 MB fan-out: `fast` reads at once, `slow` at 25 MB/s. Under `lag: block` the
    # producer is held back to the slow consumer's pace, and treerun buffers at most
    # `buffer` (1 MiB) per consumer, never the whole stream.
    size = str(50 * MB)
    spec = tr.spec(f"""\
children:
  - {{name: produce, cmd: [{{H}}, write-bytes, "{size}", seed, "21"]}}
  - {{name: fast, stdin: produce, cmd: [{{H}}, checksum-stdin]}}
  - {{name: slow, stdin: {{from: produce, lag: block}}, cmd: [{{H}}, slow-cat, "25000000"]}}
  - {{name: slowsum, stdin: slow, cmd: [{{H}}, checksum-stdin]}}
  - {{name: hold, cmd: [{{H}}, wait-file, "{{T}}/release"]}}
""")
    p = tr.start(["up", spec])
    p.wait_for(event="exit", node="slowsum", timeout=15)
    hwm = vm_hwm_kib(p.pid)  # treerun is still running: `hold` keeps it alive
    tr.path("release").touch()
    res = p.wait(10)
    assert res.code == 0, res.describe()
    want = reference_checksum("write-bytes", size, "seed", "21")
    assert checksum_line(res, "fast") == want, res.describe()
    assert checksum_line(res, "slowsum") == want, res.describe()
    assert not find(res.events, event="lag"), res.describe()
    print(f"treerun VmHWM {hwm} KiB")
    assert hwm < 32 * 1024, f"treerun's VmHWM is {hwm} KiB while 50 MB passed"
    # Backpressure: the producer could not finish far ahead of the slow consumer
    # (50 MB at 25 MB/s is 2 s; allow for the buffers).
    prod = one(res.events, event="exit", node="produce")
    took = prod["t"] - one(res.events, event="spawn", node="produce")["t"]
    assert took >= 1.2, f"producer finished in {took:.2f}s: no backpressure?"


@pytest.mark.backends
@pytest.mark.parametrize("with_fast", [True, False], ids=["fan-out", "single"])
def test_lag_drop_loses_whole_lines_and_reports_it(tr, with_fast):
    n, length = 40000, 100  # 4 MB of lines
    fast = (f'  - {{name: fast, stdin: produce, cmd: [{{H}}, checksum-stdin]}}\n'
            if with_fast else "")
    spec = tr.spec(f"""\
children:
  - {{name: produce, cmd: [{{H}}, write-lines, "{n}", "{length}"]}}
{fast}  - name: slow
    stdin: {{from: produce, lag: drop, buffer: 64KiB}}
    stdout: {{file: slow.out}}
    cmd: [{{H}}, slow-cat, "500000"]
""")
    res = tr.up(spec, timeout=20)
    assert res.code == 0, res.describe()
    lags = find(res.events, event="lag", node="slow")
    assert lags, "no lag event:\n" + res.describe()
    assert all(e["source"] == "produce" for e in lags), lags
    totals = [e["dropped_bytes"] for e in lags]
    assert totals == sorted(totals) and totals[-1] > 0, totals
    data = tr.path("slow.out").read_bytes()
    seqs = check_lines_intact(data, {length: "produce"})["produce"]
    assert seqs == sorted(set(seqs)), "lines repeated or out of order"
    assert 0 < len(seqs) < n
    # The last lag event is the final count: received + dropped = all.
    assert len(data) + totals[-1] == n * (length + 1), (len(data), totals[-1])
    assert f"  slow: lost {totals[-1]} bytes of produce (lag: drop)\n" in res.stdout, res.describe()
    # The producer was not slowed down to 500 kB/s (that would take 8 s).
    prod = one(res.events, event="exit", node="produce")
    assert prod["outcome"] == "ok"
    assert prod["t"] - one(res.events, event="spawn", node="produce")["t"] < 3
    if with_fast:
        assert checksum_line(res, "fast") == \
            reference_checksum("write-lines", str(n), str(length)), res.describe()
        assert not find(res.events, event="lag", node="fast")


@pytest.mark.backends
def test_lag_drop_gives_an_idle_consumer_a_line_longer_than_its_buffer(tr):
    # Only a consumer that lags loses lines: one written whole, longer than `buffer`,
    # still reaches a consumer that has nothing pending.
    spec = tr.spec("""\
children:
  - {name: produce, cmd: [python3, -c, "import os; os.write(1, b'a' * 10000 + b'\\\\n')"]}
  - {name: consume, stdin: {from: produce, lag: drop, buffer: 4KiB}, cmd: [wc, -c]}
""")
    res = tr.up(spec, timeout=10)
    assert res.code == 0, res.describe()
    assert node_lines(res.stdout, "consume") == ["10001"], res.describe()
    assert not find(res.events, event="lag"), res.describe()


# ---------------------------------------------------------------------------
# EOF and EPIPE.


EOF_WIRINGS = {
    "one-to-one": "stdin: produce",
    "fan-out": "stdin: produce",  # with a second consumer, below
    "merge": "stdin: [produce, other]",
    "lag-drop": "stdin: {from: produce, lag: drop}",
}


@pytest.mark.backends
@pytest.mark.parametrize("wiring", list(EOF_WIRINGS))
def test_producer_exit_gives_the_consumer_eof(tr, wiring):
    extra = ""
    if wiring == "fan-out":
        extra = "  - {name: second, stdin: produce, cmd: [{H}, cat]}\n"
    if wiring == "merge":
        extra = "  - {name: other, cmd: [{H}, echo, from-other]}\n"
    spec = tr.spec(f"""\
children:
  - {{name: produce, cmd: [{{H}}, echo, hello, echo, world]}}
{extra}  - {{name: consume, {EOF_WIRINGS[wiring]}, cmd: [{{H}}, cat]}}
""")
    res = tr.up(spec, timeout=10)
    assert res.code == 0, res.describe()
    ex = one(res.events, event="exit", node="consume")
    assert ex["code"] == 0 and ex["outcome"] == "ok", res.describe()
    lines = node_lines(res.stdout, "consume")
    assert lines[:2] == ["hello", "world"] or \
        [t for t in lines if t in ("hello", "world")] == ["hello", "world"], res.describe()
    if wiring == "merge":
        assert "from-other" in lines
    last_producer_exit = max(e["t"] for e in find(res.events, event="exit")
                             if e["node"] in ("produce", "other"))
    assert ex["t"] - last_producer_exit < 2, res.describe()


@pytest.mark.backends
@pytest.mark.parametrize("producer", ["yes", "write-bytes"])
@pytest.mark.parametrize("wiring", ["one-to-one", "fan-out", "lag-drop"])
def test_consumer_exiting_early_gives_epipe_not_a_failure(tr, producer, wiring):
    prod_cmd = "[yes]" if producer == "yes" else '[{H}, write-bytes, "50000000"]'
    stdin = "{from: produce, lag: drop}" if wiring == "lag-drop" else "produce"
    second = ("  - {name: head2, stdin: produce, cmd: [head, -n, \"1\"]}\n"
              if wiring == "fan-out" else "")
    spec = tr.spec(f"""\
children:
  - {{name: produce, cmd: {prod_cmd}}}
  - {{name: head1, stdin: {stdin}, stdout: {{file: head1.out}}, cmd: [head, -c, "10"]}}
{second}""")
    t0 = time.monotonic()
    res = tr.up(spec, timeout=15)
    assert res.code == 0, res.describe()
    assert time.monotonic() - t0 < 8
    prod = one(res.events, event="exit", node="produce")
    assert prod["outcome"] != "failed", res.describe()
    assert len(tr.path("head1.out").read_bytes()) == 10
    if producer == "yes":
        assert tr.path("head1.out").read_bytes() == b"y\n" * 5


@pytest.mark.backends
def test_fan_out_consumer_exiting_early_leaves_the_others_everything(tr):
    spec = tr.spec("""\
children:
  - {name: produce, cmd: [{H}, write-bytes, "20000000", seed, "14"]}
  - {name: quitter, stdin: produce, cmd: [head, -c, "10"], stdout: null}
  - {name: c2, stdin: produce, cmd: [{H}, checksum-stdin]}
  - {name: c3, stdin: produce, cmd: [{H}, checksum-stdin]}
""")
    res = tr.up(spec, timeout=20)
    assert res.code == 0, res.describe()
    want = reference_checksum("write-bytes", "20000000", "seed", "14")
    assert checksum_line(res, "c2") == want, res.describe()
    assert checksum_line(res, "c3") == want, res.describe()
    assert one(res.events, event="exit", node="produce")["outcome"] == "ok", res.describe()
    assert one(res.events, event="exit", node="quitter")["outcome"] == "ok"


# ---------------------------------------------------------------------------
# A blocked pipeline still stops at once on ctrl-c.


def wait_blocked_on_pipe(pid: int, timeout: float = 5.0) -> None:
    """Waits (bounded) until `pid` sleeps in a pipe write; carries on regardless."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            wchan = Path(f"/proc/{pid}/wchan").read_text()
        except OSError:
            return
        if "pipe" in wchan:
            return
        time.sleep(0.01)


@pytest.mark.backends
@pytest.mark.parametrize("wiring", ["one-to-one", "fan-out"])
def test_sigint_stops_a_pipeline_blocked_on_a_consumer_that_never_reads(tr, wiring):
    second = ("  - {name: c2, stdin: produce, cmd: [{H}, checksum-stdin]}\n"
              if wiring == "fan-out" else "")
    spec = tr.spec(f"""\
children:
  - {{name: produce, cmd: [{{H}}, pidfile, "{{T}}/produce.pid", write-bytes, "10000000"]}}
  - {{name: sink, daemon: true, stdin: produce, cmd: [{{H}}, touch, "{{T}}/sink.up", read-never]}}
{second}""")
    p = tr.start(["up", spec])
    tr.wait_files("sink.up", "produce.pid", proc=p)
    wait_blocked_on_pipe(int(tr.path("produce.pid").read_text()))
    assert p.proc.poll() is None
    t0 = time.monotonic()
    p.signal(2)
    res = p.wait(10)
    took = time.monotonic() - t0
    assert res.code == -2, res.describe()
    assert took < 4, f"took {took:.2f}s to stop:\n" + res.describe()
    for node in ("produce", "sink"):
        assert one(res.events, event="exit", node=node)["outcome"] in ("cancelled", "killed")
    assert one(res.events, event="cancel", node="/")["cause"] == "sigint"
    for e in find(res.events, event="spawn"):
        assert harness.wait_gone(e["pid"], 2), e


# ---------------------------------------------------------------------------
# treerun's own stdin and stdout, in a shell pipeline.


@pytest.mark.backends
@pytest.mark.parametrize("stages", [1, 2])
def test_inherited_stdin_and_stdout_in_a_shell_pipeline_are_binary_safe(tr, stages):
    if stages == 1:
        nodes = "  - {name: pass, stdin: inherit, stdout: inherit, cmd: [cat]}\n"
    else:
        nodes = ("  - {name: first, stdin: inherit, cmd: [{H}, cat]}\n"
                 "  - {name: second, stdin: first, stdout: inherit, cmd: [cat]}\n")
    spec = tr.spec("logs: stderr\nchildren:\n" + nodes)
    data_in = tr.path("input.bin")
    subprocess.run(f"head -c 5000000 /dev/urandom > {shlex.quote(str(data_in))}",
                   shell=True, check=True)
    events = tr.path("pipe-events.jsonl")
    script = (f"head -c 5000000 < {shlex.quote(str(data_in))} | "
              f"{shlex.quote(tr.bin)} up {shlex.quote(str(spec))} --events {events} "
              f"2> {tr.dir}/treerun.err | sha256sum > {tr.dir}/sum.txt; "
              'echo "${PIPESTATUS[@]}" > ' + f"{tr.dir}/status.txt")
    subprocess.run(["bash", "-c", script], env=tr.env(), cwd=tr.dir, timeout=20,
                   stdin=subprocess.DEVNULL, check=True)
    err = tr.path("treerun.err").read_text()
    assert tr.path("status.txt").read_text().split() == ["0", "0", "0"], err
    got = tr.path("sum.txt").read_text().split()[0]
    assert got == hashlib.sha256(data_in.read_bytes()).hexdigest(), err
    evs = harness.parse_events(events)
    assert one(evs, event="done")["code"] == 0


# ---------------------------------------------------------------------------
# {file: PATH, append: BOOL}.


def test_file_output_appends_across_runs_or_truncates(tr):
    tr.path("out.txt").write_text("before\n")
    tr.path("err.txt").write_text("old-err\n")

    def run(word: str, append: str) -> None:
        spec = tr.spec(f"""\
children:
  - name: w
    stdout: {{file: out.txt, append: {append}}}
    stderr: {{file: "{{T}}/err.txt", append: {append}}}
    cmd: [{{H}}, echo, {word}, echo-err, err-{word}]
""", name=f"spec-{word}.yaml")
        res = tr.up(spec)
        assert res.code == 0, res.describe()
        assert word not in node_lines(res.stdout, "w"), "file output also went to the log"

    run("one", "true")
    run("two", "true")
    assert tr.path("out.txt").read_text() == "before\none\ntwo\n"
    assert tr.path("err.txt").read_text() == "old-err\nerr-one\nerr-two\n"
    run("three", "false")
    assert tr.path("out.txt").read_text() == "three\n"
    assert tr.path("err.txt").read_text() == "err-three\n"


ESCAPER = r"""
import os, sys, time
T = sys.argv[1]
if os.fork() == 0:          # keeps stdout, the stream's write end, and leaves the group
    os.setsid()
    open(f"{T}/escaped.pid", "w").write(str(os.getpid()))
    while not os.path.exists(f"{T}/release"):
        time.sleep(0.02)
    os._exit(0)
while not os.path.exists(f"{T}/escaped.pid"):
    time.sleep(0.01)
print("hi", flush=True)
"""


def test_a_pipe_held_by_an_escapee_is_named_and_the_consumer_reads_on_as_in_a_shell(tr):
    """Issue 15, item 10: a producer's descendant that left its group keeps the stream's
    write end; the consumer gets EOF only when it closes it (the shell's rule), and treerun
    says which process holds it."""
    tr.path("esc.py").write_text(ESCAPER)
    spec = tr.spec("""\
children:
  - {name: p, cmd: [python3, {T}/esc.py, {T}]}
  - {name: c, cmd: [cat], stdin: p}
""")
    log = tr.path("log.txt")
    p = tr.start(["up", str(spec), "--logs", str(log), "--no-color"])
    p.wait_for(event="exit", node="p")
    escapee = int(tr.path("escaped.pid").read_text())
    deadline = time.monotonic() + 10
    said = rf"^p +\* its stdout is still held open by pid {escapee} \(python3\), which left its group: c reads on"
    while not re.search(said, log.read_text(), re.M):
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.02)
    assert not find(p.events(), event="exit", node="c"), "c reads on while the pipe is held"
    tr.path("release").touch()
    res = p.wait(20)
    assert res.code == 0, res.describe()
    assert one(res.events, event="exit", node="c")["outcome"] == "ok"
    assert re.search(r"^c +\| hi$", log.read_text(), re.M)
