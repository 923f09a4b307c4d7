// `http: URL`: a GET whose status counts (`status`, default 2xx), over plain TCP or,
// for `https://`, TLS (Boost.Asio's SSL over OpenSSL): the server's certificate is
// checked against the system's trust store and the URL's host name (SNI sent), unless
// `insecure: true`.
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "probes/probe.h"

namespace treerun {

/// The GET check for SPEC (an http:// or https:// URL), each bounded by LIMIT.
std::shared_ptr<Check> make_http_check(ProbeHost& host, const Probe& spec, Millis limit);

/// The status code of an HTTP status line ("HTTP/1.1 200 OK"): three digits after the
/// version and one space, then a space or the end. Anything else is no status.
std::optional<int> http_status(std::string_view line);

/// Whether CODE is one of RANGES; empty RANGES: 2xx.
bool status_counts(int code, const std::vector<StatusRange>& ranges);

/// The longest status line an `http:` probe reads before it gives up on the answer.
constexpr std::size_t kMaxStatusLine = 4096;

}  // namespace treerun
