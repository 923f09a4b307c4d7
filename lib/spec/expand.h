// `${...}` in spec values (treerun(1), THE SPEC › Variables): `${VAR}`,
// `${VAR:-default}`, `${VAR:?message}`, `${host:PATH}`, and `$${` for a literal `${`.
// The syntax only: what a variable holds is the caller's lookup (plan/variables.h
// gives a node's environment), so this is pure and unit-tested on its own.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace treerun {

/// What `${host:PATH}` becomes under the local backend.
inline constexpr std::string_view kLocalHost = "localhost";

/// Whether TEXT may change when expanded: it holds `${` (which `$${` holds too).
inline bool has_variables(std::string_view text) { return text.find("${") != std::string_view::npos; }

/// A variable's value, or nothing when it is not set.
using VarLookup = std::function<std::optional<std::string>(std::string_view name)>;

struct Expansion {
  struct Problem {
    std::size_t offset;  // of the `$` that starts the reference, in the text as written
    std::string message;
  };
  struct HostRef {
    std::size_t offset;  // of its `$`
    std::string path;    // as written: "db", "/group/db"
  };
  std::string text;  // the result; where a reference was bad, it is left out
  std::vector<Problem> problems;
  std::vector<HostRef> hosts;  // every `${host:PATH}`, replaced by kLocalHost
};

/// Replaces every reference in TEXT. `${VAR:-default}` takes the default when VAR is
/// unset or empty, `${VAR:?message}` is the problem MESSAGE then (both as in sh and
/// docker compose); defaults and messages may hold references themselves. A `$` not
/// followed by `{` is a plain `$`.
/// What `${host:PATH}` becomes; empty: kLocalHost.
using HostText = std::function<std::string(std::string_view path)>;

Expansion expand_variables(std::string_view text, const VarLookup& lookup, const HostText& host_text = {});

}  // namespace treerun
