// The spec as read from YAML: typed values with their positions, nothing resolved.
//
// spec/read.cpp and the files it calls fill these (reporting unknown keys and wrong
// types); plan/ turns them into a Plan (inheritance, references, streams, order).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "spec/env_file.h"
#include "base/command.h"
#include "spec/settings.h"

namespace treerun {

/// A value and where it was written.
template <class T>
struct At {
  T value{};
  SourcePos pos;
};

/// Settings a file's top level and a node share, each inherited by the node's children.
struct RawDefaults {
  std::optional<At<Millis>> grace;
  std::optional<At<int>> stop_signal;
  EnvList env_file;  // already read and parsed
  EnvList env;
  std::optional<At<std::string>> cwd;  // absolute
};

struct RawStdin {
  StdinKind type = StdinKind::null;
  std::vector<At<std::string>> from;  // "NAME", "NAME:stderr", "/a/b", "/a/b:stderr"
  Lag lag = Lag::block;
  std::size_t buffer = 1 << 20;
  SourcePos pos;  // of the `stdin` value
};

struct RawFile;

struct RawNode {
  SourcePos pos;  // of the node's mapping
  std::optional<At<std::string>> name;
  /// `name:` was written, even if it was wrong (reported once, where it is): its text
  /// when it was a string, so a reference to it is not reported a second time.
  std::optional<std::string> name_written;
  std::optional<At<Command>> cmd;
  bool cmd_given = false;     // `cmd:` was written (even if it was wrong)
  bool unknown_keys = false;  // some key was not one we know (already reported)
  std::optional<At<bool>> daemon;
  std::vector<RawNode> children;
  bool has_children = false;  // `children:` was given (even empty)
  std::shared_ptr<RawFile> include;
  SourcePos include_pos;
  std::vector<At<std::string>> after;
  std::optional<Probe> ready;
  SourcePos ready_pos;
  std::optional<At<Millis>> timeout;
  RawDefaults defaults;
  std::optional<At<Command>> stop;
  std::optional<At<OnFailure>> on_failure;
  std::optional<At<RestartPolicy>> restart;
  std::optional<RawStdin> stdin_;
  std::optional<At<OutputSpec>> stdout_;
  std::optional<At<OutputSpec>> stderr_;
  std::optional<At<bool>> tty;
};

/// One spec file: the main one, or one reached through `include`.
struct RawFile {
  std::string file;  // as shown in messages
  std::string dir;   // absolute; relative paths in this file resolve against it
  std::optional<At<std::string>> name;
  std::optional<At<Millis>> timeout;
  std::optional<At<LogTarget>> logs;
  RawDefaults defaults;
  std::vector<RawNode> children;
  SourcePos children_pos;  // of the `children` key, or of the document
};

}  // namespace treerun
