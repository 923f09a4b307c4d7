#include "io/carrier.h"

namespace treerun {

std::string Carrier::take_exit_tail() {
  if (!log_) return "";
  log_end();
  return log_->lines.take_tail();
}

void Carrier::log_bytes(std::string_view data) {
  if (!log_) return;
  log_->lines.feed(data);
  log_->after_batch();
}

void Carrier::log_end() {
  if (log_ && log_->lines.finish()) log_->after_batch();
}

}  // namespace treerun
