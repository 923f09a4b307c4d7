#include "plan/load.h"

#include <filesystem>

#include "plan/build.h"
#include "plan/hosts.h"
#include "plan/order.h"
#include "plan/resolve.h"
#include "plan/streams.h"
#include "plan/validate.h"
#include "plan/workers.h"
#include "spec/file_read.h"
#include "spec/read.h"

namespace treerun {
namespace fs = std::filesystem;
namespace {

std::string canonical_of(const fs::path& p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(p, ec);
  return ec ? p.lexically_normal().string() : c.string();
}

LoadResult load_text(std::string_view text, const std::string& file_name, const std::string& dir,
                     const std::string& canonical, const Overrides& overrides) {
  LoadResult result;
  Diagnostics diags;
  try {
    ReadContext ctx{diags, {}, {}, {}};
    ctx.budget.bytes = text.size();
    auto raw = read_spec_text(text, file_name, dir, canonical, ctx, 1);
    // Past a budget the raw tree is cut short: building it would only add noise.
    if (!ctx.budget.exhausted) {
      BuiltPlan built = build_plan(*raw, file_name, overrides, diags, ctx.budget.bytes);
      resolve_references(built, diags);
      place_hosts(built, overrides, diags);
      derive_workers(built.plan);
      classify_streams(built, diags);
      order_plan(built.plan);
      validate_plan(built, diags);
      if (diags.empty()) result.plan = std::move(built.plan);
    }
  } catch (const std::bad_alloc&) {
    diags.add({file_name, 0, 0}, "the spec is too large: out of memory reading it");
  } catch (const std::exception& e) {
    diags.add({file_name, 0, 0}, std::string("internal error reading the spec: ") + e.what());
  }
  result.problems = diags.sorted();
  if (!result.problems.empty()) result.plan.reset();
  return result;
}

LoadResult failed(const std::string& file, const std::string& message) {
  LoadResult r;
  r.problems.push_back({{file, 0, 0}, message});
  return r;
}

}  // namespace

LoadResult load_plan_from_string(std::string_view text, const std::string& file_name,
                                 const std::string& base_dir, const Overrides& overrides) {
  if (text.size() > kMaxSpecBytes)
    return failed(file_name, "cannot read the spec: larger than " + std::to_string(kMaxSpecBytes >> 20) + " MiB");
  std::string dir = fs::absolute(base_dir.empty() ? "." : base_dir).lexically_normal().string();
  std::string canonical = file_name == "-" ? "" : canonical_of(fs::path(dir) / fs::path(file_name).filename());
  return load_text(text, file_name, dir, canonical, overrides);
}

LoadResult load_plan(const std::string& spec_path, const Overrides& overrides) {
  std::error_code ec;
  if (spec_path == "-") {
    FileText f = read_stdin();
    if (!f.ok) return failed("-", "cannot read the spec from standard input: " + f.error);
    fs::path cwd = fs::current_path(ec);
    return load_text(f.text, "-", ec ? "/" : cwd.string(), "", overrides);
  }
  FileText f = read_regular_file(spec_path);
  if (!f.ok) return failed(spec_path, "cannot read the spec: " + f.error);
  fs::path abs = fs::absolute(spec_path, ec).lexically_normal();
  if (ec) return failed(spec_path, "cannot read the spec: " + ec.message());
  return load_text(f.text, spec_path, abs.parent_path().string(), canonical_of(abs), overrides);
}

}  // namespace treerun
