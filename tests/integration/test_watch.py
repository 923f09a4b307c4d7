"""§8 Watching, end to end with real files: a change restarts the node (a graceful stop,
then a start with its probe), its dependents with it (`cascade`), once per burst
(`debounce`); a finished worker runs again and the run waits for changes; a watch restart
is not counted against `restart.max`. Every wait is on the event log."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess

from harness import EventWaiter, TreerunProc, find, node_notes, one, parse_events, t_of

# api is watched; client depends on it; other does not.
CASCADE_SPEC = """\
children:
  - name: api
    daemon: true
    watch: {paths: [src], debounce: 100msEXTRA}
    cmd: [{H}, echo, up, sleep, forever]
    ready: {log: "^up$"}
  - name: client
    daemon: true
    after: [api]
    cmd: [{H}, echo, up, sleep, forever]
    ready: {log: "^up$"}
  - {name: other, daemon: true, cmd: [{H}, sleep, forever]}
"""


def cascade_spec(extra: str = "") -> str:
    return CASCADE_SPEC.replace("EXTRA", extra)


def watched(tr, text: str, *folders: str):
    for folder in folders or ("src",):
        tr.path(folder).mkdir(parents=True, exist_ok=True)
    return tr.spec(text)


def spawns(p, node: str) -> list[dict]:
    return find(p.events(), event="spawn", node=node)


def wait_spawns(p, node: str, n: int, ready: bool = True) -> None:
    p.wait_for(lambda e: len(spawns(p, node)) >= n, event="spawn", node=node)
    if ready:
        p.wait_for(lambda e: len(find(p.events(), event="ready", node=node)) >= n, event="ready", node=node)


def end(p):
    """ctrl-c: a watching run ends only when cancelled (it dies by SIGINT, as treerun does)."""
    p.signal(signal.SIGINT)
    res = p.wait()
    assert res.code == -signal.SIGINT, res.describe()
    return res


def test_a_change_restarts_the_node_and_its_dependents_in_order(tr):
    p = tr.start(["up", watched(tr, cascade_spec()), "--no-color"])
    p.wait_for(event="ready", node="client")
    first = {n: spawns(p, n)[0]["pid"] for n in ("api", "client")}
    tr.path("src/app.py").write_text("print()\n")
    wait_spawns(p, "client", 2)
    res = end(p)
    evs = res.events
    restart = one(evs, event="restart", node="api")
    assert (restart["cause"], restart["path"]) == ("watch", str(tr.path("src/app.py"))), res.describe()
    assert one(evs, event="restart", node="client")["cause"] == "watch"
    assert len(find(evs, event="spawn", node="other")) == 1 and not find(evs, event="restart", node="other")
    api, client = find(evs, event="spawn", node="api"), find(evs, event="spawn", node="client")
    assert api[1]["pid"] != first["api"] and client[1]["pid"] != first["client"]
    # the dependent stops first, starts after: its stop ends before api's begins, and it
    # is spawned once api's new incarnation is ready
    exits = {e["pid"]: e["t"] for e in find(evs, event="exit")}
    api_stop = find(evs, event="stop", node="api")[0]["t"]
    assert exits[first["client"]] <= api_stop, res.describe()
    assert find(evs, event="ready", node="api")[1]["t"] <= client[1]["t"], res.describe()
    assert one(evs, event="exit", pid=first["api"])["outcome"] == "cancelled"
    assert "changed: " + str(tr.path("src/app.py")) + "; restarting with client" in node_notes(res.stdout, "api")


def test_without_cascade_the_dependents_are_left_alone(tr):
    p = tr.start(["up", watched(tr, cascade_spec(", cascade: false")), "--no-color"])
    p.wait_for(event="ready", node="client")
    tr.path("src/app.py").write_text("x")
    wait_spawns(p, "api", 2)
    res = end(p)
    assert len(find(res.events, event="spawn", node="client")) == 1, res.describe()


def test_a_burst_of_1000_writes_is_one_restart_and_an_editors_save_by_rename_one_more(tr):
    tr.path("config.toml").write_text("a")
    spec = watched(tr, """\
children:
  - name: api
    daemon: true
    watch: {paths: [src, config.toml], debounce: 1s}
    cmd: [{H}, echo, up, sleep, forever]
    ready: {log: "^up$"}
""")
    p = tr.start(["up", spec])
    p.wait_for(event="ready", node="api")
    # A debounce of 1 s: a loaded machine may pause the writer for a few hundred ms.
    for i in range(1000):
        with open(tr.path(f"src/f{i % 7}.c"), "w") as f:
            f.write(str(i))
    wait_spawns(p, "api", 2)
    # an editor's save: a temporary file beside it, renamed over it
    tr.path(".config.toml.swp").write_text("b")
    os.rename(tr.path(".config.toml.swp"), tr.path("config.toml"))
    wait_spawns(p, "api", 3)
    res = end(p)
    restarts = find(res.events, event="restart", node="api")
    assert [r["path"] for r in restarts] == [str(tr.path("src/f0.c")), str(tr.path("config.toml"))], res.describe()


def test_a_change_during_a_start_or_a_stop_is_one_more_restart_after_it(tr):
    # a slow start (ready 0.5 s after the spawn) and a slow stop (0.5 s after SIGTERM)
    spec = watched(tr, """\
children:
  - name: api
    daemon: true
    watch: {paths: [src], debounce: 20ms}
    cmd: "trap 'sleep 0.5; exit 0' TERM; sleep 0.5; echo up; while :; do sleep 0.05; done"
    ready: {log: "^up$"}
""")
    p = tr.start(["up", spec, "--no-color"])
    p.wait_for(event="ready", node="api")
    tr.path("src/a").write_text("1")
    p.wait_for(event="stop", node="api")
    tr.path("src/b").write_text("2")  # during the stop
    wait_spawns(p, "api", 2, ready=False)
    tr.path("src/c").write_text("3")  # during the start of the second
    wait_spawns(p, "api", 3)
    tr.path("src/d").write_text("4")  # the marker: the last restart is for it
    marker = str(tr.path("src/d"))
    p.wait_for(lambda e: e.get("path") == marker, event="restart", node="api")
    n = len(find(p.events(), event="restart", node="api"))
    wait_spawns(p, "api", n + 1)
    res = end(p)
    paths = [r["path"] for r in find(res.events, event="restart", node="api")]
    # b (during the stop) and c (during the start) each come after the restart under
    # way, one restart for both or (on a slow machine, c after b's restart began) one
    # each: never lost, never more.
    assert len(paths) in (3, 4), res.describe()
    assert paths[0] == str(tr.path("src/a")) and paths[-1] == marker, paths
    assert any("restarting once the restart under way is over" in n for n in node_notes(res.stdout, "api"))


def test_a_finished_worker_runs_again_a_failed_ignored_one_too_and_the_run_waits(tr):
    spec = watched(tr, """\
children:
  - name: test
    watch: {paths: [src], debounce: 20ms}
    on_failure: ignore
    cmd: "test -f {T}/src/ok"
  - {name: db, daemon: true, cmd: [{H}, sleep, forever]}
""")
    p = tr.start(["up", spec])
    p.wait_for(event="exit", node="test")
    assert one(p.events(), event="exit", node="test")["outcome"] == "failed"
    # the run does not end: its worker is done, and it waits for a change
    res = tr.run(["ps", "--json"])
    assert res.code == 0, res.describe()
    tr.path("src/ok").write_text("")
    p.wait_for(lambda e: len(find(p.events(), event="exit", node="test")) == 2, event="exit", node="test")
    res = end(p)
    exits = find(res.events, event="exit", node="test")
    assert [e["outcome"] for e in exits] == ["failed", "ok"], res.describe()
    assert one(res.events, event="restart", node="test")["cause"] == "watch"


def test_watch_restarts_do_not_count_against_restart_max(tr):
    spec = watched(tr, """\
children:
  - name: api
    daemon: true
    watch: {paths: [src], debounce: 20ms}
    on_failure: restart
    restart: {max: 1, backoff: 10ms}
    cmd: [{H}, echo, up, sleep, forever]
    ready: {log: "^up$"}
""")
    p = tr.start(["up", spec])
    p.wait_for(event="ready", node="api")
    for i in range(3):
        tr.path(f"src/{i}").write_text("")
        wait_spawns(p, "api", i + 2)
    # its one restart after a failure is still there
    os.kill(spawns(p, "api")[-1]["pid"], signal.SIGKILL)
    wait_spawns(p, "api", 5)
    res = end(p)
    causes = [r["cause"] for r in find(res.events, event="restart", node="api")]
    assert causes == ["watch", "watch", "watch", "failure"], res.describe()


def test_a_watched_folder_removed_and_made_again_is_watched_again(tr):
    tr.path("src/sub").mkdir(parents=True)
    spec = watched(tr, cascade_spec(", cascade: false"))
    p = tr.start(["up", spec])
    p.wait_for(event="ready", node="api")
    shutil.rmtree(tr.path("src"))
    wait_spawns(p, "api", 2)
    tr.path("src/sub").mkdir(parents=True)
    wait_spawns(p, "api", 3)
    tr.path("src/sub/back.c").write_text("")
    wait_spawns(p, "api", 4)
    res = end(p)
    paths = [r["path"] for r in find(res.events, event="restart", node="api")]
    # rmtree removes what is inside first: the first change is in src
    assert paths[0].startswith(str(tr.path("src"))) and paths[2] == str(tr.path("src/sub/back.c")), res.describe()


def test_past_the_inotify_limit_one_warning_names_it_and_the_run_goes_on(tr):
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-Ur", "true"]).returncode != 0:
        import pytest
        pytest.skip("no user namespaces here: the watch limit cannot be lowered")
    for i in range(20):
        tr.path(f"src/d{i}").mkdir(parents=True)
    spec = watched(tr, cascade_spec(", cascade: false"))
    events = tr.path("limit.jsonl")
    # a user namespace of its own, whose watch limit (4) is far below the 21 folders
    script = 'echo 4 > /proc/sys/user/max_inotify_watches && exec "$0" "$@"'
    argv = ["unshare", "-Ur", "sh", "-c", script, tr.bin, "up", str(spec), "--events", str(events), "--no-color"]
    proc = subprocess.Popen(argv, env=tr.env(), cwd=tr.dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    waiter = EventWaiter(events, alive=lambda: proc.poll() is None)
    try:
        waiter.wait_for(event="ready", node="api")
        tr.path("src/top.c").write_text("")  # src itself is watched
        waiter.wait_for(event="restart", node="api")
        waiter.wait_for(lambda e: len(find(waiter.events(), event="ready", node="api")) == 2, event="ready")
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    text = out.decode()
    assert proc.returncode == -signal.SIGINT, text + err.decode()
    assert text.count("the limit of inotify watches is reached") == 1, text
    assert "fs.inotify.max_user_watches = 4" in text, text


def test_a_group_without_watched_nodes_is_done_as_usual(tr):
    """Only the groups a change may run something in again wait for changes: a setup
    group whose workers are done lets what is after it start (review finding)."""
    spec = watched(tr, """\
children:
  - name: api
    daemon: true
    watch: {paths: [src], debounce: 100ms}
    cmd: [{H}, sleep, forever]
  - name: setup
    children:
      - {name: a, cmd: [{H}, exit, "0"]}
  - {name: next, after: [setup], cmd: [{H}, echo, next-ran]}
""")
    p = tr.start(["up", spec, "--no-color"])
    p.wait_for(event="exit", node="next", timeout=15)
    res = end(p)
    assert one(res.events, event="exit", node="next")["outcome"] == "ok", res.describe()


def test_a_watched_folder_moved_away_is_no_longer_watched(tr):
    """inotify follows a folder, not its name: after `mv src old`, a change in old/ is
    not one of src/, and `src` made again is watched again."""
    spec = watched(tr, """\
children:
  - name: api
    daemon: true
    watch: {paths: [src], debounce: 100ms}
    cmd: [{H}, echo, up, sleep, forever]
    ready: {log: "^up$"}
""", "src/deep")
    p = tr.start(["up", spec, "--no-color"])
    p.wait_for(event="ready", node="api")
    tr.path("src").rename(tr.path("old"))  # a change of src: one restart
    wait_spawns(p, "api", 2)
    tr.path("old/deep/f").write_text("not watched\n")
    tr.path("src").mkdir()
    tr.path("src/g").write_text("watched\n")  # the new src/: a restart for src or src/g
    wait_spawns(p, "api", 3)
    res = end(p)
    restarts = find(res.events, event="restart", node="api")
    assert len(restarts) == 2, res.describe()
    assert not any("old" in r["path"] for r in restarts), restarts


def test_a_node_writing_its_output_into_its_watched_folder_does_not_restart_itself(tr):
    """treerun's own writes (a `{file:}` output, --logs, --events) are not changes."""
    spec = watched(tr, """\
children:
  - name: t
    watch: {paths: [src], debounce: 50ms}
    stdout: {file: src/report.txt}
    cmd: [{H}, echo, report]
  - {name: d, daemon: true, cmd: [{H}, sleep, forever]}
""")
    p = tr.start(["up", spec, "--no-color", "--logs", str(tr.path("src/log.txt"))])
    p.wait_for(event="exit", node="t")
    tr.path("src/code.py").write_text("x = 1\n")  # a real change: exactly one more run
    wait_spawns(p, "t", 2, ready=False)
    p.wait_for(lambda e: len(find(p.events(), event="exit", node="t")) >= 2, event="exit", node="t")
    # Were its own writes changes, each run would start the next within 50 ms.
    tr.path("src/code.py").write_text("x = 2\n")
    wait_spawns(p, "t", 3, ready=False)
    res = end(p)
    assert len(find(res.events, event="spawn", node="t")) == 3, res.describe()
