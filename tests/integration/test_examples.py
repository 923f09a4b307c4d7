"""Every example in configs/ runs as documented (issue 8): the tour, the pipeline, the
include, the test-runner pattern, and the debugger through a real terminal. (The Redis
cluster is run by test_probes.py.)"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

from harness import node_lines

CONFIGS = Path(os.environ.get("TREERUN_SOURCE_DIR", Path(__file__).resolve().parents[2])) / "configs"


def port_busy(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_demo_tour_runs_and_counts_the_pipeline(tr):
    res = tr.up(CONFIGS / "demo.yaml", "--no-color")
    assert res.code == 0, res.describe()
    assert node_lines(res.stdout, "pipeline/count") == ["40951"], res.describe()
    assert "hello from client" in node_lines(res.stdout, "client")
    assert [e["outcome"] for e in res.events if e["event"] == "exit" and e["node"] == "server"] == ["cancelled"]


def test_pipeline_example_fans_out_and_merges(tr):
    res = tr.up(CONFIGS / "pipeline.yaml", "--no-color")
    assert res.code == 0, res.describe()
    assert node_lines(res.stdout, "evens") == ["10000"], res.describe()
    assert node_lines(res.stdout, "mixed") == ["4"], res.describe()  # 3 words + 1 stderr line


def test_include_example_runs_the_included_group(tr):
    res = tr.up(CONFIGS / "include" / "main.yaml", "--no-color")
    assert res.code == 0, res.describe()
    assert any(e["event"] == "spawn" and e["node"].startswith("services/") for e in res.events), res.describe()


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
@pytest.mark.parametrize("fail,code", [(False, 0), (True, 1)])
def test_test_runner_example_exits_with_the_tests_status(tr, fail, code):
    if port_busy(6395):
        pytest.skip("port 6395 is busy")
    res = tr.up(CONFIGS / "test-runner.yaml", "--no-color", env={"EXPECT_FAILURE": "1"} if fail else {})
    assert res.code == code, res.describe()
    assert "ok 2 - incr" in node_lines(res.stdout, "tests"), res.describe()
    # The report step runs after the tests whatever they did ({tests: exited}), while
    # the database still runs; the run still exits with the tests' status.
    assert any("the database still answers PONG" in line for line in node_lines(res.stdout, "report")), res.describe()
    stops = [e for e in res.events if e["event"] == "stop" and e["node"] == "db"]
    assert [e["how"] for e in stops] == ["command"], res.describe()
    assert not port_busy(6395)


def test_debugger_example_waits_for_the_person_at_the_prompt(tr):
    s = tr.pty(["up", str(CONFIGS / "debugger.yaml"), "--no-color"])
    s.expect(r"\(Pdb\)", timeout=15)
    # flaky fails; the tree is cancelled, but app holds the terminal and is not killed.
    s.waiter.wait_for(event="cancel", node="/", timeout=15)
    s.waiter.wait_for(event="stop", node="app", timeout=15)
    assert not [e for e in s.waiter.events() if e["event"] == "kill" and e["node"] == "app"]
    s.send(b"q\n")
    status = s.wait(timeout=20)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 3, s.buf.decode(errors="replace")
    assert not [e for e in s.waiter.events() if e["event"] == "kill" and e["node"] == "app"]


def test_replicas_example_merges_its_copies_and_takes_rounds_from_the_environment(tr):
    res = tr.up(CONFIGS / "replicas.yaml", "--no-color")
    assert res.code == 0, res.describe()
    assert node_lines(res.stdout, "tally") == ["9"], res.describe()
    assert node_lines(res.stdout, "report") == ["every replica ran 3 rounds"], res.describe()
    report = [e["t"] for e in res.events if e["event"] == "spawn" and e["node"] == "report"]
    assert report and all(e["t"] <= report[0] for e in res.events
                          if e["event"] == "exit" and e["node"].startswith("worker/")), res.describe()
    res = tr.up(CONFIGS / "replicas.yaml", "--no-color", env={"ROUNDS": "5"})
    assert node_lines(res.stdout, "tally") == ["15"], res.describe()
