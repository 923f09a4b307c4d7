#include "spec_args.h"

#include <filesystem>
#include <iostream>

extern char** environ;

namespace treerun {
namespace {

constexpr const char* kDefaultSpec = "treerun.yaml";

bool names_a_spec(const std::string& word) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (word == "-" || word.ends_with(".yaml") || word.ends_with(".yml")) return true;
  fs::file_status st = fs::status(word, ec);
  return fs::exists(st) && !fs::is_directory(st);
}

}  // namespace

std::optional<SpecWords> spec_and_nodes(const std::vector<std::string>& words) {
  if (!words.empty() && names_a_spec(words.front()))
    return SpecWords{words.front(), {words.begin() + 1, words.end()}};
  std::error_code ec;
  // As docker compose finds compose.yaml.
  if (std::filesystem::exists(kDefaultSpec, ec)) return SpecWords{kDefaultSpec, words};
  std::filesystem::path here = std::filesystem::current_path(ec);
  std::cerr << "treerun: no SPEC given, and no " << kDefaultSpec << " in "
            << (ec ? std::string("the current folder") : here.string())
            << ": name a spec file (or - for standard input)";
  if (!words.empty()) std::cerr << " (`" << words.front() << "` is no file: it would be a node)";
  std::cerr << '\n';
  return std::nullopt;
}

EnvList own_environment() {
  EnvList env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    std::size_t eq = kv.find('=');
    if (eq != std::string_view::npos) env.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

std::optional<Plan> selected(Plan plan, const std::vector<std::string>& nodes) {
  if (nodes.empty()) return plan;
  Selection s = select_nodes(plan, nodes);
  if (!s.plan) std::cerr << "treerun: " << s.problem << '\n';
  return std::move(s.plan);
}

}  // namespace treerun
