#pragma once

#include <cstdint>

#include "core/event_time.h"
#include "core/uuid.h"

namespace tally {

// One row of the output table: a learner's count of distinct events on a day.
struct DailyCount {
  Uuid user;
  Day day = 0;
  int64_t count = 0;

  friend bool operator==(const DailyCount&, const DailyCount&) = default;
};

}  // namespace tally
