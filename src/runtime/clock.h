#pragma once

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace tally {

// Processing time, as the trigger loop sees it. Tests substitute their own.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() = 0;
};

class SystemClock final : public Clock {
 public:
  absl::Time Now() override { return absl::Now(); }
};

}  // namespace tally
