#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace tally {

// Parses a flag size: a whole number and a unit, B, KiB, MiB, GiB or TiB
// (powers of 1024) or KB, MB, GB, TB (powers of 1000): "512MiB", "2GiB",
// "300MB". At most 1 PiB.
absl::StatusOr<uint64_t> ParseByteSize(std::string_view text);

}  // namespace tally
