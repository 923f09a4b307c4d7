"""Chaos: random trees under random interruptions keep the invariants of §2, §4 and §5.

The generator and the checks live in tests/chaos/chaos.py (also runnable standalone:
`python3 tests/chaos/chaos.py --runs 5000 --seed 1 -j 2`). Environment:
  CHAOS_RUNS (default 200), CHAOS_SEED_BASE (default 1), CHAOS_JOBS (default 2),
  CHAOS_AVOID (comma-separated shapes of known bugs to leave out; see chaos.py).
A failing run prints its seed, spec and events; `CHAOS_SEED=N python3 tests/chaos/chaos.py`
reproduces it. The run stops after 3 bad seeds, so a systematic bug fails fast.
"""

import io
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "chaos"))

import chaos  # noqa: E402
import harness  # noqa: E402


def test_random_trees_under_random_interruptions_keep_the_invariants():
    helper_modes = subprocess.run([harness.TRHELPER_BIN, "--help"], capture_output=True,
                                  text=True).stdout
    assert "fds-to" in helper_modes, "trhelper lacks the fds-to mode: rebuild it"
    runs = int(os.environ.get("CHAOS_RUNS", 200))
    base = int(os.environ.get("CHAOS_SEED_BASE", 1))
    jobs = int(os.environ.get("CHAOS_JOBS", 2))
    out = io.StringIO()
    t0 = time.monotonic()
    results = chaos.run_many(range(base, base + runs), jobs=jobs, out=out, max_failures=3)
    report = chaos.summary(results, time.monotonic() - t0)
    bad = [r for r in results if not r.ok]
    assert not bad, report + "\n" + "\n".join(chaos.describe(r) for r in bad)
