// Watching files for the development loop (treerun(1), THE DEVELOPMENT LOOP ›
// Watching): one inotify descriptor in the run's one Asio loop, no thread and no
// polling. Each watch set (a node's `watch`) names folders, watched with everything in
// them (folders made later included), and files; `.git/` and what its `ignore` globs
// match are left out. A burst of changes is one: a set is told once no change has come
// for its debounce (and at the latest 10 debounces after the first).
//
// A path is watched through the folder that holds it (a file is seen by name there), so
// an editor that saves by writing a temporary file and renaming it over the old one
// is seen, and a watched folder that is removed and made again is watched again.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/units.h"

namespace treerun {

struct WatchSet {
  std::vector<std::string> paths;   // absolute: folders (with all inside) or files
  std::vector<std::string> ignore;  // fnmatch globs
  Millis debounce{200};
};

/// Whether REL, a path relative to a watched folder, is left out: a part of it is
/// `.git`, or one of GLOBS matches REL, one of its leading folders, or one of its parts
/// (`*.log` and `node_modules` match at any depth; `build/*` under build/).
bool watch_ignores(const std::vector<std::string>& globs, std::string_view rel);

class Watcher {
 public:
  /// A set's change, once debounced: PATH is the first path that changed.
  using Changed = std::function<void(std::size_t set, const std::string& path)>;
  /// Something the run should say once (the watch limit reached, no inotify at all).
  using Warn = std::function<void(const std::string& text)>;

  Watcher(boost::asio::io_context& io, Changed changed, Warn warn);
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  /// Watches SET as ID, in place of what ID watched before.
  void watch(std::size_t id, WatchSet set);
  /// Stops watching ID: it is never told again.
  void forget(std::size_t id);
  /// A file treerun itself has written to (a node's `{file:}` output, --logs,
  /// --events): a change to it is no change, or a node writing into its own watched
  /// folder would restart itself for ever.
  void ignore_file(const std::string& path);
  /// Folders watched now (one inotify watch each), for tests.
  std::size_t folders() const { return by_wd_.size(); }

 private:
  /// Why a folder is watched for a set: it is in the tree of a watched folder, or it
  /// holds a watched path (then only that name counts).
  enum class Scope { tree, entry };
  struct Interest {
    std::size_t set;
    std::size_t root;  // index into the set's paths
    Scope scope;
    std::string dir;   // the folder's path, as the set reached it
    bool operator==(const Interest&) const = default;
  };
  struct Set {
    WatchSet spec;
    std::string first;  // the first change of the burst being debounced; "": none
    std::chrono::steady_clock::time_point first_at;
    unsigned armed = 0;  // which arming of the timer is current
    std::unique_ptr<boost::asio::steady_timer> timer;
  };

  bool open();
  void add_tree(std::size_t id, std::size_t root, const std::string& dir);
  bool add_watch(const std::string& dir, bool follow, const Interest& interest);
  void drop(const std::function<bool(const Interest&)>& which);
  void wait_readable();
  void read_events();
  void on_event(int wd, unsigned mask, std::string_view name);
  void on_tree_event(const Interest& at, unsigned mask, std::string_view name);
  void on_entry_event(const Interest& at, unsigned mask, std::string_view name);
  bool own_file(const std::string& path) const;
  void overflowed();
  void changed(std::size_t id, const std::string& path);
  void fire(std::size_t id, unsigned armed);
  void warn_limit(const std::string& dir);

  boost::asio::io_context& io_;
  Changed changed_;
  Warn warn_;
  int fd_ = -1;
  bool failed_ = false;  // inotify could not be had: said once, nothing watched
  std::unique_ptr<boost::asio::posix::stream_descriptor> stream_;
  std::map<int, std::vector<Interest>> by_wd_;
  std::map<std::size_t, Set> sets_;
  std::vector<std::string> own_files_;  // lexically normal
  bool limit_warned_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace treerun
