"""`treerun mcp` (treerun(1), MCP SERVER): real JSON-RPC 2.0 over the pipes of a real
`treerun mcp`, against a real run: initialize, tools/list, and tools/call of ps, logs
(paged by cursor), restart and down.
"""

from __future__ import annotations

import json
import subprocess

import harness
from harness import children, daemon, find, one, worker


class Mcp:
    """A `treerun mcp` process and its JSON-RPC conversation."""

    def __init__(self, tr):
        self.proc = subprocess.Popen([harness.TREERUN_BIN, "mcp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=tr.env(), cwd=tr.dir, text=True)
        self.next_id = 0

    def request(self, method: str, params: dict | None = None) -> dict:
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        reply = json.loads(self.proc.stdout.readline())
        assert reply["jsonrpc"] == "2.0" and reply["id"] == self.next_id, reply
        return reply

    def send(self, msg: dict) -> None:
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()

    def call(self, tool: str, **args) -> dict:
        reply = self.request("tools/call", {"name": tool, "arguments": args})
        assert "result" in reply, reply
        return reply["result"]

    def close(self) -> int:
        self.proc.stdin.close()
        code = self.proc.wait(10)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return code


SPEC = children(
    daemon("web", '[{H}, echo, "web line 1", echo, "web line 2", echo, up, sleep, forever]', '{log: "^up$"}'),
    worker("job", '[{H}, echo, "job line", sleep, forever]'))


def test_initialize_list_and_call_ps_logs_restart_down(tr):
    p = tr.start(["up", tr.spec(SPEC)])
    p.wait_for(event="ready", node="web")
    p.wait_for(event="spawn", node="job")
    mcp = Mcp(tr)
    init = mcp.request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                      "clientInfo": {"name": "pytest", "version": "1"}})
    assert init["result"]["protocolVersion"] == "2025-06-18"
    assert "tools" in init["result"]["capabilities"]
    mcp.send({"jsonrpc": "2.0", "method": "notifications/initialized"})  # no answer comes
    assert mcp.request("ping")["result"] == {}

    tools = {t["name"]: t for t in mcp.request("tools/list")["result"]["tools"]}
    assert set(tools) == {"list_runs", "ps", "logs", "events", "start", "stop", "restart", "signal", "down"}
    assert tools["logs"]["inputSchema"]["properties"]["cursor"]["type"] == "integer"

    runs = mcp.call("list_runs")
    assert [r["name"] for r in runs["structuredContent"]["runs"]] == ["spec"]

    ps = mcp.call("ps", run="spec")
    assert not ps["isError"]
    nodes = {n["path"]: n for n in ps["structuredContent"]["nodes"]}
    assert nodes["web"]["state"] == "ready" and nodes["job"]["state"] == "running"
    assert "web" in ps["content"][0]["text"]

    # logs: a first page of 2 lines of web, then the rest after its cursor, no repeats.
    first = mcp.call("logs", nodes=["web"], cursor=0, n=2)["structuredContent"]
    rest = mcp.call("logs", nodes=["web"], cursor=first["cursor"])["structuredContent"]
    seen = [ln["line"] for ln in first["lines"] + rest["lines"]]
    assert first["more"] and not rest["more"]
    assert len(seen) == len(set(seen)), seen
    assert [s for s in seen if "| web line" in s or s.endswith("| up")] == [
        "web | web line 1", "web | web line 2", "web | up"], seen
    assert all(ln["node"] == "web" for ln in rest["lines"])

    before = one(p.events(), event="spawn", node="web")["pid"]
    res = mcp.call("restart", nodes=["web"])
    assert not res["isError"] and res["content"][0]["text"] == "restarted web"
    spawns = find(p.events(), event="spawn", node="web")
    assert len(spawns) == 2 and spawns[1]["pid"] != before, "\n".join(json.dumps(e) for e in p.events())
    control = one(p.events(), event="control")
    assert control["cmd"] == "restart" and control["pid"] == mcp.proc.pid

    bad = mcp.call("stop", nodes=["wbe"])
    assert bad["isError"] and "web" in bad["content"][0]["text"]
    assert mcp.request("tools/call", {"name": "stop", "arguments": {}})["error"]["code"] == -32602
    assert mcp.request("resources/list")["error"]["code"] == -32601

    evs = mcp.call("events", n=1000)["structuredContent"]
    assert evs["events"][0]["event"] == "ready" and evs["cursor"] == len(evs["events"])
    later = mcp.call("events", cursor=evs["cursor"])["structuredContent"]
    assert later["events"] == [] and later["cursor"] == evs["cursor"]

    down = mcp.call("down")
    assert down["structuredContent"]["code"] == 0, down
    assert "summary" in down["structuredContent"]["console"]
    res = p.wait()
    assert res.code == 0, res.describe()
    assert mcp.call("ps")["isError"]  # no run is live now
    assert mcp.close() == 0
