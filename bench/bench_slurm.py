"""The Slurm backend's benchmarks (bench/README.md, 9-11): each against what an HPC user
would type instead, on the same cluster in the same run, interleaved. They need a
running cluster (SLURM_CONF set): bench/slurm.sh brings the project's test cluster up,
runs them and brings it down. Each function takes the Bench of bench.py.
"""
import os
import signal
import statistics
import subprocess
import time
from contextlib import contextmanager

HOSTS = ("n1", "n2")


def skipped(b, name):
    if os.environ.get("SLURM_CONF"):
        return False
    b.notes.append(f"{name}: skipped (no SLURM_CONF: run bench/slurm.sh, or start tests/slurm/cluster first)")
    return True


@contextmanager
def allocation(name):
    """A 2-host allocation held for the block, released after it (scancel)."""
    got = subprocess.run(["salloc", "--no-shell", "-N2", "-J", name], capture_output=True, text=True, timeout=300)
    if "Granted job allocation " not in got.stderr:
        raise RuntimeError(f"salloc failed: {got.stderr.strip()[-300:]}")
    job = got.stderr.split("Granted job allocation ")[1].split()[0]
    try:
        yield job
    finally:
        subprocess.run(["scancel", job])


def inside(job):
    """The environment of a program run inside JOB (as under sbatch): treerun uses it."""
    hosts = subprocess.run(["squeue", "-h", "-j", job, "-o", "%N"], capture_output=True, text=True).stdout.strip()
    return dict(os.environ, SLURM_JOB_ID=job, SLURM_JOB_NODELIST=hosts)


def run_treerun(b, spec, tag, env=None):
    """treerun up SPEC to its end: (seconds, exit code, events)."""
    events, logs = b.path(f"{tag}.events"), b.path(f"{tag}.log")
    t0 = time.monotonic()
    p = subprocess.Popen([b.treerun, "up", spec, "--events", events, "--logs", logs, "--quiet", "--no-color"],
                         env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=open(b.path("treerun.stderr"), "ab"))
    rc = b.wait_exit(p, 600)
    return time.monotonic() - t0, rc, b.read_events(events)


def wait_files(folder, n, proc, timeout=300.0):
    """Until FOLDER holds N files (each step touches one once it runs)."""
    deadline = time.monotonic() + timeout
    while len(os.listdir(folder)) < n:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"only {len(os.listdir(folder))} of {n} steps started (exit {proc.poll()})")
        time.sleep(0.005)


def slurm_start(b):
    """N workers (`true`) spread over n1 and n2, each run to its end: treerun (its steps
    started in parallel) vs a bash loop of `srun --overlap` steps, in one allocation."""
    if skipped(b, "slurm_start"):
        return
    n, reps = (40, 2) if b.quick else (100, 3)
    workers = "".join(f"  - {{name: w{i}, on: {i % 2}, cmd: [\"true\"]}}\n" for i in range(n))
    spec = b.write_spec("slurm_start.yaml", "backend: slurm\nchildren:\n" + workers)
    B, T, errs = [], [], []
    with allocation("treerun-bench-start") as job:
        loop = (f"for i in $(seq 0 {n - 1}); do srun --jobid={job} --overlap -N1 -n1 -Q -w n$((i % 2 + 1)) true "
                f"|| exit 1; done")
        for i in range(reps):
            b.log(f"[slurm] start {n} workers on 2 hosts, rep {i + 1}/{reps}")
            dt, r = b.timed_shell(loop)
            B.append(dt)
            if r.returncode != 0:
                errs.append(f"the srun loop failed: {r.stderr.decode()[-200:]}")
            dt, rc, evs = run_treerun(b, spec, f"slurm_start_{i}", inside(job))
            T.append(dt)
            ok = [e for e in evs if e["event"] == "exit" and e.get("outcome") == "ok"]
            if rc != 0 or len(ok) != n:
                errs.append(f"rc={rc}, {len(ok)} of {n} workers ok")
    time_row(b, "slurm_start", f"slurm: start {n} workers over 2 hosts, each to its end (vs a bash loop of "
             "`srun --overlap`)", T, B, 1.0, errs)


def slurm_stop(b):
    """N sleepers over n1 and n2, all running: one SIGINT to treerun until it has exited
    (one SIGTERM per step by scancel, each step gone, its allocation released) vs
    `scancel JOB` of an allocation whose steps a bash script started, until every srun
    has exited."""
    if skipped(b, "slurm_stop"):
        return
    n, reps = (20, 2) if b.quick else (40, 3)
    B, T, errs = [], [], []
    for i in range(reps):
        b.log(f"[slurm] ctrl-c with {n} steps on 2 hosts, rep {i + 1}/{reps}")
        marks = b.path(f"stop_base_{i}")
        os.mkdir(marks)
        with allocation("treerun-bench-stop") as job:
            script = "".join(f"srun --jobid={job} --overlap -N1 -n1 -Q -w {HOSTS[k % 2]} sh -c "
                             f"'touch {marks}/{k}; exec sleep 1000' 2>/dev/null &\n" for k in range(n)) + "wait\n"
            p = subprocess.Popen(["bash", "-c", script])
            wait_files(marks, n, p)
            t0 = time.monotonic()
            subprocess.run(["scancel", job])
            b.wait_exit(p, 120)  # as treerun is waited for: seen at once
            B.append(time.monotonic() - t0)
        marks = b.path(f"stop_tr_{i}")
        os.mkdir(marks)
        daemons = "".join(f"  - {{name: d{k}, daemon: true, on: {k % 2}, "
                          f"cmd: [sh, -c, 'touch {marks}/{k}; exec sleep 1000']}}\n" for k in range(n))
        # A grace longer than a loaded machine's slowest scancel round trip: what is
        # measured is one graceful stop per step, not a SIGKILL race.
        spec = b.write_spec(f"slurm_stop_{i}.yaml", f"name: bench-stop\nbackend: slurm\ngrace: 30s\n"
                                                    f"children:\n{daemons}")
        events = b.path(f"slurm_stop_{i}.events")
        p = subprocess.Popen([b.treerun, "up", spec, "--events", events, "--quiet", "--no-color"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=open(b.path("treerun.stderr"), "ab"))
        wait_files(marks, n, p)
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        rc = b.wait_exit(p, 120)
        T.append(time.monotonic() - t0)
        evs = b.read_events(events)
        stops = [e for e in evs if e["event"] == "stop"]
        kills = [e for e in evs if e["event"] == "kill"]
        if rc != -signal.SIGINT or len(stops) != n or kills:
            errs.append(f"rc={rc}, {len(stops)} stops for {n} steps, {len(kills)} kills")
        left = subprocess.run(["squeue", "-h", "-n", "treerun:bench-stop", "-t", "PENDING,RUNNING"],  # not COMPLETING
                              capture_output=True, text=True).stdout
        if left.strip():
            errs.append(f"job left after treerun's exit: {left.strip()}")
    time_row(b, "slurm_stop", f"slurm: ctrl-c, {n} steps on 2 hosts all gone (vs `scancel` of the job)", T, B, 1.5,
             errs)


def slurm_stream(b):
    """1 GB (100 MB with --quick) from a node on n1 to a node on n2 inside one allocation
    held here (so neither side pays for salloc), vs `srun A | srun B` in it and vs a local
    pipe, for scale. Both slurm sides include two step starts."""
    if skipped(b, "slurm_stream"):
        return
    nbytes, reps = (100_000_000, 2) if b.quick else (1_000_000_000, 2)
    spec = b.write_spec("slurm_stream.yaml", f"""backend: slurm
children:
  - {{name: produce, on: 0, cmd: [head, -c, "{nbytes}", /dev/zero]}}
  - {{name: consume, on: 1, cmd: [wc, -c], stdin: produce}}
""")
    S, L, T, errs = [], [], [], []
    with allocation("treerun-bench-stream") as job:
        step = f"srun --jobid={job} --overlap -N1 -n1 -Q"
        for i in range(reps):
            b.log(f"[slurm] {nbytes // 1_000_000} MB n1 -> n2, rep {i + 1}/{reps}")
            dt, r = b.timed_shell(f"{step} -w n1 head -c {nbytes} /dev/zero | {step} -w n2 wc -c")
            S.append(dt)
            if r.stdout.decode().strip() != str(nbytes):
                errs.append(f"srun | srun printed {r.stdout.decode()[:40]!r}")
            dt, _ = b.timed_shell(f"head -c {nbytes} /dev/zero | wc -c")
            L.append(dt)
            dt, rc, _ = run_treerun(b, spec, f"slurm_stream_{i}", inside(job))
            T.append(dt)
            got = b.node_lines(b.path(f"slurm_stream_{i}.log"), "consume")
            if rc != 0 or got != [str(nbytes)]:
                errs.append(f"rc={rc}, consume printed {got[:3]}")
    ts, tl, tt = statistics.median(S), statistics.median(L), statistics.median(T)
    mb = lambda t: f"{nbytes / t / 1e6:.1f} MB/s"  # noqa: E731
    size = f"{nbytes // 1_000_000} MB" if nbytes < 1e9 else f"{nbytes // 1_000_000_000} GB"
    b.row(f"slurm: {size} from a node on n1 to one on n2 (vs `srun A \\| srun B`)",
          mb(tt) + (" (invalid: wrong output)" if errs else ""), mb(ts), ts / tt, "≥ 0.9×", ts / tt >= 0.9 and not errs)
    b.row(f"slurm: the same {size} (vs a local pipe `head \\| wc -c`, for scale)", mb(tt), mb(tl), tl / tt, "—", None)
    if errs:
        b.failures.append("slurm stream: wrong result: " + "; ".join(errs))
    b.raw["slurm_stream"] = {"srun_pipe": S, "local_pipe": L, "treerun": T, "errors": errs}


def time_row(b, name, what, treerun, baseline, goal, errs):
    """A row of medians: treerun's time / the baseline's, against GOAL (at most)."""
    tt, tb = statistics.median(treerun), statistics.median(baseline)
    b.row(what, fmt(tt) + (" (invalid)" if errs else ""), fmt(tb), tt / tb, f"≤ {goal}×", tt / tb <= goal and not errs)
    if errs:
        b.failures.append(f"{name}: " + "; ".join(errs))
    b.raw[name] = {"baseline": baseline, "treerun": treerun, "errors": errs}


def fmt(seconds):
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"
