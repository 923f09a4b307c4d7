"""Failure semantics for CI runs and long-running stacks (interface.md 3, 4.2; issue 18):
`after: [{NAME: exited}]` report steps, `on_failure: continue`, `health` checks that
notice a daemon that stopped answering, and `http` probes over https with `status` and
`insecure`. Real servers: a Python http.server on TLS with a certificate made here, TCP
listeners that stop answering, a check command that hangs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from harness import children, find, node_lines, one, worker


def py(code: str, *args: str) -> str:
    """A YAML flow list `[python3, -u, -c, CODE, ARGS...]`."""
    return "[" + ", ".join(["python3", "-u", "-c", json.dumps(textwrap.dedent(code))]
                           + [json.dumps(a) for a in args]) + "]"


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------
# {NAME: exited} and on_failure: continue


def test_a_report_step_runs_after_failed_tests_and_the_run_exits_with_their_status(tr):
    spec = tr.spec(children(
        worker("tests", '[{H}, echo, "not ok 1", exit, "3"]', on_failure="continue"),
        worker("report", '[{H}, echo, "report written"]', after=["{tests: exited}"]),
        worker("deploy", '[{H}, exit, "0"]', after=["tests"]),
    ))
    res = tr.up(spec, "--no-color")
    assert res.code == 3, res.describe()
    assert "report written" in node_lines(res.stdout, "report"), res.describe()
    assert one(res.events, event="exit", node="tests")["outcome"] == "failed"
    assert one(res.events, event="exit", node="report")["outcome"] == "ok"
    assert not find(res.events, event="spawn", node="deploy"), res.describe()
    assert not find(res.events, event="cancel", node="/"), res.describe()
    # The summary names both failures: the tests', and the deploy that never ran.
    assert "tests: exit 3 (on_failure: continue)" in res.stdout, res.describe()
    assert "deploy: skipped: its `after` tests failed" in res.stdout, res.describe()


def test_continue_an_earlier_failure_keeps_the_exit_code(tr):
    # a fails (5, continue); later b fails (9, cancel): the run's code is a's.
    spec = tr.spec(children(
        worker("a", '[{H}, exit, "5"]', on_failure="continue"),
        worker("b", '[{H}, sleep, "0.3", exit, "9"]'),
    ))
    res = tr.up(spec)
    assert res.code == 5, res.describe()


def test_check_refuses_exited_on_a_daemon_at_its_position(tr):
    spec = tr.spec("children:\n"
                   "  - {name: db, daemon: true, cmd: [sleep, infinity]}\n"
                   "  - {name: w, after: [{db: exited}], cmd: [true]}\n")
    res = tr.run(["check", str(spec)])
    assert res.code == 1, res.describe()
    assert f"{spec}:3:24: `{{db: exited}}`: `db` is a daemon" in res.stderr + res.stdout, res.describe()


def test_tree_shows_what_waits_for_an_exit(tr):
    spec = tr.spec(children(worker("tests", on_failure="continue"),
                            worker("report", after=["{tests: exited}"])))
    res = tr.run(["tree", str(spec)])
    assert res.code == 0, res.describe()
    assert "tests (exited)" in res.stdout and "on_failure: continue" in res.stdout, res.describe()


# ---------------------------------------------------------------------------
# https probes


def make_cert(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for NAME (and 127.0.0.1), with its key."""
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name},IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


# argv: PORT CERT KEY CODE: an https server whose every GET answers CODE.
HTTPS_SERVER = """
import http.server, ssl, sys
port, cert, key, code = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
"""

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl command is not installed")


def https_spec(tr, port: int, cert: Path, key: Path, url_host: str, extra: str = "", code: int = 200) -> Path:
    ready = f'{{http: "https://{url_host}:{port}/health", timeout: 3s, interval: 100ms{extra}}}'
    return tr.spec("children:\n"
                   f"  - name: web\n    daemon: true\n    cmd: {py(HTTPS_SERVER, str(port), str(cert), str(key), str(code))}\n"
                   f"    ready: {ready}\n"
                   "  - {name: w, after: [web], cmd: [{H}, exit, \"0\"]}\n")


@needs_openssl
def test_https_probe_refuses_a_certificate_the_system_does_not_trust(tr):
    cert, key = make_cert(tr.dir, "localhost")
    res = tr.up(https_spec(tr, free_port(), cert, key, "localhost"), "--no-color")
    assert res.code == 124, res.describe()
    assert "certificate verify failed" in res.stdout, res.describe()
    assert "self-signed certificate" in res.stdout, res.describe()


@needs_openssl
def test_https_probe_with_insecure_skips_the_check(tr):
    cert, key = make_cert(tr.dir, "localhost")
    res = tr.up(https_spec(tr, free_port(), cert, key, "localhost", ", insecure: true"))
    assert res.code == 0, res.describe()


@needs_openssl
def test_https_probe_verifies_a_trusted_certificate_and_its_host_name(tr):
    cert, key = make_cert(tr.dir, "localhost")
    # OpenSSL's default trust store honours SSL_CERT_FILE: this certificate is trusted.
    env = {"SSL_CERT_FILE": str(cert)}
    res = tr.up(https_spec(tr, free_port(), cert, key, "localhost"), env=env)
    assert res.code == 0, res.describe()
    other, other_key = make_cert(tr.dir, "elsewhere.test")
    res = tr.up(https_spec(tr, free_port(), other, other_key, "localhost"), "--no-color",
                env={"SSL_CERT_FILE": str(other)})
    assert res.code == 124, res.describe()
    assert "certificate verify failed" in res.stdout and "the certificate does not name localhost" in res.stdout, res.describe()


@needs_openssl
@pytest.mark.parametrize("status,code", [("", 124), (', status: [200, "500-599"]', 0)])
def test_http_status_ranges_decide_what_counts(tr, status, code):
    cert, key = make_cert(tr.dir, "localhost")
    res = tr.up(https_spec(tr, free_port(), cert, key, "127.0.0.1", ", insecure: true" + status, code=503),
                "--no-color")
    assert res.code == code, res.describe()
    if code == 124:  # the timeout names what the last check saw
        assert '/health answered "HTTP/1.0 503 Service Unavailable"' in res.stdout, res.describe()


def test_a_probe_timeout_names_a_refused_connection(tr):
    port = free_port()
    spec = tr.spec("children:\n"
                   f"  - {{name: d, daemon: true, cmd: [sleep, infinity], ready: {{http: \"http://127.0.0.1:{port}/\", timeout: 500ms}}}}\n")
    res = tr.up(spec, "--no-color")
    assert res.code == 124, res.describe()
    assert f"connect 127.0.0.1:{port}: Connection refused" in res.stdout, res.describe()


# ---------------------------------------------------------------------------
# health


# argv: PORT MARKER: listens on PORT. The first incarnation (no MARKER yet) makes MARKER,
# answers for 0.5 s, then closes its listening socket and hangs on; later ones answer.
FLAKY_LISTENER = """
import os, socket, sys, time
port, marker = int(sys.argv[1]), sys.argv[2]
first = not os.path.exists(marker)
open(marker, "a").close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(64)
s.settimeout(0.05)
start = time.monotonic()
while not first or time.monotonic() - start < 0.5:
    try:
        c, _ = s.accept()
        c.close()
    except socket.timeout:
        pass
s.close()
time.sleep(3600)
"""


def flaky_spec(tr, port: int, policy: str) -> Path:
    return tr.spec("children:\n"
                   "  - name: api\n    daemon: true\n"
                   f"    cmd: {py(FLAKY_LISTENER, str(port), '{T}/marker')}\n"
                   f"    ready: {{tcp: \"127.0.0.1:{port}\", timeout: 5s, interval: 50ms}}\n"
                   f"    health: {{tcp: \"127.0.0.1:{port}\", interval: 100ms, timeout: 1s, failures: 2}}\n"
                   f"    {policy}\n")


def test_a_listener_that_stops_answering_is_restarted_with_cause_and_reason(tr):
    port = free_port()
    p = tr.start(["up", str(flaky_spec(tr, port, "on_failure: restart\n    restart: {max: 2, backoff: 50ms}"))])
    first = p.wait_for(event="spawn", node="api", timeout=15)
    p.wait_for(event="restart", node="api", timeout=15)
    second = p.wait_for(lambda e: e["event"] == "spawn" and e["node"] == "api" and e["pid"] != first["pid"],
                        timeout=15)
    p.wait_for(lambda e: e["event"] == "ready" and e["node"] == "api" and
               e["t"] > second["t"], timeout=15)
    p.signal(signal.SIGTERM)
    res = p.wait()
    assert res.code == -signal.SIGTERM, res.describe()  # it dies by the signal it was sent
    restart = one(res.events, event="restart", node="api")
    assert restart["cause"] == "failure" and restart["attempt"] == 1, res.describe()
    assert restart["reason"].startswith("unhealthy: 2 health checks failed in a row"), restart
    assert f"connect 127.0.0.1:{port}: Connection refused" in restart["reason"], restart
    pids = [e["pid"] for e in find(res.events, event="spawn", node="api")]
    assert len(pids) == 2 and pids[0] != pids[1], res.describe()


def test_a_listener_that_stops_answering_under_cancel_fails_the_run(tr):
    res = tr.up(flaky_spec(tr, free_port(), "on_failure: cancel"), "--no-color", timeout=30)
    assert res.code == 1, res.describe()
    assert one(res.events, event="cancel", node="/")["by"] == "api", res.describe()
    assert "api: unhealthy: 2 health checks failed in a row" in res.stdout, res.describe()


def test_a_check_that_hangs_fails_at_its_timeout(tr):
    spec = tr.spec("children:\n"
                   "  - name: d\n    daemon: true\n    cmd: [sleep, infinity]\n"
                   "    health: {exec: \"sleep 30\", interval: 100ms, timeout: 200ms, failures: 2}\n")
    start = time.monotonic()
    res = tr.up(spec, "--no-color", timeout=30)
    assert res.code == 1, res.describe()
    assert "`sleep 30` did not finish within 200ms" in res.stdout, res.describe()
    assert time.monotonic() - start < 10, res.describe()


def test_health_checks_never_overlap(tr):
    # Each check takes 0.3 s, three times the interval: the next starts when it ends.
    log = tr.path("checks.log")
    check = f"echo start >> {log}; sleep 0.3; echo end >> {log}"
    spec = tr.spec("children:\n"
                   "  - name: d\n    daemon: true\n    cmd: [sleep, infinity]\n"
                   f"    health: {{exec: {json.dumps(check)}, interval: 100ms, timeout: 5s}}\n")
    p = tr.start(["up", str(spec)])
    deadline = time.monotonic() + 20
    while (not log.exists() or log.read_text().count("end") < 4) and time.monotonic() < deadline:
        time.sleep(0.05)
    p.signal(signal.SIGTERM)
    res = p.wait()
    lines = log.read_text().split()
    assert lines.count("start") >= 4, res.describe()
    for i, word in enumerate(lines):  # start, end, start, end, ...: never two at once
        assert word == ("start" if i % 2 == 0 else "end"), lines


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_an_idle_stack_with_ten_health_checks_uses_no_cpu_between_checks(tr):
    port = free_port()
    listener = py("""
        import socket, sys
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
        while True: s.accept()[0].close()
    """, str(port))
    nodes = [f"  - name: l\n    daemon: true\n    cmd: {listener}\n"
             f"    ready: {{tcp: \"127.0.0.1:{port}\", timeout: 10s, interval: 50ms}}\n"]
    for i in range(10):
        nodes.append(f"  - name: d{i}\n    daemon: true\n    after: [l]\n    cmd: [sleep, infinity]\n"
                     f"    health: {{tcp: \"127.0.0.1:{port}\", interval: 10s}}\n")
    p = tr.start(["up", str(tr.spec("children:\n" + "".join(nodes)))])
    for i in range(10):
        p.wait_for(event="ready", node=f"d{i}", timeout=15)
    time.sleep(0.5)  # the start-up's last writes
    before = cpu_ticks(p.proc.pid)
    time.sleep(3)  # a quiet window: no check is due before 10 s
    used = cpu_ticks(p.proc.pid) - before
    p.signal(signal.SIGTERM)
    res = p.wait()
    assert used <= 1, f"{used} ticks of CPU in 3 s of idling\n" + res.describe()
