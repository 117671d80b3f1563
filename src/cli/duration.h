#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace tally {

// Parses a flag duration: a whole number and one unit, ms, s, m, h or d
// ("200ms", "5s", "10m", "36h", "7d"). At most 100 years; not negative.
absl::StatusOr<absl::Duration> ParseDuration(std::string_view text);

}  // namespace tally
