"""The Slurm backend (treerun(1), ACROSS MACHINES) on the local test cluster of
tests/slurm/cluster: nodes as job steps on hosts n1 and n2, the same semantics as
locally. Skipped unless SLURM_CONF names a running cluster (tests/slurm/run sets it up).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import os
import re
import signal
import subprocess
import sys
import termios
import time

import pytest

from harness import find, free_port, one, processes_with_env, signals_received, slurm_jobs_left
from test_examples import CONFIGS, port_busy
from test_terminal import wait_blocked_reading, wait_until

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
    port = free_port()  # a fixed one failed 1 run in 5: taken, or in TIME_WAIT
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
    cmd: [python3, -m, http.server, "PORT", --bind, 127.0.0.1]
    ready: {http: "http://127.0.0.1:PORT/", timeout: 20s}
  - name: check
    after: [web]
    ready: {exec: "true"}
    cmd: [sh, -c, 'echo "host=$TREERUN_HOST hosts=$TREERUN_HOSTS db=$0 node=$SLURMD_NODENAME" > {T}/env.txt', "${host:db}"]
""".replace("PORT", str(port)))
    res = up(tr, spec)
    assert res.code == 0, res.describe()
    assert (tr.path("env.txt")).read_text().strip() == "host=n1 hosts=n1 n2 db=n2 node=n1"
    ev = res.events
    assert one(ev, event="spawn", node="db")["host"] == "n2"
    assert one(ev, event="spawn", node="check")["host"] == "n1"
    assert one(ev, event="ready", node="web")["t"] <= one(ev, event="spawn", node="check")["t"]
    assert "srun:" not in res.stdout + res.stderr and "slurmstepd" not in res.stdout + res.stderr, res.describe()
    assert not slurm_jobs_left(), "the allocation was not released"  # completing for a moment, then gone


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
    # srun SIGKILLed too: the released allocation may be completing for a moment
    assert not slurm_jobs_left()


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
    # The guardian removes the srun prolog's folder (the leak check fails on it); it
    # does so after the scancel, so it is gone by now or very soon.
    deadline = time.monotonic() + 10
    while list(tr.tmpdir.glob("treerun-slurm-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    # As locally, a SIGKILLed run's control socket stays (the next run clears it as stale).
    for sock in tr.tmpdir.glob("treerun-*/*.sock"):
        sock.unlink()


def test_inside_an_existing_allocation_only_its_own_steps_go(tr):
    """SLURM_JOB_ID set (as under sbatch): treerun runs its steps in that job, stops
    them, and leaves the allocation itself alone."""
    out = subprocess.run(["salloc", "--no-shell", "-N2", "-J", "outer" + tr.tag[-6:]],
                         capture_output=True, text=True, timeout=60)
    job = out.stderr.split("Granted job allocation ")[1].split()[0]
    try:
        nodes = subprocess.run(["squeue", "-h", "-j", job, "-o", "%N"], capture_output=True, text=True,
                               check=True).stdout.strip()
        spec = tr.spec("""
children:
  - {name: d, daemon: true, on: 1, ready: {file: "{T}/d.up"},
     cmd: [{H}, count-signals, {T}/d.sig, touch, {T}/d.up, sleep, forever]}
  - {name: w, on: 0, after: [d], cmd: [sh, -c, 'echo "$SLURM_JOB_ID $TREERUN_HOSTS" > {T}/w.txt']}
""")
        res = tr.up(spec, "--backend", "slurm", env={"SLURM_JOB_ID": job, "SLURM_JOB_NODELIST": nodes})
        assert res.code == 0, res.describe()
        assert tr.path("w.txt").read_text().split() == [job, "n1", "n2"]
        assert signals_received(tr.path("d.sig")) == ["SIGTERM"]
        state = subprocess.run(["squeue", "-h", "-j", job, "-o", "%T"], capture_output=True, text=True).stdout
        assert state.strip() == "RUNNING", "treerun released an allocation it did not ask for"
        assert not slurm_jobs_left(), "steps of the run were left in the allocation"
    finally:
        subprocess.run(["scancel", job])


def test_check_and_tree_inside_an_allocation_know_its_hosts(tr):
    """SLURM_JOB_ID and SLURM_JOB_NODELIST set: `check` rejects an `on` outside the
    allocation with its position, `tree` shows each node's host by name."""
    inside = {"SLURM_JOB_ID": "4242", "SLURM_JOB_NODELIST": "n[1-2]"}
    bad = tr.spec("""backend: slurm
children:
  - {name: a, on: n3, cmd: [sleep, "1"]}
  - {name: b, on: 2, cmd: [sleep, "1"]}
""", name="bad.yaml")
    res = tr.run(["check", str(bad)], env=inside)
    assert res.code == 1, res.describe()
    assert f"{bad}:3:19" in res.stderr and "`on: n3` is not a host of the allocation (n1 n2)" in res.stderr
    assert f"{bad}:4:19" in res.stderr and "`on: 2`" in res.stderr
    good = tr.spec("""backend: slurm
children:
  - {name: a, on: 1, cmd: [sleep, "1"]}
  - {name: b, on: n1, cmd: [sleep, "1"]}
""", name="good.yaml")
    assert tr.run(["check", str(good)], env=inside).code == 0
    shown = tr.run(["tree", str(good)], env=inside).stdout
    assert "n2" in shown.splitlines()[1] and "n1" in shown.splitlines()[2], shown


def fake_commands(tr, **scripts) -> dict:
    """An environment whose PATH finds SCRIPTS (name: sh body) before Slurm's commands."""
    folder = tr.path("fakebin")
    folder.mkdir(exist_ok=True)
    for name, body in scripts.items():
        f = folder / name
        f.write_text("#!/bin/sh\n" + body + "\n")
        f.chmod(0o755)
    return {"PATH": f"{folder}:{os.environ['PATH']}"}


DAEMON = """
children:
  - {name: a, daemon: true, on: 1, cmd: [{H}, touch, {T}/a.up, sleep, forever]}
"""


def test_no_allocation_when_up_fails_before_the_run(tr):
    """A name that a live run holds, --events and --logs on one file, a TMPDIR where
    the prolog cannot go: 125, and no allocation asked for or left behind."""
    spec = tr.spec(DAEMON)
    name = "held" + tr.tag[-6:]
    holder = tr.start(["up", str(tr.spec("children:\n  - {name: h, daemon: true, cmd: [{H}, touch, {T}/h.up, "
                                          "sleep, forever]}\n", name="holder.yaml")), "--name", name])
    tr.wait_files("h.up", proc=holder)
    res = up(tr, spec, "--name", name)
    assert res.code == 125 and "nothing was started" in res.stderr, res.describe()
    assert not slurm_jobs_left(timeout=2), "an allocation was left by a refused name"
    holder.signal(signal.SIGTERM)
    assert holder.wait(30).code == -signal.SIGTERM
    same = str(tr.path("same.log"))
    res = tr.run(["up", str(spec), "--backend", "slurm", "--logs", same, "--events", same])
    assert res.code == 125 and "overwrite each other" in res.stderr, res.describe()
    assert not slurm_jobs_left(timeout=2), "an allocation was left by --events = --logs"
    not_a_folder = tr.path("not-a-folder")  # fails for root too, unlike a read-only folder
    not_a_folder.write_text("")
    res = up(tr, spec, env={"TMPDIR": str(not_a_folder), "XDG_RUNTIME_DIR": str(tr.dir)})
    assert res.code == 125 and "prolog" in res.stderr, res.describe()
    assert not slurm_jobs_left(timeout=2), "an allocation was left by a launcher that could not start"


def test_killed_right_after_the_grant_releases_the_allocation(tr):
    """treerun SIGKILLed between salloc's grant and the run (here: while squeue, made
    to hang, tells the hosts): the guardian knows the job already and releases it."""
    env = fake_commands(tr, squeue=f'touch {tr.dir}/squeue.called; exec sleep 600')
    p = tr.start(["up", str(tr.spec(DAEMON)), "--backend", "slurm"], env=env)
    tr.wait_files("squeue.called", timeout=60, proc=p)
    assert squeue_jobs("treerun:")
    os.killpg(p.proc.pid, signal.SIGKILL)  # treerun and the hanging squeue
    p.wait(30)
    assert not slurm_jobs_left(timeout=20), "the granted allocation outlived a killed treerun"
    for sock in tr.tmpdir.glob("treerun-*/*.sock"):
        sock.unlink()


def test_on_an_index_too_big_is_a_diagnostic_not_a_crash(tr):
    spec = tr.spec("""backend: slurm
children:
  - {name: a, on: 99999999999, cmd: [sleep, "1"]}
""")
    res = tr.up(spec)
    assert res.code == 125, res.describe()
    assert f"{spec}:3:19: `on: 99999999999`: a host's index is at most 999999" in res.stderr, res.describe()
    assert "stoi" not in res.stderr


def test_forced_stop_ends_when_slurmctld_does_not_answer(tr):
    """scancel of a signal hangs (slurmctld gone): a stubborn node's grace ends in
    SIGKILL, which ends its srun, so the stop is bounded; the hanging scancels go."""
    env = fake_commands(tr, scancel=f'case "$*" in *-s*) touch {tr.dir}/scancel.hung; exec sleep 600;; esac\n'
                                    f'exec {shutil.which("scancel")} "$@"')
    spec = tr.spec("""
grace: 1s
children:
  - {name: b, daemon: true, on: 1, cmd: [{H}, stubborn, touch, {T}/b.up, sleep, forever]}
""")
    p = tr.start(["up", str(spec), "--backend", "slurm"], env=env)
    tr.wait_files("b.up", timeout=60, proc=p)
    p.signal(signal.SIGINT)
    res = p.wait(40)
    assert res.code == -signal.SIGINT, res.describe()
    assert tr.path("scancel.hung").exists()
    assert one(res.events, event="exit", node="b")["outcome"] == "killed"
    assert not [c for c in tagged_cmdlines(tr) if "sleep\x00600" in c], "a scancel outlived treerun"


def test_killed_inside_an_existing_allocation_its_steps_go(tr):
    """SLURM_JOB_ID set, treerun SIGKILLed: the guardian scancels the run's steps (the
    allocation, not ours, stays)."""
    out = subprocess.run(["salloc", "--no-shell", "-N2", "-J", "outer" + tr.tag[-6:]],
                         capture_output=True, text=True, timeout=60)
    job = out.stderr.split("Granted job allocation ")[1].split()[0]
    try:
        p = tr.start(["up", str(tr.spec(DAEMON)), "--backend", "slurm"],
                     env={"SLURM_JOB_ID": job, "SLURM_JOB_NODELIST": "n[1-2]"})
        tr.wait_files("a.up", timeout=60, proc=p)
        p.proc.kill()
        p.wait(30)
        deadline = time.monotonic() + 20
        while step_lines(job) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not step_lines(job), "a step of the killed run lives on"
        state = subprocess.run(["squeue", "-h", "-j", job, "-o", "%T"], capture_output=True, text=True).stdout
        assert state.strip() == "RUNNING"
    finally:
        subprocess.run(["scancel", job])
    for sock in tr.tmpdir.glob("treerun-*/*.sock"):
        sock.unlink()


def tagged_cmdlines(tr) -> list[str]:
    """The command lines of the processes of this test (TRTEST_TAG in their environment);
    one that ends while they are read is left out."""
    out = []
    for pid in processes_with_env(f"TRTEST_TAG={tr.tag}".encode()):
        try:
            out.append(open(f"/proc/{pid}/cmdline").read())
        except OSError:
            pass
    return out


def step_lines(job: str) -> list[str]:
    out = subprocess.run(["squeue", "-h", "-s", "-j", job, "-o", "%i %j"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "treerun:" in line]


def test_a_tmpdir_with_a_quote(tr):
    """The prolog writes to a FIFO under TMPDIR: a `'` in its path is quoted."""
    odd = tr.dir / "it's"
    odd.mkdir()
    odd.chmod(0o755)
    res = up(tr, tr.spec("children:\n  - {name: w, on: 1, cmd: [{H}, exit, \"0\"]}\n"), env={"TMPDIR": str(odd)})
    assert res.code == 0, res.describe()
    assert not list(odd.glob("treerun-slurm-*"))


PROMPT = """\
import os, sys
open(sys.argv[1], "w").write(str(os.getpid()))
print("TTY", os.isatty(0), os.isatty(1), os.isatty(2), os.getpgrp() == os.tcgetpgrp(0),
      os.environ.get("SLURMD_NODENAME"), flush=True)
while True:
    try:
        line = input("prompt> ")
    except KeyboardInterrupt:
        print("caught", flush=True)
        continue
    print("got", line, flush=True)
    sys.exit(int(line.split()[-1]))
"""


def test_a_tty_node_gets_a_terminal_of_its_own_on_its_host_and_ctrl_c_reaches_it(tr):
    """`tty: true` under Slurm: srun --pty, in treerun's terminal's foreground: the
    program on n2 leads the foreground group of a terminal of its own, a ctrl-c typed at
    treerun's terminal reaches it (not treerun, not srun, not the other host's daemon),
    typed lines reach it, and its exit code is the run's."""
    prog = tr.path("prompt.py")
    prog.write_text(PROMPT)
    spec = tr.spec(f"""
children:
  - name: d
    daemon: true
    on: 0
    cmd: [{{H}}, count-signals, {{T}}/d.sig, touch, {{T}}/d.up, sleep, forever]
    ready: {{file: "{{T}}/d.up"}}
  - name: t
    tty: true
    on: 1
    after: [d]
    cmd: [{sys.executable}, {prog}, {{T}}/t.pid]
""")
    s = tr.pty(["up", str(spec), "--backend", "slurm"])
    s.expect(r"TTY True True True True n2", timeout=60)
    s.expect(r"prompt> ")
    wait_blocked_reading(int(tr.path("t.pid").read_text()))
    s.send(b"\x03")
    s.expect(r"caught")
    s.expect(r"prompt> ")
    events = s.waiter.events()
    assert not find(events, event="cancel") and not find(events, event="stop"), events
    assert not tr.path("d.sig").exists() or not tr.path("d.sig").read_text(), "the daemon got the ctrl-c"
    s.send(b"bye 3\n")
    # srun relays the remote terminal in pieces and prints its own "srun: error: ... Exited
    # with exit code 3" as it learns of the exit: it may land inside the line.
    s.expect(r"got(?:srun: [^\n]*\n)? bye 3")
    status = s.wait(60)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 3, (status, s.text)
    events = s.waiter.events()
    assert one(events, event="spawn", node="t")["host"] == "n2"
    assert one(events, event="exit", node="t")["code"] == 3
    assert signals_received(tr.path("d.sig")) == ["SIGTERM"]
    assert not slurm_jobs_left()


def test_control_socket_shows_hosts_and_its_actions_reach_the_remote_steps(tr):
    """ps (table and --json) names each node's host; signal, stop, start and restart
    reach the step on its host: one signal each, a new incarnation where asked."""
    spec = tr.spec("""
children:
  - name: a
    daemon: true
    on: 0
    cmd: [{H}, count-signals, {T}/a.sig, ignore, USR1, touch, {T}/a.up, sleep, forever]
    ready: {file: "{T}/a.up"}
  - name: g
    children:
      - name: b
        daemon: true
        on: 1
        cmd: [{H}, count-signals, {T}/b.sig, touch, {T}/b.up, sleep, forever]
        ready: {file: "{T}/b.up"}
""")
    p = tr.start(["up", str(spec), "--backend", "slurm"])
    p.wait_for(event="ready", node="a", timeout=60)
    p.wait_for(event="ready", node="g/b", timeout=60)
    rows = {n["path"]: n for n in json.loads(tr.run(["ps", "--json"]).stdout)}
    assert (rows["a"]["host"], rows["g/b"]["host"]) == ("n1", "n2"), rows
    assert "host" not in rows["g"], rows
    table = tr.run(["ps"]).stdout.splitlines()
    assert table[0].split()[:5] == ["PATH", "KIND", "STATE", "HOST", "PID"], table
    assert [line.split()[3] for line in table[1:]] == ["n1", "-", "n2"], table

    res = tr.run(["signal", "USR1", "a"])
    assert res.code == 0, res.describe()
    wait_until(lambda: signals_received(tr.path("a.sig")) == ["SIGUSR1"], "SIGUSR1 reached a on n1")

    res = tr.run(["stop", "g/b"])
    assert res.code == 0, res.describe()
    assert one(p.events(), event="exit", node="g/b")["outcome"] == "cancelled"
    assert signals_received(tr.path("b.sig")) == ["SIGTERM"]
    tr.path("b.up").unlink()
    res = tr.run(["start", "g/b"])
    assert res.code == 0, res.describe()
    p.wait_for(lambda e: e["event"] == "ready" and e["node"] == "g/b" and e["t"] > one(
        p.events(), event="exit", node="g/b")["t"], timeout=60)
    assert [e["host"] for e in find(p.events(), event="spawn", node="g/b")] == ["n2", "n2"]

    res = tr.run(["restart", "a"])
    assert res.code == 0, res.describe()
    assert len(find(p.events(), event="spawn", node="a")) == 2
    assert signals_received(tr.path("a.sig")) == ["SIGUSR1", "SIGTERM"]
    p.signal(signal.SIGINT)
    assert p.wait(60).code == -signal.SIGINT
    assert not slurm_jobs_left()


def test_a_controller_that_does_not_answer_the_release_does_not_hang_the_exit(tr):
    """`scancel JOB` at the end hangs (slurmctld gone): treerun gives up after its
    limit, says so, and exits with the run's code."""
    env = fake_commands(tr, scancel=f'case "$*" in *-s*) ;; *) touch {tr.dir}/release.hung; exec sleep 600;; esac\n'
                                    f'exec {shutil.which("scancel")} "$@"')
    spec = tr.spec("name: hung-release\nchildren:\n  - {name: w, on: 1, cmd: [{H}, exit, \"0\"]}\n")
    try:
        t0 = time.monotonic()
        res = up(tr, spec, env=env, timeout=90)
        took = time.monotonic() - t0
        assert res.code == 0, res.describe()
        assert tr.path("release.hung").exists()
        assert "did not answer within 10 s" in res.stderr, res.describe()
        assert took < 45, took
        assert not [c for c in tagged_cmdlines(tr) if "sleep\x00600" in c], "the hanging scancel outlived treerun"
    finally:
        subprocess.run(["scancel", "-n", "treerun:hung-release"])


def test_killed_while_salloc_waits_the_queued_job_is_cancelled(tr):
    """treerun SIGKILLed while its salloc is queued (the cluster is busy): the guardian
    cancels the pending job, so it is never granted to no one; salloc ends."""
    out = subprocess.run(["salloc", "--no-shell", "-N2", "--exclusive", "-J", "busy" + tr.tag[-6:]],
                         capture_output=True, text=True, timeout=60)
    blocker = out.stderr.split("Granted job allocation ")[1].split()[0]
    try:
        p = tr.start(["up", str(tr.spec(DAEMON)), "--backend", "slurm"])
        wait_until(lambda: any(line.endswith("PENDING") for line in squeue_states("treerun:")),
                   "treerun's job is queued", timeout=60)
        p.proc.kill()
        p.wait(30)
        wait_until(lambda: not squeue_jobs("treerun:"), "the queued job was cancelled", timeout=30)
    finally:
        subprocess.run(["scancel", blocker])
    wait_until(lambda: not [c for c in tagged_cmdlines(tr) if c.startswith("salloc")], "salloc ended", timeout=30)
    assert not squeue_jobs("treerun:")
    for sock in tr.tmpdir.glob("treerun-*/*.sock"):
        sock.unlink()


def squeue_states(name_part: str) -> list[str]:
    out = subprocess.run(["squeue", "-h", "-o", "%j %T"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if name_part in line]


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
def test_the_slurm_cluster_example_runs_redis_across_two_hosts(tr):
    """configs/slurm-cluster.yaml: the primary on n1, the replicas and the benchmark on
    n2 reaching it by ${host:primary}; each Redis shut down by its stop command on its
    own host; the allocation released."""
    if any(port_busy(p) for p in (6386, 6387, 6388)):
        pytest.skip("a port of the example (6386-6388) is busy")
    res = tr.up(CONFIGS / "slurm-cluster.yaml", "--no-color", timeout=300)
    assert res.code == 0, res.describe()
    hosts = {e["node"]: e["host"] for e in find(res.events, event="spawn")}
    assert hosts == {"primary": "n1", "replicas/replica1": "n2", "replicas/replica2": "n2", "benchmark": "n2"}, hosts
    # redis-benchmark redraws its progress with carriage returns: its final figures are
    # the last part of its two lines.
    for op in ("SET", "GET"):
        assert re.search(op + r": [\d.]+ requests per second", res.stdout), res.describe()
    assert [e["how"] for e in find(res.events, event="stop", node="primary")] == ["command"], res.describe()
    assert not any(port_busy(p) for p in (6386, 6387, 6388))
    assert not slurm_jobs_left()


def test_the_terminal_modes_come_back_when_a_tty_nodes_srun_is_killed(tr):
    """srun --pty puts treerun's terminal in raw mode; a tty node that ignores its stop
    holds the terminal past grace (as locally: a debugger is not killed at grace) until
    a second SIGINT forces it: its srun is SIGKILLed, which then cannot put the modes
    back; treerun does."""
    spec = tr.spec("""
grace: 1s
children:
  - {name: t, tty: true, on: 1, cmd: [{H}, ignore, TERM, touch, {T}/t.up, sleep, forever]}
""")
    log = tr.path("log")
    s = tr.pty(["up", str(spec), "--backend", "slurm", "--logs", str(log)])
    before = termios.tcgetattr(s.master)  # treerun is still asking salloc
    tr.wait_files("t.up", timeout=60)
    wait_until(lambda: not termios.tcgetattr(s.master)[3] & termios.ICANON, "srun made the terminal raw")
    s.proc.send_signal(signal.SIGTERM)
    s.waiter.wait_for(event="stop", node="t")
    s.proc.send_signal(signal.SIGINT)
    wait_until(lambda: "SIGINT: already stopping" in log.read_text(), "the first SIGINT was heard")
    s.proc.send_signal(signal.SIGINT)  # the second forces
    status = s.wait(60)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM, (status, s.text)
    assert one(s.waiter.events(), event="kill", node="t")
    assert termios.tcgetattr(s.master) == before
    assert not slurm_jobs_left()
