// libFuzzer entry: any bytes as a control request line. The parser must never crash,
// hang or blow up; a refusal is fine. What it accepts must print and parse back the
// same, so the client and the server cannot drift apart.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "control/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace treerun::control;
  std::string_view line(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_request(line);
  const Request* r = std::get_if<Request>(&parsed);
  if (!r) return 0;
  std::string again = request_line(*r);
  auto back = parse_request(std::string_view(again).substr(0, again.size() - 1));
  const Request* b = std::get_if<Request>(&back);
  if (!b || b->cmd != r->cmd || b->nodes != r->nodes || b->signal != r->signal ||
      (r->cmd == Cmd::logs && (b->lines != r->lines || b->follow != r->follow)))
    std::abort();
  return 0;
}
