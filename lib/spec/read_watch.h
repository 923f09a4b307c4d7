// `watch:` of a node (treerun(1), THE DEVELOPMENT LOOP › Watching): a list of paths, or
// a mapping {paths, ignore, debounce, cascade}. The paths are kept as written: plan/
// expands their `${...}`, makes them absolute and checks that each exists.
#pragma once

#include "spec/raw.h"
#include "spec/yaml_reader.h"

namespace treerun {

/// Reads V (the value of `watch`, its key at AT) into N.watch.
void read_watch(YamlReader& r, const YamlNode& v, const SourcePos& at, RawNode& n);

}  // namespace treerun
