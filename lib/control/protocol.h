// The control protocol (treerun(1), PROTOCOL): JSON Lines over the run's Unix stream
// socket. A client sends one request, a JSON object on one line; the run answers with
// one or more objects, one a line. Every message carries "v": 1. The last reply is the
// one that has "ok": {"v":1,"ok":true,...} or {"v":1,"ok":false,"error":"..."}; the
// replies before it are a stream (log lines, events, console text).
//
// This file is pure: bytes in, values out, and values to bytes. The server and the
// client both speak through it, so the two cannot drift apart.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "control/target.h"

namespace treerun::control {

/// The protocol's version, in every message ("v").
inline constexpr int kProtocolVersion = 1;
/// The longest request line, newline excluded: past it, the request is refused.
inline constexpr std::size_t kMaxRequest = 64 * 1024;
/// Unread replies a client may have queued (refused by its socket) before it is cut off.
inline constexpr std::size_t kMaxUnread = 4 * 1024 * 1024;
/// Queued replies are offered to the client's socket every this many bytes, within a
/// turn of the loop too: a client that keeps up reads a burst while it is made.
inline constexpr std::size_t kWriteAt = 64 * 1024;
/// The send buffer asked for each client's socket (the kernel caps it at wmem_max): a
/// burst that a client reading at full speed has not reached yet waits there.
inline constexpr int kSendBuffer = 1024 * 1024;
/// Clients served at once; the next gets "too many clients".
inline constexpr std::size_t kMaxClients = 64;
/// `logs` without "lines": the last 100 of each node.
inline constexpr std::size_t kDefaultLines = 100;

enum class Cmd { status, ps, logs, events, stop, start, restart, signal, down, wait, reload };

/// Its name in requests ("ps"), and back.
std::string_view name(Cmd cmd);
std::optional<Cmd> cmd_named(std::string_view name);

struct Request {
  Cmd cmd = Cmd::status;
  std::vector<std::string> nodes;   // logs (optional), stop, start, restart, signal
  std::size_t lines = kDefaultLines;  // logs
  bool follow = false;              // logs, events
  int signal = 0;                   // signal: 1..64
};

/// A request for CMD with its defaults.
inline Request request_for(Cmd cmd) {
  Request r;
  r.cmd = cmd;
  return r;
}

/// One request line (without its newline) as a Request, or the reason it is not one:
/// the text of the error reply. Never throws; bounded work for any input.
std::variant<Request, std::string> parse_request(std::string_view line);

/// REQUEST as one line, newline included (what the client sends).
std::string request_line(const Request& request);

// ---- replies, each one line with its newline -------------------------------------

/// {"v":1,"ok":true} and, with CODE, "code": the run's exit code.
std::string ok_reply(std::optional<int> code = std::nullopt);
/// {"v":1,"ok":false,"error":MESSAGE}
std::string error_reply(std::string_view message);
/// {"v":1,"ok":true,"stopped":[..],"started":[..],"restarted":[..],"notes":[..]}, or
/// {"v":1,"ok":false,"error":..,"problems":[..]}: what a `reload` did.
std::string reload_reply(const ReloadResult& result);
/// {"v":1,"ok":true,"run":{name,pid,spec,uptime,running}}
std::string status_reply(const RunStatus& status);
/// {"v":1,"ok":true,"nodes":[{path,kind,state,pid,uptime,restarts,code,signal,outcome}]}
std::string ps_reply(const std::vector<NodeStatus>& nodes);
/// {"v":1,"seq":SEQ,"node":NODE,"line":LINE}: a line of `logs`, SEQ its number in the run.
std::string line_message(std::string_view node, std::string_view line, std::uint64_t seq);
/// {"v":1,"seq":SEQ,"event":EVENT}: EVENT is one event of the event log, a JSON object,
/// as is; SEQ its number in the run.
std::string event_message(std::string_view event_json, std::uint64_t seq);
/// {"v":1,"text":TEXT}: the run's console, for `down`.
std::string text_message(std::string_view text);
/// {"v":1,"skipped":N}: N older lines or events were left out (over kMaxUnread at once).
std::string skipped_message(std::size_t n);

// ---- what the client reads back ---------------------------------------------------

/// A reply line parsed, with its keys in the order they came (so an event prints as the
/// run wrote it); a discarded value when LINE is no JSON object of this version.
nlohmann::ordered_json parse_reply(std::string_view line);
/// The LINE of MESSAGE (one reply line, without its newline) when it is a line of
/// `logs` as line_message() makes it of a plain node name and a plain line (printable
/// ASCII, no quote or backslash: most lines): read off where it stands, no JSON parsed,
/// so that a client keeps up with the run. Nothing for any other message: parse it.
std::optional<std::string_view> plain_line_text(std::string_view message);
/// Whether MESSAGE is the last reply (it has "ok").
inline bool is_final(const nlohmann::ordered_json& message) { return message.contains("ok"); }

RunStatus status_from(const nlohmann::ordered_json& run);
NodeStatus node_from(const nlohmann::ordered_json& node);
/// A node's row as ps_reply writes it (the objects of `ps --json`).
nlohmann::ordered_json node_json(const NodeStatus& node);

}  // namespace treerun::control
