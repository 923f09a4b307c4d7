// Reading typed values out of YAML nodes (yaml_tree.h), reporting each mistake with its position.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "spec/diagnostics.h"
#include "spec/raw.h"
#include "spec/yaml_tree.h"

namespace treerun {

/// Limits that keep a hostile spec from taking the machine: shared by every file one
/// load reads (the main spec, its includes and env files).
struct ReadBudget {
  std::size_t values = 0;  // YAML values looked at; aliases count each time they are used
  std::size_t nodes = 0;   // spec nodes
  std::size_t reserved = 0;  // spec nodes room was made for before reading them
  std::size_t bytes = 0;   // bytes read from files
  std::size_t files = 0;   // included files read
  bool exhausted = false;  // reported once; then reading stops
};

inline constexpr std::size_t kMaxValues = 4'000'000;
inline constexpr std::size_t kMaxNodes = 100'000;
inline constexpr std::size_t kMaxTotalBytes = std::size_t(64) << 20;
inline constexpr std::size_t kMaxIncludes = 1000;

/// One file's reading context: its name for messages, its folder for relative paths.
class YamlReader {
 public:
  YamlReader(std::string file, std::string dir, Diagnostics& diags, ReadBudget& budget)
      : file_(std::move(file)), dir_(std::move(dir)), diags_(diags), budget_(budget) {}

  const std::string& file() const { return file_; }
  const std::string& dir() const { return dir_; }
  Diagnostics& diags() { return diags_; }
  ReadBudget& budget() { return budget_; }

  /// 1-based position of NODE; FALLBACK when it has none.
  SourcePos pos(const YamlNode& node, const SourcePos& fallback = {}) const;
  void error(const SourcePos& pos, std::string message) { diags_.add(pos, std::move(message)); }

  /// Counts one more value against the budget; false (reported once) when it is spent.
  bool spend(const SourcePos& pos);

  /// KEY names the setting in messages ("`grace` must be ...").
  std::optional<std::string> scalar(const YamlNode& v, std::string_view key, const SourcePos& at);
  std::optional<bool> boolean(const YamlNode& v, std::string_view key, const SourcePos& at);
  std::optional<Millis> duration(const YamlNode& v, std::string_view key, const SourcePos& at);
  std::optional<std::size_t> size(const YamlNode& v, std::string_view key, const SourcePos& at);
  std::optional<int> signal(const YamlNode& v, std::string_view key, const SourcePos& at);
  /// A list is the argv; a string is command_from_string()'s (base/command.h): plain
  /// words run directly, anything else by `/bin/sh -c`.
  std::optional<Command> command(const YamlNode& v, std::string_view key, const SourcePos& at);
  /// A string that may hold `${...}`: scalar() with where its text starts.
  std::optional<RawText> text(const YamlNode& v, std::string_view key, const SourcePos& at);
  /// A string or a list of them, each as text().
  std::optional<std::vector<RawText>> texts(const YamlNode& v, std::string_view key, const SourcePos& at);
  /// A string or a list of strings.
  std::optional<std::vector<At<std::string>>> strings(const YamlNode& v, std::string_view key,
                                                      const SourcePos& at);
  /// PATH made absolute against this file's folder.
  std::string absolute(const std::string& path) const;

  /// Checks every key of mapping M against KNOWN (unknown keys and duplicates are
  /// reported); returns the keys, with positions, to dispatch on. Keys starting with
  /// `x-` are skipped, and `<<: *anchor` merges are expanded (keys written win).
  std::vector<std::pair<At<std::string>, YamlNode>> entries(
      const YamlNode& m, const std::vector<std::string_view>& known, std::string_view where);

 private:
  void merge_entries(const YamlNode& v, const std::vector<std::string_view>& known,
                     std::string_view where, std::set<std::string>& seen,
                     std::vector<std::pair<At<std::string>, YamlNode>>& out);

  std::string file_;
  std::string dir_;
  Diagnostics& diags_;
  ReadBudget& budget_;
};

/// " (did you mean `X`?)" for an unknown KEY: treerun's word for a key of docker compose
/// and its kin (`command`: `cmd`, `depends_on`: `after`), where KNOWN has it; else the
/// nearest of KNOWN within two edits; else "".
std::string key_hint(std::string_view key, const std::vector<std::string_view>& known);

/// "a mapping", "a list", "a string", "empty": for "must be X, not Y" messages.
std::string kind_of(const YamlNode& v);

}  // namespace treerun
