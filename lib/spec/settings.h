// spec/ owns reading a spec: YAML text (the main file, its includes, its env files)
// -> a RawFile (raw.h) of typed values, each with the file, line and column it was
// written at, and every problem a value can tell by itself (diagnostics.h). Nothing
// is resolved across nodes: references, inheritance and order are plan/'s. It may
// include base/ only, never plan/ or anything above it. read.h is the way in.
//
// This file: the vocabulary of spec settings, values a spec file can say, as the
// reader gives them and the plan keeps them.
#pragma once

#include <compare>
#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/units.h"

namespace treerun {

/// A spec file's name as positions carry it: one copy per distinct name for the whole
/// process, so that copying a position allocates nothing. A node read from a spec holds
/// some 30 positions; with a name longer than a string's inline buffer each was a heap
/// copy of it (0.8 KiB per node of a spec read from /tmp/treerun-bench-XXXXXXXX/). The
/// names are few (the spec, its includes and env files), kept until the process ends.
class FileName {
 public:
  FileName() = default;
  FileName(std::string_view name);  // implicit, as the std::string it stands for
  FileName(const std::string& name) : FileName(std::string_view(name)) {}
  FileName(const char* name) : FileName(std::string_view(name)) {}
  const std::string& str() const { return *name_; }
  operator const std::string&() const { return *name_; }
  bool empty() const { return name_->empty(); }
  /// One copy per name: the same name is the same pointer.
  friend bool operator==(const FileName& a, const FileName& b) { return a.name_ == b.name_; }
  friend bool operator==(const FileName& a, const std::string& b) { return *a.name_ == b; }
  friend bool operator==(const FileName& a, const char* b) { return *a.name_ == b; }
  friend std::strong_ordering operator<=>(const FileName& a, const FileName& b) { return *a.name_ <=> *b.name_; }
  friend std::string operator+(const FileName& a, std::string_view b) { return *a.name_ + std::string(b); }
  friend std::ostream& operator<<(std::ostream& out, const FileName& f);

 private:
  static const std::string kNone;
  const std::string* name_ = &kNone;
};

/// Where a key or value came from, for messages that point at it.
struct SourcePos {
  FileName file;  // as the user named it ("-" for standard input)
  int line = 0;   // 1-based; 0 = unknown
  int col = 0;    // 1-based
};

/// HTTP status codes from LO to HI, both included: `status: [200, "300-399"]`.
struct StatusRange {
  int lo = 200, hi = 299;
  bool operator==(const StatusRange&) const = default;
};

struct Probe {
  enum class Type { none, log, tcp, http, exec, file, notify };
  Type type = Type::none;  // none: started = ready
  std::string arg;         // regex, HOST:PORT, URL, shell command, path; empty for notify
  /// `ready`: the deadline for the whole probe. `health`: how long one check may take.
  Millis timeout{30'000};
  Millis interval{100};
  SourcePos pos;           // of the probe's value (a bad regex points here)
  std::vector<StatusRange> status;  // http: the codes that count; empty: 2xx
  bool insecure = false;            // https: no certificate check
};

/// `health`: a probe checked every `interval` once the node is ready; FAILURES failed
/// checks in a row are a failure of the node.
struct HealthCheck {
  Probe probe;  // its interval defaults to 10s, its timeout (one check's) to the interval
  int failures = 3;
};

/// `continue` is a C++ keyword, hence the underscore.
enum class OnFailure { cancel, ignore, restart, continue_ };

/// The most restarts a `restart: {max: N}` may allow.
inline constexpr int kMaxRestarts = 1'000'000;

struct RestartPolicy {
  int max = 3;
  Millis within{60'000};
  Millis backoff{100};
};

enum class Lag { block, drop };

/// Where a node's stdin comes from.
enum class StdinKind { null, inherit, sources };

struct OutputSpec {
  /// as_stdout: `stderr: stdout`, where stdout goes (`2>&1`); never for stdout.
  enum class Type { log, inherit, null, file, as_stdout };
  Type type = Type::log;
  bool log_explicit = false;  // the spec said `log` (a source that feeds a stdin logs only then)
  std::string path;           // type == file; absolute
  bool append = false;
};

/// Where the merged log stream goes (`logs:` / `--logs`).
/// Where the tree's processes run (treerun(1), ACROSS MACHINES).
enum class Backend { local, slurm };

/// `slurm: {nodes, partition, time, args}`: the allocation `up` asks for when it is not
/// inside one already.
struct SlurmSettings {
  int nodes = 0;                  // 0: as many as the nodes' `on` need, at least 1
  std::string partition;          // "": the cluster's default
  std::optional<Millis> time;     // salloc --time, in whole minutes (rounded up)
  std::vector<std::string> args;  // more salloc arguments, as given
};

struct LogTarget {
  enum class Type { stdout_, stderr_, none, file };
  Type type = Type::stdout_;
  std::string path;  // type == file; absolute
};

}  // namespace treerun
