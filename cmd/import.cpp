#include "import.h"

#include <filesystem>
#include <iostream>

#include "spec/file_read.h"
#include "spec/names.h"
#include "spec/procfile.h"

namespace treerun {

int import_procfile(const std::string& file) {
  namespace fs = std::filesystem;
  FileText f = read_regular_file(file);
  if (!f.ok) {
    std::cerr << file << ": cannot read the Procfile: " << f.error << '\n';
    return 1;
  }
  // The paths as the spec writes them: the Procfile's folder as the user named it, so a
  // spec saved in the current folder (`> treerun.yaml`) finds it.
  fs::path folder = fs::path(file).parent_path();
  if (folder.empty()) folder = ".";
  std::error_code ec;
  fs::path env = (folder / ".env").lexically_normal();
  std::string name = fs::weakly_canonical(fs::absolute(folder, ec), ec).filename().string();
  ProcfilePlace place{valid_node_name(name) ? name : "", folder.string(),
                      fs::is_regular_file(env, ec) ? env.string() : "", "treerun import procfile " + file};
  ProcfileSpec spec = procfile_to_spec(f.text, file, place);
  for (const auto& p : spec.problems) std::cerr << p.str() << '\n';
  if (!spec.problems.empty()) return 1;
  std::cout << spec.text;
  return 0;
}

}  // namespace treerun
