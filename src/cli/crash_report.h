#pragma once

namespace tally {

// On a fatal signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) prints one
// line naming the signal and the stack of the thread that took it to stderr,
// removes the run's temporary files, and ends the process by the same signal
// (so the exit status still says what happened). A crash in CI or in
// production then says where it happened, not only that it did. Not in a
// sanitizer build, whose own report is better.
void InstallCrashReport();

}  // namespace tally
