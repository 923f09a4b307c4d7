// The commands that look at and act on a running tree from another terminal (treerun(1),
// A RUNNING TREE): ls, ps, logs, events, stop, start, restart, signal, down, wait. They
// find the run by -r/--run or as this user's only live run, send it one request over
// its control socket (lib/control/), and print the replies. main.cpp adds them to the
// command line and runs the one that was given.
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace treerun {

class ClientCommands {
 public:
  explicit ClientCommands(CLI::App& app);
  /// The exit code of the client command that was given; nothing when none was.
  std::optional<int> run();
  /// Their subcommands, for `treerun help CMD`.
  const std::vector<CLI::App*>& commands() const { return commands_; }

 private:
  CLI::App* add(CLI::App& app, const char* name, const char* what, const char* exits);
  int run_command(const CLI::App& cmd);
  int ls();
  int ps();

  struct Flags {
    std::string run;
    bool json = false, follow = false, quiet = false;
    std::size_t lines = 100;
    std::vector<std::string> nodes;
    std::string signal;
  } f_;
  std::vector<CLI::App*> commands_;
};

}  // namespace treerun
