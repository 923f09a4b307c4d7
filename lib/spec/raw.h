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

/// The most copies `replicas: N` may ask for.
inline constexpr int kMaxReplicas = 1000;

/// A value and where it was written.
template <class T>
struct At {
  T value{};
  SourcePos pos;
};

/// A string that may hold `${...}` (spec/expand.h), as written: plan/ expands it with
/// the node's environment, then makes a path of it absolute.
struct RawText {
  std::string value;
  SourcePos pos;  // of the value (its opening quote, if quoted)
  /// Columns from POS to the text's first byte (1 past a quote); -1 when the text is
  /// not on POS's line (a block scalar).
  int lead = 0;
  /// Where the text's OFFSET-th byte was written, as closely as known (escapes in a
  /// quoted string are not counted).
  SourcePos at(std::size_t offset) const {
    if (lead < 0 || value.find('\n') != std::string::npos) return pos;
    return {pos.file, pos.line, pos.col + lead + int(offset)};
  }
};

/// Settings a file's top level and a node share, each inherited by the node's children.
struct RawDefaults {
  std::string file;  // the file they were written in, as shown in messages
  std::string dir;   // its folder, absolute: their relative paths resolve against it
  std::optional<At<Millis>> grace;
  std::optional<At<int>> stop_signal;
  std::vector<RawText> env_file;  // paths as written: read by plan/ once expanded
  std::vector<std::pair<std::string, RawText>> env;  // a key once, with its last value
  std::optional<RawText> cwd;     // as written
};

struct RawStdin {
  StdinKind type = StdinKind::null;
  std::vector<At<std::string>> from;  // "NAME", "NAME:stderr", "/a/b", "/a/b:stderr"
  Lag lag = Lag::block;
  std::size_t buffer = 1 << 20;
  SourcePos pos;  // of the `stdin` value
};

/// `watch:` as written (spec/read_watch.h).
struct RawWatch {
  std::vector<RawText> paths;  // as written, `${...}` unexpanded
  std::vector<std::string> ignore;  // globs
  Millis debounce{200};
  bool cascade = true;
  SourcePos pos;  // of the `watch` value
};

struct RawFile;

/// An `after` entry: a name or path, `{NAME: exited}` when any exit will do.
struct RawAfter {
  std::string value;
  SourcePos pos;
  bool exited = false;
};

struct RawNode {
  SourcePos pos;  // of the node's mapping
  std::string dir;  // the folder of its file, absolute
  std::optional<At<std::string>> name;
  /// `name:` was written, even if it was wrong (reported once, where it is): its text
  /// when it was a string, so a reference to it is not reported a second time.
  std::optional<std::string> name_written;
  std::optional<At<Command>> cmd;
  std::vector<RawText> cmd_args;  // a list `cmd`'s items, to expand; empty for a string
  bool cmd_given = false;     // `cmd:` was written (even if it was wrong)
  bool unknown_keys = false;  // some key was not one we know (already reported)
  std::optional<At<bool>> daemon;
  std::vector<RawNode> children;
  bool has_children = false;  // `children:` was given (even empty)
  std::shared_ptr<RawFile> include;
  SourcePos include_pos;
  std::vector<RawAfter> after;
  std::optional<Probe> ready;
  SourcePos ready_pos;
  /// The target of a `tcp`, `http` or `file` probe as written; Probe::arg is checked
  /// (and a file made absolute) only when it holds no `${`: plan/ does it once expanded.
  std::optional<RawText> ready_target;
  std::optional<HealthCheck> health;
  SourcePos health_pos;
  std::optional<RawText> health_target;  // as ready_target, for `health`
  std::optional<At<Millis>> timeout;
  RawDefaults defaults;
  std::optional<At<Command>> stop;
  std::optional<At<OnFailure>> on_failure;
  std::optional<At<RestartPolicy>> restart;
  std::optional<RawStdin> stdin_;
  std::optional<At<OutputSpec>> stdout_;
  std::optional<At<OutputSpec>> stderr_;
  std::optional<RawText> stdout_file, stderr_file;  // `{file: PATH}` as written
  std::optional<At<bool>> tty;
  std::optional<At<bool>> pty;
  std::optional<At<int>> replicas;  // 1 to kMaxReplicas
  std::optional<At<std::string>> on;  // a host index ("1") or name, as written
  std::optional<RawWatch> watch;
};

/// One spec file: the main one, or one reached through `include`.
struct RawFile {
  std::string file;  // as shown in messages
  std::string dir;   // absolute; relative paths in this file resolve against it
  std::optional<At<std::string>> name;
  std::optional<At<Millis>> timeout;
  std::optional<At<LogTarget>> logs;
  std::optional<At<Backend>> backend;
  std::optional<At<SlurmSettings>> slurm;
  RawDefaults defaults;
  std::vector<RawNode> children;
  SourcePos children_pos;  // of the `children` key, or of the document
};

}  // namespace treerun
