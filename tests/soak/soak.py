#!/usr/bin/env python3
"""Soak test (issue 9): a tree that runs for a long time under load, while treerun's
RSS and open fd count are sampled; both must stay flat.

The tree: a daemon flooding the log stream, a worker that fails and is restarted about
every second, a producer fanned out to two consumers through the relay (one drops), one
spliced to two consumers (one with 4 KiB stages), and a restarting producer whose
stdout is spliced to two consumers and logged. Not part of CI's default run:

    python3 tests/soak/soak.py                 # 10 minutes
    python3 tests/soak/soak.py --seconds 60    # a quick look
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TREERUN = os.environ.get("TREERUN_BIN", str(ROOT / "build" / "treerun"))

SPEC = """\
name: soak
grace: 1s
children:
  - name: flood
    daemon: true
    cmd: "while :; do seq 1 2000; done"
  - name: flaky
    daemon: true
    cmd: "sleep 1; exit 1"
    on_failure: restart
    restart: {max: 100000, within: 1s, backoff: 10ms}
  - name: produce
    daemon: true
    cmd: "yes 'a line of data for the soak test'"
  - name: count-a
    daemon: true
    cmd: "wc -c"
    stdin: produce
  - name: count-b
    daemon: true
    cmd: "wc -c"
    stdin: {from: produce, lag: drop, buffer: 64KiB}
  - name: produce2
    daemon: true
    cmd: "yes 'spliced to two consumers'"
  - {name: count-c, daemon: true, cmd: "wc -c", stdin: produce2}
  - {name: count-d, daemon: true, cmd: "wc -c", stdin: {from: produce2, buffer: 4KiB}}
  - name: ticker
    daemon: true
    stdout: log
    cmd: "seq 1 3000; printf no-newline; sleep 0.3; exit 1"
    on_failure: restart
    restart: {max: 100000, within: 1s, backoff: 10ms}
  - {name: count-e, daemon: true, cmd: "wc -l", stdin: ticker}
  - {name: count-f, daemon: true, cmd: "wc -l", stdin: ticker}
"""


def sample(pid: int) -> tuple[int, int]:
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return rss, fds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--every", type=float, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="treerun-soak-") as d:
        spec = Path(d) / "soak.yaml"
        spec.write_text(SPEC)
        events = Path(d) / "events.jsonl"
        p = subprocess.Popen([TREERUN, "up", str(spec), "--logs", "/dev/null", "--quiet",
                              "--events", str(events)])
        samples = []
        start = time.monotonic()
        try:
            time.sleep(min(5.0, args.seconds / 4))  # past start-up
            while time.monotonic() - start < args.seconds:
                rss, fds = sample(p.pid)
                restarts = sum(1 for line in events.open() if '"restart"' in line)
                samples.append((time.monotonic() - start, rss, fds, restarts))
                print(f"t={samples[-1][0]:6.0f}s rss={rss} KiB fds={fds} restarts={restarts}", flush=True)
                time.sleep(args.every)
        finally:
            p.send_signal(signal.SIGINT)
            code = p.wait(timeout=30)
    rss = [s[1] for s in samples]
    fds = [s[2] for s in samples]
    print(f"RSS {min(rss)}..{max(rss)} KiB, fds {min(fds)}..{max(fds)}, "
          f"{samples[-1][3]} restarts, treerun exited {code}")
    ok = max(rss) <= min(rss) * 1.25 + 1024 and max(fds) - min(fds) <= 2 and code == -signal.SIGINT
    print("soak: " + ("ok" if ok else "FAILED: RSS or fd count grew"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
