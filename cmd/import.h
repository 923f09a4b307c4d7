// `treerun import procfile FILE`: the spec for a Procfile, on stdout.
#pragma once

#include <string>

namespace treerun {

/// Prints the spec for the Procfile FILE (spec/procfile.h) on stdout: 0; its problems
/// on stderr: 1.
int import_procfile(const std::string& file);

}  // namespace treerun
