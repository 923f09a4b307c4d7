#!/usr/bin/env python3
"""treerun benchmarks. Run through bench/run.sh; see bench/README.md.

Every number that has a goal is a ratio against a baseline measured in the same run,
interleaved with the treerun runs (baseline, treerun, baseline, treerun, ...) so that
the noise of a shared machine hits both alike; the tables show medians.
"""
import argparse
import collections
import json
import os
import re
import shutil
import select
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import bench_slurm

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.join(HERE, "build")
TICK = os.sysconf("SC_CLK_TCK")


def now():
    return time.perf_counter()


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt_s(x, unit="s"):
    if x is None:
        return "n/a"
    if unit == "ms":
        return f"{x * 1000:.1f} ms"
    return f"{x:.3f} s"


class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.treerun = args.treerun
        self.tmp = tempfile.mkdtemp(prefix="treerun-bench-")
        self.rows = []  # (benchmark, treerun, baseline, ratio, goal, verdict)
        self.notes = []
        self.failures = []

    # ------------------------------------------------------------------ helpers
    def log(self, *a):
        print(*a, file=sys.stderr, flush=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write_spec(self, name, text):
        p = self.path(name)
        with open(p, "w") as f:
            f.write(text)
        return p

    def row(self, bench, tr, base, ratio, goal, ok):
        verdict = "n/a" if ok is None else ("ok" if ok else "**MISS**")
        self.rows.append((bench, tr, base, ratio, goal, verdict))

    def up(self, spec, events, logs, extra=()):
        cmd = [self.treerun, "up", spec, "--events", events, "--logs", logs, "--quiet", "--no-color", *extra]
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=open(self.path("treerun.stderr"), "ab"))

    @staticmethod
    def tail_events(events, stop_when, proc, timeout=60.0, poll=0.0005):
        """Reads the JSONL event file as it grows; returns (time when stop_when(ev) first
        returned True, all events so far). Polls every `poll` seconds."""
        evs = []
        buf = b""
        f = None
        deadline = now() + timeout
        while now() < deadline:
            if f is None:
                try:
                    f = open(events, "rb")
                except FileNotFoundError:
                    if proc.poll() is not None:
                        break  # it ended before it opened the file (it refused to run)
                    time.sleep(poll)
                    continue
            chunk = f.read()
            if chunk:
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for l in lines:
                    if not l:
                        continue
                    ev = json.loads(l)
                    evs.append(ev)
                    if stop_when(ev):
                        t = now()
                        f.close()
                        return t, evs
            elif proc.poll() is not None:
                break
            else:
                time.sleep(poll)
        if f:
            f.close()
        return None, evs

    @staticmethod
    def read_events(events):
        out = []
        try:
            with open(events) as f:
                for l in f:
                    l = l.strip()
                    if l:
                        out.append(json.loads(l))
        except FileNotFoundError:
            pass
        return out

    @staticmethod
    def children_of(pid):
        kids = []
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    kids += [int(x) for x in f.read().split()]
        except (FileNotFoundError, ProcessLookupError):
            pass
        return kids

    @staticmethod
    def exe(pid):
        try:
            return os.readlink(f"/proc/{pid}/exe")
        except OSError:
            return None

    @staticmethod
    def status_fields(pid, names):
        out = {}
        try:
            with open(f"/proc/{pid}/status") as f:
                for l in f:
                    k, _, v = l.partition(":")
                    if k in names:
                        out[k] = int(v.split()[0])
        except FileNotFoundError:
            pass
        return out

    @staticmethod
    def cpu_ticks(pid):
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
        fields = s[s.rindex(")") + 2:].split()
        return int(fields[11]) + int(fields[12])  # utime + stime (fields 14, 15)

    @staticmethod
    def ctx_switches(pid):
        vol = invol = 0
        threads = 0
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{task}/status") as f:
                    for l in f:
                        if l.startswith("voluntary_ctxt_switches"):
                            vol += int(l.split()[1])
                        elif l.startswith("nonvoluntary_ctxt_switches"):
                            invol += int(l.split()[1])
                threads += 1
            except FileNotFoundError:
                pass
        return vol, invol, threads

    def wait_exit(self, proc, timeout=60):
        """PROC's exit code, seen the moment it exits: a pidfd is readable then. (Popen.wait
        with a timeout polls, sleeping 1, 2, 4 … 50 ms between looks: a stop of 36 ms was
        seen at 63 ms, while the baselines, waited for by a blocking wait, paid nothing.)"""
        if proc.returncode is not None:
            return proc.returncode
        try:
            fd = os.pidfd_open(proc.pid)
        except ProcessLookupError:
            return proc.wait()
        try:
            exited, _, _ = select.select([fd], [], [], timeout)
        finally:
            os.close(fd)
        if not exited:
            self.log(f"  treerun pid {proc.pid} did not exit in {timeout}s; killing it")
            proc.kill()
            proc.wait()
            return None
        return proc.wait()

    def timed_shell(self, script):
        t0 = now()
        r = subprocess.run(["bash", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return now() - t0, r

    # ------------------------------------------------------------------ baselines
    def baseline_spawn(self, n, cmd=(), hold_fds=False, output_pipes=False):
        env = dict(os.environ, BASELINE_HOLD_FDS="2" if hold_fds else "0",
                   BASELINE_OUTPUT_PIPES="1" if output_pipes else "0")
        t0 = now()
        p = subprocess.Popen([os.path.join(BUILD, "baseline_spawn"), str(n), *cmd],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        line = p.stdout.readline()
        t1 = now()
        inner_start = int(line.split()[1]) / 1e9
        time.sleep(0.3)
        t2 = now()
        p.stdin.write("stop\n")
        p.stdin.flush()
        out = p.stdout.readline()
        p.wait()
        t3 = now()
        inner_stop = int(out.split()[1]) / 1e9
        return {"start": t1 - t0, "stop": t3 - t2, "inner_start": inner_start, "inner_stop": inner_stop}

    # ------------------------------------------------------------------ 1. start/stop
    def sleepers_spec(self, n, name):
        lines = ["grace: 5s", "children:"]
        for i in range(n):
            lines.append(f'  - {{name: s{i}, daemon: true, cmd: [sleep, "1000"]}}')
        return self.write_spec(name, "\n".join(lines) + "\n")

    def tree_spec(self, name, n=500):
        # 5 groups x 10 subgroups x n/50 daemons = n processes, 3 levels of nurseries.
        lines = ["grace: 5s", "children:"]
        for a in range(5):
            lines.append(f"  - name: g{a}")
            lines.append("    children:")
            for b in range(10):
                lines.append(f"      - name: h{b}")
                lines.append("        children:")
                for c in range(n // 50):
                    lines.append(f'          - {{name: s{c}, daemon: true, cmd: [sleep, "1000"]}}')
        return self.write_spec(name, "\n".join(lines) + "\n")

    def treerun_startstop(self, spec, n, tag):
        events, logs = self.path(f"{tag}.events"), self.path(f"{tag}.log")
        t0 = now()
        p = self.up(spec, events, logs)
        count = {"spawn": 0, "ready": 0}
        ready_nodes = set()

        def done(ev):
            if ev["event"] == "spawn":
                count["spawn"] += 1
            elif ev["event"] == "ready" and ev.get("node", "").split("/")[-1].startswith("s"):
                ready_nodes.add(ev["node"])
            return count["spawn"] >= n and len(ready_nodes) >= n

        t_ev, evs = self.tail_events(events, done, p)
        # "all processes exist and have exec'd": poll treerun's children
        t_proc = None
        deadline = now() + 30
        while now() < deadline and t_ev is not None:
            kids = self.children_of(p.pid)
            # The guardian is a child of treerun too: count the sleepers only.
            if len(kids) >= n and sum(1 for k in kids if self.exe(k) == SLEEP) >= n:
                t_proc = now()
                break
            time.sleep(0.0005)
        res = {"start_events": (t_ev - t0) if t_ev else None,
               "start_procs": (t_proc - t0) if t_proc else None}
        if t_ev:
            # t of the last spawn in treerun's own clock (from its start, not ours)
            res["start_inner"] = max(e["t"] for e in evs if e["event"] == "spawn")
            time.sleep(0.2)
            st = self.status_fields(p.pid, {"VmRSS", "VmHWM", "Threads"})
            res.update(st)
        t2 = now()
        p.send_signal(signal.SIGINT)
        rc = self.wait_exit(p)
        t3 = now()
        res["stop"] = t3 - t2
        res["rc"] = rc
        evs = self.read_events(events)
        exits = [e for e in evs if e["event"] == "exit"]
        res["exits"] = len(exits)
        res["killed"] = sum(1 for e in exits if e.get("outcome") == "killed")
        stops = [e for e in evs if e["event"] == "stop"]
        res["stops"] = len(stops)
        if not t_ev:
            self.failures.append(f"{tag}: treerun did not report {n} spawn+ready events (got {count['spawn']} spawns)")
        return res

    def bench_startstop(self):
        self.startstop(500, 3 if self.quick else 5, "1.", "2.", hold_fds_row=True)

    def bench_startstop_big(self):
        self.startstop(5000, 3 if self.quick else 5, "1b.", "2b.", hold_fds_row=False)

    def startstop(self, n, reps, flat_no, tree_no, hold_fds_row):
        """N sleepers, flat and as a 3-level tree: launch → all running, and one SIGINT →
        treerun's exit, each beside the bare posix_spawn / kill+reap loop of the same run."""
        spec = self.sleepers_spec(n, f"sleepers{n}.yaml")
        tree = self.tree_spec(f"tree{n}.yaml", n)
        B, BH, BP, T, TT = [], [], [], [], []
        for i in range(reps):
            self.log(f"[{flat_no}] start/stop {n} sleepers, rep {i + 1}/{reps}")
            B.append(self.baseline_spawn(n))
            BP.append(self.baseline_spawn(n, output_pipes=True))
            if hold_fds_row:
                BH.append(self.baseline_spawn(n, hold_fds=True))
            T.append(self.treerun_startstop(spec, n, f"ss{n}_{i}"))
            self.log(f"[{tree_no}] SIGINT to a 3-level tree of {n}, rep {i + 1}/{reps}")
            TT.append(self.treerun_startstop(tree, n, f"tree{n}_{i}"))
        b_start, b_stop = med([b["start"] for b in B]), med([b["stop"] for b in B])
        t_start_ev = med([t["start_events"] for t in T])
        t_start_pr = med([t["start_procs"] for t in T])
        t_stop = med([t["stop"] for t in T])
        raw = {"baseline": B, "baseline_output_pipes": BP, "treerun": T, "tree": TT}
        self.raw["startstop" if n == 500 else f"startstop{n}"] = raw

        def ratio(a, b):
            return (a / b) if (a is not None and b) else None

        r = ratio(t_start_ev, b_start)
        self.row(f"{flat_no} start {n} sleepers (launch → {n} spawn+ready events)", fmt_s(t_start_ev), fmt_s(b_start),
                 r, "≤ 1.0×", None if r is None else r <= 1.0)
        r = ratio(t_start_pr, b_start)
        self.row(f"{flat_no} start {n} sleepers (launch → {n} children exec'd, /proc)", fmt_s(t_start_pr),
                 fmt_s(b_start), r, "≤ 1.0×", None if r is None else r <= 1.0)
        r = ratio(t_stop, b_stop)
        self.row(f"{flat_no} stop {n} sleepers (SIGINT → treerun exit)", fmt_s(t_stop), fmt_s(b_stop),
                 r, "≤ 1.0×", None if r is None else r <= 1.0)
        bp_stop = med([b["stop"] for b in BP])
        r = ratio(bp_stop, b_stop)
        self.row(f"{flat_no} (reference: the bare loop with an output pipe per child, read to EOF and closed "
                 f"after each reap, as any runner that captures output must)", fmt_s(bp_stop), fmt_s(b_stop), r,
                 "—", None)
        rss = med([t.get("VmRSS") for t in T])
        hwm = med([t.get("VmHWM") for t in T])
        if n == 500:
            self.row("1. treerun VmRSS with 500 children", f"{rss / 1024:.1f} MiB" if rss else "n/a", "—", None,
                     "< 16 MiB", None if rss is None else rss < 16 * 1024)
            self.row("1. treerun VmHWM (peak RSS) with 500 children", f"{hwm / 1024:.1f} MiB" if hwm else "n/a",
                     "—", None, "< 16 MiB", None if hwm is None else hwm < 16 * 1024)
        else:
            self.row(f"{flat_no} treerun VmHWM (peak RSS) with {n} children",
                     f"{hwm / 1024:.1f} MiB" if hwm else "n/a", "—", None, "—", None)
        if hold_fds_row:
            bh_start = med([b["start"] for b in BH])
            r = ratio(bh_start, b_start)
            self.row("1. (reference: the bare loop holding 2 O_CLOEXEC fds per child, as treerun does)",
                     fmt_s(bh_start), fmt_s(b_start), r, "—", None)
            raw["baseline_hold_fds"] = BH
        tt_stop = med([t["stop"] for t in TT])
        r = ratio(tt_stop, b_stop)
        self.row(f"{tree_no} one SIGINT → exit, 3-level tree of {n} cooperative", fmt_s(tt_stop), fmt_s(b_stop), r,
                 "≤ 1.0×", None if r is None else r <= 1.0)
        tt_start = med([t["start_events"] for t in TT])
        r = ratio(tt_start, b_start)
        self.row(f"{tree_no} (start of that tree, launch → {n} spawn+ready)", fmt_s(tt_start), fmt_s(b_start), r,
                 "—", None)
        for name, runs in (("flat", T), ("tree", TT)):
            for t in runs:
                if t["rc"] != -signal.SIGINT and t["rc"] != 130:
                    self.failures.append(f"{name} {n}: treerun exit status {t['rc']} after SIGINT (expected death by SIGINT)")
                if t["exits"] != n or t["stops"] != n or t["killed"]:
                    self.failures.append(f"{name} {n}: {t['exits']} exit / {t['stops']} stop / {t['killed']} killed "
                                         f"events (expected {n}/{n}/0)")
        self.notes.append(
            f"start/stop of {n} detail (medians): baseline in-process start {fmt_s(med([b['inner_start'] for b in B]))}, "
            f"stop {fmt_s(med([b['inner_stop'] for b in B]))}; treerun's own `t` of the last spawn "
            f"{fmt_s(med([t.get('start_inner') for t in T]))}; treerun threads: {med([t.get('Threads') for t in T])}")

    # ------------------------------------------------------------------ 2b. grace
    def bench_grace(self):
        reps = 2 if self.quick else 3
        lines = ["grace: 1s", "children:"]
        for i in range(50):
            lines.append(f'  - {{name: c{i}, daemon: true, cmd: [sleep, "1000"]}}')
        lines.append('  - {name: stubborn, daemon: true, cmd: [sh, -c, "trap \'\' TERM; exec sleep 1000"]}')
        spec = self.write_spec("grace.yaml", "\n".join(lines) + "\n")
        times, kills = [], []
        for i in range(reps):
            self.log(f"[2] 50 cooperative + 1 TERM-ignoring (grace 1s), rep {i + 1}/{reps}")
            events, logs = self.path(f"grace{i}.events"), self.path(f"grace{i}.log")
            p = self.up(spec, events, logs)
            ready = set()

            def done(ev):
                if ev["event"] == "ready" and ev["node"]:
                    ready.add(ev["node"])
                return len(ready) >= 51

            t_ev, _ = self.tail_events(events, done, p)
            time.sleep(0.2)  # let sh install its trap and exec sleep
            t2 = now()
            p.send_signal(signal.SIGINT)
            self.wait_exit(p)
            times.append(now() - t2)
            evs = self.read_events(events)
            kills.append(sum(1 for e in evs if e["event"] == "kill"))
        t = med(times)
        self.row("2. 50 cooperative + 1 ignoring TERM, grace 1s: SIGINT → exit", fmt_s(t), "1.000 s (grace)",
                 t / 1.0, "≤ 1.1 s", t <= 1.1)
        self.raw["grace"] = {"times": times, "kill_events": kills}
        if any(k != 1 for k in kills):
            self.failures.append(f"grace: expected exactly 1 kill event per run, got {kills}")

    # ------------------------------------------------------------------ 3. idle
    def bench_idle(self):
        self.log("[3] idle CPU with 20 sleeping children (10 s)")
        lines = ["children:"]
        for i in range(20):
            lines.append(f'  - {{name: s{i}, daemon: true, cmd: [sleep, "1000"]}}')
        spec = self.write_spec("idle.yaml", "\n".join(lines) + "\n")
        events, logs = self.path("idle.events"), self.path("idle.log")
        t0 = now()
        p = self.up(spec, events, logs)
        time.sleep(max(0.0, 1.0 - (now() - t0)))
        c1, (v1, i1, th) = self.cpu_ticks(p.pid), self.ctx_switches(p.pid)
        time.sleep(10.0)
        c2, (v2, i2, _) = self.cpu_ticks(p.pid), self.ctx_switches(p.pid)
        p.send_signal(signal.SIGINT)
        self.wait_exit(p)
        self.row("3. idle, 20 children: CPU time used t=1s→11s", f"{(c2 - c1) * 1000 // TICK} ms ({c2 - c1} ticks)",
                 "—", None, "0", c2 == c1)
        self.row("3. idle, 20 children: voluntary ctx switches t=1s→11s", f"{v2 - v1} (+{i2 - i1} involuntary, {th} thread(s))",
                 "—", None, "0 / flat", v2 - v1 <= 2)
        self.raw["idle"] = {"ticks": c2 - c1, "vol": v2 - v1, "invol": i2 - i1, "threads": th}

    def bench_idle_control(self):
        """Item 5 of issue 20: the control socket open (a named run), 10 health checks every
        5 s and a watch over 10 000 files cost the idle run nothing between their events."""
        self.log("[3] idle CPU with the control socket, 10 health checks (5 s) and a watch on 10 000 files (10 s)")
        tree = self.path("watched")
        for d in range(100):
            os.makedirs(os.path.join(tree, f"d{d}"), exist_ok=True)
            for f in range(100):
                open(os.path.join(tree, f"d{d}", f"f{f}"), "w").close()
        health = self.path("healthy")
        open(health, "w").close()
        lines = ["children:"]
        for i in range(10):
            lines.append(f'  - {{name: h{i}, daemon: true, cmd: [sleep, "1000"], health: {{file: "{health}", interval: 5s}}}}')
        lines.append(f'  - {{name: w, daemon: true, cmd: [sleep, "1000"], watch: ["{tree}"]}}')
        spec = self.write_spec("idle_control.yaml", "\n".join(lines) + "\n")
        events, logs = self.path("idle_control.events"), self.path("idle_control.log")
        p = self.up(spec, events, logs, ("--name", "idlebench"))
        ready = set()
        t_ev, _ = self.tail_events(events, lambda ev: ev["event"] == "ready" and ready.add(ev["node"]) is None and len(ready) >= 11, p)
        if t_ev is None:
            self.failures.append("idle_control: the run did not get ready")
            p.kill()
            p.wait()
            return
        time.sleep(1.0)
        # The socket answers (before the window: the answer is an event of its own).
        ps = subprocess.run([self.treerun, "ps", "-r", "idlebench"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if ps.returncode != 0:
            self.failures.append(f"idle_control: `treerun ps -r idlebench` failed: {ps.stdout.strip()}")
        time.sleep(1.0)
        c1, (v1, i1, th), r1 = self.cpu_ticks(p.pid), self.ctx_switches(p.pid), self.tree_cpu_ns(p.pid)
        window = 10.0
        time.sleep(window)
        c2, (v2, i2, _), r2 = self.cpu_ticks(p.pid), self.ctx_switches(p.pid), self.tree_cpu_ns(p.pid)
        p.send_signal(signal.SIGINT)
        self.wait_exit(p)
        checks = 10 * int(window // 5)  # each of the 10 checks fires twice in the window
        # The checks are the events: their own CPU (a stat and a timer each, tens of µs)
        # may land on a tick now and then; nothing else may run.
        per_check = (r2 - r1) / 1e3 / checks
        self.row("3. idle with socket + 10 health checks (5 s) + watch of 10 000 files: CPU t=1s→11s",
                 f"{c2 - c1} ticks ({(r2 - r1) / 1e3:.0f} µs of CPU, whole tree: {per_check:.0f} µs per check)", "—",
                 None, "≤ 1 tick; < 200 µs per check", c2 - c1 <= 1 and per_check < 200)
        self.row("3. idle with socket + 10 health checks + watch: voluntary ctx switches t=1s→11s",
                 f"{v2 - v1} (+{i2 - i1} involuntary, {th} thread(s))", "—", None,
                 f"≤ {checks} + 2 (a wake-up per check)", v2 - v1 <= checks + 2)
        self.raw["idle_control"] = {"ticks": c2 - c1, "cpu_ns": r2 - r1, "vol": v2 - v1, "invol": i2 - i1, "threads": th}

    # ------------------------------------------------------------------ 4. streams
    def stream_run(self, spec, tag, timeout=300):
        events, logs = self.path(f"{tag}.events"), self.path(f"{tag}.log")
        t0 = now()
        p = self.up(spec, events, logs)
        rc = self.wait_exit(p, timeout)
        return now() - t0, rc, logs, events

    def node_lines(self, logs, node):
        out = []
        rx = re.compile(r"^" + re.escape(node) + r" +\| (.*)$")
        with open(logs, errors="replace") as f:
            for l in f:
                m = rx.match(l.rstrip("\n"))
                if m:
                    out.append(m.group(1))
        return out

    def bench_stream_1to1(self):
        size = "512M" if self.quick else "2G"
        nbytes = 512 << 20 if self.quick else 2 << 30
        reps = 2 if self.quick else 3
        spec = self.write_spec("s11.yaml", f"""children:
  - {{name: produce, cmd: [head, -c, "{size}", /dev/zero]}}
  - {{name: consume, cmd: [wc, -c], stdin: produce}}
""")
        B, T, errs = [], [], []
        for i in range(reps):
            self.log(f"[4] 1:1 stream {size}, rep {i + 1}/{reps}")
            dt, r = self.timed_shell(f"head -c {size} /dev/zero | wc -c")
            B.append(dt)
            dt, rc, logs, _ = self.stream_run(spec, f"s11_{i}")
            got = self.node_lines(logs, "consume")
            if rc != 0 or got != [str(nbytes)]:
                errs.append(f"rc={rc}, consume printed {got[:3]}")
            T.append(dt)
        tb, tt = med(B), med(T)
        ratio = tb / tt  # throughput ratio
        self.row(f"4. 1:1 stream, {size} (throughput vs `head | wc -c`)",
                 f"{nbytes / tt / 2**30:.2f} GiB/s" + (" (invalid: wrong output)" if errs else ""),
                 f"{nbytes / tb / 2**30:.2f} GiB/s", ratio, "≥ 0.95×", (ratio >= 0.95) and not errs)
        if errs:
            self.failures.append(f"1:1 stream: wrong result in {len(errs)}/{reps} runs: " + "; ".join(errs))
        self.raw["stream_1to1"] = {"baseline": B, "treerun": T, "errors": errs}

    def bench_stream_fanout(self):
        size = "256M" if self.quick else "1G"
        nbytes = 256 << 20 if self.quick else 1 << 30
        reps = 2 if self.quick else 3
        spec = self.write_spec("sfan.yaml", f"""children:
  - {{name: produce, cmd: [head, -c, "{size}", /dev/zero]}}
  - {{name: c1, cmd: [wc, -c], stdin: produce}}
  - {{name: c2, cmd: [wc, -c], stdin: produce}}
""")
        B, T, errs = [], [], []
        for i in range(reps):
            self.log(f"[4] fan-out to 2 consumers {size}, rep {i + 1}/{reps}")
            dt, r = self.timed_shell(f"head -c {size} /dev/zero | tee >(wc -c >/dev/null) | wc -c")
            B.append(dt)
            dt, rc, logs, _ = self.stream_run(spec, f"sfan_{i}")
            got = (self.node_lines(logs, "c1"), self.node_lines(logs, "c2"))
            if rc != 0 or got != ([str(nbytes)], [str(nbytes)]):
                errs.append(f"rc={rc}, c1 printed {got[0][:3]}, c2 printed {got[1][:3]} (expected {nbytes})")
            T.append(dt)
        tb, tt = med(B), med(T)
        ratio = tb / tt
        self.row(f"4. fan-out 1→2, {size} (vs `head | tee >(wc -c) | wc -c`)",
                 f"{nbytes / tt / 2**30:.2f} GiB/s" + (" (invalid: wrong output)" if errs else ""),
                 f"{nbytes / tb / 2**30:.2f} GiB/s", ratio, "≥ 1.0×", (ratio >= 1.0) and not errs)
        if errs:
            self.failures.append(f"fan-out: wrong result in {len(errs)}/{reps} runs: " + "; ".join(errs))
        self.raw["stream_fanout"] = {"baseline": B, "treerun": T, "errors": errs}

    LINE_RX = re.compile(r"^(p\d) ([0-9]{9}) (x+)$")

    def check_lines(self, lines, n_per, prefixed):
        """Counts lines per producer, checks shape, order and completeness."""
        seq = {}
        bad = 0
        out_of_order = 0
        node_rx = re.compile(r"^(p\d) +\| (.*)$")
        for l in lines:
            if prefixed:
                if re.match(r"^\S+ +\* ", l):
                    continue  # treerun's own lines
                m = node_rx.match(l)
                if not m:
                    bad += 1
                    continue
                node, payload = m.group(1), m.group(2)
            else:
                node, payload = None, l
            m = self.LINE_RX.match(payload)
            if not m or len(payload) != 79 or (node and m.group(1) != node):
                bad += 1
                continue
            p, s = m.group(1), int(m.group(2))
            if seq.get(p, -1) + 1 != s:
                out_of_order += 1
            seq[p] = s
        missing = sum(n_per - (seq.get(f"p{i}", -1) + 1) for i in range(1, 5))
        return bad, out_of_order, missing

    def bench_logstream(self):
        n = 62500 if self.quick else 250000
        reps = 2 if self.quick else 3
        lines_bin = os.path.join(BUILD, "lines")
        spec = self.write_spec("slog.yaml", "children:\n" + "".join(
            f'  - {{name: p{i}, cmd: ["{lines_bin}", "{n}", "{i}"]}}\n' for i in range(1, 5)))
        total = 4 * n * 80
        B, T, errs, base_bad = [], [], [], []
        for i in range(reps):
            self.log(f"[4] log stream 4 x {n} lines, rep {i + 1}/{reps}")
            out = self.path("shell_lines.out")
            dt, r = self.timed_shell(f"{{ {lines_bin} {n} 1 & {lines_bin} {n} 2 & {lines_bin} {n} 3 & "
                                     f"{lines_bin} {n} 4 & wait; }} > {out}")
            B.append(dt)
            with open(out, errors="replace") as f:
                base_bad.append(self.check_lines([l.rstrip("\n") for l in f], n, False))
            # the same 4 producers into a pipe read by one cat: the kernel's line atomicity
            dt, rc, logs, _ = self.stream_run(spec, f"slog_{i}")
            T.append(dt)
            with open(logs, errors="replace") as f:
                res = self.check_lines([l.rstrip("\n") for l in f], n, True)
            if rc != 0 or any(res):
                errs.append(f"rc={rc}, bad lines {res[0]}, out of order {res[1]}, missing {res[2]}")
        # shell baseline through a pipe (writes > PIPE_BUF are not atomic)
        dtp, _ = self.timed_shell(f"{{ {lines_bin} {n} 1 & {lines_bin} {n} 2 & {lines_bin} {n} 3 & "
                                  f"{lines_bin} {n} 4 & wait; }} | cat > {self.path('shell_pipe.out')}")
        with open(self.path("shell_pipe.out"), errors="replace") as f:
            pipe_bad = self.check_lines([l.rstrip("\n") for l in f], n, False)
        tb, tt = med(B), med(T)
        ratio = tb / tt
        self.row(f"4. log stream, 4×{n} lines of 80 B → --logs FILE (vs 4 producers → one file)",
                 f"{total / tt / 2**20:.0f} MiB/s", f"{total / tb / 2**20:.0f} MiB/s", ratio, "≥ 1.0×",
                 (ratio >= 1.0) and not errs)
        self.row("4. log stream: lines mangled/out of order/lost in treerun's output",
                 "0" if not errs else f"{len(errs)}/{reps} runs bad: {errs[0]}", f"file: {base_bad[0][0]} mangled; via a pipe: {pipe_bad[0]} mangled",
                 None, "0", not errs)
        if errs:
            self.failures.append(f"log stream: wrong output in {len(errs)}/{reps} runs: " + "; ".join(errs))
        self.raw["logstream"] = {"baseline": B, "treerun": T, "errors": errs, "baseline_bad": base_bad,
                                 "pipe_bad": pipe_bad, "pipe_time": dtp}

    # ------------------------------------------------------------------ 5. readiness
    def bench_ready(self, kind):
        n = 10 if self.quick else 20
        stamp = os.path.join(BUILD, "stamp")
        lines = ["children:"]
        for i in range(n):
            probe = '{log: "^READY"}' if kind == "log" else "{notify: true}"
            args = f'["{stamp}"]' if kind == "log" else f'["{stamp}", --notify]'
            after = f", after: [d{i - 1}]" if i else ""
            lines.append(f"  - {{name: d{i}, daemon: true, cmd: {args}, ready: {probe}{after}}}")
        spec = self.write_spec(f"ready_{kind}.yaml", "\n".join(lines) + "\n")
        self.log(f"[5] readiness latency, chain of {n} `{kind}` probes")
        events, logs = self.path(f"ready_{kind}.events"), self.path(f"ready_{kind}.log")
        p = self.up(spec, events, logs)
        t_ev, evs = self.tail_events(events, lambda e: e["event"] == "ready" and e["node"] == f"d{n - 1}", p,
                                     timeout=30)
        time.sleep(0.1)
        p.send_signal(signal.SIGINT)
        self.wait_exit(p)
        evs = self.read_events(events)
        if t_ev is None:
            self.row(f"5. readiness latency, `{kind}` probe", "FAILED (chain never became ready)", "—", None,
                     "a few ms", False)
            self.failures.append(f"readiness {kind}: the chain of {n} never became ready")
            return
        stamps = {}
        for i in range(n):
            ls = [l for l in self.node_lines(logs, f"d{i}") if l.startswith("READY ")]
            if ls:
                stamps[i] = int(ls[0].split()[1]) / 1e9
        tev = {(e["event"], e.get("node")): e["t"] for e in evs}
        e2e = [stamps[i] - stamps[i - 1] for i in range(1, n) if i in stamps and i - 1 in stamps]
        rs = [tev[("spawn", f"d{i}")] - tev[("ready", f"d{i - 1}")] for i in range(1, n)]
        det = [tev[("ready", f"d{i}")] - tev[("spawn", f"d{i}")] for i in range(n)]
        self.row(f"5. readiness `{kind}`: dependency's READY write → dependent running (median / max)",
                 f"{med(e2e) * 1000:.1f} / {max(e2e) * 1000:.1f} ms" if e2e else "n/a", "—", None, "a few ms",
                 None if not e2e else med(e2e) < 0.005)
        self.row(f"5. readiness `{kind}`: spawn → `ready` event (probe detection, median / max)",
                 f"{med(det) * 1000:.1f} / {max(det) * 1000:.1f} ms", "—", None, "a few ms", med(det) < 0.005)
        self.row(f"5. readiness `{kind}`: `ready` event → dependent's `spawn` (median / max)",
                 f"{med(rs) * 1000:.2f} / {max(rs) * 1000:.2f} ms", "—", None, "— (includes fork+exec)", None)
        self.raw[f"ready_{kind}"] = {"e2e": e2e, "ready_to_spawn": rs, "spawn_to_ready": det}

    def bench_ready_baseline(self):
        # fork+exec of the stamp helper from a shell: the floor under the end-to-end gap
        stamp = os.path.join(BUILD, "stamp")
        r = subprocess.run(["bash", "-c", f"for i in $(seq 20); do {stamp} --exit; done"], stdout=subprocess.PIPE,
                           text=True)
        ts = [int(l.split()[1]) / 1e9 for l in r.stdout.split("\n") if l.startswith("READY")]
        gaps = [b - a for a, b in zip(ts, ts[1:])]
        self.notes.append(f"readiness floor: back-to-back fork+exec of the stamp helper from bash takes "
                          f"{med(gaps) * 1000:.1f} ms (median of {len(gaps)})")

    # ------------------------------------------------------------------ 6. control socket
    def named_run(self, spec, name, n):
        """`up SPEC --name NAME` with its socket under our TMPDIR, once its N nodes are
        ready: (process, environment for its clients, event log)."""
        env = dict(os.environ, TMPDIR=self.tmp)
        env.pop("XDG_RUNTIME_DIR", None)  # the socket goes under our TMPDIR
        events = self.path(f"{name}.events")
        p = subprocess.Popen([self.treerun, "up", spec, "--events", events, "--logs", "none", "--quiet",
                              "--name", name], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=open(self.path("treerun.stderr"), "ab"), env=env)
        ready = set()

        def all_ready(ev):
            if ev["event"] == "ready" and ev["node"] != "/":
                ready.add(ev["node"])
            return len(ready) >= n

        self.tail_events(events, all_ready, p)
        return p, env, events

    def bench_ps(self):
        """`ps` over the control socket of a run of 500 sleepers: connect, send, read to
        the end (the run closes after its last reply), as a tool would; then the CLI."""
        n = 500
        reps = 200 if self.quick else 500
        spec = self.sleepers_spec(n, "ps500.yaml")
        p, env, _ = self.named_run(spec, "bench", n)
        path = os.path.join(self.tmp, f"treerun-{os.geteuid()}", "bench.sock")
        request = b'{"v":1,"cmd":"ps"}\n'
        times, reply = [], b""
        self.log(f"[6] ps round trip, 500 nodes, {reps} requests")
        for _ in range(reps):
            t0 = now()
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.connect(path)
                s.sendall(request)
                chunks = []
                while True:
                    d = s.recv(1 << 20)
                    if not d:
                        break
                    chunks.append(d)
            times.append(now() - t0)
            reply = b"".join(chunks)
        nodes = json.loads(reply)["nodes"]
        if len(nodes) != n or any(x["state"] != "ready" for x in nodes):
            self.failures.append(f"ps: {len(nodes)} nodes in the reply, expected {n} ready")
        cli = []
        for _ in range(max(20, reps // 10)):
            t0 = now()
            r = subprocess.run([self.treerun, "ps", "--json", "-r", "bench"], env=env, stdout=subprocess.PIPE)
            cli.append(now() - t0)
            if r.returncode != 0:
                self.failures.append(f"ps: `treerun ps` exited {r.returncode}")
                break
        p.send_signal(signal.SIGINT)
        self.wait_exit(p)
        times.sort()
        m, p95 = med(times), times[int(len(times) * 0.95)]
        self.row(f"6. `ps` round trip over the socket, 500 nodes ({len(reply) // 1024} KiB; median / p95 of {reps})",
                 f"{m * 1000:.2f} / {p95 * 1000:.2f} ms", "—", None, "< 5 ms", m < 0.005)
        self.row("6. `treerun ps --json -r RUN`, 500 nodes (the CLI, process start included)",
                 fmt_s(med(cli), "ms"), "—", None, "—", None)
        self.raw["ps"] = {"socket": times, "cli": cli, "reply_bytes": len(reply)}
        if shutil.which("supervisord") and shutil.which("supervisorctl"):
            sup = self.supervisorctl_status(n, max(20, reps // 10))
            if sup:
                self.row(f"6. `treerun ps -r RUN` vs `supervisorctl status`, {n} programs (CLIs, process start included)",
                         fmt_s(med(cli), "ms"), fmt_s(med(sup), "ms"), med(cli) / med(sup), "—", None)
        else:
            self.notes.append("supervisord is not installed (apt-get install supervisor): `supervisorctl status` "
                              "on 500 programs not measured")

    def supervisorctl_status(self, n, reps):
        """`supervisorctl status` of a supervisord running N `sleep 1000` programs: the
        seconds of each of REPS calls, once all N run; nothing if it never got there."""
        d = self.path("supervisor")
        os.makedirs(d, exist_ok=True)
        conf = os.path.join(d, "supervisord.conf")
        with open(conf, "w") as f:
            f.write(f"[unix_http_server]\nfile={d}/s.sock\n[supervisord]\nlogfile={d}/supervisord.log\n"
                    f"pidfile={d}/supervisord.pid\nchildlogdir={d}\n[rpcinterface:supervisor]\n"
                    "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n"
                    f"[supervisorctl]\nserverurl=unix://{d}/s.sock\n")
            for i in range(n):
                f.write(f"[program:s{i}]\ncommand={SLEEP} 1000\nstartsecs=0\nautorestart=false\n"
                        "stdout_logfile=NONE\nstderr_logfile=NONE\n")
        sd = subprocess.Popen(["supervisord", "-n", "-c", conf], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        ctl = ["supervisorctl", "-c", conf, "status"]
        times = []
        try:
            deadline = now() + 120
            while now() < deadline:  # supervisord starts its programs a few at a time
                out = subprocess.run(ctl, stdout=subprocess.PIPE, text=True).stdout
                if out.count("RUNNING") >= n:
                    break
                time.sleep(0.5)
            else:
                self.failures.append(f"supervisord did not run {n} programs within 120 s")
                return []
            self.log(f"[6] supervisorctl status, {n} programs, {reps} calls")
            for _ in range(reps):
                t0 = now()
                subprocess.run(ctl, stdout=subprocess.DEVNULL)
                times.append(now() - t0)
        finally:
            subprocess.run(["supervisorctl", "-c", conf, "shutdown"], stdout=subprocess.DEVNULL)
            self.wait_exit(sd, 120)
        self.raw["supervisorctl"] = times
        return times

    # ------------------------------------------------------------------ 7. logs -f followers
    # A follower as a tool would be one: connect, ask `logs -f`, read to the end. It reads
    # and counts, nothing more, so that what is measured is treerun's side. It says
    # "following" once the run has answered (its history: the gate's line), so the
    # subscription is in place before the flood starts.
    FOLLOWER = (
        "import socket,sys\n"
        "s=socket.socket(socket.AF_UNIX);s.connect(sys.argv[1])\n"
        "s.sendall(b'{\"v\":1,\"cmd\":\"logs\",\"lines\":1,\"follow\":true}\\n')\n"
        "n=0;last=b'';told=False\n"
        "while True:\n"
        "  d=s.recv(1<<20)\n"
        "  if not d: break\n"
        "  if not told: print('following',flush=True);told=True\n"
        "  n+=d.count(b'\\n');last=(last+d)[-200:]\n"
        "print('lines',n,'ended' if b'\"ok\":true' in last else 'cut')\n")

    def followed_run(self, spec, followers, tag):
        """One run of the flood with FOLLOWERS clients: (seconds from the gate to the
        run's exit, CPU seconds of treerun and its producers, its exit code, what each
        follower said at its end)."""
        env = dict(os.environ, TMPDIR=self.tmp)
        env.pop("XDG_RUNTIME_DIR", None)
        gate, events, logs = self.path("gate"), self.path(f"{tag}.events"), self.path(f"{tag}.log")
        if os.path.exists(gate):
            os.unlink(gate)
        p = subprocess.Popen([self.treerun, "up", spec, "--events", events, "--logs", logs, "--quiet",
                              "--no-color", "--name", "follow"], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=open(self.path("treerun.stderr"), "ab"), env=env)
        self.tail_events(events, lambda ev: ev["event"] == "spawn", p)
        sock = os.path.join(self.tmp, f"treerun-{os.geteuid()}", "follow.sock")
        fs = [subprocess.Popen([sys.executable, "-c", self.FOLLOWER, sock], stdout=subprocess.PIPE, text=True)
              for _ in range(followers)]
        for f in fs:
            f.stdout.readline()  # "following"
        t0 = now()
        open(gate, "w").close()
        # wait4: the CPU time too, which a loaded machine does not stretch as it does the
        # wall time (treerun's own and its producers', which it reaped).
        _, status, usage = os.wait4(p.pid, 0)
        dt = now() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        said = [f.communicate()[0].strip() for f in fs]
        os.unlink(logs)
        return dt, usage.ru_utime + usage.ru_stime, p.returncode, said

    def bench_followers(self):
        """The log stream of 4 producers (1 GiB, 80-byte lines) to --logs FILE while 20
        clients follow it (`logs -f` over the control socket) vs while none does."""
        total = (256 << 20) if self.quick else (1 << 30)
        n = total // 80 // 4
        reps = 2 if self.quick else 3
        k = 20
        lines_bin = os.path.join(BUILD, "lines")
        spec = self.write_spec("follow.yaml", "children:\n"
                               f"  - {{name: gate, daemon: true, cmd: [\"{SLEEP}\", \"1000\"], "
                               f"ready: {{file: \"{self.path('gate')}\"}}}}\n" + "".join(
                                   f'  - {{name: p{i}, after: [gate], cmd: ["{lines_bin}", "{n}", "{i}"]}}\n'
                                   for i in range(1, 5)))
        alone, followed, said, errs = [], [], [], []
        cpu = {0: [], k: []}
        for i in range(reps):
            for count, times in ((0, alone), (k, followed)):
                self.log(f"[7] log stream of {total >> 20} MiB with {count} followers, rep {i + 1}/{reps}")
                dt, used, rc, got = self.followed_run(spec, count, f"follow{count}_{i}")
                times.append(dt)
                cpu[count].append(used)
                said += got
                if rc != 0:
                    errs.append(f"rc={rc} with {count} followers")
        ta, tf = med(alone), med(followed)
        ratio = ta / tf
        got = sorted(int(s.split()[1]) for s in said if s.startswith("lines"))
        cut = sum(s.endswith("cut") for s in said)
        self.row(f"7. log stream, {total >> 20} MiB, with {k} `logs -f` followers (vs none)",
                 f"{total / tf / 2**20:.0f} MiB/s", f"{total / ta / 2**20:.0f} MiB/s", ratio, "≥ 0.9×",
                 ratio >= 0.9 and not errs)
        ca, cf = med(cpu[0]), med(cpu[k])
        self.row(f"7. the same, CPU time of treerun and its producers (vs none)", fmt_s(cf), fmt_s(ca), cf / ca,
                 "—", None)
        self.row(f"7. lines each follower got of {4 * n} (min / median); followers cut off (> 4 MiB behind)",
                 f"{got[0] if got else 0} / {got[len(got) // 2] if got else 0}; {cut} of {len(said)}", "—", None,
                 "—", None)
        if errs:
            self.failures.append("followers: " + "; ".join(errs))
        self.raw["followers"] = {"alone": alone, "followed": followed, "cpu": cpu, "said": said, "errors": errs}

    # ------------------------------------------------------------------ 7. watch
    def bench_watch(self):
        """A file change → the watched node's new process running: the file is written at
        t0 (CLOCK_MONOTONIC); the new incarnation of the stamp helper prints its own
        CLOCK_MONOTONIC time at once. Less the debounce, that is treerun's part: reading
        the change, the graceful stop of the old process, the spawn of the new."""
        reps = 10 if self.quick else 30
        debounce = 0.05
        stamp = os.path.join(BUILD, "stamp")
        src = self.path("watched")
        os.makedirs(src, exist_ok=True)
        spec = self.write_spec("watch.yaml", "children:\n  - {name: w, daemon: true, cmd: [\"%s\"], "
                               "ready: {log: \"^READY\"}, grace: 1s, watch: {paths: [watched], debounce: 50ms}}\n"
                               % stamp)
        events, logs = self.path("watch.events"), self.path("watch.log")
        self.log(f"[7] watch: file change → new process running, {reps} changes")
        p = self.up(spec, events, logs)
        self.tail_events(events, lambda e: e["event"] == "ready" and e["node"] == "w", p, timeout=30)
        lat = []
        for i in range(reps):
            t0 = time.monotonic_ns() / 1e9
            with open(os.path.join(src, "f.txt"), "w") as f:
                f.write(str(i))
            want = i + 2
            self.tail_events(events, lambda e, want=want: e["event"] == "ready" and e["node"] == "w" and
                             len([1 for x in self.read_events(events) if x["event"] == "ready" and
                                  x["node"] == "w"]) >= want, p, timeout=30)
            stamps = [int(l.split()[1]) / 1e9 for l in self.node_lines(logs, "w") if l.startswith("READY ")]
            if len(stamps) >= want:
                lat.append(stamps[want - 1] - t0 - debounce)
        p.send_signal(signal.SIGINT)
        self.wait_exit(p)
        if len(lat) != reps:
            self.failures.append(f"watch: {reps - len(lat)} of {reps} changes did not restart the node")
        self.row("7. watch: file change → new process running, less the 50 ms debounce (median / max)",
                 f"{med(lat) * 1000:.1f} / {max(lat) * 1000:.1f} ms" if lat else "n/a", "—", None, "< 20 ms",
                 None if not lat else med(lat) < 0.020)
        self.raw["watch"] = {"latency_less_debounce": lat}

    # ------------------------------------------------------------------ 8. reload
    def reload_spec(self, n, round_):
        """N sleepers; s0's environment says ROUND_ (the one node a reload changes)."""
        lines = ["grace: 5s", "children:"]
        for i in range(n):
            env = f', env: {{ROUND: "{round_}"}}' if i == 0 else ""
            lines.append(f'  - {{name: s{i}, daemon: true, cmd: [sleep, "1000"]{env}}}')
        return self.write_spec("reload500.yaml", "\n".join(lines) + "\n")

    def bench_reload(self):
        """`treerun reload` of a run of 500 sleepers after an edit of one node: from the
        CLI's start until it exits (the run answers once the changed node is running
        again: spec read, checked and diffed, the old process stopped, the new one
        spawned). Every other node keeps its pid (its spawn events are counted)."""
        n = 500
        reps = 5 if self.quick else 15
        spec = self.reload_spec(n, 0)
        p, env, events = self.named_run(spec, "reload", n)
        cpu0 = self.cpu_ticks(p.pid)
        self.log(f"[8] reload of 500 nodes changing one, {reps} reloads")
        times = []
        for i in range(reps):
            self.reload_spec(n, i + 1)
            t0 = now()
            r = subprocess.run([self.treerun, "reload", "-r", "reload"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
            times.append(now() - t0)
            if r.returncode != 0 or r.stdout.strip() != "restarted: s0":
                self.failures.append(f"reload: exit {r.returncode}, said {r.stdout.strip()!r} {r.stderr.strip()!r}")
                break
        cpu = (self.cpu_ticks(p.pid) - cpu0) / os.sysconf("SC_CLK_TCK") / max(1, len(times))
        p.send_signal(signal.SIGINT)
        self.wait_exit(p)
        spawns = collections.Counter(e["node"] for e in self.read_events(events) if e["event"] == "spawn")
        touched = sorted(k for k, v in spawns.items() if v != 1 and k != "s0")
        if touched or spawns["s0"] != len(times) + 1 or len(spawns) != n:
            self.failures.append(f"reload: other nodes respawned {touched[:5]}, s0 spawned {spawns['s0']} times "
                                 f"for {len(times)} reloads")
        self.row("9. `treerun reload` of 500 nodes, one changed: the CLI until the node is running again "
                 "(median / max)", f"{med(times) * 1000:.1f} / {max(times) * 1000:.1f} ms", "—", None, "< 50 ms",
                 med(times) < 0.050)
        self.row("8. the run's CPU time per such reload (spec read and checked, diffed, merged, the restart)",
                 f"{cpu * 1000:.1f} ms", "—", None, "—", None)
        self.raw["reload"] = {"cli": times, "run_cpu_per_reload": cpu}

    # ------------------------------------------------------------------ 10. plans at scale
    def timed_cpu(self, argv):
        """Runs ARGV to its end: (wall seconds, CPU seconds user + system, exit code)."""
        t0 = now()
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        return now() - t0, usage.ru_utime + usage.ru_stime, p.returncode

    def bench_plans(self):
        """`treerun check` and `treerun tree` of flat specs of 1k, 10k and 100k daemons
        (100k: the most a spec may hold). Goal (issue 20): 100k under 2 s; the CPU time
        is given too, which the load of a shared machine does not inflate."""
        reps = 3 if self.quick else 5
        for n in (1000, 10000, 100000):
            spec = self.sleepers_spec(n, f"plans{n}.yaml")
            for cmd in ("check", "tree"):
                self.log(f"[10] {cmd} of {n} nodes, {reps} runs")
                runs = [self.timed_cpu([self.treerun, cmd, spec]) for _ in range(reps)]
                if any(code != 0 for _, _, code in runs):
                    self.failures.append(f"plans: `{cmd}` of {n} nodes exited {[c for _, _, c in runs]}")
                wall, cpu = med([w for w, _, _ in runs]), med([c for _, c, _ in runs])
                goal = n == 100000
                self.row(f"11. `treerun {cmd}` of {n} nodes (wall / CPU)", f"{fmt_s(wall)} / {fmt_s(cpu)}", "—",
                         None, "< 2 s" if goal else "—", wall < 2.0 if goal else None)
                self.raw[f"plans_{cmd}_{n}"] = {"wall": [w for w, _, _ in runs], "cpu": [c for _, c, _ in runs]}

    # ------------------------------------------------------------------ 11. scale
    @staticmethod
    def tree_cpu_ns(pid):
        """CPU time (ns, /proc/PID/task/*/schedstat: exact, not ticks) of PID and of all its
        living descendants: treerun, its guardian and spawner and every node; or the bare
        loop and its children. A child's exec (the copy of the fd table, the closing of
        the close-on-exec ones) is counted in the child."""
        total, stack = 0, [pid]
        while stack:
            p = stack.pop()
            try:
                for task in os.listdir(f"/proc/{p}/task"):
                    with open(f"/proc/{p}/task/{task}/schedstat") as f:
                        total += int(f.read().split()[0])
            except (FileNotFoundError, ProcessLookupError):
                pass
            stack += Bench.children_of(p)
        return total

    @staticmethod
    def fd_count(pid):
        try:
            return len(os.listdir(f"/proc/{pid}/fd"))
        except FileNotFoundError:
            return None

    def scale_baseline(self, n, hold_fds=False):
        env = dict(os.environ, BASELINE_HOLD_FDS="1" if hold_fds else "0")  # one fd per child, as treerun
        t0 = now()
        p = subprocess.Popen([os.path.join(BUILD, "baseline_spawn"), str(n)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=env)
        line = p.stdout.readline()
        res = {"start": now() - t0, "cpu": self.tree_cpu_ns(p.pid) / 1e9, "fds": self.fd_count(p.pid)}
        res.update(self.status_fields(p.pid, {"VmHWM"}))
        if not line.startswith("started"):
            p.wait()
            self.failures.append(f"scale: the bare loop did not start {n} (hold fds: {hold_fds})")
            return dict(res, error="did not start", stop=None)
        t2 = now()
        p.stdin.write("stop\n")
        p.stdin.flush()
        p.stdout.readline()
        p.wait()
        res["stop"] = now() - t2
        return res

    def scale_treerun(self, spec, n, tag, env=None):
        events, logs = self.path(f"{tag}.events"), self.path(f"{tag}.log")
        err = self.path(f"{tag}.stderr")
        t0 = now()
        p = subprocess.Popen([self.treerun, "up", spec, "--events", events, "--logs", logs, "--quiet", "--no-color"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(err, "wb"),
                             env=dict(os.environ, **(env or {})))
        count = {"spawn": 0}

        def done(ev):
            count["spawn"] += ev["event"] == "spawn"
            return count["spawn"] >= n

        t_ev, _ = self.tail_events(events, done, p, timeout=600, poll=0.005)
        res = {"start": (t_ev - t0) if t_ev else None}
        if t_ev is None:
            p.wait()
            res["error"] = open(err).read().strip()[-400:] or f"exit {p.returncode} after {count['spawn']} spawns"
            res["rc"] = p.returncode
            return res
        res["cpu"] = self.tree_cpu_ns(p.pid) / 1e9
        res["fds"] = self.fd_count(p.pid)
        res.update(self.status_fields(p.pid, {"VmHWM", "VmRSS", "RssAnon", "RssFile"}))
        t2 = now()
        p.send_signal(signal.SIGINT)
        res["rc"] = self.wait_exit(p, 600)
        res["stop"] = now() - t2
        return res

    def null_sleepers_spec(self, n, name):
        lines = ["grace: 5s", "children:"]
        for i in range(n):
            lines.append(f'  - {{name: s{i}, daemon: true, cmd: [sleep, "1000"], stdout: null, stderr: null}}')
        return self.write_spec(name, "\n".join(lines) + "\n")

    def bench_scale(self):
        sizes = [1000, 5000] if self.quick else [1000, 5000, 10000, 20000]
        reps = 3
        hard = __import__("resource").getrlimit(__import__("resource").RLIMIT_NOFILE)[1]
        raw = self.raw["scale"] = {"rlimit_nofile_hard": hard, "pid_max": open("/proc/sys/kernel/pid_max").read().strip()}
        per_node = {}
        for n in sizes:
            spec = self.sleepers_spec(n, f"scale{n}.yaml")
            runs = raw[n] = {"base": [], "base_fds": [], "treerun": [], "in_process": []}
            for i in range(reps):
                self.log(f"[11] scale: {n} sleepers, rep {i + 1}/{reps}")
                runs["base"].append(self.scale_baseline(n))
                runs["treerun"].append(self.scale_treerun(spec, n, f"scale{n}-{i}"))
                if n <= 10000:  # the old path: fork from treerun itself (TREERUN_NO_SPAWNER=1)
                    runs["in_process"].append(self.scale_treerun(spec, n, f"scale{n}-ip{i}", {"TREERUN_NO_SPAWNER": "1"}))
                    runs["base_fds"].append(self.scale_baseline(n, hold_fds=True))
                if runs["treerun"][-1].get("error"):
                    break  # refused, or stopped by a limit: once says it
            self.scale_rows(n, runs, per_node)
            if n == 20000 and runs["treerun"][-1].get("error"):
                spec = self.null_sleepers_spec(n, f"scale{n}null.yaml")
                runs["treerun_null"] = [self.scale_treerun(spec, n, f"scale{n}null-{i}") for i in range(reps)]
                self.scale_rows(n, {"base": runs["base"], "treerun": runs["treerun_null"]}, {},
                                " (outputs `null`: no pipe per node)")
        if 1000 in per_node and 10000 in per_node:
            r = per_node[10000] / per_node[1000]
            self.row("12. scale: treerun CPU per node at 10 000 / at 1 000 (flat in n)", f"{per_node[10000] * 1e3:.3f} ms",
                     f"{per_node[1000] * 1e3:.3f} ms (n = 1 000)", r, "≤ 1.3×", r <= 1.3)

    def scale_rows(self, n, runs, per_node, what=""):
        T, B = runs["treerun"], [b for b in runs["base"] if not b.get("error")]
        label = f"12. scale {n}{what}"
        if T and T[-1].get("error"):
            self.row(f"{label}: start", "refused: " + T[-1]["error"].replace("|", "/"), fmt_s(med([b["start"] for b in B])),
                     None, "fails before the first spawn, with the numbers", "Too many open files" in T[-1]["error"])
            return
        cpu_t = med([t["cpu"] / n for t in T])
        cpu_b = med([b["cpu"] / n for b in B])
        per_node[n] = cpu_t
        r = cpu_t / cpu_b
        self.row(f"{label}: CPU per node at start (whole tree; vs the bare loop holding no fds)",
                 f"{cpu_t * 1e3:.3f} ms", f"{cpu_b * 1e3:.3f} ms", r, "≤ 1.2×", r <= 1.2)
        if runs.get("in_process"):
            ip = med([t["cpu"] / n for t in runs["in_process"] if "cpu" in t])
            bf = med([b["cpu"] / n for b in runs["base_fds"] if not b.get("error")])
            self.row(f"{label}: (reference: CPU per node, spawning from treerun itself / the bare loop holding 1 fd per child)",
                     f"{ip * 1e3:.3f} ms" if ip else "n/a", f"{bf * 1e3:.3f} ms" if bf else "n/a",
                     (ip / cpu_b) if ip else None, "—", None)
        st, sb = med([t["start"] for t in T]), med([b["start"] for b in B])
        self.row(f"{label}: start (launch → {n} spawn events; the loop: all exec'd)", fmt_s(st), fmt_s(sb), st / sb, "—", None)
        so, sob = med([t["stop"] for t in T]), med([b["stop"] for b in B])
        self.row(f"{label}: SIGINT → exit (the loop: SIGTERM each, reap all)", fmt_s(so), fmt_s(sob), so / sob, "—", None)
        hwm = med([t.get("VmHWM") for t in T])
        per = (hwm - 4096) / n if hwm else None
        self.row(f"{label}: treerun VmHWM (its peak: running, or the spec's load); per node past the first 4 MiB", f"{hwm / 1024:.1f} MiB; {per:.2f} KiB" if hwm else "n/a",
                 f"{med([b.get('VmHWM') for b in B]) / 1024:.1f} MiB", None, "≤ 8 KiB per node", None if per is None else per <= 8)
        anon, file = med([t.get("RssAnon") for t in T]), med([t.get("RssFile") for t in T])
        if anon and file:  # VmHWM may be the spec's load; this is what the running tree holds
            self.row(f"{label}: treerun RssAnon per node (its own memory, running); RssFile (shared libraries)",
                     f"{anon / n:.2f} KiB; {file / 1024:.1f} MiB", "—", None, "—", None)
        self.row(f"{label}: treerun's open fds", str(med([t.get("fds") for t in T])), str(med([b.get("fds") for b in B])),
                 None, "—", None)
        for t in T:
            if t["rc"] not in (-signal.SIGINT, 130):
                self.failures.append(f"scale {n}: treerun exit status {t['rc']} after SIGINT (expected death by SIGINT)")

    # ------------------------------------------------------------------ main
    def run(self):
        self.raw = {}
        steps = [("startstop", self.bench_startstop), ("startstop_big", self.bench_startstop_big),
                 ("grace", self.bench_grace), ("idle", self.bench_idle), ("idle_control", self.bench_idle_control),
                 ("stream_1to1", self.bench_stream_1to1), ("stream_fanout", self.bench_stream_fanout),
                 ("logstream", self.bench_logstream), ("ready_log", lambda: self.bench_ready("log")),
                 ("ready_notify", lambda: self.bench_ready("notify")), ("ready_floor", self.bench_ready_baseline),
                 ("ps", self.bench_ps), ("followers", self.bench_followers), ("watch", self.bench_watch),
                 ("reload", self.bench_reload), ("plans", self.bench_plans), ("scale", self.bench_scale),
                 ("slurm_start", lambda: bench_slurm.slurm_start(self)),
                 ("slurm_stop", lambda: bench_slurm.slurm_stop(self)),
                 ("slurm_stream", lambda: bench_slurm.slurm_stream(self))]
        only = set(self.args.only.split(",")) if self.args.only else None
        t0 = now()
        for name, fn in steps:
            if only and name not in only:
                continue
            try:
                fn()
            except Exception as e:  # a broken benchmark must not hide the others
                import traceback
                traceback.print_exc()
                self.failures.append(f"{name}: benchmark crashed: {e!r}")
                self.row(name, "CRASHED", "—", None, "—", False)
        self.elapsed = now() - t0

    def report(self):
        ver = subprocess.run([self.treerun, "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()
        load = open("/proc/loadavg").read().split()[:3]
        out = [f"# treerun benchmarks ({'quick' if self.quick else 'full'} run)", "",
               f"- date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; {ver} ({self.treerun})",
               f"- machine: {os.cpu_count()} CPU(s), load average before the run {' '.join(self.load0)}, "
               f"after {' '.join(load)}; run took {self.elapsed:.0f} s",
               "- ratios are treerun / baseline for times (lower is better) and treerun / baseline "
               "for throughputs (higher is better); every baseline was measured in this run, interleaved "
               "with the treerun runs; values are medians", "",
               "| benchmark | treerun | baseline | ratio | goal | verdict |", "|---|---|---|---|---|---|"]
        for b, t, base, r, g, v in self.rows:
            rs = "—" if r is None else f"{r:.2f}×"
            out.append(f"| {b} | {t} | {base} | {rs} | {g} | {v} |")
        out.append("")
        if self.failures:
            out.append("## Failures and correctness problems")
            out.append("")
            out += [f"- {f}" for f in self.failures]
            out.append("")
        if self.notes:
            out.append("## Notes")
            out.append("")
            out += [f"- {n}" for n in self.notes]
            out.append("")
        text = "\n".join(out)
        print(text)
        with open(self.args.output, "w") as f:
            f.write(text)
        with open(os.path.splitext(self.args.output)[0] + ".json", "w") as f:
            json.dump(self.raw, f, indent=1, default=str)


SLEEP = None


def main():
    global SLEEP
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--treerun", required=True)
    ap.add_argument("--output", default=os.path.join(HERE, "results.md"))
    ap.add_argument("--only", help="comma-separated subset: startstop,startstop_big,grace,idle,idle_control,"
                                   "stream_1to1,stream_fanout,logstream,ready_log,ready_notify,ready_floor,ps,"
                                   "followers,watch,reload,plans,scale,slurm_start,slurm_stop,slurm_stream")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (specs, events, logs)")
    args = ap.parse_args()
    SLEEP = os.path.realpath(shutil.which("sleep"))
    b = Bench(args)
    b.load0 = open("/proc/loadavg").read().split()[:3]
    try:
        b.run()
        b.report()
    finally:
        if args.keep:
            print(f"(kept {b.tmp})", file=sys.stderr)
        else:
            shutil.rmtree(b.tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
