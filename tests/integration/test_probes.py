"""`ready` and `after` (treerun(1), THE SPEC › Nodes): readiness probes of every kind, their
timeouts and failures, and the start order that `after` builds on them (issue 6)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import textwrap
import time
from pathlib import Path

import pytest

from harness import (SOURCE_DIR, assert_ready_after, children, daemon, find, free_port, group, is_node,
                     node_lines, node_notes, one, parse_log, t_of, wait_gone, worker)


# ---------------------------------------------------------------------------
# Daemons written in Python, run as `python3 -c CODE ARGS...` (the node itself).


def py(code: str, *args: str) -> str:
    """A YAML flow list `[python3, -u, -c, CODE, ARGS...]` (CODE as a JSON string, which is
    a valid YAML double-quoted scalar)."""
    return "[" + ", ".join(["python3", "-u", "-c", json.dumps(textwrap.dedent(code))]
                           + [json.dumps(a) for a in args]) + "]"


# argv: PORT DELAY FLAGFILE: sleep DELAY, listen on PORT, touch FLAGFILE, accept forever.
TCP_SERVER = """
import socket, sys, time
port, delay, flag = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
time.sleep(delay)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(64)
open(flag, "w").close()
while True:
    c, _ = s.accept()
    c.close()
"""

# argv: PORT MODE FLAGFILE COUNTFILE. MODE 'healthy-later': /health answers 503 until
# the server itself has created FLAGFILE (0.3 s after it started listening), then 200.
# MODE 'always-500': /health answers 500 forever. Other paths: 404. Every /health
# request appends a line to COUNTFILE.
HTTP_SERVER = """
import http.server, os, sys, threading, time
port, mode, flag, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/health":
            code = 404
        else:
            with open(count, "a") as f:
                f.write("hit\\n")
            if mode == "always-500":
                code = 500
            else:
                code = 200 if os.path.exists(flag) else 503
        body = b"status\\n"
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
if mode == "healthy-later":
    threading.Timer(0.3, lambda: open(flag, "w").close()).start()
srv.serve_forever()
"""

# argv: ADDRFILE MODE. Writes $NOTIFY_SOCKET to ADDRFILE, sends STATUS=warming up, then
# (MODE 'ready') READY=1 after 0.3 s, or (MODE 'never') never READY; sleeps forever.
NOTIFY_DAEMON = """
import os, socket, sys, time
addr = os.environ["NOTIFY_SOCKET"]
open(sys.argv[1], "w").write(addr)
target = "\\0" + addr[1:] if addr.startswith("@") else addr
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"STATUS=warming up", target)
time.sleep(0.3)
if sys.argv[2] == "ready":
    s.sendto(b"READY=1\\nSTATUS=serving", target)
while True:
    time.sleep(3600)
"""


# ---------------------------------------------------------------------------
# Each probe kind, passing: the daemon becomes ready only once its condition holds, and a
# dependent starts after that.


def passes(tr, cmd: str, ready: str, at_least: float, then: str = '[{H}, exit, "0"]'):
    """Runs a daemon `d` (CMD, probe READY) and a worker `w` (THEN) after it: the run
    succeeds, d is ready no sooner than AT_LEAST seconds after its spawn, and w starts
    only after that. Returns the run's Result."""
    spec = tr.spec(children(daemon("d", cmd, ready), worker("w", then, after=["d"])))
    res = tr.up(spec, timeout=15)
    assert res.code == 0, res.describe()
    assert_ready_after(res, "d", at_least, dependent="w")
    return res


@pytest.mark.backends
@pytest.mark.parametrize("mode", ["echo", "echo-err"])
def test_log_probe_matches_a_line_on_stdout_or_stderr(tr, mode):
    res = passes(tr, f'[{{H}}, echo, booting, sleep, "0.3", {mode}, "listening on port 4242", '
                     'sleep, forever]',
                 '{log: "listening on port [0-9]+", timeout: 10s}', 0.2)
    # The matched line still goes to the log stream.
    assert "listening on port 4242" in node_lines(res.stdout, "d"), res.describe()


@pytest.mark.backends
def test_tcp_probe_waits_for_the_port_to_listen(tr):
    port = free_port()
    res = passes(tr, py(TCP_SERVER, str(port), "0.4", "{T}/listening"),
                 f'{{tcp: "127.0.0.1:{port}", timeout: 10s, interval: 50ms}}', 0.3,
                 then=py("import socket,sys; "
                         "socket.create_connection(('127.0.0.1', int(sys.argv[1])), 2)", str(port)))
    assert tr.path("listening").exists()
    assert one(res.events, event="exit", node="w")["outcome"] == "ok"


@pytest.mark.backends
def test_http_probe_waits_for_a_2xx_answer(tr):
    port = free_port()
    res = passes(tr, py(HTTP_SERVER, str(port), "healthy-later", "{T}/healthy", "{T}/hits"),
                 f'{{http: "http://127.0.0.1:{port}/health", timeout: 10s, interval: 50ms}}', 0.2,
                 then='[test, -f, "{T}/healthy"]')
    assert one(res.events, event="exit", node="w")["outcome"] == "ok", res.describe()
    # It asked more than once: 503 answers kept it not ready.
    assert len(tr.path("hits").read_text().splitlines()) >= 2


@pytest.mark.backends
def test_exec_probe_waits_for_the_command_to_exit_0(tr):
    passes(tr, '[{H}, sleep, "0.3", touch, {T}/flag, sleep, forever]',
           '{exec: "test -f {T}/flag", timeout: 10s, interval: 50ms}', 0.2,
           then='[test, -f, "{T}/flag"]')


@pytest.mark.backends
def test_exec_probes_never_overlap(tr):
    # Each probe takes 0.25 s, far longer than the 20 ms interval: the next one may only
    # start after the previous one exited.
    check = "echo start >> {T}/probe.log; sleep 0.25; echo end >> {T}/probe.log; test -f {T}/flag"
    spec = tr.spec(children(
        daemon("d", '[{H}, sleep, "0.9", touch, {T}/flag, sleep, forever]',
               f'{{exec: "{check}", timeout: 5s, interval: 20ms}}'),
        worker("w", after=["d"])))
    res = tr.up(spec, timeout=15)
    assert res.code == 0, res.describe()
    log = tr.path("probe.log").read_text().split()
    assert log.count("start") >= 2, log
    assert log == ["start", "end"] * (len(log) // 2), f"probes overlapped: {log}"


@pytest.mark.backends
def test_file_probe_waits_for_the_file(tr):
    passes(tr, '[{H}, sleep, "0.3", touch, {T}/up, sleep, forever]',
           "{file: up, timeout: 10s, interval: 20ms}", 0.2, then='[test, -f, "{T}/up"]')


def test_notify_probe_waits_for_ready_1_and_shows_status(tr):
    res = passes(tr, py(NOTIFY_DAEMON, "{T}/addr", "ready"), "{notify: true, timeout: 10s}", 0.2)
    # STATUS= shows in the log stream, on a line about d.
    assert any(is_node(node, "d") and "warming up" in text
               for node, _, text in parse_log(res.stdout)), res.describe()
    addr = tr.path("addr").read_text()
    assert addr, "NOTIFY_SOCKET was empty"
    if not addr.startswith("@"):  # a path: the socket and its folder are gone afterwards
        assert not os.path.exists(addr), addr
        assert not os.path.exists(os.path.dirname(addr)), os.path.dirname(addr)


# ---------------------------------------------------------------------------
# Each probe kind, timing out: exit 124, the daemon's failure, the rest torn down.


def never_ready(kind: str) -> str:
    """A daemon `d` that never becomes ready by `kind`."""
    sleeper = "[{H}, sleep, forever]"
    if kind == "log":
        return daemon("d", '[{H}, echo, "not the line", sleep, forever]',
                      '{log: "^listening$", timeout: 400ms}')
    if kind == "tcp":
        return daemon("d", sleeper,
                      f'{{tcp: "127.0.0.1:{free_port()}", timeout: 400ms, interval: 50ms}}')
    if kind == "http":
        port = free_port()
        return daemon("d", py(HTTP_SERVER, str(port), "always-500", "{T}/x", "{T}/hits"),
                      f'{{http: "http://127.0.0.1:{port}/health", timeout: 1s, interval: 50ms}}')
    if kind == "exec":
        return daemon("d", sleeper, '{exec: "false", timeout: 400ms, interval: 50ms}')
    if kind == "file":
        return daemon("d", sleeper, '{file: "{T}/never", timeout: 400ms, interval: 50ms}')
    if kind == "notify":
        return daemon("d", py(NOTIFY_DAEMON, "{T}/addr", "never"), "{notify: true, timeout: 800ms}")
    raise ValueError(kind)


KINDS = ["log", "tcp", "http", "exec", "file", "notify"]


@pytest.mark.backends
@pytest.mark.parametrize("kind", KINDS)
def test_probe_timeout_is_the_daemons_failure_with_124(tr, kind):
    if kind == "notify" and tr.backend == "slurm":
        pytest.skip("`check` refuses notify under the slurm backend")
    spec = tr.spec(children(never_ready(kind), worker("w", after=["d"]),
                            worker("other", "[{H}, sleep, forever]")))
    t0 = time.monotonic()
    res = tr.up(spec, timeout=15)
    assert res.code == 124, res.describe()
    assert time.monotonic() - t0 < 6, res.describe()
    assert not find(res.events, event="ready", node="d"), res.describe()
    assert not find(res.events, event="spawn", node="w"), res.describe()
    assert find(res.events, event="cancel", cause="failure", by="d"), res.describe()
    assert one(res.events, event="exit", node="other")["outcome"] == "cancelled"
    assert one(res.events, event="exit", node="d")
    assert one(res.events, event="done")["code"] == 124
    if kind == "http":  # the 500 answers were seen, and kept it not ready
        assert tr.path("hits").exists()


LAST_MISS = {
    "tcp": r"\(last check: connect 127\.0\.0\.1:\d+: Connection refused\)",
    "http": r'\(last check: /health answered "HTTP/1\.[01] 500 ',
    "exec": r"\(last check: `false` exit 1\)",
    "file": r"\(last check: /\S+/never: No such file or directory\)",
}


@pytest.mark.parametrize("kind", list(LAST_MISS))
def test_probe_timeout_says_what_the_last_check_saw(tr, kind):
    spec = tr.spec(children(never_ready(kind)))
    res = tr.up(spec, timeout=15)
    assert res.code == 124, res.describe()
    assert re.search(r"readiness probe timed out " + LAST_MISS[kind], res.stdout), res.describe()
    assert "not ready yet" not in res.stdout, "each miss is shown only with -v"


def test_verbose_shows_commands_stream_wiring_and_each_new_probe_miss(tr):
    port = free_port()
    spec = tr.spec(children(
        daemon("d", "[{H}, sleep, forever]",
               f'{{tcp: "127.0.0.1:{port}", timeout: 600ms, interval: 50ms}}'),
        worker("p", "[{H}, echo, hi]"),
        worker("c1", "[{H}, cat]", stdin="p"),
        worker("c2", "[{H}, cat]", stdin="p"),
        worker("w", after=["d"])))
    res = tr.up(spec, "-v", timeout=15)
    assert res.code == 124, res.describe()
    notes = node_notes(res.stdout, "d")
    misses = [t for t in notes if t.startswith("not ready yet: ")]
    # About a dozen checks, all refused: the same reason is shown once.
    assert misses == [f"not ready yet: connect 127.0.0.1:{port}: Connection refused"], notes
    assert [t for t in notes if re.fullmatch(r"command \S+trhelper sleep forever in /\S+, process group \d+", t)], notes
    assert "stdout → c1, c2: spliced (tee/splice, no copy)" in node_notes(res.stdout, "p"), res.describe()
    quiet = tr.up(spec, timeout=15)
    assert not [t for t in node_notes(quiet.stdout, "p") if "spliced" in t], quiet.describe()


def test_probe_timeout_under_on_failure_ignore_carries_on(tr):
    spec = tr.spec(children(
        daemon("d", "[{H}, sleep, forever]", '{file: "{T}/never", timeout: 300ms, interval: 20ms}',
               on_failure="ignore"),
        worker("dependent", after=["d"]),
        worker("other", '[{H}, sleep, "0.8", exit, "0"]')))
    res = tr.up(spec, timeout=15)
    assert res.code == 0, res.describe()
    assert one(res.events, event="exit", node="other")["outcome"] == "ok"
    assert not find(res.events, event="spawn", node="dependent"), res.describe()
    assert not find(res.events, event="ready", node="d")
    # d was stopped once its probe gave up, long before `other` ended.
    assert t_of(res.events, "exit", "d") < t_of(res.events, "exit", "other")


@pytest.mark.backends
def test_probe_timeout_under_on_failure_restart_restarts_then_fails(tr):
    spec = tr.spec(children(
        daemon("d", "[{H}, sleep, forever]", '{file: "{T}/never", timeout: 300ms, interval: 20ms}',
               on_failure="restart", restart="{max: 1, within: 60s, backoff: 10ms}")))
    res = tr.up(spec, timeout=15)
    assert res.code == 124, res.describe()
    assert len(find(res.events, event="restart", node="d")) == 1, res.describe()
    assert len(find(res.events, event="spawn", node="d")) == 2, res.describe()


# ---------------------------------------------------------------------------
# The server dying before it is ready: a failure with its own exit code, at once (not
# after the probe's timeout).


def dies_early(kind: str) -> str:
    """A daemon `d` that exits 7 before its `kind` probe can pass."""
    die = '[{H}, echo, "starting up", sleep, "0.2", exit, "7"]'
    ready = {
        "log": '{log: "^listening$", timeout: 20s}',
        "tcp": f'{{tcp: "127.0.0.1:{free_port()}", timeout: 20s, interval: 50ms}}',
        "http": f'{{http: "http://127.0.0.1:{free_port()}/health", timeout: 20s, interval: 50ms}}',
        "exec": '{exec: "false", timeout: 20s, interval: 50ms}',
        "file": '{file: "{T}/never", timeout: 20s, interval: 50ms}',
        "notify": "{notify: true, timeout: 20s}",
    }[kind]
    return daemon("d", die, ready)


@pytest.mark.backends
@pytest.mark.parametrize("kind", KINDS)
def test_server_dying_before_ready_fails_with_its_code(tr, kind):
    if kind == "notify" and tr.backend == "slurm":
        pytest.skip("`check` refuses notify under the slurm backend")
    spec = tr.spec(children(dies_early(kind), worker("w", after=["d"])))
    t0 = time.monotonic()
    res = tr.up(spec, timeout=10)
    assert res.code == 7, res.describe()
    assert time.monotonic() - t0 < 5, "waited for the probe's timeout:\n" + res.describe()
    ex = one(res.events, event="exit", node="d")
    assert ex["code"] == 7 and ex["outcome"] == "failed", res.describe()
    assert not find(res.events, event="ready", node="d")
    assert not find(res.events, event="spawn", node="w")


@pytest.mark.backends
def test_daemon_dying_while_exec_probes_run_ends_the_run(tr):
    # A 1 ms interval keeps an exec probe process starting or exiting at almost every
    # moment, so one is in flight (or a zombie) when the daemon dies: the teardown must
    # still collect it and end the run.
    spec = tr.spec(children(daemon("d", '[{H}, sleep, "0.2", exit, "7"]',
                                   '{exec: "false", timeout: 20s, interval: 1ms}')))
    res = tr.up(spec, timeout=8)
    assert res.code == 7, res.describe()
    assert one(res.events, event="done")["code"] == 7


# ---------------------------------------------------------------------------
# `after`: order, diamonds, failed dependencies, promptness.


@pytest.mark.backends
def test_after_chain_of_daemons_starts_in_order(tr):
    spec = tr.spec(children(daemon("c", after=["b"]), daemon("b", after=["a"]), daemon("a"),
                            worker("w", after=["c"])))
    res = tr.up(spec, timeout=15)
    assert res.code == 0, res.describe()
    ev = res.events
    assert t_of(ev, "spawn", "a") < t_of(ev, "ready", "a") <= t_of(ev, "spawn", "b")
    assert t_of(ev, "spawn", "b") < t_of(ev, "ready", "b") <= t_of(ev, "spawn", "c")
    assert t_of(ev, "spawn", "c") < t_of(ev, "ready", "c") <= t_of(ev, "spawn", "w")


@pytest.mark.backends
def test_after_chain_of_workers_waits_for_each_exit(tr):
    spec = tr.spec(children(
        worker("z", '[{H}, touch, "{T}/z"]', after=["y"]),
        worker("y", '[/bin/sh, -c, "test -f {T}/x && touch {T}/y"]', after=["x"]),
        worker("x", '[{H}, sleep, "0.1", touch, "{T}/x"]')))
    res = tr.up(spec, timeout=15)
    assert res.code == 0, res.describe()
    ev = res.events
    assert t_of(ev, "exit", "x") <= t_of(ev, "spawn", "y")
    assert t_of(ev, "exit", "y") <= t_of(ev, "spawn", "z")


@pytest.mark.backends
def test_diamond_dependent_starts_once_after_both(tr):
    # a; b and c after a (b becomes ready much later than c); d after b and c.
    spec = tr.spec(children(daemon("a"), daemon("b", after=["a"], up_after=0.5),
                            daemon("c", after=["a"], up_after=0.05), worker("d", after=["b", "c"])))
    res = tr.up(spec, timeout=15)
    assert res.code == 0, res.describe()
    ev = res.events
    assert len(find(ev, event="spawn", node="d")) == 1, res.describe()
    spawn_d = t_of(ev, "spawn", "d")
    assert spawn_d >= t_of(ev, "ready", "b") and spawn_d >= t_of(ev, "ready", "c")
    assert t_of(ev, "ready", "a") <= min(t_of(ev, "spawn", "b"), t_of(ev, "spawn", "c"))
    # b and c both start after a, concurrently: c (listed after b) does not wait for b.
    assert t_of(ev, "spawn", "c") < t_of(ev, "ready", "b"), res.describe()
    assert t_of(ev, "ready", "c") < t_of(ev, "ready", "b") <= spawn_d


@pytest.mark.backends
def test_after_a_group_of_daemons_waits_until_all_its_daemons_are_ready(tr):
    # A group with no workers counts as a daemon: ready once all its daemons are ready.
    spec = tr.spec(children(group("g", daemon("fast", up_after=0), daemon("slow", up_after=0.5)),
                            worker("w", after=["g"])))
    res = tr.up(spec, timeout=15)
    assert res.code == 0, res.describe()
    spawn_w = t_of(res.events, "spawn", "w")
    for d in ("g/fast", "g/slow"):
        assert find(res.events, lambda e: e["t"] <= spawn_w, event="ready", node=d), \
            f"w started before {d} was ready:\n" + res.describe()


def test_after_a_group_with_workers_waits_until_it_is_done(tr):
    spec = tr.spec(children(
        group("g", daemon("d", "[{H}, sleep, forever]"),
              worker("x", '[{H}, sleep, "0.3", touch, "{T}/x-done"]')),
        worker("w", '[test, -f, "{T}/x-done"]', after=["g"])))
    res = tr.up(spec, timeout=15)
    assert res.code == 0, res.describe()
    assert t_of(res.events, "exit", "g/x") <= t_of(res.events, "spawn", "w")


@pytest.mark.backends
def test_failed_dependency_means_the_dependent_never_starts(tr):
    spec = tr.spec(children(
        worker("dep", '[{H}, exit, "1"]', on_failure="ignore"),
        worker("dependent", '[{H}, touch, "{T}/ran"]', after=["dep"]),
        worker("transitive", '[{H}, touch, "{T}/ran2"]', after=["dependent"])))
    t0 = time.monotonic()
    res = tr.up(spec, timeout=15)
    assert time.monotonic() - t0 < 5, res.describe()
    assert one(res.events, event="exit", node="dep")["outcome"] == "failed"
    assert not find(res.events, event="spawn", node="dependent"), res.describe()
    assert not find(res.events, event="spawn", node="transitive"), res.describe()
    assert not tr.path("ran").exists() and not tr.path("ran2").exists()
    summary = [line for line in res.stdout.splitlines() + res.stderr.splitlines()
               if re.search(r"\bdependent\b", line) and "not started" in line]
    assert summary, "summary does not say 'not started':\n" + res.describe()


def test_dependent_starts_promptly_after_ready_and_after_exit(tr):
    spec = tr.spec(children(
        daemon("d", '[{H}, sleep, "0.2", touch, "{T}/d-up", sleep, forever]',
               '{file: "{T}/d-up", interval: 20ms}'),
        worker("after-d", after=["d"]),
        worker("w", '[{H}, sleep, "0.2", exit, "0"]'),
        worker("after-w", after=["w"])))
    res = tr.up(spec, timeout=15)
    assert res.code == 0, res.describe()
    ev = res.events
    gap_ready = t_of(ev, "spawn", "after-d") - t_of(ev, "ready", "d")
    gap_exit = t_of(ev, "spawn", "after-w") - t_of(ev, "exit", "w")
    assert 0 <= gap_ready < 0.5, res.describe()
    assert 0 <= gap_exit < 0.5, res.describe()


# ---------------------------------------------------------------------------
# configs/redis-cluster.yaml, for real.


REDIS_PORTS = (6390, 6391, 6392)


def port_busy(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_redis_cluster_config_runs_and_stops_redis_by_command(tr):
    if not shutil.which("redis-server") or not shutil.which("redis-benchmark") \
            or not shutil.which("redis-cli"):
        pytest.skip("redis-server / redis-cli / redis-benchmark not installed")
    busy = [p for p in REDIS_PORTS if port_busy(p)]
    if busy:
        pytest.skip(f"ports in use: {busy}")
    spec = Path(SOURCE_DIR) / "configs" / "redis-cluster.yaml"
    res = tr.up(spec, "--no-color", timeout=30)
    assert res.code == 0, res.describe()
    ev = res.events
    redis = ["primary", "replicas/replica1", "replicas/replica2"]
    for node in redis:
        assert one(ev, event="stop", node=node)["how"] == "command", res.describe()
        assert one(ev, event="exit", node=node)["outcome"] == "cancelled", res.describe()
    bench = one(ev, event="exit", node="benchmark")
    assert bench["code"] == 0 and bench["outcome"] == "ok", res.describe()
    assert not find(ev, event="kill"), res.describe()
    # Replicas started after the primary was ready; the benchmark after both replicas
    # were ready (`after: [replicas]`, a group of daemons).
    assert t_of(ev, "ready", "primary") <= min(t_of(ev, "spawn", r) for r in redis[1:])
    bench_t = t_of(ev, "spawn", "benchmark")
    for r in redis[1:]:
        assert find(ev, lambda e: e["t"] <= bench_t, event="ready", node=r), \
            f"benchmark started before {r} was ready:\n" + res.describe()
    for e in find(ev, event="spawn"):
        assert wait_gone(e["pid"], 2), f"{e['node']} pid {e['pid']} still alive"
    assert not any(port_busy(p) for p in REDIS_PORTS), "a redis port is still open"


def test_a_port_that_answers_before_the_node_starts_is_a_squatter(tr):
    # The probe would pass against whoever holds the port, and dependents would run
    # against the wrong server: the node is not started, and says why.
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        spec = tr.spec(f"""\
children:
  - {{name: db, daemon: true, ready: {{tcp: "127.0.0.1:{port}"}}, cmd: [{{H}}, sleep, forever]}}
  - {{name: app, after: [db], cmd: [{{H}}, exit, "0"]}}
""")
        res = tr.up(spec, timeout=20)
    assert res.code == 126, res.describe()
    assert f"127.0.0.1:{port} already accepts connections before it started" in res.stdout, res.describe()
    assert not find(res.events, event="spawn"), res.describe()


# argv: PORT STATUSLINE: every connection gets STATUSLINE, CRLF and a short body.
RAW_HTTP_SERVER = """
import socket, sys
port, line = int(sys.argv[1]), sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(64)
while True:
    c, _ = s.accept()
    try:
        c.recv(65536)
        c.sendall(line.encode() + b"\\r\\n\\r\\nbody")
    except OSError:
        pass
    c.close()
"""


@pytest.mark.parametrize("line,said", [
    ("HTTP/1.1 2000000 OK", r'answered "HTTP/1\.1 2000000 OK" \(not an HTTP status line\)'),
    ("HTTP/1.1 " + "2" * 5000, r"answered a status line longer than 4096 bytes"),
], ids=["seven-digit-status", "over-long-status-line"])
def test_http_probe_is_not_fooled_by_a_status_that_only_starts_with_2(tr, line, said):
    port = free_port()
    spec = tr.spec(children(daemon("d", py(RAW_HTTP_SERVER, str(port), line),
                                   f'{{http: "http://127.0.0.1:{port}/", timeout: 800ms, interval: 50ms}}')))
    res = tr.up(spec, timeout=15)
    assert res.code == 124, res.describe()
    assert not find(res.events, event="ready", node="d"), res.describe()
    assert re.search(r"readiness probe timed out \(last check: / " + said, res.stdout), res.describe()
    assert "Element not found" not in res.stdout, res.describe()
