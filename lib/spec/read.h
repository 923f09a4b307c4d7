// YAML text -> RawFile: every key read, typed and positioned; includes and env files
// read too. This file reads files, includes and the shape of the tree; the settings of
// a node are read_settings.h's. Nothing is resolved across nodes here (plan/ does it).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "spec/raw.h"
#include "spec/read_context.h"

namespace treerun {

inline constexpr int kMaxIncludeDepth = 32;
inline constexpr int kMaxTreeDepth = 256;

/// Reads TEXT as the spec file FILE (as shown in messages), whose relative paths resolve
/// against DIR. CANONICAL identifies the file for include-loop detection ("" for stdin).
/// DEPTH is the node depth of this file's children in the whole tree.
/// Never throws; problems go to CTX.diags (the result may be partial).
std::shared_ptr<RawFile> read_spec_text(std::string_view text, const std::string& file,
                                        const std::string& dir, const std::string& canonical,
                                        ReadContext& ctx, int depth);

}  // namespace treerun
