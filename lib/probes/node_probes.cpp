#include "probes/node_probes.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <utility>

namespace treerun {
namespace {

/// `exec: CMD`: exits 0. One at a time per node: the next check starts an interval
/// after this one began, or when it ends if it takes longer. The probe's timeout bounds
/// it (cancel() kills a check still running).
class ExecProbe final : public PolledProbe {
 public:
  using PolledProbe::PolledProbe;
  void cancel() override {
    PolledProbe::cancel();
    if (running_ >= 0) host_.stop_beside(running_);
  }

 protected:
  void check(Done done) override {
    std::string why;
    running_ = host_.run_beside(id_, Command{true, {spec_.arg}}, [this, self = shared_from_this(), done](ExitStatus st) {
      running_ = -1;
      done(st.success() ? "" : fmt::format("`{}` {}", spec_.arg, st.describe()));
    }, why);
    if (running_ < 0) done("cannot start the check: " + why);
  }

 private:
  long running_ = -1;
};

class FileProbe final : public PolledProbe {
 public:
  FileProbe(ProbeHost& host, NodeId id, const Probe& spec, std::string cwd)
      : PolledProbe(host, id, spec), cwd_(std::move(cwd)) {}

 protected:
  void check(Done done) override {
    std::string path = spec_.arg;
    if (!path.starts_with('/')) path = cwd_ + "/" + path;
    done(::access(path.c_str(), F_OK) == 0 ? "" : fmt::format("{}: {}", path, std::strerror(errno)));
  }

 private:
  std::string cwd_;
};

}  // namespace

std::shared_ptr<ReadinessProbe> make_exec_probe(ProbeHost& host, NodeId id, const Probe& spec) {
  return std::make_shared<ExecProbe>(host, id, spec);
}

std::shared_ptr<ReadinessProbe> make_file_probe(ProbeHost& host, NodeId id, const Probe& spec, std::string cwd) {
  return std::make_shared<FileProbe>(host, id, spec, std::move(cwd));
}

}  // namespace treerun
