// `env_file:` contents: KEY=VALUE lines, as docker compose and systemd read them.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "spec/diagnostics.h"

namespace treerun {

using EnvList = std::vector<std::pair<std::string, std::string>>;

/// Parses TEXT (named FILE in messages): a UTF-8 byte-order mark at the start, blank
/// lines and `#` comments are skipped, an optional `export ` prefix is dropped, and one
/// pair of matching quotes around the value is stripped. A malformed line is reported
/// at FILE:LINE:COL.
EnvList parse_env_text(std::string_view text, const std::string& file, Diagnostics& diags);

/// Reads the env file at ABS_PATH (SHOWN in its lines' messages) and parses it: its
/// pairs, or none and the problem "cannot read WHAT: why" at AT (WHAT: "env_file `x`"). BYTES counts what one
/// load has read; past kMaxTotalBytes (spec/yaml_reader.h) a file is refused.
EnvList read_env_file(const std::string& abs_path, const std::string& shown, const std::string& what,
                      const SourcePos& at, Diagnostics& diags, std::size_t& bytes);

/// Sets each of OVER in INTO: in place where the key is present (so the first position
/// is kept), appended otherwise. Linear time.
void env_merge(EnvList& into, const EnvList& over);

/// `[A-Za-z_][A-Za-z0-9_]*`
bool valid_env_key(std::string_view key);

}  // namespace treerun
