// The control protocol as bytes: what a request may be, and what every reply looks like.
#include <catch.hpp>
#include <string>

#include "control/protocol.h"

using namespace treerun::control;
using json = nlohmann::ordered_json;

namespace {

Request parsed(const std::string& line) {
  auto r = parse_request(line);
  if (auto* why = std::get_if<std::string>(&r)) FAIL("refused: " << *why << "\n  request: " << line);
  return std::get<Request>(r);
}

std::string refusal(const std::string& line) {
  auto r = parse_request(line);
  REQUIRE(std::holds_alternative<std::string>(r));
  return std::get<std::string>(r);
}

json reply(const std::string& line) {
  REQUIRE(line.ends_with('\n'));
  REQUIRE(line.find('\n') == line.size() - 1);  // one line
  json j = parse_reply(line.substr(0, line.size() - 1));
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

}  // namespace

TEST_CASE("every command parses with its keys", "[control][protocol]") {
  CHECK(parsed(R"({"v":1,"cmd":"status"})").cmd == Cmd::status);
  CHECK(parsed(R"({"v":1,"cmd":"ps"})").cmd == Cmd::ps);
  Request logs = parsed(R"({"v":1,"cmd":"logs","nodes":["web","/jobs/a"],"lines":5,"follow":true})");
  CHECK(logs.cmd == Cmd::logs);
  CHECK(logs.nodes == std::vector<std::string>{"web", "/jobs/a"});
  CHECK(logs.lines == 5);
  CHECK(logs.follow);
  CHECK(parsed(R"({"v":1,"cmd":"logs"})").lines == kDefaultLines);
  CHECK(parsed(R"({"cmd":"events","follow":false,"v":1})").cmd == Cmd::events);
  for (const char* verb : {"stop", "start", "restart"})
    CHECK(parsed(std::string(R"({"v":1,"cmd":")") + verb + R"(","nodes":["web"]})").nodes.size() == 1);
  CHECK(parsed(R"({"v":1,"cmd":"signal","nodes":["web"],"signal":"SIGHUP"})").signal == 1);
  CHECK(parsed(R"({"v":1,"cmd":"signal","nodes":["web"],"signal":"usr1"})").signal == 10);
  CHECK(parsed(R"({"v":1,"cmd":"signal","nodes":["web"],"signal":9})").signal == 9);
  CHECK(parsed(R"({"v":1,"cmd":"down"})").cmd == Cmd::down);
  CHECK(parsed(R"({"v":1,"cmd":"wait"})").cmd == Cmd::wait);
}

TEST_CASE("a request is what the client sends, read back the same", "[control][protocol]") {
  Request r = request_for(Cmd::signal);
  r.nodes = {"a/b", "c"};
  r.signal = 15;
  std::string line = request_line(r);
  REQUIRE(line.ends_with('\n'));
  Request back = parsed(line.substr(0, line.size() - 1));
  CHECK(back.cmd == Cmd::signal);
  CHECK(back.nodes == r.nodes);
  CHECK(back.signal == 15);
  CHECK(line.starts_with(R"({"v":1,"cmd":"signal")"));

  Request logs = request_for(Cmd::logs);
  logs.lines = 7;
  logs.follow = true;
  std::string l = request_line(logs);
  Request lb = parsed(l.substr(0, l.size() - 1));
  CHECK(lb.lines == 7);
  CHECK(lb.follow);
  CHECK(lb.nodes.empty());
}

TEST_CASE("malformed requests are refused with a reason", "[control][protocol]") {
  CHECK(refusal("").find("not JSON") != std::string::npos);
  CHECK(refusal("garbage\x01\xff").find("not JSON") != std::string::npos);
  CHECK(refusal(R"({"v":1,"cmd":"ps")").find("not JSON") != std::string::npos);  // half a message
  CHECK(refusal("[1,2]").find("not a JSON object") != std::string::npos);
  CHECK(refusal(R"({"cmd":"ps"})").find("\"v\": 1") != std::string::npos);
  CHECK(refusal(R"({"v":2,"cmd":"ps"})").find("version 2") != std::string::npos);
  CHECK(refusal(R"({"v":"1","cmd":"ps"})").find("version") != std::string::npos);
  CHECK(refusal(R"({"v":1})").find("\"cmd\"") != std::string::npos);
  CHECK(refusal(R"({"v":1,"cmd":"fly"})").find("no command \"fly\"") != std::string::npos);
  CHECK(refusal(R"({"v":1,"cmd":"ps","nodes":["a"]})").find("ps takes no key \"nodes\"") != std::string::npos);
  CHECK(refusal(R"({"v":1,"cmd":"ps","x":1})").find("no key \"x\"") != std::string::npos);
  CHECK(refusal(R"({"v":1,"cmd":"stop"})").find("needs \"nodes\"") != std::string::npos);
  CHECK(refusal(R"({"v":1,"cmd":"stop","nodes":[]})").find("needs \"nodes\"") != std::string::npos);
  CHECK(refusal(R"({"v":1,"cmd":"stop","nodes":"web"})").find("list of node paths") != std::string::npos);
  CHECK(refusal(R"({"v":1,"cmd":"stop","nodes":[""]})").find("non-empty") != std::string::npos);
  CHECK(refusal(R"({"v":1,"cmd":"stop","nodes":[1]})").find("list of node paths") != std::string::npos);
  CHECK(refusal(R"({"v":1,"cmd":"signal","nodes":["a"]})").find("needs \"signal\"") != std::string::npos);
  CHECK(refusal(R"({"v":1,"cmd":"signal","nodes":["a"],"signal":"SIGNOPE"})").find("must be a signal") !=
        std::string::npos);
  CHECK(refusal(R"({"v":1,"cmd":"signal","nodes":["a"],"signal":65})").find("must be a signal") !=
        std::string::npos);
  CHECK(refusal(R"({"v":1,"cmd":"logs","lines":-1})").find("whole number") != std::string::npos);
  CHECK(refusal(R"({"v":1,"cmd":"logs","lines":1.5})").find("whole number") != std::string::npos);
  CHECK(refusal(R"({"v":1,"cmd":"logs","lines":99999999999})").find("whole number") != std::string::npos);
  CHECK(refusal(R"({"v":1,"cmd":"logs","follow":1})").find("true or false") != std::string::npos);
  // Not UTF-8 inside a string: not JSON.
  CHECK(refusal("{\"v\":1,\"cmd\":\"stop\",\"nodes\":[\"\xff\"]}").find("not JSON") != std::string::npos);
}

TEST_CASE("requests are bounded: size and nesting", "[control][protocol]") {
  std::string big = R"({"v":1,"cmd":"stop","nodes":[")" + std::string(kMaxRequest, 'a') + R"("]})";
  CHECK(refusal(big).find("too long") != std::string::npos);
  std::string deep = R"({"v":1,"cmd":"ps","x":)" + std::string(30000, '[') + std::string(30000, ']') + "}";
  CHECK(refusal(deep).find("nested too deep") != std::string::npos);
  // Brackets inside strings are text, not nesting.
  CHECK(parsed(R"({"v":1,"cmd":"stop","nodes":["[[[[[[[[{{{{{{"]})").nodes[0] == "[[[[[[[[{{{{{{");
}

TEST_CASE("replies: each one line with v, the last one with ok", "[control][protocol]") {
  json ok = reply(ok_reply());
  CHECK(ok == json::parse(R"({"v":1,"ok":true})"));
  CHECK(is_final(ok));
  CHECK(reply(ok_reply(3))["code"] == 3);
  json err = reply(error_reply("no node `x`\nat all"));
  CHECK(err["ok"] == false);
  CHECK(err["error"] == "no node `x`\nat all");

  json st = reply(status_reply({"demo", 42, "/a/demo.yaml", 1.5, 3}));
  CHECK(st["run"] == json::parse(R"({"name":"demo","pid":42,"spec":"/a/demo.yaml","uptime":1.5,"running":3})"));
  CHECK(status_from(st["run"]).running == 3);

  NodeStatus n{"jobs/a", "worker", "exited", {}, {}, 2, 0, {}, std::string("ok"), {}};
  json ps = reply(ps_reply({n}));
  REQUIRE(ps["nodes"].size() == 1);
  CHECK(ps["nodes"][0] == json::parse(R"({"path":"jobs/a","kind":"worker","state":"exited","pid":null,
      "uptime":null,"restarts":2,"code":0,"signal":null,"outcome":"ok"})"));
  NodeStatus back = node_from(ps["nodes"][0]);
  CHECK(back.path == "jobs/a");
  CHECK(back.code == 0);
  CHECK_FALSE(back.pid);
  CHECK(back.outcome == "ok");
  CHECK_FALSE(back.host);  // no key under the local backend

  n.host = "n2";
  json remote = reply(ps_reply({n}))["nodes"][0];
  CHECK(remote["host"] == "n2");
  CHECK(node_from(remote).host == "n2");

  json line = reply(line_message("web", "web | hi \"there\"", 7));
  CHECK_FALSE(is_final(line));
  CHECK(line["seq"] == 7);
  CHECK(line["node"] == "web");
  CHECK(line["line"] == "web | hi \"there\"");
  CHECK(reply(text_message("stopping\n"))["text"] == "stopping\n");
  CHECK(reply(skipped_message(12))["skipped"] == 12);
}

TEST_CASE("a node's bytes that are not UTF-8 still make a valid reply", "[control][protocol]") {
  json line = reply(line_message("web", "bin \xff\xfe end", 1));
  CHECK(line["line"].get<std::string>().find("end") != std::string::npos);
}

TEST_CASE("a line's message is the same bytes by the fast way and by the JSON library", "[control][protocol]") {
  // Plain printable ASCII is copied as it is; anything else is escaped by the library:
  // each kind of byte at the edge of the two, in a line and in a node's name.
  const std::vector<std::string> texts{"", "plain text 123", "~ at the top", "a \"quote\"", "a back\\slash",
                                       "tab\there", std::string("nul\0in", 6), "del \x7f", "bell \x07",
                                       "caf\xc3\xa9", "bin \xff\xfe end", "esc \x1b[1m"};
  for (const std::string& text : texts) {
    for (const std::string& node : {std::string("web"), text}) {
      nlohmann::ordered_json j{{"v", 1}, {"seq", 42}, {"node", node}, {"line", text}};
      std::string library = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
      CHECK(line_message(node, text, 42) == library);
    }
  }
}

TEST_CASE("a plain line is read off its message; any other message is left to the parser", "[control][protocol]") {
  auto text_of = [](const std::string& message) {  // as the client has it: no newline
    return plain_line_text(std::string_view(message).substr(0, message.size() - 1));
  };
  for (const std::string& text : {std::string(""), std::string("web | 12345"), std::string("{\"json\" in a line}")}) {
    for (const std::string& node : {std::string("web"), std::string("pipeline/keep")}) {
      const std::string message = line_message(node, text, 987654);  // GOT points into it
      std::optional<std::string_view> got = text_of(message);
      if (text.find('"') != std::string::npos) {
        CHECK_FALSE(got);  // escaped: parsed
      } else {
        REQUIRE(got);
        CHECK(*got == text);
      }
    }
  }
  // Not what line_message makes of plain strings: each left to the parser.
  for (std::string_view m : {R"({"v":1,"seq":3,"node":"web","line":"a\tb"})",
                             R"({"v":1,"seq":3,"node":"w\"b","line":"x"})",
                             R"({"v":2,"seq":3,"node":"web","line":"x"})",
                             R"({"v":1,"seq":,"node":"web","line":"x"})",
                             R"({"v":1,"seq":3,"node":"web","line":"x","more":1})",
                             R"({"v":1,"seq":3,"node":"web","line":"x)",
                             R"({"v":1,"seq":3,"event":{"event":"done"}})",
                             R"({"v":1,"ok":true})", "", "{"}) {
    CHECK_FALSE(plain_line_text(m));
  }
  CHECK_FALSE(text_of(line_message("web", "caf\xc3\xa9", 1)));  // UTF-8: escaped by the library
}

TEST_CASE("an event goes out as the run wrote it", "[control][protocol]") {
  std::string ev = R"({"t":0.500000,"event":"ready","node":"web"})";
  std::string msg = event_message(ev + "\n", 3);
  CHECK(msg == R"({"v":1,"seq":3,"event":)" + ev + "}\n");
  CHECK(reply(msg)["event"]["node"] == "web");
}

TEST_CASE("replies of another version are not read", "[control][protocol]") {
  CHECK(parse_reply(R"({"v":2,"ok":true})").is_discarded());
  CHECK(parse_reply(R"({"ok":true})").is_discarded());
  CHECK(parse_reply("[]").is_discarded());
  CHECK(parse_reply("nope").is_discarded());
}
