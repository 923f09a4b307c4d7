"""The Slurm backend (treerun(1), ACROSS MACHINES) on the local test cluster of
tests/slurm/cluster: nodes as job steps on hosts n1 and n2, the same semantics as
locally. Skipped unless SLURM_CONF names a running cluster (tests/slurm/run sets it up).
"""

from __future__ import annotations

import hashlib
import os
import signal
import shutil
import subprocess
import time

import pytest

from harness import one, signals_received

pytestmark = [
    pytest.mark.slurm,
    pytest.mark.skipif(not os.environ.get("SLURM_CONF"), reason="no Slurm cluster (SLURM_CONF unset)"),
]


def squeue_jobs(name_part: str) -> list[str]:
    out = subprocess.run(["squeue", "-h", "-o", "%i %j"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if name_part in line]


def up(tr, spec, *args, **kw):
    return tr.up(spec, "--backend", "slurm", *args, **kw)


def test_start_order_probes_and_hosts(tr):
    """A daemon on host 1 is ready by its log line and by tcp, a worker on host 0 starts
    after it, with TREERUN_HOST(S) and ${host:PATH}; spawn events carry the host."""
    spec = tr.spec("""
children:
  - name: db
    daemon: true
    on: 1
    cmd: [{H}, echo, up, sleep, forever]
    ready: {log: "^up$"}
  - name: web
    daemon: true
    on: n2
    after: [db]
    cmd: [python3, -m, http.server, "18431", --bind, 127.0.0.1]
    ready: {http: "http://127.0.0.1:18431/", timeout: 20s}
  - name: check
    after: [web]
    ready: {exec: "true"}
    cmd: [sh, -c, 'echo "host=$TREERUN_HOST hosts=$TREERUN_HOSTS db=$0 node=$SLURMD_NODENAME" > {T}/env.txt', "${host:db}"]
""")
    res = up(tr, spec)
    assert res.code == 0, res.describe()
    assert (tr.path("env.txt")).read_text().strip() == "host=n1 hosts=n1 n2 db=n2 node=n1"
    ev = res.events
    assert one(ev, event="spawn", node="db")["host"] == "n2"
    assert one(ev, event="spawn", node="check")["host"] == "n1"
    assert one(ev, event="ready", node="web")["t"] <= one(ev, event="spawn", node="check")["t"]
    assert "srun:" not in res.stdout + res.stderr and "slurmstepd" not in res.stdout + res.stderr, res.describe()
    assert not squeue_jobs("treerun:"), "the allocation was not released"


@pytest.mark.parametrize("cmd,code", [
    ('[{H}, exit, "3"]', 3),
    ('[sh, -c, "kill -KILL $$"]', 137),
    ('[no-such-command-anywhere]', 127),
])
def test_exit_codes_pass_through(tr, cmd, code):
    spec = tr.spec(f"""
children:
  - {{name: w, on: 1, cmd: {cmd}}}
""")
    res = up(tr, spec)
    assert res.code == code, res.describe()
    ex = one(res.events, event="exit", node="w")
    assert ex["outcome"] == "failed"
    if code == 137:
        assert ex["signal"] == "SIGKILL"


def test_ctrl_c_one_stop_per_process_then_grace_then_kill(tr):
    """One SIGINT to treerun: each remote process gets exactly one SIGTERM (scancel),
    a stubborn one SIGKILL after grace; treerun ends by SIGINT; nothing left in squeue."""
    spec = tr.spec("""
grace: 1s
children:
  - name: a
    daemon: true
    on: 0
    cmd: [{H}, count-signals, {T}/a.sig, touch, {T}/a.up, sleep, forever]
  - name: b
    daemon: true
    on: 1
    cmd: [{H}, count-signals, {T}/b.sig, stubborn, touch, {T}/b.up, sleep, forever]
""")
    p = tr.start(["up", str(spec), "--backend", "slurm"])
    tr.wait_files("a.up", "b.up", timeout=60, proc=p)
    p.signal(signal.SIGINT)
    res = p.wait(60)
    assert res.code == -signal.SIGINT, res.describe()
    assert signals_received(tr.path("a.sig")) == ["SIGTERM"]
    assert signals_received(tr.path("b.sig")) == ["SIGTERM"]
    assert one(res.events, event="exit", node="a")["outcome"] == "cancelled"
    assert one(res.events, event="exit", node="b")["outcome"] == "killed"
    assert not squeue_jobs("treerun:")


def test_failure_cancels_the_other_host(tr):
    spec = tr.spec("""
children:
  - name: d
    daemon: true
    on: 0
    cmd: [{H}, count-signals, {T}/d.sig, touch, {T}/d.up, sleep, forever]
  - {name: w, on: 1, after: [d], cmd: [{H}, exit, "5"]}
""")
    res = up(tr, spec)
    assert res.code == 5, res.describe()
    assert signals_received(tr.path("d.sig")) == ["SIGTERM"]
    assert one(res.events, event="cancel", node="/")["cause"] == "failure"


def test_stream_across_hosts_checksum(tr):
    """20 MiB from a producer on n1 to a consumer on n2, through the two sruns' pipes."""
    size = 20 << 20
    blob = tr.path("blob")
    blob.write_bytes(os.urandom(size))
    want = hashlib.sha256(blob.read_bytes()).hexdigest()
    spec = tr.spec(f"""
children:
  - {{name: p, on: 0, cmd: [cat, {blob}]}}
  - {{name: c, on: 1, stdin: p, cmd: [sh, -c, "sha256sum > {tr.dir}/sum"]}}
""")
    res = up(tr, spec, timeout=180)
    assert res.code == 0, res.describe()
    assert tr.path("sum").read_text().split()[0] == want


def test_killed_treerun_releases_the_allocation(tr):
    """kill -9 of treerun: the guardian releases the allocation; no step, no process left."""
    spec = tr.spec("""
children:
  - name: a
    daemon: true
    on: 1
    cmd: [{H}, touch, {T}/a.up, sleep, forever]
""")
    p = tr.start(["up", str(spec), "--backend", "slurm", "--name", "k9" + tr.tag[-6:]])
    tr.wait_files("a.up", timeout=60, proc=p)
    assert squeue_jobs("treerun:")
    p.proc.kill()
    p.wait(30)
    deadline = time.monotonic() + 20
    while squeue_jobs("treerun:") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not squeue_jobs("treerun:")
    # Known gap: a SIGKILLed treerun leaves its srun prolog folder (and, as locally, its
    # control socket) behind; cleaned here so that the leak check judges the rest.
    for left in tr.tmpdir.glob("treerun-slurm-*"):
        shutil.rmtree(left)
    for sock in tr.tmpdir.glob("treerun-*/*.sock"):
        sock.unlink()
