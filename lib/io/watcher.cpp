#include "io/watcher.h"

#include <fnmatch.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace treerun {
namespace fs = std::filesystem;

namespace {

/// What counts as a change. Not IN_MODIFY: a file written a thousand times and closed
/// once is one IN_CLOSE_WRITE. IN_EXCL_UNLINK: a removed file still open is not watched.
constexpr unsigned kMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_ONLYDIR |
                           IN_EXCL_UNLINK;

/// A burst that never pauses is still told, after this many debounces.
constexpr int kMaxWaitDebounces = 10;

std::string parent_of(const std::string& path) {
  std::string parent = fs::path(path).parent_path().string();
  return parent.empty() ? "/" : parent;
}

std::string base_of(const std::string& path) { return fs::path(path).filename().string(); }

std::string join(const std::string& dir, std::string_view name) {
  return dir == "/" ? "/" + std::string(name) : dir + "/" + std::string(name);
}

bool glob_matches(const std::string& glob, const std::string& text) {
  return ::fnmatch(glob.c_str(), text.c_str(), 0) == 0;
}

/// The limit the kernel holds this user to: the lower of the global sysctl and this
/// user namespace's own (a container may have a lower one).
std::string watch_limit() {
  long limit = -1;
  for (const char* file : {"/proc/sys/fs/inotify/max_user_watches", "/proc/sys/user/max_inotify_watches"}) {
    std::ifstream in(file);
    long value = -1;
    if (in >> value && value >= 0 && (limit < 0 || value < limit)) limit = value;
  }
  return limit < 0 ? "unknown" : std::to_string(limit);
}

}  // namespace

bool watch_ignores(const std::vector<std::string>& globs, std::string_view rel) {
  std::string path(rel);
  std::size_t start = 0;
  for (;;) {
    std::size_t slash = path.find('/', start);
    std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    std::string leading = path.substr(0, slash);
    if (part == ".git") return true;
    for (const std::string& glob : globs)
      if (glob_matches(glob, part) || glob_matches(glob, leading)) return true;
    if (slash == std::string::npos) return false;
    start = slash + 1;
  }
}

Watcher::Watcher(boost::asio::io_context& io, Changed changed, Warn warn)
    : io_(io), changed_(std::move(changed)), warn_(std::move(warn)) {}

Watcher::~Watcher() {
  *alive_ = false;
  if (stream_) {
    boost::system::error_code ec;
    stream_->close(ec);  // closes the inotify descriptor, and every watch with it
  }
}

/// The inotify descriptor, made on the first watch: a run without one has none.
bool Watcher::open() {
  if (stream_) return true;
  if (failed_) return false;
  fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) {
    failed_ = true;
    warn_(std::string("cannot watch files: inotify_init1: ") + std::strerror(errno) +
          (errno == EMFILE ? " (the limit fs.inotify.max_user_instances is reached)" : "") +
          "; changes will not restart anything");
    return false;
  }
  stream_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, fd_);
  wait_readable();
  return true;
}

void Watcher::watch(std::size_t id, WatchSet set) {
  forget(id);
  if (!open()) return;
  Set& s = sets_[id];
  s.spec = std::move(set);
  s.timer = std::make_unique<boost::asio::steady_timer>(io_);
  for (std::size_t root = 0; root < s.spec.paths.size(); ++root) {
    const std::string& path = s.spec.paths[root];
    // The folder that holds it sees it replaced, removed and made again.
    if (path != "/") add_watch(parent_of(path), true, {id, root, Scope::entry, parent_of(path)});
    std::error_code ec;
    if (fs::is_directory(path, ec)) add_tree(id, root, path);
  }
}

void Watcher::ignore_file(const std::string& path) {
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);  // --logs and --events are from treerun's folder
  own_files_.push_back((ec ? fs::path(path) : absolute).lexically_normal().string());
}

bool Watcher::own_file(const std::string& path) const {
  if (own_files_.empty()) return false;
  std::string normal = fs::path(path).lexically_normal().string();
  return std::find(own_files_.begin(), own_files_.end(), normal) != own_files_.end();
}

void Watcher::forget(std::size_t id) {
  drop([id](const Interest& i) { return i.set == id; });
  sets_.erase(id);  // its timer goes: a debounce under way is never told
}

/// DIR and every folder in it that is not left out, each watched for set ID. Folders
/// are walked with a stack: a deep tree cannot exhaust ours.
void Watcher::add_tree(std::size_t id, std::size_t root, const std::string& dir) {
  const Set& s = sets_.at(id);
  const std::string& top = s.spec.paths[root];
  std::vector<std::string> todo{dir};
  while (!todo.empty()) {
    std::string at = std::move(todo.back());
    todo.pop_back();
    // The watched path itself may be a link to a folder; below it, links are not
    // followed (a link to an outer folder would loop).
    if (!add_watch(at, at == top, {id, root, Scope::tree, at})) continue;
    std::error_code ec;
    for (fs::directory_iterator it(at, fs::directory_options::skip_permission_denied, ec), end; !ec && it != end;
         it.increment(ec)) {
      std::error_code type_ec;
      if (!it->is_directory(type_ec) || it->is_symlink(type_ec)) continue;
      std::string sub = it->path().string();
      if (!watch_ignores(s.spec.ignore, sub.substr(top == "/" ? 1 : top.size() + 1))) todo.push_back(std::move(sub));
    }
  }
}

/// One inotify watch on DIR for INTEREST; false when it cannot be had (gone meanwhile,
/// no permission, or the limit).
bool Watcher::add_watch(const std::string& dir, bool follow, const Interest& interest) {
  int wd = ::inotify_add_watch(fd_, dir.c_str(), kMask | (follow ? 0 : IN_DONT_FOLLOW));
  if (wd < 0) {
    if (errno == ENOSPC) warn_limit(dir);
    return false;
  }
  // A folder reached twice (two sets, or a file and its folder) is one watch.
  std::vector<Interest>& interests = by_wd_[wd];
  if (std::find(interests.begin(), interests.end(), interest) == interests.end()) interests.push_back(interest);
  return true;
}

/// Drops the interests WHICH selects; a folder nobody is interested in any more is no
/// longer watched.
void Watcher::drop(const std::function<bool(const Interest&)>& which) {
  for (auto it = by_wd_.begin(); it != by_wd_.end();) {
    std::erase_if(it->second, which);
    if (!it->second.empty()) {
      ++it;
      continue;
    }
    ::inotify_rm_watch(fd_, it->first);
    it = by_wd_.erase(it);
  }
}

void Watcher::warn_limit(const std::string& dir) {
  if (std::exchange(limit_warned_, true)) return;
  warn_("cannot watch " + dir + " and what follows it: the limit of inotify watches is reached " +
        "(fs.inotify.max_user_watches = " + watch_limit() + "); changes there are not seen. Raise it " +
        "(sysctl fs.inotify.max_user_watches=524288), or `ignore` big folders");
}

void Watcher::wait_readable() {
  stream_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                      [this, alive = alive_](const boost::system::error_code& ec) {
                        if (ec || !*alive) return;
                        read_events();
                        if (*alive && stream_) wait_readable();
                      });
}

void Watcher::read_events() {
  alignas(inotify_event) char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) return;  // EAGAIN: all read
    for (char* p = buf; p < buf + n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(p);
      std::string_view name = ev->len ? std::string_view(ev->name) : std::string_view();
      on_event(ev->wd, ev->mask, name);
      p += sizeof(inotify_event) + ev->len;
    }
  }
}

void Watcher::on_event(int wd, unsigned mask, std::string_view name) {
  if (mask & IN_Q_OVERFLOW) return overflowed();
  if (mask & IN_IGNORED) {  // the folder is gone, and its watch with it
    by_wd_.erase(wd);
    return;
  }
  auto it = by_wd_.find(wd);
  if (it == by_wd_.end()) return;
  // A copy: what follows may add and drop watches.
  for (const Interest& at : std::vector<Interest>(it->second)) {
    if (!sets_.contains(at.set)) continue;
    if (at.scope == Scope::tree) on_tree_event(at, mask, name);
    else on_entry_event(at, mask, name);
  }
}

/// A change inside a watched folder's tree. A folder made (or moved in) there is
/// watched with what it holds; one moved away is no longer watched under its old name.
void Watcher::on_tree_event(const Interest& at, unsigned mask, std::string_view name) {
  const std::string& top = sets_.at(at.set).spec.paths[at.root];
  std::string path = join(at.dir, name);
  if (watch_ignores(sets_.at(at.set).spec.ignore, path.substr(top == "/" ? 1 : top.size() + 1)) || own_file(path))
    return;
  if ((mask & IN_ISDIR) && (mask & (IN_CREATE | IN_MOVED_TO))) add_tree(at.set, at.root, path);
  if ((mask & IN_ISDIR) && (mask & IN_MOVED_FROM)) {
    std::string below = path + "/";
    drop([&](const Interest& i) {
      return i.set == at.set && i.root == at.root && i.scope == Scope::tree &&
             (i.dir == path || i.dir.starts_with(below));
    });
  }
  changed(at.set, path);
}

/// A change in the folder that holds a watched path: only that name counts. A watched
/// folder made again there is watched again; one moved away or removed is no longer
/// watched (inotify follows the folder, not its name: `mv src old` would otherwise
/// keep old/ watched, and every `mv src.new src` add a tree of watches).
void Watcher::on_entry_event(const Interest& at, unsigned mask, std::string_view name) {
  const std::string& path = sets_.at(at.set).spec.paths[at.root];
  if (name != base_of(path) || own_file(path)) return;
  if ((mask & IN_ISDIR) && (mask & (IN_MOVED_FROM | IN_DELETE)))
    drop([&](const Interest& i) { return i.set == at.set && i.root == at.root && i.scope == Scope::tree; });
  if ((mask & IN_ISDIR) && (mask & (IN_CREATE | IN_MOVED_TO))) add_tree(at.set, at.root, path);
  changed(at.set, path);
}

/// The kernel's queue overflowed: changes were lost. Every set has changed, and its
/// folders are walked again for the ones made meanwhile.
void Watcher::overflowed() {
  for (auto& [id, s] : sets_) {
    for (std::size_t root = 0; root < s.spec.paths.size(); ++root) {
      std::error_code ec;
      if (fs::is_directory(s.spec.paths[root], ec)) add_tree(id, root, s.spec.paths[root]);
    }
    if (!s.spec.paths.empty()) changed(id, s.spec.paths.front());
  }
}

/// A change of set ID: told once the burst is over (debounce).
void Watcher::changed(std::size_t id, const std::string& path) {
  Set& s = sets_.at(id);
  auto now = std::chrono::steady_clock::now();
  if (s.first.empty()) {
    s.first = path;
    s.first_at = now;
  }
  auto deadline = std::min(now + s.spec.debounce, s.first_at + kMaxWaitDebounces * s.spec.debounce);
  unsigned armed = ++s.armed;
  s.timer->expires_at(deadline);
  s.timer->async_wait([this, id, armed, alive = alive_](const boost::system::error_code& ec) {
    if (!ec && *alive) fire(id, armed);
  });
}

void Watcher::fire(std::size_t id, unsigned armed) {
  auto it = sets_.find(id);
  // A later change re-armed the timer (this one was already due): that one tells.
  if (it == sets_.end() || it->second.armed != armed) return;
  std::string path = std::exchange(it->second.first, "");
  changed_(id, path);
}

}  // namespace treerun
