// `treerun mcp`'s mapping, without a run: JSON-RPC in, replies out, the runs faked.
#include <catch.hpp>
#include <nlohmann/json.hpp>

#include "control/mcp.h"

using namespace treerun::control;
using json = nlohmann::ordered_json;

namespace {

/// Answers every request with the replies the test set, and notes what it was asked.
struct FakeRuns : McpRuns {
  std::vector<LiveRun> runs;
  std::vector<std::pair<std::string, Request>> asked;
  Exchange answer;
  std::vector<LiveRun> list() override { return runs; }
  Exchange ask(const std::string& run, const Request& request) override {
    asked.emplace_back(run, request);
    return answer;
  }
};

json line(std::uint64_t seq, const std::string& node, const std::string& text) {
  return {{"v", 1}, {"seq", seq}, {"node", node}, {"line", node + " | " + text}};
}

json call(McpServer& server, const std::string& tool, json args, int id = 1) {
  json request{{"jsonrpc", "2.0"}, {"id", id}, {"method", "tools/call"},
               {"params", {{"name", tool}, {"arguments", std::move(args)}}}};
  auto reply = server.handle(request.dump());
  REQUIRE(reply);
  return json::parse(*reply);
}

}  // namespace

TEST_CASE("mcp: initialize answers with the client's version when spoken, else the newest", "[control][mcp]") {
  FakeRuns runs;
  McpServer server(runs);
  auto init = [&](const std::string& version) {
    json r = json::parse(*server.handle(
        R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":")" + version +
        R"(","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})"));
    CHECK(r["id"] == 0);
    CHECK(r["result"]["capabilities"].contains("tools"));
    CHECK(r["result"]["serverInfo"]["name"] == "treerun");
    return r["result"]["protocolVersion"].get<std::string>();
  };
  CHECK(init("2025-03-26") == "2025-03-26");
  CHECK(init("2025-06-18") == "2025-06-18");
  CHECK(init("1999-01-01") == "2025-06-18");
  // A notification gets no answer; ping an empty result.
  CHECK_FALSE(server.handle(R"({"jsonrpc":"2.0","method":"notifications/initialized"})"));
  CHECK(json::parse(*server.handle(R"({"jsonrpc":"2.0","id":"p","method":"ping"})"))["result"] == json::object());
}

TEST_CASE("mcp: JSON-RPC errors by their codes", "[control][mcp]") {
  FakeRuns runs;
  McpServer server(runs);
  auto code = [&](const std::string& msg) { return json::parse(*server.handle(msg))["error"]["code"].get<int>(); };
  CHECK(code("{not json") == kParseError);
  CHECK(code(R"([1,2])") == kInvalidRequest);
  CHECK(code(R"({"jsonrpc":"1.0","id":1,"method":"ping"})") == kInvalidRequest);
  CHECK(code(R"({"jsonrpc":"2.0","id":1,"method":"resources/list"})") == kMethodNotFound);
  CHECK(code(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nope"}})") == kInvalidParams);
  CHECK(code(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ps","arguments":{"run":3}}})") ==
        kInvalidParams);
  CHECK(code(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"stop","arguments":{}}})") ==
        kInvalidParams);
  CHECK(code(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ps","arguments":{"x":1}}})") ==
        kInvalidParams);
  CHECK(code(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"signal",)"
             R"("arguments":{"signal":"SIGNOPE","nodes":["a"]}}})") == kInvalidParams);
  CHECK(runs.asked.empty());  // nothing bad reached a run
  // A response (to a request we never made) is taken without an answer.
  CHECK_FALSE(server.handle(R"({"jsonrpc":"2.0","id":9,"result":{}})"));
}

TEST_CASE("mcp: tools/list has every tool with an object inputSchema", "[control][mcp]") {
  json tools = mcp_tools()["tools"];
  std::vector<std::string> names;
  for (const json& t : tools) {
    names.push_back(t["name"]);
    CHECK(t["inputSchema"]["type"] == "object");
    CHECK(!t["description"].get<std::string>().empty());
    if (t["name"] != "list_runs") CHECK(t["inputSchema"]["properties"].contains("run"));
  }
  CHECK(names == std::vector<std::string>{"list_runs", "ps", "logs", "events", "start", "stop", "restart", "signal",
                                          "down"});
  CHECK(tools[7]["inputSchema"]["required"] == json::array({"signal", "nodes"}));
}

TEST_CASE("mcp: actions become requests; a refusal is a result with isError", "[control][mcp]") {
  FakeRuns runs;
  McpServer server(runs);
  runs.answer.final = {{"v", 1}, {"ok", true}};
  json r = call(server, "restart", {{"run", "demo"}, {"nodes", {"/web", "db"}}});
  REQUIRE(runs.asked.size() == 1);
  CHECK(runs.asked[0].first == "demo");
  CHECK(runs.asked[0].second.cmd == Cmd::restart);
  CHECK(runs.asked[0].second.nodes == std::vector<std::string>{"web", "db"});
  CHECK(r["result"]["isError"] == false);
  CHECK(r["result"]["content"][0]["text"] == "restarted web, db");

  call(server, "signal", {{"signal", "HUP"}, {"nodes", {"web"}}});
  CHECK(runs.asked.back().second.signal == 1);
  CHECK(runs.asked.back().first.empty());  // no run: the only live one

  runs.answer.final = {{"v", 1}, {"ok", false}, {"error", "no node `wbe` (did you mean `web`?)"}};
  r = call(server, "stop", {{"nodes", {"wbe"}}});
  CHECK(r["result"]["isError"] == true);
  CHECK(r["result"]["content"][0]["text"] == "no node `wbe` (did you mean `web`?)");

  runs.answer = Exchange{{}, nullptr, "no run is live"};
  r = call(server, "ps", json::object());
  CHECK(r["result"]["isError"] == true);
  CHECK(r["result"]["content"][0]["text"] == "no run is live");
}

TEST_CASE("mcp: logs pages forward by cursor without repeats", "[control][mcp]") {
  FakeRuns runs;
  McpServer server(runs);
  for (std::uint64_t seq = 1; seq <= 10; ++seq) runs.answer.stream.push_back(line(seq, seq % 2 ? "a" : "b", "x"));
  runs.answer.final = {{"v", 1}, {"ok", true}};
  // No cursor: the last n lines, and the cursor after them.
  json r = call(server, "logs", {{"n", 3}})["result"];
  CHECK(runs.asked.back().second.lines == 3);
  CHECK(r["structuredContent"]["lines"].size() == 3);
  CHECK(r["structuredContent"]["lines"][0]["seq"] == 8);
  CHECK(r["structuredContent"]["cursor"] == 10);
  CHECK(r["structuredContent"]["more"] == false);
  // A cursor: the first n after it, then the next page from its cursor.
  r = call(server, "logs", {{"cursor", 2}, {"n", 4}, {"nodes", {"a"}}})["result"];
  CHECK(runs.asked.back().second.lines == 1000);  // all a node keeps, to page through
  CHECK(runs.asked.back().second.nodes == std::vector<std::string>{"a"});
  std::vector<std::uint64_t> seqs;
  for (const json& l : r["structuredContent"]["lines"]) seqs.push_back(l["seq"]);
  CHECK(seqs == std::vector<std::uint64_t>{3, 4, 5, 6});
  CHECK(r["structuredContent"]["more"] == true);
  r = call(server, "logs", {{"cursor", r["structuredContent"]["cursor"]}, {"n", 4}})["result"];
  CHECK(r["structuredContent"]["lines"][0]["seq"] == 7);
  CHECK(r["structuredContent"]["cursor"] == 10);
  CHECK(r["structuredContent"]["more"] == false);
  // Nothing new: an empty page, the cursor where it was.
  r = call(server, "logs", {{"cursor", 10}})["result"];
  CHECK(r["structuredContent"]["lines"].empty());
  CHECK(r["structuredContent"]["cursor"] == 10);
}

TEST_CASE("mcp: events page from the run's start; down says the run's code", "[control][mcp]") {
  FakeRuns runs;
  McpServer server(runs);
  for (std::uint64_t seq = 1; seq <= 5; ++seq)
    runs.answer.stream.push_back({{"v", 1}, {"seq", seq}, {"event", {{"t", 0.1}, {"event", "spawn"}}}});
  runs.answer.final = {{"v", 1}, {"ok", true}};
  json r = call(server, "events", {{"n", 2}})["result"];
  CHECK(r["structuredContent"]["events"].size() == 2);
  CHECK(r["structuredContent"]["cursor"] == 2);
  CHECK(r["structuredContent"]["more"] == true);
  r = call(server, "events", {{"cursor", 2}})["result"];
  CHECK(r["structuredContent"]["events"].size() == 3);

  runs.answer.stream = {{{"v", 1}, {"text", "web * stopping\n"}}};
  runs.answer.final = {{"v", 1}, {"ok", true}, {"code", 3}};
  r = call(server, "down", json::object())["result"];
  CHECK(r["structuredContent"]["code"] == 3);
  CHECK(r["content"][0]["text"].get<std::string>().find("web * stopping") != std::string::npos);
  CHECK(r["isError"] == false);
}
