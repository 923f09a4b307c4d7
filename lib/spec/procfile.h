// `treerun import procfile FILE` (treerun(1), COMMANDS › import): a Procfile, as
// foreman, honcho and overmind read it, turned into a treerun spec. Pure: the caller
// reads the file and looks for the `.env` beside it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "spec/diagnostics.h"

namespace treerun {

/// Where the spec's processes run, as the spec should write it.
struct ProcfilePlace {
  std::string name;      // the spec's `name` (the Procfile's folder); left out when empty
  std::string cwd;       // the Procfile's folder
  std::string env_file;  // the `.env` beside it; left out when empty
  std::string command;   // the command line that made the spec, for its first comment
};

struct ProcfileSpec {
  std::string text;                  // the spec, when there is no problem
  std::vector<Diagnostic> problems;  // each at FILE:LINE:COL
};

/// TEXT, the Procfile FILE (as named in messages): each `name: command` line a daemon
/// that runs COMMAND as its shell would, in PLACE. Blank lines and `#` comments are
/// skipped; any other line that is not `name: command` is a problem, as is a name
/// given twice or a Procfile with no process.
ProcfileSpec procfile_to_spec(std::string_view text, const std::string& file, const ProcfilePlace& place);

}  // namespace treerun
