// Acting on a run as the control socket's server does: from inside its loop, through
// control::Target, with a client's uid and pid.
#pragma once

#include <boost/asio/post.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "run_fixture.h"

namespace treerun::test {

using control::Verb;
constexpr control::Peer kPeer{1000, 4242};

/// One command's answer, and how far the journal was when it came.
struct Answer {
  bool given = false;
  std::string error;
  std::size_t at = 0;  // journal entries before the answer
  int times = 0;       // answers given (one, always)
};

/// Asks VERB on PATHS in a later turn of RIG's loop; THEN runs when it is answered.
inline std::shared_ptr<Answer> ask(RunRig& rig, Verb verb, std::vector<std::string> paths, int sig = 0,
                                   std::function<void()> then = {}) {
  auto a = std::make_shared<Answer>();
  boost::asio::post(rig.io, [&rig, a, verb, paths = std::move(paths), sig, then = std::move(then)] {
    rig.sup().act(verb, paths, sig, kPeer, [&rig, a, then](std::string error) {
      a->given = true;
      a->times++;
      a->error = std::move(error);
      a->at = rig.launcher.journal().size();
      if (then) then();
    });
  });
  return a;
}

/// The journal up to N entries.
inline std::vector<std::string> first(const std::vector<std::string>& journal, std::size_t n) {
  return {journal.begin(), journal.begin() + static_cast<long>(std::min(n, journal.size()))};
}

/// The row of `ps` for PATH.
inline control::NodeStatus row(RunRig& rig, const std::string& path) {
  for (const auto& r : rig.sup().ps())
    if (r.path == path) return r;
  FAIL("no row " << path);
  return {};
}

/// Every line of PATHS's history (all nodes when empty), as `logs` replays it.
inline std::vector<std::string> history(RunRig& rig, std::vector<std::string> paths = {}, std::size_t n = 100000) {
  std::vector<std::string> out;
  rig.sup().logs(paths, n, false, [&](std::string_view, std::string_view line, std::uint64_t) { out.emplace_back(line); });
  return out;
}

inline bool has_line_with(const std::vector<std::string>& lines, const std::string& part) {
  for (const auto& l : lines)
    if (l.find(part) != std::string::npos) return true;
  return false;
}

}  // namespace treerun::test
