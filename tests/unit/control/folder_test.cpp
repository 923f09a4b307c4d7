// The socket folder's rules and a run's claim on its name, on a real file system with
// real sockets.
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch.hpp>
#include <cstring>
#include <filesystem>

#include "control/claim.h"
#include "control/folder.h"
#include "control/runs.h"
#include "control/server.h"
#include "spec_fixture.h"
#include "test_target.h"

using namespace treerun;
using namespace treerun::control;
using treerun::test::TempDir;

namespace {

/// Sets an environment variable for the scope, then puts the old value back.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = ::getenv(name)) old_ = old;
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

mode_t mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

/// A socket file at PATH that nobody listens on: what a SIGKILLed run leaves.
void leave_stale_socket(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
}

}  // namespace

TEST_CASE("the socket folder: XDG_RUNTIME_DIR, else TMPDIR, else /tmp", "[control][folder]") {
  std::string uid = std::to_string(::geteuid());
  {
    ScopedEnv xdg("XDG_RUNTIME_DIR", "/run/user/7");
    CHECK(socket_folder() == "/run/user/7/treerun");
  }
  ScopedEnv xdg("XDG_RUNTIME_DIR", nullptr);
  {
    ScopedEnv tmp("TMPDIR", "/var/tmp/me");
    CHECK(socket_folder() == "/var/tmp/me/treerun-" + uid);
  }
  ScopedEnv tmp("TMPDIR", "");
  CHECK(socket_folder() == "/tmp/treerun-" + uid);
}

TEST_CASE("the socket folder is made 0700, and a loose or foreign one is refused", "[control][folder]") {
  TempDir dir;
  std::string folder = dir / "treerun-x";
  CHECK(check_folder(folder, false).empty());  // missing: no runs, nothing made
  CHECK_FALSE(std::filesystem::exists(folder));
  mode_t old = ::umask(0);  // the mode must not depend on the umask
  CHECK(check_folder(folder, true).empty());
  ::umask(old);
  CHECK(mode_of(folder) == 0700);

  REQUIRE(::chmod(folder.c_str(), 0777) == 0);
  CHECK(check_folder(folder, true).find("can be written by others (mode 0777)") != std::string::npos);
  REQUIRE(::chmod(folder.c_str(), 0770) == 0);
  CHECK(check_folder(folder, false).find("can be written by others") != std::string::npos);
  REQUIRE(::chmod(folder.c_str(), 0755) == 0);
  CHECK(check_folder(folder, true).empty());  // readable is fine: nobody can swap a socket

  std::string link = dir / "link";
  REQUIRE(::symlink(folder.c_str(), link.c_str()) == 0);
  CHECK(check_folder(link, true).find("symbolic link") != std::string::npos);
  std::string file = dir.write("file", "");
  CHECK(check_folder(file, true).find("not a folder") != std::string::npos);

  if (::geteuid() == 0) {
    REQUIRE(::chown(folder.c_str(), 65534, 65534) == 0);
    CHECK(check_folder(folder, true).find("belongs to uid 65534") != std::string::npos);
  }
}

TEST_CASE("run names: what --name takes, and names made from a spec", "[control][folder]") {
  CHECK(check_run_name("demo").empty());
  CHECK(check_run_name("my-app_2.dev").empty());
  CHECK_FALSE(check_run_name("").empty());
  CHECK_FALSE(check_run_name(".hidden").empty());
  CHECK_FALSE(check_run_name("-x").empty());
  CHECK_FALSE(check_run_name("a/b").empty());
  CHECK_FALSE(check_run_name("a b").empty());
  CHECK_FALSE(check_run_name(std::string(65, 'a')).empty());
  CHECK(run_name_from("my app") == "my_app");
  CHECK(run_name_from("_x.y") == "x.y");
  CHECK(run_name_from("été") == "t__");  // é is two bytes, neither a name character
  CHECK(run_name_from("...") == "run");
  CHECK(run_name_from(std::string(100, 'a')).size() == 64);
  CHECK(run_of_socket("web.sock") == "web");
  CHECK(run_of_socket("web.log").empty());
  CHECK(run_of_socket(".sock").empty());
  CHECK(run_of_socket("a b.sock").empty());
}

TEST_CASE("a claim binds NAME.sock, private, and removes it when it goes", "[control][claim]") {
  TempDir dir;
  std::string folder = dir / "runs";
  std::string why;
  auto claim = SocketClaim::claim(folder, "web", why);
  REQUIRE(claim);
  CHECK(why.empty());
  CHECK(claim->path() == folder + "/web.sock");
  struct stat st {};
  REQUIRE(::lstat(claim->path().c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK(mode_of(claim->path()) == 0700);
  int err = 0;
  CHECK(probe_socket(claim->path(), err) == Liveness::live);
  UniqueFd listener = claim->take_listener();
  CHECK((::fcntl(listener.get(), F_GETFD) & FD_CLOEXEC));
  claim.reset();
  CHECK_FALSE(std::filesystem::exists(folder + "/web.sock"));
}

TEST_CASE("a stale socket is replaced; a claim leaves alone a socket that is not its own", "[control][claim]") {
  TempDir dir;
  std::string folder = dir / "runs";
  REQUIRE(check_folder(folder, true).empty());
  std::string path = socket_path(folder, "web");
  leave_stale_socket(path);
  int err = 0;
  CHECK(probe_socket(path, err) == Liveness::stale);
  std::string why;
  auto claim = SocketClaim::claim(folder, "web", why);
  REQUIRE(claim);
  CHECK(probe_socket(path, err) == Liveness::live);

  // Taken for dead and replaced by another run: the first claim's end must not remove it.
  REQUIRE(::unlink(path.c_str()) == 0);
  leave_stale_socket(path);
  claim.reset();
  CHECK(std::filesystem::exists(path));
}

TEST_CASE("a live run keeps its name, and the refusal names its pid", "[control][claim]") {
  treerun::test::ServerLoop loop;
  std::string folder = std::filesystem::path(loop.server_path()).parent_path();
  std::string why;
  auto second = SocketClaim::claim(folder, "t", why);
  CHECK_FALSE(second);
  CHECK(why.find("a run named 't' is live") != std::string::npos);
  CHECK(why.find("treerun pid 4242") != std::string::npos);  // the TestTarget's status
  CHECK(why.find("/x/t.yaml") != std::string::npos);
  CHECK(std::filesystem::exists(loop.server_path()));
}

TEST_CASE("live runs are listed, and stale sockets go on the way", "[control][runs]") {
  treerun::test::ServerLoop loop;
  std::string folder = std::filesystem::path(loop.server_path()).parent_path();
  leave_stale_socket(socket_path(folder, "dead"));
  auto runs = live_runs(folder, 2000);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].name == "t");
  REQUIRE(runs[0].status);
  CHECK(runs[0].status->pid == 4242);
  CHECK_FALSE(std::filesystem::exists(socket_path(folder, "dead")));

  std::string why;
  CHECK(find_run(folder, "", 2000, why));  // the only one
  CHECK(find_run(folder, "t", 2000, why));
  CHECK_FALSE(find_run(folder, "nope", 2000, why));
  CHECK(why.find("no run named 'nope'") != std::string::npos);
  CHECK(why.find("\n  t (pid 4242") != std::string::npos);
  leave_stale_socket(socket_path(folder, "dead"));
  CHECK_FALSE(find_run(folder, "dead", 2000, why));
  CHECK(why.find("is gone") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(socket_path(folder, "dead")));
}

TEST_CASE("without -r: none, or several, is a message that lists them", "[control][runs]") {
  TempDir dir;
  std::string why;
  CHECK_FALSE(find_run(dir / "none", "", 2000, why));
  CHECK(why.find("no run is live") != std::string::npos);

  treerun::test::ServerLoop a;
  std::string folder = std::filesystem::path(a.server_path()).parent_path();
  treerun::test::TestTarget other;
  auto claim = SocketClaim::claim(folder, "u", why);
  REQUIRE(claim);
  auto b = a.on_loop([&] { return std::make_unique<Server>(a.io, other, std::move(*claim)); });
  CHECK_FALSE(find_run(folder, "", 2000, why));
  CHECK(why.find("several runs are live; name one with -r RUN:\n  t (pid") != std::string::npos);
  CHECK(why.find("\n  u (pid") != std::string::npos);
  a.on_loop([&] { b.reset(); });
}
