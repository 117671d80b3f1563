#include "runtime/adaptive_trigger.h"

#include <algorithm>

namespace tally {

AdaptiveTrigger::AdaptiveTrigger(absl::Duration base)
    : base_(std::max(base, absl::ZeroDuration())),
      cap_(std::max(base_, std::min(base_ * kMaxFactor, kMaxInterval))),
      interval_(base_) {}

bool AdaptiveTrigger::Lagging(int64_t lag, int64_t read_since_last_trigger) {
  return lag > 0 && lag > read_since_last_trigger;
}

absl::Duration AdaptiveTrigger::AfterTrigger(bool lagging) {
  if (!lagging) {
    Reset();
    return interval_;
  }
  if (factor_ < kMaxFactor) factor_ *= 2;
  interval_ = std::min(base_ * factor_, cap_);
  return interval_;
}

void AdaptiveTrigger::Reset() {
  factor_ = 1;
  interval_ = base_;
}

}  // namespace tally
