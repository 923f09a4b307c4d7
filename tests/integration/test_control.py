"""The control socket (treerun(1), A RUNNING TREE and PROTOCOL; contract 6.1, 6.2): its
folder and name, one run per name, the socket gone however a run ends, `ls`, `ps`, run
discovery, `wait`, and clients that misbehave. Real runs, real sockets, a real other
user. What needs the run's side of the socket (acting, logs, events, down) is in
test_control_actions.py.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import socket_folder
from harness import children, daemon, find, group, worker

SPEC = children(daemon("d"))


def sock(tr, name: str = "spec") -> Path:
    return socket_folder(tr) / f"{name}.sock"


def start_daemon(tr, *flags, spec_text: str = SPEC, name: str = "spec.yaml"):
    """A run of one daemon `d`, up and ready."""
    p = tr.start(["up", tr.spec(spec_text, name=name), *flags])
    p.wait_for(event="ready", node="d")
    return p


def connect(path: Path) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(str(path))
    return s


def replies(s: socket.socket) -> list[dict]:
    """Every reply until the last one (with "ok") or the end of the connection."""
    out, buf = [], b""
    while True:
        try:
            data = s.recv(65536)
        except ConnectionResetError:  # closed with our request unread: the end, as EOF
            data = b""
        if not data:
            return out
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            out.append(json.loads(line))
            if "ok" in out[-1]:
                return out


def ask(path: Path, request: dict | bytes) -> list[dict]:
    with connect(path) as s:
        s.sendall(request if isinstance(request, bytes) else json.dumps(request).encode() + b"\n")
        return replies(s)


def waiting_for_the_run(pid: int) -> None:
    """Waits until the client PID waits in poll() for a reply: its request is sent."""
    deadline = time.monotonic() + 10
    while "poll" not in Path(f"/proc/{pid}/wchan").read_text():
        assert time.monotonic() < deadline, f"client {pid} never waited for the run"
        time.sleep(0.005)


def stale_socket(path: Path) -> None:
    """A socket file nobody listens on: what a SIGKILLed run leaves."""
    path.parent.mkdir(mode=0o700, exist_ok=True)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.close()


# ---------------------------------------------------------------------------
# The folder and the name


def test_the_socket_folder_is_made_0700_and_the_socket_is_the_runs_name(tr):
    p = start_daemon(tr)
    folder = socket_folder(tr)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_ISSOCK(sock(tr).stat().st_mode)
    assert stat.S_IMODE(sock(tr).stat().st_mode) & 0o077 == 0
    [run] = ask(sock(tr), {"v": 1, "cmd": "status"})
    assert run["run"]["name"] == "spec"
    assert run["run"]["pid"] == p.pid
    assert run["run"]["spec"] == str(tr.path("spec.yaml"))
    p.signal(signal.SIGINT)
    p.wait()
    assert not sock(tr).exists()


def test_xdg_runtime_dir_holds_the_folder_when_set(tr):
    xdg = tr.path("xdg")
    xdg.mkdir(mode=0o700)
    p = tr.start(["up", tr.spec(SPEC)], env={"XDG_RUNTIME_DIR": str(xdg)})
    p.wait_for(event="ready", node="d")
    assert (xdg / "treerun" / "spec.sock").exists()
    assert not socket_folder(tr).exists()
    res = tr.run(["ps"], env={"XDG_RUNTIME_DIR": str(xdg)})
    assert res.code == 0, res.describe()
    p.signal(signal.SIGTERM)
    p.wait()
    assert not (xdg / "treerun" / "spec.sock").exists()


def test_the_name_is_name_else_the_specs_name_else_the_stem_and_stdin_for_dash(tr):
    p = start_daemon(tr, spec_text="name: demo\n" + SPEC)
    assert sock(tr, "demo").exists()
    q = start_daemon(tr, "--name", "other", name="other.yaml")
    assert sock(tr, "other").exists()
    with open(tr.spec(SPEC, name="piped.yaml")) as spec:
        r = tr.start(["up", "-"], stdin=spec)
        r.wait_for(event="ready", node="d")
    assert sock(tr, "stdin").exists()
    assert ask(sock(tr, "stdin"), {"v": 1, "cmd": "status"})[-1]["run"]["spec"] == "-"
    for run in (p, q, r):
        run.signal(signal.SIGINT)
        run.wait()


def test_a_world_writable_socket_folder_is_refused_with_nothing_started(tr):
    folder = socket_folder(tr)
    folder.mkdir()
    folder.chmod(0o777)
    res = tr.up(tr.spec(SPEC))
    assert res.code == 125, res.describe()
    assert f"the socket folder {folder} can be written by others (mode 0777)" in res.stderr
    assert "nothing was started" in res.stderr
    assert not find(res.events, event="spawn")
    folder.chmod(0o700)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the folder to another user")
def test_a_socket_folder_of_another_user_is_refused_with_nothing_started(tr):
    folder = socket_folder(tr)
    folder.mkdir(mode=0o700)
    os.chown(folder, 65534, 65534)
    res = tr.up(tr.spec(SPEC))
    assert res.code == 125, res.describe()
    assert f"the socket folder {folder} belongs to uid 65534" in res.stderr
    assert not find(res.events, event="spawn")
    os.chown(folder, 0, 0)


def test_a_second_run_of_a_live_name_is_refused_naming_the_holder(tr):
    p = start_daemon(tr)
    res = tr.up(tr.path("spec.yaml"))
    assert res.code == 125, res.describe()
    assert f"a run named 'spec' is live: treerun pid {p.pid}" in res.stderr
    assert "nothing was started" in res.stderr
    assert not find(res.events, event="spawn")
    assert sock(tr).exists()  # the holder's socket is untouched
    # Another name runs beside it.
    q = start_daemon(tr, "--name", "spec2")
    assert sorted(tr.run(["ls", "-q"]).stdout.split()) == ["spec", "spec2"]
    for run in (p, q):
        run.signal(signal.SIGINT)
        run.wait()


def test_a_stale_socket_is_replaced(tr):
    stale_socket(sock(tr))
    res = tr.up(tr.spec(children(worker("w"))))
    assert res.code == 0, res.describe()
    assert not sock(tr).exists()


def test_a_bad_name_is_a_usage_error(tr):
    res = tr.up(tr.spec(SPEC), "--name", "a/b")
    assert res.code == 125, res.describe()
    assert "a run's name" in res.stderr
    assert not find(res.events, event="spawn")


# ---------------------------------------------------------------------------
# The socket is gone however the run ends


GATED = children(daemon("d"), worker("w", '[{H}, wait-file, "{T}/go", exit, "3"]'))


@pytest.mark.parametrize("how,code", [
    ("done", 0), ("failure", 3), ("ctrl-c", -signal.SIGINT), ("sigterm", -signal.SIGTERM),
    ("timeout", 124)])
def test_the_socket_is_gone_however_the_run_ends(tr, how, code):
    text = GATED.replace('"3"]', '"0"]') if how == "done" else GATED
    flags = ["--timeout", "1s"] if how == "timeout" else []
    p = tr.start(["up", tr.spec(text), *flags])
    p.wait_for(event="spawn", node="w")
    assert sock(tr).exists()
    if how in ("done", "failure"):
        tr.path("go").touch()
    elif how == "ctrl-c":
        p.signal(signal.SIGINT)
    elif how == "sigterm":
        p.signal(signal.SIGTERM)
    res = p.wait()
    assert res.code == code, res.describe()
    assert not sock(tr).exists()
    assert list(socket_folder(tr).iterdir()) == []


def test_a_sigkilled_runs_socket_is_removed_by_the_next_ls(tr):
    p = start_daemon(tr)
    p.signal(signal.SIGKILL)
    p.wait()
    assert sock(tr).exists()  # nobody could remove it
    res = tr.run(["ls"])
    assert res.code == 0, res.describe()
    assert res.stdout.splitlines() == ["NAME  PID  UPTIME  RUNNING  SPEC"]
    assert not sock(tr).exists()


def test_a_sigkilled_runs_socket_is_replaced_by_the_next_up(tr):
    p = start_daemon(tr)
    p.signal(signal.SIGKILL)
    p.wait()
    res = tr.up(tr.spec(children(worker("w"))))
    assert res.code == 0, res.describe()
    assert not sock(tr).exists()


# ---------------------------------------------------------------------------
# ls, ps, discovery


def test_ls_lists_each_live_run_and_ps_needs_r_when_there_are_several(tr):
    a = start_daemon(tr, "--name", "alpha")
    b = start_daemon(tr, "--name", "beta")
    res = tr.run(["ls"])
    assert res.code == 0, res.describe()
    lines = res.stdout.splitlines()
    assert lines[0].split() == ["NAME", "PID", "UPTIME", "RUNNING", "SPEC"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows["alpha"][1] == str(a.pid) and rows["beta"][1] == str(b.pid)
    assert rows["alpha"][3] == "1" and rows["alpha"][4] == str(tr.path("spec.yaml"))

    res = tr.run(["ps"])
    assert res.code == 1, res.describe()
    assert "several runs are live; name one with -r RUN:" in res.stderr
    assert f"alpha (pid {a.pid}" in res.stderr and f"beta (pid {b.pid}" in res.stderr
    res = tr.run(["ps", "-r", "beta"])
    assert res.code == 0, res.describe()
    res = tr.run(["ps", "--run", "gamma"])
    assert res.code == 1
    assert "no run named 'gamma' is live" in res.stderr
    for run in (a, b):
        run.signal(signal.SIGINT)
        run.wait()


def test_with_no_live_run_a_client_command_exits_1(tr):
    res = tr.run(["ps"])
    assert res.code == 1, res.describe()
    assert "no run is live" in res.stderr
    res = tr.run(["wait", "-r", "nothing"])
    assert res.code == 1
    assert "no run named 'nothing' is live" in res.stderr


PS_SPEC = children(
    daemon("d"),
    worker("w", '[{H}, wait-file, "{T}/go", exit, "0"]'),
    worker("quick"),
    group("g", daemon("x")),
    worker("later", after=["w"]))


def test_ps_shows_each_nodes_state_and_its_pid_is_the_event_logs(tr):
    p = tr.start(["up", tr.spec(PS_SPEC)])
    for node in ("d", "g/x"):
        p.wait_for(event="ready", node=node)
    p.wait_for(event="exit", node="quick")
    p.wait_for(event="spawn", node="w")
    res = tr.run(["ps", "--json"])
    assert res.code == 0, res.describe()
    rows = {n["path"]: n for n in json.loads(res.stdout)}
    assert list(rows) == ["d", "w", "quick", "g", "g/x", "later"]
    assert {k for n in rows.values() for k in n} == {
        "path", "kind", "state", "pid", "uptime", "restarts", "code", "signal", "outcome"}
    spawned = {e["node"]: e["pid"] for e in find(p.events(), event="spawn")}
    assert (rows["d"]["kind"], rows["d"]["state"], rows["d"]["pid"]) == ("daemon", "ready", spawned["d"])
    assert (rows["w"]["kind"], rows["w"]["state"], rows["w"]["pid"]) == ("worker", "running", spawned["w"])
    assert (rows["quick"]["state"], rows["quick"]["pid"], rows["quick"]["code"], rows["quick"]["outcome"]) == (
        "exited", None, 0, "ok")
    assert (rows["g"]["kind"], rows["g"]["state"], rows["g"]["pid"]) == ("group", "ready", None)
    assert rows["g/x"]["pid"] == spawned["g/x"]
    assert (rows["later"]["state"], rows["later"]["pid"]) == ("waiting", None)
    assert all(n["restarts"] == 0 for n in rows.values())
    assert rows["d"]["uptime"] > 0

    table = tr.run(["ps"]).stdout.splitlines()
    assert table[0].split() == ["PATH", "KIND", "STATE", "PID", "UPTIME", "RESTARTS", "EXIT", "OUTCOME"]
    assert table[1].split()[:4] == ["d", "daemon", "ready", str(spawned["d"])]
    assert table[3].split() == ["quick", "worker", "exited", "-", "-", "0", "0", "ok"]
    tr.path("go").touch()
    assert p.wait().code == 0


def test_an_unknown_node_exits_1_with_a_did_you_mean_and_the_paths(tr):
    p = start_daemon(tr, spec_text=children(daemon("d"), daemon("web")))
    for args in (["stop", "wbe"], ["logs", "d", "wbe"], ["signal", "HUP", "/wbe"]):
        res = tr.run(args)
        assert res.code == 1, res.describe()
        assert "no node `" in res.stderr and "wbe`" in res.stderr
        assert "(did you mean `web`?)" in res.stderr
        assert "the nodes are: d web" in res.stderr
    assert not find(p.events(), event="control")
    # A leading / names the same node, in the protocol too.
    assert ask(sock(tr), {"v": 1, "cmd": "logs", "nodes": ["/web", "d"]})[-1] == {"v": 1, "ok": True}
    p.signal(signal.SIGINT)
    p.wait()


@pytest.mark.parametrize("args", [["signal"], ["signal", "HUP"], ["signal", "NOPE", "d"], ["stop"],
                                  ["logs", "-n", "x"], ["ps", "--bogus"], ["ls", "extra"]])
def test_client_usage_errors_exit_125(tr, args):
    res = tr.run(args)
    assert res.code == 125, res.describe()


@pytest.mark.parametrize("cmd", ["ls", "ps", "logs", "events", "stop", "start", "restart", "signal",
                                 "down", "wait"])
def test_help_for_each_client_command(tr, cmd):
    res = tr.run(["help", cmd])
    assert res.code == 0, res.describe()
    assert f"Usage: treerun {cmd}" in res.stdout
    assert ("-r,--run" in res.stdout) == (cmd != "ls")


# ---------------------------------------------------------------------------
# wait: the run's own exit code


@pytest.mark.parametrize("how,code", [("failure", 3), ("sigterm", 143)])
def test_wait_exits_with_the_runs_code(tr, how, code):
    p = tr.start(["up", tr.spec(GATED)])
    p.wait_for(event="spawn", node="w")
    waiter = tr.start(["wait", "-r", "spec"])  # -r: no status asked first
    waiting_for_the_run(waiter.pid)
    if how == "failure":
        tr.path("go").touch()
    else:
        p.signal(signal.SIGTERM)
    run = p.wait()
    res = waiter.wait()
    assert res.code == code, res.describe() + run.describe()


# ---------------------------------------------------------------------------
# Clients that misbehave: the run goes on as if they were not there


def test_65_clients_the_65th_hears_too_many_and_the_64_get_the_runs_end(tr):
    p = start_daemon(tr)
    held = []
    for _ in range(64):
        s = connect(sock(tr))
        s.sendall(b'{"v":1,"cmd":"wait"}\n')
        held.append(s)
    # The 64 are sessions once accepted; a status on one more shows when they are.
    extra = connect(sock(tr))
    assert replies(extra) == [{"v": 1, "ok": False, "error": "too many clients (64 at once): try again later"}]
    held.pop().close()
    deadline = time.monotonic() + 10
    while True:  # the server lets the closed one go on its next turn
        got = ask(sock(tr), {"v": 1, "cmd": "status"})
        if got and got[-1]["ok"]:
            break
        assert time.monotonic() < deadline, got
    p.signal(signal.SIGINT)
    assert p.wait().code == -signal.SIGINT
    for s in held:
        assert replies(s) == [{"v": 1, "ok": True, "code": 130}]
        s.close()


def test_oversized_garbage_and_half_requests_change_nothing(tr):
    p = start_daemon(tr)
    big = json.dumps({"v": 1, "cmd": "stop", "nodes": ["x" * 70 * 1024]}).encode() + b"\n"
    with connect(sock(tr)) as s:
        s.sendall(big[:65 * 1024])  # the server answers once it has more than 64 KiB
        assert replies(s) == [{"v": 1, "ok": False, "error": "request too long: over 64 KiB"}]
    got = ask(sock(tr), b"\x00\xffgarbage\n")
    assert got[-1]["ok"] is False and got[-1]["error"].startswith("malformed request")
    with connect(sock(tr)) as s:
        s.sendall(b'{"v":1,"cmd":"sto')  # and hangs up
    with connect(sock(tr)) as s:
        pass  # says nothing at all
    got = ask(sock(tr), {"v": 1, "cmd": "stop", "nodes": ["d"], "bogus": 1})
    assert got == [{"v": 1, "ok": False, "error": 'stop takes no key "bogus"'}]
    assert ask(sock(tr), {"v": 2, "cmd": "ps"})[-1]["error"].startswith("protocol version 2")
    assert ask(sock(tr), {"v": 1, "cmd": "ps"})[-1]["nodes"][0]["state"] == "ready"
    p.signal(signal.SIGINT)
    res = p.wait()
    assert not find(res.events, event="control")
    assert [e["cause"] for e in find(res.events, event="cancel")] == ["sigint"]


def test_a_stopped_client_neither_holds_nor_slows_the_run(tr):
    # A `treerun ps` under SIGSTOP, its request half sent: the run goes on, ends on
    # time, and the client's connection is no reason to wait.
    p = tr.start(["up", tr.spec(children(daemon("d"), worker("w", '[{H}, wait-file, "{T}/go", exit, "0"]')))])
    p.wait_for(event="spawn", node="w")
    with connect(sock(tr)) as s:
        s.sendall(b'{"v":1,')
        waiter = tr.start(["wait", "-r", "spec"])  # -r: no status asked first
        waiting_for_the_run(waiter.pid)
        os.kill(waiter.pid, signal.SIGSTOP)
        t0 = time.monotonic()
        tr.path("go").touch()
        res = p.wait()
        assert res.code == 0, res.describe()
        assert time.monotonic() - t0 < 5
        os.kill(waiter.pid, signal.SIGCONT)
        assert waiter.wait().code == 0
        assert replies(s)[-1]["error"] == "the run has ended"


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="needs root and setpriv to be another user")
def test_another_user_is_refused_without_an_answer_and_named_on_stderr(tr):
    # A folder nobody can write but everybody can search, so that user nobody can reach
    # a socket root made writable for it: all that stands in its way is SO_PEERCRED.
    base = Path(tempfile.mkdtemp(prefix="trctl-", dir="/tmp"))  # not under a private TMPDIR
    try:
        base.chmod(0o711)
        (base / "treerun").mkdir(mode=0o711)
        env = {"XDG_RUNTIME_DIR": str(base)}
        p = tr.start(["up", tr.spec(SPEC)], env=env)
        p.wait_for(event="ready", node="d")
        path = base / "treerun" / "spec.sock"
        path.chmod(0o777)
        # It may be closed on before it has even sent its request (EPIPE), or with the
        # request unread (ECONNRESET): either way, not a byte comes back.
        probe = ("import os, socket, sys\n"
                 "s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])\n"
                 "try:\n  s.sendall(b'{\"v\":1,\"cmd\":\"ps\"}\\n'); d = s.recv(100)\n"
                 "except (BrokenPipeError, ConnectionResetError):\n  d = b''\n"
                 "print('pid', os.getpid(), 'got', len(d))\n")
        stranger = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                   sys.executable, "-c", probe, str(path)],
                                  capture_output=True, text=True, timeout=30)
        assert stranger.returncode == 0, stranger.stderr
        pid, got = stranger.stdout.split()[1], stranger.stdout.split()[3]
        assert got == "0"  # closed without an answer
        # The CLI as that user: the folder is not its own.
        cli = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", tr.bin, "ps"],
                             capture_output=True, text=True, timeout=30, env=tr.env(env))
        assert cli.returncode == 1
        assert f"the socket folder {base}/treerun belongs to uid 0, not to this user (uid 65534)" in cli.stderr
        assert ask(path, {"v": 1, "cmd": "ps"})[-1]["ok"]  # root is still served
        p.signal(signal.SIGINT)
        res = p.wait()
        assert (f"treerun: refused a control connection from uid 65534 (pid {pid}): "
                "only uid 0 may use this run") in res.stderr
        assert not path.exists()
    finally:
        shutil.rmtree(base, ignore_errors=True)
