"""§4.6: the log stream and raw streams."""

import re

import pytest

from harness import fnv1a, is_node, node_lines, one, parse_log, pattern_bytes


@pytest.mark.backends
def test_log_lines_are_prefixed_with_the_node_name(tr):
    spec = tr.spec("""\
children:
  - {name: alpha, cmd: [{H}, echo, hello-from-alpha]}
  - {name: beta, cmd: [{H}, echo-err, hello-from-beta]}
""")
    res = tr.up(spec)
    assert res.code == 0, res.describe()
    assert "hello-from-alpha" in node_lines(res.stdout, "alpha"), res.describe()
    assert "hello-from-beta" in node_lines(res.stdout, "beta"), res.describe()


@pytest.mark.backends
def test_log_stream_is_line_atomic_with_concurrent_writers(tr):
    n, length = 5000, 100
    spec = tr.spec("".join(["children:\n"] + [
        f"  - {{name: w{i}, cmd: [{{H}}, write-lines, \"{n}\", \"{length}\"]}}\n"
        for i in range(4)]))
    res = tr.up(spec, timeout=30)
    assert res.code == 0, res.describe()
    for i in range(4):
        lines = [t for t in node_lines(res.stdout, f"w{i}") if re.match(r"\d{8} ", t)]
        assert len(lines) == n, f"w{i}: {len(lines)} lines of {n}"
        for seq, text in enumerate(lines):
            want = f"{seq:08d} " + chr(ord("a") + seq % 26) * (length - 9)
            assert text == want, f"w{i} line {seq}: {text!r}"


@pytest.mark.backends
def test_last_line_without_newline_is_printed(tr):
    spec = tr.spec("""\
children:
  - {name: tail, cmd: [{H}, echo, first, no-newline, last-without-newline]}
""")
    res = tr.up(spec)
    assert res.code == 0, res.describe()
    assert "last-without-newline" in node_lines(res.stdout, "tail"), res.describe()


@pytest.mark.backends
def test_node_lines_come_before_its_exit_line(tr):
    spec = tr.spec("""\
children:
  - {name: talker, cmd: [{H}, write-lines, "3000", "60", echo, the-very-last-line]}
""")
    res = tr.up(spec)
    assert res.code == 0, res.describe()
    log = parse_log(res.stdout)
    last_data = max(i for i, (node, mark, text) in enumerate(log)
                    if is_node(node, "talker") and mark == "|")
    assert log[last_data][2] == "the-very-last-line", log[last_data]
    exit_notes = [i for i, (node, mark, text) in enumerate(log)
                  if is_node(node, "talker") and mark == "*" and re.search(r"(?i)exit", text)]
    assert exit_notes, "treerun printed no exit line for the node:\n" + res.stdout[-2000:]
    assert last_data < exit_notes[-1], res.stdout[-2000:]
    assert len([t for t in node_lines(res.stdout, "talker") if re.match(r"\d{8} ", t)]) == 3000


def test_no_ansi_when_not_a_terminal(tr):
    spec = tr.spec("""\
children:
  - {name: a, cmd: [{H}, echo, plain]}
  - {name: b, cmd: [{H}, exit, "3"]}
""")
    res = tr.up(spec)
    assert "\x1b[" not in res.stdout and "\x1b[" not in res.stderr, res.describe()


def test_colour_on_a_terminal_and_none_with_no_color(tr):
    spec = tr.spec("""\
children:
  - {name: a, cmd: [{H}, echo, coloured]}
""")
    s = tr.pty(["up", str(spec)])
    s.wait(10)
    assert "coloured" in s.text
    assert b"\x1b[" in s.buf, s.buf

    s2 = tr.pty(["up", str(spec), "--no-color"])
    s2.wait(10)
    assert "coloured" in s2.text
    assert b"\x1b[" not in s2.buf, s2.buf

    s3 = tr.pty(["up", str(spec)], env={"NO_COLOR": "1"})
    s3.wait(10)
    assert b"\x1b[" not in s3.buf, s3.buf


@pytest.mark.backends
def test_inherit_stdout_passes_raw_bytes_with_logs_on_stderr(tr):
    spec = tr.spec("""\
logs: stderr
children:
  - {name: raw, stdout: inherit, cmd: [{H}, write-bytes, "300000", seed, "7"]}
  - {name: chatty, cmd: [{H}, echo, goes-to-stderr]}
""")
    res = tr.up(spec)
    assert res.code == 0, res.describe()
    assert res.stdout_bytes == pattern_bytes(300000, 7)
    assert "goes-to-stderr" in res.stderr


@pytest.mark.backends
def test_one_to_one_pipe_delivers_every_byte(tr):
    spec = tr.spec("""\
children:
  - {name: produce, cmd: [{H}, write-bytes, "2000000", seed, "1"]}
  - {name: consume, stdin: produce, cmd: [{H}, checksum-stdin]}
""")
    res = tr.up(spec, timeout=30)
    assert res.code == 0, res.describe()
    want = f"bytes 2000000 fnv1a {fnv1a(pattern_bytes(2000000, 1))}"
    assert want in node_lines(res.stdout, "consume"), res.describe()


@pytest.mark.backends
def test_fan_out_gives_each_consumer_every_byte(tr):
    spec = tr.spec("""\
children:
  - {name: produce, cmd: [{H}, write-bytes, "500000", seed, "2"]}
  - {name: c1, stdin: produce, cmd: [{H}, checksum-stdin]}
  - {name: c2, stdin: produce, cmd: [{H}, checksum-stdin]}
""")
    res = tr.up(spec, timeout=30)
    assert res.code == 0, res.describe()
    want = f"bytes 500000 fnv1a {fnv1a(pattern_bytes(500000, 2))}"
    assert want in node_lines(res.stdout, "c1"), res.describe()
    assert want in node_lines(res.stdout, "c2"), res.describe()


@pytest.mark.backends
def test_consumer_exiting_early_is_not_a_failure_of_the_producer(tr):
    # `yes | head -n 1` succeeds: the producer dies of SIGPIPE after its consumer left.
    spec = tr.spec("""\
children:
  - {name: produce, cmd: [yes]}
  - {name: first, stdin: produce, cmd: [head, -n, "1"]}
""")
    res = tr.up(spec, timeout=20)
    assert res.code == 0, res.describe()
    assert "y" in node_lines(res.stdout, "first")
    assert one(res.events, event="exit", node="produce")["outcome"] != "failed"


def test_a_long_line_reaches_the_log_whole_and_a_longer_one_in_marked_pieces(tr):
    """Contract 4.6: no split line. Up to the stream buffer's default (1 MiB) a line is one
    log line; past it, it goes on in pieces, each after the first marked `+`, so that no
    piece passes for a line of its own."""
    mib = 1024 * 1024
    spec = tr.spec("""\
children:
  - {name: long, cmd: [python3, -c, "import sys; sys.stdout.write('a' * 300000 + '\\\\n' + 'b' * (2 * 1048576 + 5) + '\\\\nshort\\\\n')"]}
""")
    log = tr.path("log.txt")
    res = tr.up(spec, "--logs", str(log), "--no-color")
    assert res.code == 0, res.describe()
    pieces = [(m[1], len(m[2])) for m in re.finditer(r"^long +([|+]) (.*)$", log.read_text(), re.M)]
    assert pieces == [("|", 300000), ("|", mib), ("+", mib), ("+", 5), ("|", 5)], pieces
