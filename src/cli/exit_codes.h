#pragma once

#include <stdexcept>
#include <string>

namespace tally {

// Exit codes of the tally binary.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the run failed: input, output, state
inline constexpr int kExitUsage = 2;    // the command line is wrong

}  // namespace tally
