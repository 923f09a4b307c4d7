// Reading a node's `stdin:`, `stdout:` and `stderr:`. Sources are checked for syntax
// (names.h) and left unresolved: which node they name is plan/resolve.h's.
#pragma once

#include <optional>
#include <string>

#include "spec/raw.h"
#include "spec/yaml_reader.h"

namespace treerun {

/// `stdin:` in any of its forms: null, inherit, a source or a list of them, or
/// {from, lag, buffer}. Empty after a problem (reported).
std::optional<RawStdin> read_stdin_spec(YamlReader& r, const YamlNode& v, const SourcePos& at);

/// `stdout:` / `stderr:` (KEY names which): log, inherit, null or {file, append}; and
/// for `stderr:` only, `stdout` (where stdout goes, as `2>&1`). A file's path is left
/// as written, in FILE too: plan/ expands it and makes it absolute.
std::optional<At<OutputSpec>> read_output(YamlReader& r, const YamlNode& v, const SourcePos& at,
                                          const std::string& key, std::optional<RawText>& file);

}  // namespace treerun
