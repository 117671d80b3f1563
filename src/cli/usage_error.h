#pragma once

#include <cstdio>
#include <string>

#include "runtime/log.h"

namespace tally {

// Exit codes of the tally binary.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the run failed: input, output, state
inline constexpr int kExitUsage = 2;    // the command line is wrong

// A wrong command line, found while turning flags into a run. Thrown only
// inside the command line layer and caught by RunCommandLine, never across a
// module border.
struct UsageError {
  std::string message;
};

// Runs `body` (returning an exit code); a UsageError becomes a message naming
// the command, a pointer to its --help, and kExitUsage.
template <typename F>
int RunCommandLine(const char* command, F&& body) {
  try {
    return body();
  } catch (const UsageError& e) {
    LogLine(command, e.message);
    std::fprintf(stderr, "Run '%s --help' for usage.\n", command);
    return kExitUsage;
  }
}

}  // namespace tally
