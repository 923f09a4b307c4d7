#include <catch.hpp>

#include "probes/http_check.h"

using treerun::http_status;

TEST_CASE("an HTTP status line gives its three-digit code", "[probes][http]") {
  CHECK(http_status("HTTP/1.1 200 OK") == 200);
  CHECK(http_status("HTTP/1.0 204") == 204);
  CHECK(http_status("HTTP/2 503 Service Unavailable") == 503);
}

TEST_CASE("what is not a status line has no status, so it is never 2xx", "[probes][http]") {
  CHECK_FALSE(http_status("HTTP/1.1 2000000 OK"));  // seven digits: not "2xx"
  CHECK_FALSE(http_status("HTTP/1.1 20 OK"));
  CHECK_FALSE(http_status("HTTP/1.1 2x0 OK"));
  CHECK_FALSE(http_status("SSH-2.0-OpenSSH_9.2"));
  CHECK_FALSE(http_status("HTTP/1.1"));
  CHECK_FALSE(http_status(""));
}
