// Helpers for the spec tests: a temp folder for fixture files, loading a spec from a
// string, and finding a problem by message and position.
#pragma once

#include <stdlib.h>

#include <catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "plan/load.h"

namespace treerun::test {

/// A folder made with mkdtemp, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/treerun-unit-XXXXXX";
    const char* d = mkdtemp(tmpl);
    REQUIRE(d != nullptr);
    path_ = d;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

  /// Writes TEXT to NAME (folders made as needed); returns the full path.
  std::string write(const std::string& name, const std::string& text) const {
    std::string full = *this / name;
    std::filesystem::create_directories(std::filesystem::path(full).parent_path());
    std::ofstream(full, std::ios::binary) << text;
    return full;
  }

 private:
  std::string path_;
};

/// Loads TEXT as "spec.yaml" in DIR (relative paths resolve there).
inline LoadResult load(const std::string& text, const std::string& dir = "/tmp",
                       const Overrides& overrides = {}) {
  return load_plan_from_string(text, "spec.yaml", dir, overrides);
}

/// The node at PATH of P (it must be there).
inline const PlanNode& at(const Plan& p, const std::string& path) {
  auto id = p.find(path);
  REQUIRE(id.has_value());
  return p[*id];
}

/// The value of KEY in N's environment, or "(unset)".
inline std::string env_of(const PlanNode& n, const std::string& key) {
  for (const auto& [k, v] : n.env)
    if (k == key) return v;
  return "(unset)";
}

/// Every problem, one per line, for failure messages.
inline std::string problems(const LoadResult& r) {
  std::string out;
  for (const auto& p : r.problems) out += p.str() + "\n";
  return out.empty() ? "(no problem)\n" : out;
}

/// Whether R has a problem at LINE:COL whose message contains TEXT (any file).
/// The plan TEXT loads to; a problem fails the test, naming it.
inline Plan plan_of(const std::string& text) {
  auto r = load(text);
  INFO(problems(r));
  REQUIRE(r.ok());
  return *r.plan;
}

inline bool has_problem(const LoadResult& r, const std::string& text, int line, int col) {
  for (const auto& p : r.problems)
    if (p.pos.line == line && p.pos.col == col && p.message.find(text) != std::string::npos)
      return true;
  return false;
}

}  // namespace treerun::test

/// Asserts that loading failed with a problem containing TEXT at LINE:COL.
#define REQUIRE_PROBLEM(result, text, line, col)                         \
  do {                                                                   \
    INFO(::treerun::test::problems(result));                             \
    REQUIRE_FALSE((result).plan.has_value());                            \
    REQUIRE(::treerun::test::has_problem((result), (text), (line), (col))); \
  } while (0)

/// Asserts that loading succeeded.
#define REQUIRE_LOADS(result)                  \
  do {                                         \
    INFO(::treerun::test::problems(result));   \
    REQUIRE((result).ok());                    \
  } while (0)
