#include "spec/procfile.h"

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>

#include "spec/names.h"

namespace treerun {
namespace {

struct Process {
  std::string name;
  std::string command;
};

bool is_blank(char c) { return c == ' ' || c == '\t'; }

/// One line, NAME: COMMAND, or a problem at FILE:LINENO.
std::optional<Process> parse_line(std::string_view line, const std::string& file, int lineno, Diagnostics& diags) {
  std::size_t start = 0;
  while (start < line.size() && is_blank(line[start])) ++start;
  std::size_t colon = line.find(':', start);
  if (colon == std::string_view::npos) {
    diags.add({file, lineno, int(start) + 1}, "expected `name: command`, not `" + shorten(line.substr(start)) + "`");
    return std::nullopt;
  }
  std::string name(line.substr(start, colon - start));
  if (!valid_node_name(name)) {
    diags.add({file, lineno, int(start) + 1},
              "bad process name `" + shorten(name) + "`: use letters, digits, `_`, `.` and `-`");
    return std::nullopt;
  }
  std::size_t cmd = colon + 1;
  while (cmd < line.size() && is_blank(line[cmd])) ++cmd;
  std::size_t end = line.size();
  while (end > cmd && is_blank(line[end - 1])) --end;
  if (cmd == end) {
    diags.add({file, lineno, int(colon) + 2}, "`" + name + "` has no command");
    return std::nullopt;
  }
  return Process{std::move(name), std::string(line.substr(cmd, end - cmd))};
}

std::vector<Process> parse_procfile(std::string_view text, const std::string& file, Diagnostics& diags) {
  std::vector<Process> out;
  std::map<std::string, int> seen;  // name -> its line
  for (int lineno = 1; !text.empty(); ++lineno) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);  // a Procfile written on Windows
    std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') continue;
    auto p = parse_line(line, file, lineno, diags);
    if (!p) continue;
    if (auto [it, fresh] = seen.emplace(p->name, lineno); !fresh) {
      diags.add({file, lineno, int(first) + 1},
                "duplicate name `" + p->name + "`: line " + std::to_string(it->second) + " has it already");
      continue;
    }
    out.push_back(std::move(*p));
  }
  return out;
}

std::string emit(const std::vector<Process>& processes, const ProcfilePlace& place) {
  YAML::Emitter e;
  e << YAML::Comment("made by `" + place.command + "`; cwd and env_file are relative to this file's folder")
    << YAML::Newline;
  e << YAML::BeginMap;
  if (!place.name.empty()) e << YAML::Key << "name" << YAML::Value << place.name;
  e << YAML::Key << "cwd" << YAML::Value << place.cwd;
  if (!place.env_file.empty()) e << YAML::Key << "env_file" << YAML::Value << place.env_file;
  e << YAML::Key << "children" << YAML::Value << YAML::BeginSeq;
  for (const Process& p : processes)
    e << YAML::BeginMap << YAML::Key << "name" << YAML::Value << p.name << YAML::Key << "daemon" << YAML::Value
      << true << YAML::Key << "cmd" << YAML::Value << YAML::DoubleQuoted << p.command << YAML::EndMap;
  e << YAML::EndSeq << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace

ProcfileSpec procfile_to_spec(std::string_view text, const std::string& file, const ProcfilePlace& place) {
  ProcfileSpec out;
  Diagnostics diags;
  std::vector<Process> processes = parse_procfile(text, file, diags);
  if (processes.empty() && diags.empty()) diags.add({file, 0, 0}, "no process: a Procfile has `name: command` lines");
  out.problems = diags.sorted();
  if (out.problems.empty()) out.text = emit(processes, place);
  return out;
}

}  // namespace treerun
