"""Chaos: random trees under random interruptions keep the invariants of §2, §4 and §5.

The generator and the checks live in tests/chaos/chaos.py, the faults of issue 15 (outputs
that stall, fail or hang up; repeated and mixed stop signals; signals during the start-up
of large trees) and the control clients of issue 16 (stop, start, restart, signal, down
from another terminal) in tests/chaos/faults.py; the failure rules of issue 18 (continue,
{X: exited}, health) and the watches and reloads of issue 17 in tests/chaos/devloop.py
(`chaos.py --family rules|watch|reload|mixed`). Also runnable standalone:
`python3 tests/chaos/chaos.py --runs 5000 --seed 1 -j 2`. Environment:
  CHAOS_RUNS (default 150), CHAOS_SEED_BASE (default 1), CHAOS_JOBS (default 2),
  CHAOS_AVOID (comma-separated shapes of known bugs to leave out; see chaos.py).
A failing run prints its seed, spec and events; `CHAOS_SEED=N python3 tests/chaos/chaos.py`
reproduces it. The run stops after 3 bad seeds, so a systematic bug fails fast.
"""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "chaos"))

import chaos  # noqa: E402
import harness  # noqa: E402

# Known treerun bugs that chaos found. Each has a strict xfail test below that turns red
# once it is fixed; those that CHAOS_AVOID can leave out are left out here until then
# (drop them from this set with their test's marker).
KNOWN_BUGS: set[str] = set()  # continue-group-dependent (seed 5244) is fixed
chaos.AVOID |= KNOWN_BUGS

# One seed per fault of issue 15, each picked because its fault met a running treerun
# (a stall that filled the pipe, a hang-up, drops, two or more signals before `done`, a
# signal during the start-up) in each of several tries, so the suite covers every kind
# whatever the random seeds draw.
FAULT_SEEDS = {
    "stdout_stall": 45, "stdout_stall_forever": 37, "stdout_hangup": 11, "stdout_full": 75,
    "pty_eio": 139, "tty_close": 57, "logs_full": 58, "logs_fifo": 256, "events_stall": 25,
    "signals:int_int": 530, "signals:term_int": 562, "signals:int_term": 307,
    "signals:term_term": 377, "signals:hup_hup": 419, "signals:hup_term": 315,
    "signals:term_int_int": 402, "signals:burst": 242, "sighup": 73,
    "large-flat": 40, "large-nested": 41, "control": 21,
}


# One seed per feature of tests/chaos/devloop.py (issue 18 item 6, issue 17 item 9): the
# failure rules (continue on workers and groups, {X: exited}, health checks of each kind
# failing under each policy), watches (a daemon with cascade, a worker run again),
# reloads (an env, a cmd, an added and a removed node, a save without a change, a new
# replica count) and both in one run, with replicated daemons.
FAMILY_SEEDS = {
    ("rules", 16): {"continue", "exited", "health-restart", "health:file", "health:tcp"},
    ("rules", 30): {"after", "exited", "group-continue", "health-restart", "final-sigterm"},
    ("rules", 36): {"health-cancel", "health-continue", "health:exec"},
    ("watch", 15): {"watch-cascade", "watch-daemon", "watch-worker", "final-down"},
    ("watch", 6): {"watch-cascade", "final-sigint"},
    ("reload", 10): {"reload-add", "reload-cmd", "reload-remove", "final-down"},
    ("reload", 21): {"reload-env", "reload-same", "final-sigint"},
    ("reload", 1): {"reload-scale", "reload-add", "reload-remove", "replicas"},
    ("mixed", 5): {"watch-cascade", "watch-worker", "reload-env", "reload-remove", "replicas"},
    ("mixed", 49): {"reload-scale", "reload-add", "watch-worker"},
}


def jobs() -> int:
    return int(os.environ.get("CHAOS_JOBS", 2))


def assert_all_ok(results) -> None:
    bad = [r for r in results if not r.ok]
    assert not bad, chaos.summary(results, 0.0) + "\n" + "\n".join(chaos.describe(r) for r in bad)


def test_random_trees_under_random_interruptions_keep_the_invariants():
    helper_modes = subprocess.run([harness.TRHELPER_BIN, "--help"], capture_output=True,
                                  text=True).stdout
    assert "fds-to" in helper_modes, "trhelper lacks the fds-to mode: rebuild it"
    runs = int(os.environ.get("CHAOS_RUNS", 150))
    base = int(os.environ.get("CHAOS_SEED_BASE", 1))
    results = chaos.run_many(range(base, base + runs), jobs=jobs(), out=io.StringIO(),
                             max_failures=3)
    assert_all_ok(results)


def test_each_fault_of_issue_15_once_with_its_fixed_seed():
    for kind, seed in FAULT_SEEDS.items():
        _, plan = chaos.Runner(seed).draw()
        assert kind in plan.faults(), (f"seed {seed} no longer draws {kind} but {plan}: "
                                       "the generator changed, pick a seed that does")
    assert_all_ok(chaos.run_many(FAULT_SEEDS.values(), jobs=jobs(), out=io.StringIO()))


def test_the_failure_rules_watches_and_reloads_once_with_fixed_seeds():
    for (family, seed), want in FAMILY_SEEDS.items():
        got = chaos.devloop.features(chaos.devloop.generate(seed, family))
        assert want <= got, (f"{family} seed {seed} no longer draws {sorted(want - got)}: "
                             "the generator changed, pick a seed that does")
    results = []
    for family in chaos.devloop.FAMILIES:
        seeds = [s for f, s in FAMILY_SEEDS if f == family]
        results += chaos.run_family_seeds(family, seeds, jobs=jobs(), out=io.StringIO())
    bad = [r for r in results if not r.ok]
    assert not bad, "\n".join(chaos.devloop.describe(r) for r in bad)


def test_a_group_failing_under_continue_decides_over_its_skipped_dependent(tr):
    # chaos seed 5244 (also 5275, 5304); a group failing under continue cancelled itself,
    # skipping d, before its own failure was recorded, so d's skip decided 1. treerun(1), SEMANTICS › Failure: a failure under
    # continue "decides the exit code at the end as a failure does"; its dependents by a
    # plain `after` are skipped and are failures too, but later ones: the group's worker's
    # exit 2 decides, as it does for a worker under continue (exit 2 there).
    spec = tr.spec("""\
children:
  - name: g
    on_failure: continue
    children:
      - {name: t, cmd: [{H}, exit, "2"]}
  - {name: d, after: [g], cmd: [{H}, exit, "0"]}
  - {name: w, cmd: [{H}, sleep, "0.2", exit, "0"]}
""")
    res = tr.up(spec, "--quiet")
    assert res.code == 2, res.describe()


def test_chaos_seed_5244_a_group_failing_under_continue_with_a_dependent():
    saved = set(chaos.AVOID)
    chaos.AVOID.discard("continue-group-dependent")
    try:
        assert_all_ok(chaos.run_many([5244], jobs=1, out=io.StringIO()))
    finally:
        chaos.AVOID |= saved


def test_an_output_that_fails_is_said_even_when_the_run_ends_at_once(tr):
    # treerun(1), Outputs: "The first failure is said once, on stderr". Two nodes that
    # exit at once: the log stream's first write fails in the run's last loop turn, whose
    # posted report the loop would not run any more (chaos seed 22 found it).
    spec = tr.spec('children:\n  - {name: a, cmd: [{H}, exit, "0"]}\n'
                   '  - {name: b, cmd: [{H}, exit, "0"]}\n')
    for _ in range(20):
        res = tr.up(spec, "--logs", "/dev/full", "--quiet")
        assert res.code == 0, res.describe()
        assert res.stderr.count("cannot write the log stream to /dev/full") == 1, res.describe()


def test_a_worker_after_a_group_of_daemons_starts_once_its_setup_step_is_done(tr):
    # treerun(1), `after`: a group without workers (its only worker is a setup step, which
    # only the daemon `server` waits for) counts as a daemon, ready once its daemons are
    # and its setup step is done; `treerun tree` says "w (after g ready)".
    spec = tr.spec("""\
children:
  - name: g
    children:
      - {name: d, daemon: true, cmd: [{H}, sleep, forever]}
      - {name: setup, cmd: [{H}, exit, "0"]}
  - {name: server, daemon: true, after: [/g/setup], cmd: [{H}, sleep, forever]}
  - {name: w, after: [g], cmd: [{H}, exit, "0"]}
""")
    res = tr.up(spec, "--quiet", "--timeout", "1s")
    assert res.code == 0, res.describe()
