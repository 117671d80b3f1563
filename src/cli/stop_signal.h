#pragma once

#include <atomic>
#include <string>

#include "absl/time/time.h"

namespace tally {

// How a tally process is asked to stop. main() installs the handlers before
// it does anything else, so a signal at any moment — during flag parsing, a
// connection attempt, a restore — takes the documented path rather than the
// signal's default action:
//   - the first SIGTERM or SIGINT sets the stop flag; each command decides
//     what a stop means for it (`tally run`: a Kafka job finishes its trigger,
//     commits and exits 0; a job over a bounded input that has not reached
//     its end commits nothing and exits 128 + the signal);
//   - a second SIGTERM or SIGINT, a SIGPIPE or a SIGHUP ends the process by
//     that signal at once, after removing the temporary output files
//     (sink/temporary_files.h).
void InstallStopSignalHandlers();

// Set by the first SIGTERM or SIGINT. Lives for the whole process.
const std::atomic<bool>& StopRequestedFlag();
inline bool StopRequested() { return StopRequestedFlag().load(std::memory_order_relaxed); }

// The signal that set the stop flag (SIGTERM or SIGINT), or 0.
int StopSignal();

// A last resort, so that no call stuck on a peer (a server that stops
// answering in the middle of a start, say) can hold a stop up: once the stop
// flag is set, the process gets `bound` to end by itself; past it, a watchdog
// thread prints one line naming `what` the process was doing, removes the
// temporary files and ends the process with exit 1. Nothing more is committed:
// like a crash, which exactly once rides out (the next start redoes the
// uncommitted work). Starts a detached thread; call at most once.
void ExitIfStopOverruns(absl::Duration bound, std::string what);

// The exit code of a command that a stop cut short: 128 + the signal, as a
// shell reports a process the signal ended.
int StoppedExitCode();

}  // namespace tally
