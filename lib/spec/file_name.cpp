// FileName (settings.h): the names, each kept once.
#include <mutex>
#include <ostream>
#include <set>

#include "spec/settings.h"

namespace treerun {

const std::string FileName::kNone;

FileName::FileName(std::string_view name) {
  if (name.empty()) return;
  // A reader makes every position of a file from the same name: the last one found
  // answers most lookups without the lock (a spec of 100 000 nodes makes millions).
  thread_local const std::string* last = nullptr;
  if (last && *last == name) {
    name_ = last;
    return;
  }
  static std::mutex lock;
  static std::set<std::string, std::less<>> names;  // a set's elements never move
  std::lock_guard hold(lock);
  auto it = names.find(name);
  if (it == names.end()) it = names.emplace(name).first;
  name_ = last = &*it;
}

std::ostream& operator<<(std::ostream& out, const FileName& f) { return out << f.str(); }

}  // namespace treerun
