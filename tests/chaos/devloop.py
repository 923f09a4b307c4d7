"""Chaos for the failure rules of issue 18 and the dev loop of issue 17: random specs with
`on_failure: continue`, `after: [{X: exited}]` and `health` checks that start failing at
a random moment (family `rules`); watched nodes whose folders the harness touches at
random moments (family `watch`); specs the harness edits under a running tree,
followed by `treerun reload` (family `reload`, whose edits include scaling a replicated
daemon); and both at once (family `mixed`). Daemons of the last three may be replicated.

Each run is determined by its seed and family. The oracle is exact where treerun(1) is:
  - the exit code is the first deciding failure's, in the order of treerun's own log
    lines (SEMANTICS › Failure: "With continue it is recorded and reported (... a line in
    the log) ... and it decides the exit code at the end as a failure does, unless an
    earlier failure did"); a failed health check is code 1 (EXIT STATUS); a run ended by
    a stop signal dies by it, one ended by `down` exits 0 when nothing decided;
  - a plain `after` on a failed worker is skipped ("not started") and never spawns; an
    `{X: exited}` dependent of a worker that exited runs (`after`);
  - a health failure under `restart` gives `restart` events with `cause: failure` and a
    reason that names the health checks, at most `restart.max` of them (`health`);
  - a touched watched node restarts (at least once, at most once per touch: changes
    within `debounce` are one, Watching), its dependents with it (cascade); a node that
    neither changed nor depends on a changed one keeps its pid (one spawn);
  - a reload answers with what it restarted, started and stopped; a second one without an
    edit does nothing (Reload); untouched nodes keep their pids; a new `replicas` count
    starts or stops the copies past the smaller count and restarts the kept ones (their
    TREERUN_REPLICAS changed) with their dependents (Replicas);
  - in `mixed`, a watch restart names a touched folder of the node or of one it depends
    on, and a node neither touched, nor depending on a touched one, nor changed by a
    reload keeps its pids;
  - and always: one `done`, nothing outlives the run, every process saw only fds 0-2,
    and no process got more than one stop signal.

Run by chaos.py: `python3 tests/chaos/chaos.py --family rules --runs 200 --seed 1`.
"""

from __future__ import annotations

import collections
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import harness

FAMILIES = ("rules", "watch", "reload", "mixed")
HANG_SECONDS = 10.0
SIGNUM = {s.name: s.value for s in signal.Signals if s.name.startswith("SIG") and not s.name.startswith("SIG_")}


@dataclass
class DNode:
    name: str
    kind: str  # worker, daemon, group
    args: list[str] = field(default_factory=list)  # trhelper modes
    policy: str = "cancel"
    restart_max: int = 1
    after: list[str] = field(default_factory=list)  # plain after
    exited: list[str] = field(default_factory=list)  # after: [{X: exited}]
    health: dict | None = None  # kind, fail_at (None: never), interval, failures
    watch: bool = False
    replicas: int = 0  # 0: not replicated
    env: dict = field(default_factory=dict)
    children: list["DNode"] = field(default_factory=list)

    def walk(self, prefix: str = ""):
        path = f"{prefix}{self.name}"
        yield path, self
        for c in self.children:
            yield from c.walk(path + "/")


@dataclass
class Scenario:
    family: str
    nodes: list[DNode]
    actions: list[tuple] = field(default_factory=list)  # (t, verb, arg)
    final: tuple | None = None  # (t, "sigint"|"sigterm"|"down")

    def __str__(self) -> str:
        acts = ", ".join(f"{v}{' ' + str(a) if a else ''}@{t:.2f}" for t, v, a in self.actions)
        return f"{self.family} actions=[{acts}] final={self.final}"


def u(rng, lo, hi) -> float:
    return round(rng.uniform(lo, hi), 3)


# ---------------------------------------------------------------------------------------
# Generators


def gen_rules(rng: random.Random) -> Scenario:
    nodes: list[DNode] = []
    count = [0]

    def nm(p):
        count[0] += 1
        return f"{p}{count[0]}"

    def worker(policy=None, fail_share=0.5):
        code = "0" if rng.random() >= fail_share else str(rng.randint(1, 5))
        return DNode(nm("w"), "worker", ["sleep", f"{rng.uniform(0, 0.4):.3f}", "exit", code],
                     policy or rng.choices(["cancel", "continue", "ignore"], [3, 5, 1])[0])

    for _ in range(rng.randint(2, 6)):
        x = rng.random()
        workers = [n for n in nodes if n.kind == "worker"]
        if x < 0.3 or not workers and x < 0.55:
            nodes.append(worker())
        elif x < 0.45:  # a report step: runs once the worker has exited, any status
            r = worker(rng.choice(["cancel", "continue"]), 0.2)
            r.exited = [rng.choice(workers).name]
            nodes.append(r)
        elif x < 0.55:
            targets = [n for n in workers if n.policy != "ignore"]
            if not targets:
                continue
            d = worker(rng.choice(["cancel", "continue"]), 0.2)
            d.after = [rng.choice(targets).name]
            nodes.append(d)
        elif x < 0.82:
            d = DNode(nm("h"), "daemon", ["sleep", "forever"],
                      rng.choices(["restart", "cancel", "ignore", "continue"], [3, 2, 1, 3])[0],
                      rng.randint(1, 2))
            d.health = {"kind": rng.choice(["exec", "file", "tcp"]),
                        "fail_at": None if rng.random() < 0.3 else u(rng, 0.05, 0.8),
                        "interval": rng.randint(40, 150), "failures": rng.randint(1, 3)}
            if d.health["kind"] == "exec" and d.health["fail_at"] is not None:
                d.args = ["sleep", f"{d.health['fail_at']:.3f}", "touch", f"bad-{d.name}",
                          "sleep", "forever"]
            nodes.append(d)
        else:
            g = DNode(nm("g"), "group", policy=rng.choice(["cancel", "continue"]))
            g.children = [worker(rng.choice(["cancel", "continue"])) for _ in range(rng.randint(1, 3))]
            nodes.append(g)
    # A last worker keeps the run going long enough for the health checks to matter.
    nodes.append(DNode(nm("end"), "worker", ["sleep", f"{rng.uniform(0.3, 1.5):.3f}", "exit", "0"]))
    sc = Scenario("rules", nodes)
    if rng.random() < 0.2:
        sc.final = (u(rng, 0.05, 1.2), rng.choice(["sigint", "sigterm"]))
    return sc


def gen_stack(rng: random.Random, family: str, extra: random.Random) -> Scenario:
    """Daemons (some after earlier ones, some replicated) and a few workers; for `watch`
    some watched. EXTRA draws what came after the first generator (replicas, scaling, the
    mixed family's actions), so that the seeds of the first still draw the same trees."""
    nodes: list[DNode] = []
    watching = family in ("watch", "mixed")
    for i in range(rng.randint(2, 6)):
        earlier = [n.name for n in nodes if n.kind == "daemon"]
        if watching and rng.random() < 0.25:
            n = DNode(f"w{i}", "worker", ["sleep", f"{rng.uniform(0, 0.2):.3f}", "exit", "0"])
        else:
            n = DNode(f"d{i}", "daemon", ["sleep", "forever"])
        if earlier and rng.random() < 0.4:
            n.after = [rng.choice(earlier)]
        if n.kind == "daemon" and extra.random() < 0.3:
            n.replicas = extra.randint(1, 3)
        nodes.append(n)
    sc = Scenario(family, nodes)
    t = 0.3
    if watching:
        watched = rng.sample(nodes, rng.randint(1, min(3, len(nodes))))
        for n in watched:
            n.watch = True
        for k in range(rng.randint(1, 4)):
            t += u(rng, 0.0, 0.5)
            sc.actions.append((round(t, 3), "touch", f"{rng.choice(watched).name}/f{k}"))
    if family in ("reload", "mixed"):
        t = 0.3 if family == "reload" else u(extra, 0.3, max(0.35, t))
        draw = rng if family == "reload" else extra
        # A daemon that is a worker's target is left alone: a worker does not run again.
        for k in range(draw.randint(1, 3)):
            t += u(draw, 0.05, 0.5)
            verb = draw.choices(["env", "cmd", "add", "remove", "same"], [4, 2, 2, 2, 1])[0]
            if verb in ("env", "cmd") and extra.random() < 0.3:
                verb = "scale"
            sc.actions.append((round(t, 3), verb, k))
    t = max(a[0] for a in sc.actions)
    sc.final = (round(t + u(rng, 0.1, 0.6), 3), rng.choice(["sigint", "down"]))
    return sc


def features(sc: Scenario) -> set[str]:
    """What a scenario exercises (test_chaos.py picks its fixed seeds by these)."""
    out = set()
    for _, n in (x for top in sc.nodes for x in top.walk()):
        if n.policy == "continue":
            out.add("group-continue" if n.kind == "group" else "continue")
        if n.exited:
            out.add("exited")
        if n.after and sc.family == "rules":
            out.add("after")
        if n.health and n.health["fail_at"] is not None:
            out.add(f"health:{n.health['kind']}")
            out.add(f"health-{n.policy}")
        if n.replicas:
            out.add("replicas")
        if n.watch and any(a[1] == "touch" and a[2].split("/")[0] == n.name for a in sc.actions):
            out.add("watch-worker" if n.kind == "worker" else "watch-daemon")
            if dependents(sc.nodes, n.name):
                out.add("watch-cascade")
    if sc.family in ("reload", "mixed"):
        out |= {f"reload-{a[1]}" for a in sc.actions if a[1] != "touch"}
    if sc.final:
        out.add(f"final-{sc.final[1]}")
    return out


def generate(seed: int, family: str) -> Scenario:
    rng = random.Random(seed * 3571 + FAMILIES.index(family) + 18)
    if family == "rules":
        return gen_rules(rng)
    return gen_stack(rng, family, random.Random(f"more-{family}-{seed}"))


# ---------------------------------------------------------------------------------------
# YAML


def render(nodes: list[DNode], run_dir: Path, tag: str, extra_env: dict | None = None) -> str:
    lines = ["name: NAME", "grace: 1s", f"env: {{TRTEST_TAG: {tag}}}", "children:"]

    def one(n: DNode, ind: str) -> None:
        lines.append(f"{ind}- name: {n.name}")
        sub = ind + "  "
        if n.kind != "group":
            cmd = [harness.TRHELPER_BIN, "fds-to", str(run_dir / "fds"),
                   "count-signals", str(run_dir / "sig"), *n.args]
            lines.append(f"{sub}cmd: [{', '.join(_q(c) for c in cmd)}]")
        if n.kind == "daemon":
            lines.append(f"{sub}daemon: true")
        if n.replicas:
            lines.append(f"{sub}replicas: {n.replicas}")
        after = [_q(a) for a in n.after] + [f"{{{a}: exited}}" for a in n.exited]
        if after:
            lines.append(f"{sub}after: [{', '.join(after)}]")
        if n.policy != "cancel":
            lines.append(f"{sub}on_failure: {n.policy}")
        if n.policy == "restart":
            lines.append(f"{sub}restart: {{max: {n.restart_max}, within: 60s, backoff: 20ms}}")
        if n.health:
            h = n.health
            probe = {"exec": f'exec: {_q("test ! -e " + str(run_dir / ("bad-" + n.name)))}',
                     "file": f"file: {_q(str(run_dir / ('ok-' + n.name)))}",
                     "tcp": f"tcp: 127.0.0.1:{h.get('port', 1)}"}[h["kind"]]
            # A generous timeout per check: a loaded machine does not fail a healthy node.
            lines.append(f"{sub}health: {{{probe}, interval: {h['interval']}ms, timeout: 2s, "
                         f"failures: {h['failures']}}}")
        if n.watch:
            lines.append(f"{sub}watch: {{paths: [{_q('w/' + n.name)}], debounce: 50ms}}")
        if n.env:
            lines.append(f"{sub}env: {{{', '.join(f'{k}: {_q(v)}' for k, v in n.env.items())}}}")
        if n.children:
            lines.append(f"{sub}children:")
            for c in n.children:
                one(c, sub + "  ")

    for n in nodes:
        one(n, "  ")
    return "\n".join(lines) + "\n"


def _q(s: str) -> str:
    import json
    return json.dumps(s)


# ---------------------------------------------------------------------------------------
# The harness's side of a health check: a file it removes, a listener it closes


class TcpTarget:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.closed.is_set():
            try:
                self.sock.settimeout(0.05)
                c, _ = self.sock.accept()
                c.close()
            except (socket.timeout, OSError):
                continue

    def close(self):
        self.closed.set()
        self.thread.join(timeout=2)
        self.sock.close()


# ---------------------------------------------------------------------------------------
# One run


@dataclass
class Result:
    seed: int
    family: str
    ok: bool
    violations: list[str]
    spec: str
    events: list[dict]
    scenario: Scenario
    returncode: int | None
    duration: float
    log: str = ""
    notes: str = ""


class HealthTargets:
    """What the harness holds for the health checks of file and tcp kinds: the files it
    removes and the listeners it closes, each at its node's `fail_at`."""

    def __init__(self, sc: Scenario, run_dir: Path):
        self.run_dir, self.tcp, self.due = run_dir, {}, []
        for _, n in (x for top in sc.nodes for x in top.walk()):
            h = n.health
            if n.watch:
                (run_dir / "w" / n.name).mkdir(parents=True)
            if h and h["kind"] == "file":
                (run_dir / f"ok-{n.name}").touch()
            if h and h["kind"] == "tcp":
                self.tcp[n.name] = TcpTarget()
                h["port"] = self.tcp[n.name].port
            if h and h["kind"] in ("file", "tcp") and h["fail_at"] is not None:
                self.due.append((h["fail_at"], n))
        self.due.sort(key=lambda x: x[0])

    def fail_due(self, now: float) -> None:
        while self.due and now >= self.due[0][0]:
            _, n = self.due.pop(0)
            if n.health["kind"] == "file":
                (self.run_dir / f"ok-{n.name}").unlink(missing_ok=True)
            else:
                self.tcp[n.name].close()

    def close(self) -> None:
        for t in self.tcp.values():
            t.close()


@dataclass
class Ctx:
    """One run's names and places."""
    sc: Scenario
    seed: int
    run_dir: Path
    tag: str
    run_name: str
    env: dict

    @property
    def spec_path(self) -> Path:
        return self.run_dir / "spec.yaml"

    @property
    def client_env(self) -> dict:  # clients are the user's, not the run's processes
        return {k: v for k, v in self.env.items() if k != "TRTEST_TAG"}

    def render(self) -> str:
        return render(self.sc.nodes, self.run_dir, self.tag).replace("NAME", self.run_name, 1)


def run_one(seed: int, family: str, keep: bool = False) -> Result:
    sc = generate(seed, family)
    run_dir = Path(tempfile.mkdtemp(prefix=f"chaos-{family}-{seed}-"))
    (run_dir / "tmp").mkdir()
    tag = f"chaos{family}{seed}-{uuid.uuid4().hex[:8]}"
    ctx = Ctx(sc, seed, run_dir, tag, f"c{family}{seed}-{uuid.uuid4().hex[:6]}",
              dict(os.environ, TRTEST_TAG=tag, TMPDIR=str(run_dir / "tmp")))
    targets = HealthTargets(sc, run_dir)
    spec_text = ctx.render()
    ctx.spec_path.write_text(spec_text)
    argv = [harness.TREERUN_BIN, "up", str(ctx.spec_path), "--events", str(run_dir / "events.jsonl"),
            "--logs", str(run_dir / "log")]
    proc = subprocess.Popen(argv, env=ctx.env, cwd=run_dir, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    start = time.monotonic()
    try:
        hang, acts = drive(ctx, proc, start, targets)
    finally:
        targets.close()
    duration = time.monotonic() - start
    stderr = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    events = _events(run_dir)
    log = (run_dir / "log").read_text(errors="replace") if (run_dir / "log").exists() else ""
    v = [f"hang: treerun still running after {HANG_SECONDS}s"] if hang else (
        check_common(sc, events, run_dir, tag)
        + {"rules": check_rules, "watch": check_watch, "reload": check_reload,
                                       "mixed": check_mixed}[family](
            sc, events, log, proc.returncode, acts))
    notes = stderr + "".join(f"\n--- action {a} ---" for a in acts)
    res = Result(seed, family, not v, v, spec_text, events, sc, proc.returncode, duration, log, notes)
    if not keep and not v:
        shutil.rmtree(run_dir, ignore_errors=True)
    else:
        res.notes += f"\n(run dir kept: {run_dir})"
    return res


def drive(ctx: Ctx, proc: subprocess.Popen, start: float, targets: HealthTargets) -> tuple[bool, list[dict]]:
    """Fails the health targets and does the actions on time, until treerun ends; a run
    still going after HANG_SECONDS is a hang (killed)."""
    sc = ctx.sc
    actions = sorted(sc.actions) + ([(sc.final[0], "final", sc.final[1])] if sc.final else [])
    acts: list[dict] = []  # what each action did, for the oracle
    while proc.poll() is None:
        now = time.monotonic() - start
        if now > HANG_SECONDS:
            harness.kill_group(proc.pid)
            proc.wait()
            return True, acts
        targets.fail_due(now)
        if actions and now >= actions[0][0]:
            _, verb, arg = actions.pop(0)
            acts.append(act(ctx, verb, arg, proc, time.monotonic() - start))
            continue
        time.sleep(0.005)
    proc.wait()
    return False, acts


def _events(run_dir: Path) -> list[dict]:
    import json
    out = []
    try:
        for line in (run_dir / "events.jsonl").read_text().splitlines():
            if line.strip():
                out.append(json.loads(line))
    except (FileNotFoundError, ValueError):
        pass
    return out


def client(ctx: Ctx, verb: str) -> tuple[int, str]:
    p = subprocess.run([harness.TREERUN_BIN, verb, "-r", ctx.run_name], env=ctx.client_env,
                       cwd=ctx.run_dir, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=15)
    return p.returncode, p.stdout + p.stderr


def act(ctx: Ctx, verb: str, arg, proc: subprocess.Popen, t: float) -> dict:
    """Does one action of the harness; returns what it did and saw."""
    # What the log held before: an event after these came after the action began, whichever
    # way treerun's clock and ours are apart (an ASan treerun's starts tens of ms later).
    rec = {"verb": verb, "arg": arg, "t": t, "seen": len(_events(ctx.run_dir))}
    if verb == "touch":
        (ctx.run_dir / "w" / arg).write_text(str(t))
        rec["node"] = arg.split("/")[0]
        rec["deps"] = dependents(ctx.sc.nodes, rec["node"])  # as the tree is now (a reload may change it)
    elif verb == "final" and arg == "down":
        rec["rc"], rec["out"] = client(ctx, "down")
    elif verb == "final":
        rec["sent"] = proc.poll() is None
        if rec["sent"]:
            proc.send_signal(signal.Signals[arg.upper()])
    else:
        rec.update(edit(ctx.sc, verb, arg, ctx.seed))
        tmp = ctx.spec_path.with_suffix(".new")
        tmp.write_text(ctx.render())
        os.replace(tmp, ctx.spec_path)  # an editor's save
        rec["rc"], rec["out"] = client(ctx, "reload")
    return rec


def dependents(nodes: list[DNode], name: str) -> set[str]:
    """Nodes that wait for NAME through `after`, transitively (top level only)."""
    out, todo = set(), [name]
    while todo:
        x = todo.pop()
        for n in nodes:
            if x in n.after and n.name not in out:
                out.add(n.name)
                todo.append(n.name)
    return out


def paths_of(n: DNode) -> set[str]:
    """The paths a node has in the run: itself, and its copies when replicated."""
    return {n.name} | {f"{n.name}/{i}" for i in range(n.replicas)}


def edit(sc: Scenario, verb: str, k: int, seed: int) -> dict:
    """Changes the model: a daemon's env or cmd, a replicated daemon's count, a new
    daemon, a daemon removed that nothing waits for, or nothing at all (a save without a
    change)."""
    rng = random.Random(f"edit-{seed}-{k}")  # the seed's own: the same edits every time
    daemons = [n for n in sc.nodes if n.kind == "daemon"]
    # A daemon a worker waits for is left alone: its restart would not run the worker again.
    free = [n for n in daemons if not any(m.kind == "worker" for m in sc.nodes
                                          if m.name in dependents(sc.nodes, n.name))]
    scalable = [n for n in free if n.replicas]
    if verb == "scale" and scalable:
        n = rng.choice(scalable)
        old, n.replicas = n.replicas, rng.choice([c for c in (1, 2, 3) if c != n.replicas])
        return {"changed": n.name, "deps": sorted(dependents(sc.nodes, n.name)),
                "started": {f"{n.name}/{i}" for i in range(old, n.replicas)},
                "stopped": {f"{n.name}/{i}" for i in range(n.replicas, old)}}
    if verb == "scale":
        verb = "env"
    if verb in ("env", "cmd") and free:
        n = rng.choice(free)
        if verb == "env":
            n.env["V"] = f"{k}-{rng.randint(0, 999)}"
        else:
            n.args = ["sleep", "forever"] if n.args[:1] == ["echo"] else ["echo", f"v{k}", "sleep", "forever"]
        return {"changed": n.name, "deps": sorted(dependents(sc.nodes, n.name))}
    if verb == "add" or (verb in ("env", "cmd") and not free):
        name = f"n{k}"
        while any(n.name == name for n in sc.nodes):
            name += "x"
        n = DNode(name, "daemon", ["sleep", "forever"], replicas=rng.choice([0, 0, 2]))
        sc.nodes.append(n)
        return {"added": name, "started": paths_of(n)}
    if verb == "remove":
        # A watched node stays: touches of its folder are the oracle's to count.
        leaves = [n for n in daemons if not dependents(sc.nodes, n.name) and not n.watch]
        if leaves and len(sc.nodes) > 1:
            n = rng.choice(leaves)
            sc.nodes.remove(n)
            return {"removed": n.name, "stopped": paths_of(n)}
    return {"same": True}


# ---------------------------------------------------------------------------------------
# Invariants


def check_common(sc: Scenario, events: list[dict], run_dir: Path, tag: str) -> list[str]:
    v = []
    done = [e for e in events if e.get("event") == "done"]
    if len(done) != 1:
        v.append(f"expected one done event, got {len(done)}")
    left = harness.kill_leftovers(tag)
    if left:
        v.append("processes outlived the run: " + "; ".join(left))
    try:
        for line in (run_dir / "fds").read_text().splitlines():
            if not line.endswith(" fds 0,1,2"):
                v.append(f"leaked fds: {line}")
    except FileNotFoundError:
        pass
    per_pid = collections.Counter()
    for (name, pid), k in harness.signal_counts(run_dir / "sig").items():
        per_pid[pid] += k
        if name != "SIGTERM":
            v.append(f"pid {pid} got {name}, its stop signal is SIGTERM")
    pid_node = {e["pid"]: e["node"] for e in events if e.get("event") == "spawn"}
    for pid, k in per_pid.items():
        if k > 1:
            v.append(f"pid {pid} ({pid_node.get(pid, '?')}) got {k} stop signals")
    for e in events:
        if e.get("event") == "kill":
            v.append(f"SIGKILL for a cooperative node: {e}")
    return v


LOG_LINE = re.compile(r"^(\S+) +\* (.*)$")


def log_lines(log: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in map(LOG_LINE.match, log.splitlines()) if m]


def failure_code(text: str) -> int | None:
    """The code of a failure from its log line (treerun(1), EXIT STATUS)."""
    m = re.match(r"exited: exit (\d+) \(failed\)", text)
    if m:
        return int(m.group(1))
    m = re.match(r"exited: (SIG[A-Z0-9]+) \(failed\)", text)
    if m:
        return 128 + SIGNUM.get(m.group(1), 0)
    if text.startswith(("unhealthy", "not started")):
        return 1
    return None


def deciding_code(lines: list[tuple[str, str]], groups: set[str]) -> tuple[int | None, str]:
    """The deciding code: a stop signal that treerun took, whatever came before it (the
    run then ends because of it, and by it: treerun(1), One ctrl-c, as chaos.py's oracle
    has it for an earlier failure too); else, in the log's order, the first root cancel
    (`treerun * X failed: stopping everything`, X's last failure line before it) or
    failure recorded under `continue` (its node's last failure line), which decides over
    a later failure (SEMANTICS › Failure: it "decides the exit code at the end as a
    failure does, unless an earlier failure did")."""
    for who, text in lines:  # a stop signal that treerun took decides, whatever came first
        m = re.match(r"(SIG[A-Z]+): (already )?stopping gracefully", text)
        if who == "treerun" and m:
            return 128 + SIGNUM[m.group(1)], text
    last_fail: dict[str, tuple[int, str]] = {}
    latest = None  # the latest failure line of any node (a group's failure is its child's)
    recorded = None  # the first failure recorded under `continue`
    for who, text in lines:
        code = failure_code(text)
        if code is not None:
            last_fail[who] = (code, text)
            latest = (code, f"{who}: {text}")
            continue
        m = re.match(r"(\S+) failed: stopping everything", text)
        if who == "treerun" and m:
            if recorded is not None:
                return recorded
            x = m.group(1)
            got = last_fail.get(x) if x not in groups else latest
            return (got[0] if got else None), text
        if "failure recorded; carrying on (on_failure: continue)" in text and recorded is None:
            got = last_fail.get(who) if who not in groups else latest
            recorded = (got[0] if got else None), f"{who}: {text}"
    return recorded or (0, "nothing decided")


def _spawned(events, node) -> list[dict]:
    """NODE's spawns; a replicated node's are its first copy's."""
    return [e for e in events if e.get("event") == "spawn" and e.get("node") in (node, node + "/0")]


def touched_after_start(events, a) -> bool:
    """Whether touch A surely came 50 ms or more after its node's first spawn, on
    treerun's clock: the last event in the log before the touch is a time it had
    reached by then (our clock and treerun's are tens of ms apart under ASan)."""
    before = events[:a["seen"]]
    sp = _spawned(before, a["node"])
    return bool(sp) and before[-1]["t"] >= sp[0]["t"] + 0.05


def own_watch_restarts(events, node) -> list[dict]:
    """NODE's watch restarts for a change in its own watched folder (not a cascade)."""
    return [e for e in events if e.get("event") == "restart" and e.get("node") == node
            and e.get("cause") == "watch" and f"/w/{node}/" in str(e.get("path", ""))]


def spawns_per_process(events, node) -> dict[str, int]:
    """How often NODE's process was spawned, or each copy's when it is replicated."""
    return collections.Counter(e["node"] for e in events if e.get("event") == "spawn"
                               and (e["node"] == node or e["node"].startswith(node + "/")))


def check_exit(events: list[dict], rc: int, want: int | None, why: str, signal_name: str | None,
               sent_taken: bool = False) -> list[str]:
    """done.code and the exit status are WANT; SENT_TAKEN: treerun said it took the signal."""
    done = next((e for e in events if e.get("event") == "done"), None)
    v = []
    if want is None:
        return [f"no code known for the deciding failure ({why})"]
    if done is not None and done.get("code") != want:
        v.append(f"done.code {done.get('code')}, expected {want} ({why})")
    if signal_name and rc == -SIGNUM[signal_name.upper()] and (done is None or not sent_taken):
        return v  # the signal landed as treerun was ending: it may die by it (chaos.py too)
    if signal_name and want == 128 + SIGNUM[signal_name.upper()]:
        if rc != -SIGNUM[signal_name.upper()]:
            v.append(f"exit status {rc}, expected death by {signal_name.upper()} ({why})")
    elif rc != want:
        v.append(f"exit status {rc}, expected {want} ({why})")
    return v


def check_rules(sc: Scenario, events: list[dict], log: str, rc: int, acts: list[dict]) -> list[str]:
    v = []
    lines = log_lines(log)
    groups = {n.name for n in sc.nodes if n.kind == "group"}
    want, why = deciding_code(lines, groups)
    sig = sc.final[1] if sc.final else None
    v += check_exit(events, rc, want, why, sig, "stopping gracefully" in why)
    root_cancel = [e for e in events if e.get("event") == "cancel" and e.get("node") == "/"
                   and e.get("cause") != "done"]
    exits = {}
    for e in events:
        if e.get("event") == "exit":
            exits.setdefault(e["node"], []).append(e)
    for n in sc.nodes:
        for x in n.after:  # a plain `after` on a failed worker: skipped, never spawned
            xe = exits.get(x, [])
            if xe and xe[-1].get("outcome") == "failed" and _spawned(events, n.name):
                v.append(f"{n.name} ran though its `after` {x} failed")
            if xe and xe[-1].get("outcome") == "failed" and (n.name, "not started") not in [
                    (w, t[:11]) for w, t in lines] and not root_cancel:
                v.append(f"{n.name} waits for failed {x} but no 'not started' line")
        for x in n.exited:  # `{X: exited}` runs once X exited, with any status
            xe = exits.get(x, [])
            if not _spawned(events, x) and _spawned(events, n.name):
                v.append(f"{n.name} (after {{{x}: exited}}) ran though {x} never started")
            if xe and xe[-1].get("outcome") in ("ok", "failed") and not root_cancel:
                sp = _spawned(events, n.name)
                if not sp:
                    v.append(f"{n.name} (after {{{x}: exited}}) never ran though {x} exited")
                elif sp[0]["t"] < xe[-1]["t"]:
                    v.append(f"{n.name} spawned before {x} exited")
        if n.health:
            h = n.health
            unhealthy = [t for w, t in lines if w == n.name and t.startswith("unhealthy")]
            restarts = [e for e in events if e.get("event") == "restart" and e.get("node") == n.name]
            if h["fail_at"] is None and unhealthy:
                v.append(f"{n.name}'s health never fails but: {unhealthy[0]}")
            if len(restarts) > n.restart_max:
                v.append(f"{n.name}: {len(restarts)} restarts, max {n.restart_max}")
            for e in restarts:
                if e.get("cause") != "failure" or "health" not in str(e.get("reason", "")):
                    v.append(f"{n.name}: restart event without cause failure and a health reason: {e}")
            if n.policy in ("ignore", "continue") and len(unhealthy) > 1:
                # `health`: under ignore and continue "a new failure is told only after a
                # check has passed", and these checks never pass again once failing.
                v.append(f"{n.name}: told unhealthy {len(unhealthy)} times under {n.policy}")
            if n.policy == "restart" and len(unhealthy) < len(restarts):
                v.append(f"{n.name}: {len(restarts)} restarts for {len(unhealthy)} health failures")
            if n.policy != "restart" and restarts:
                v.append(f"{n.name} restarted under on_failure: {n.policy}")
            # Enough time for the checks: it must have been noticed.
            done = next((e for e in events if e.get("event") == "done"), None)
            sp = _spawned(events, n.name)
            if h["fail_at"] is not None and done is not None and sp:
                due = sp[0]["t"] + h["fail_at"] + h["interval"] / 1000 * (h["failures"] + 2) + 0.5
                stop_t = root_cancel[0]["t"] if root_cancel else done["t"]
                if stop_t > due and not unhealthy:
                    v.append(f"{n.name}: health failing from {h['fail_at']}s, never unhealthy "
                             f"by {stop_t:.3f}s")
    return v


def final_expectation(sc: Scenario, acts: list[dict]) -> tuple[int, str | None]:
    kind = sc.final[1]
    if kind == "down":
        return 0, None
    return 128 + SIGNUM[kind.upper()], kind


def check_stack_end(sc, events, log, rc, acts) -> list[str]:
    v = []
    final = next((a for a in acts if a["verb"] == "final"), None)
    fails = [e for e in events if e.get("event") == "exit" and e.get("outcome") in ("failed", "killed")]
    if fails:
        v.append(f"failures in a tree of cooperative nodes: {fails[0]}")
    if final is None:
        done = next((e for e in events if e.get("event") == "done"), None)
        if sc.family == "watch" or any(n.kind == "daemon" for n in sc.nodes):
            v.append(f"the run ended before the harness's final action ({done})")
        return v
    want, sig = final_expectation(sc, acts)
    v += check_exit(events, rc, want, f"final {sc.final[1]}", sig, "stopping gracefully (" in log)
    if final.get("rc") not in (None, 0):
        v.append(f"`down` exited {final['rc']}: {final.get('out', '').strip()[-200:]}")
    return v


def check_watch(sc, events, log, rc, acts) -> list[str]:
    v = check_stack_end(sc, events, log, rc, acts)
    # Watching: "a change ... to one waiting for its first start, restarts nothing".
    touched = collections.Counter(a["node"] for a in acts if a["verb"] == "touch"
                                  and touched_after_start(events, a))
    touched_any = collections.Counter(a["node"] for a in acts if a["verb"] == "touch")
    moved = set()
    for n in sc.nodes:
        own = own_watch_restarts(events, n.name)
        k = touched.get(n.name, 0)
        if k and not own:
            v.append(f"{n.name}: {k} touch(es) of its watched folder, no watch restart")
        if len(own) > touched_any.get(n.name, 0):
            v.append(f"{n.name}: {len(own)} watch restarts for {touched_any.get(n.name, 0)} touch(es)")
        for path, k in spawns_per_process(events, n.name).items():
            if not n.after and k != 1 + len(own):
                # Nothing else restarts it: one start, and one more per watch restart (a
                # finished worker runs again).
                v.append(f"{path}: {k} spawns for {len(own)} watch restarts")
        if own:
            moved.add(n.name)
            for d in dependents(sc.nodes, n.name):
                moved.add(d)
                sp = _spawned(events, d)
                ran = [e for e in events if e.get("event") == "exit" and e.get("node") == d
                       and e["t"] < own[0]["t"]]
                if len(sp) < 2 and sp and sp[0]["t"] < own[0]["t"] and not ran:
                    v.append(f"{d} depends on {n.name}, which restarted on a change, but ran once")
        for r in own:
            v += cascade_order(sc, events, n, r)
    return v + kept_pids(sc, events, moved, "nothing it watches or waits for changed")


def kept_pids(sc: Scenario, events: list[dict], moved: set[str], why: str) -> list[str]:
    """Each process of a node not in MOVED was spawned once."""
    return [f"{path}: {why}, yet {k} spawns" for n in sc.nodes if n.name not in moved
            for path, k in spawns_per_process(events, n.name).items() if k > 1]


def cascade_order(sc: Scenario, events: list[dict], n: DNode, restart: dict) -> list[str]:
    """Watching: with cascade, the nodes that depend on N are stopped first (they have
    exited before N is stopped) and started again after it."""
    v = []
    stops = [e for e in events if e.get("event") == "stop" and e.get("node") in (n.name, n.name + "/0")
             and e["t"] <= restart["t"]]
    if not stops:
        return v  # it had finished (a worker): nothing to stop
    t_stop = stops[-1]["t"]
    for d in dependents(sc.nodes, n.name):
        if any(m.watch for m in sc.nodes if m.name == d):
            continue  # its own restarts may overlap
        evs = [e for e in events if e.get("node") in (d, d + "/0") and e.get("event") in ("spawn", "exit")]
        before = [e for e in evs if e["t"] < t_stop]
        if before and before[-1]["event"] == "spawn":
            v.append(f"cascade: {d} still running when {n.name} was stopped at {t_stop:.3f}s")
        after_spawn = [e for e in events if e.get("event") == "spawn" and e.get("node") == n.name
                       and e["t"] >= restart["t"]]
        d_again = [e for e in evs if e["event"] == "spawn" and e["t"] >= t_stop]
        if after_spawn and d_again and d_again[0]["t"] < after_spawn[0]["t"]:
            v.append(f"cascade: {d} started again before {n.name}")
    return v


REPLY = re.compile(r"^(started|restarted|stopped): (.*)$", re.M)


def check_reload(sc, events, log, rc, acts) -> list[str]:
    v = check_stack_end(sc, events, log, rc, acts)
    replies, moved = check_replies(events, acts)
    return v + replies + kept_pids(sc, events, moved, "untouched by the reloads") + ran_in_no_spec(sc, events, moved)


def check_replies(events: list[dict], acts: list[dict]) -> tuple[list[str], set[str]]:
    """Each reload answered with what its edit asked for, and the nodes it moved."""
    v, moved = [], set()
    for a in acts:
        if a["verb"] in ("touch", "final"):
            continue
        if a.get("rc") != 0:
            v.append(f"reload ({a}) exited {a.get('rc')}: {a.get('out', '').strip()[-300:]}")
            continue
        said = {k: set(re.split(r"[,\s]+", names.strip())) - {""} for k, names in REPLY.findall(a["out"])}
        for verb in ("started", "stopped"):  # new and gone copies of a scaled node too
            if a.get(verb, set()) != said.get(verb, set()):
                v.append(f"reload ({a['verb']}): {verb} {sorted(said.get(verb, set()))}, expected "
                         f"{sorted(a.get(verb, set()))}: {a['out'].strip()}")
        moved |= {p.split("/")[0] for p in a.get("started", set()) | a.get("stopped", set())}
        if "changed" in a:
            moved |= {a["changed"], *a["deps"]}
            # Restarted, as a watch restart, cause reload (a replicated node: as a group, or
            # each copy when only the copies changed).
            for x in [a["changed"], *a["deps"]]:
                if not any(e.get("event") == "restart" and e.get("node").split("/")[0] == x
                           and e.get("cause") == "reload" for e in events[a["seen"]:]):
                    v.append(f"reload after changing {a['changed']}: no `restart` event (cause reload) of {x}")
            r = {p.split("/")[0] for p in said.get("restarted", set())}
            if a["changed"] not in r or not r <= {a["changed"], *a["deps"]}:
                v.append(f"reload after changing {a['changed']}: restarted {sorted(r)}, "
                         f"expected {a['changed']} (and maybe {a['deps']}): {a['out'].strip()}")
        elif "same" in a and "nothing changed" not in a["out"]:
            v.append(f"reload without an edit: {a['out'].strip()}")
    return v, moved


def ran_in_no_spec(sc: Scenario, events: list[dict], moved: set[str]) -> list[str]:
    final_names = {n.name for n in sc.nodes}
    ran = {e["node"].split("/")[0] for e in events if e.get("event") == "spawn"}
    return [f"{name} ran but is in no spec" for name in sorted(ran - final_names - moved)]


def check_mixed(sc, events, log, rc, acts) -> list[str]:
    """Watches and reloads in one run: the replies as in `reload`; a watch restart only
    for a touched folder of the node or of one it depends on, at most one per touch; a
    touch far from any reload restarts its node; the rest keep their pids."""
    v = check_stack_end(sc, events, log, rc, acts)
    replies, moved = check_replies(events, acts)
    v += replies
    touches = [a for a in acts if a["verb"] == "touch"]
    reload_times = [a["t"] for a in acts if a["verb"] not in ("touch", "final")]
    cascade = collections.defaultdict(set)  # a touched node: what depended on it at a touch
    for a in touches:
        cascade[a["node"]] |= a["deps"]
        moved |= {a["node"], *a["deps"]}
    for e in events:
        if e.get("event") != "restart" or e.get("cause") not in ("watch", "reload"):
            if e.get("event") == "restart":
                v.append(f"a restart that is neither a watch's nor a reload's: {e}")
            continue
        if e["cause"] == "watch":
            m = re.search(r"/w/([^/]+)/", str(e.get("path", "")))
            src = m.group(1) if m else None
            if src is None or (e["node"] != src and e["node"] not in cascade[src]):
                v.append(f"watch restart of {e['node']} for a path it does not watch: {e}")
    for n in sc.nodes:
        own = own_watch_restarts(events, n.name)
        mine = [a for a in touches if a["node"] == n.name]
        if len(own) > len(mine):
            v.append(f"{n.name}: {len(own)} watch restarts for {len(mine)} touch(es)")
        clear = [a for a in mine if touched_after_start(events, a)
                 and all(abs(a["t"] - t) > 1.0 for t in reload_times)]  # both on our clock
        if clear and not own:
            v.append(f"{n.name}: touched at {clear[0]['t']:.3f}s, far from any reload, no watch restart")
    return v + kept_pids(sc, events, moved, "untouched by watches and reloads") + ran_in_no_spec(sc, events, moved)


def describe(r: Result) -> str:
    import json
    return (f"=== {r.family} seed {r.seed}: {'ok' if r.ok else 'VIOLATION'} (status {r.returncode}, "
            f"{r.duration:.2f}s)\nscenario: {r.scenario}\n"
            + "".join(f"  ! {x}\n" for x in r.violations)
            + "--- spec ---\n" + r.spec + "--- events ---\n"
            + "\n".join(json.dumps(e) for e in r.events) + "\n--- log ---\n" + r.log
            + "\n--- notes ---\n" + r.notes
            + f"\nreproduce: CHAOS_SEED={r.seed} python3 tests/chaos/chaos.py --family {r.family}\n")
