#pragma once

#include <initializer_list>
#include <string>

namespace tally {

// The temporary files (PATH.tmp-PID) that outputs are written to before they
// are renamed into place, known to the process so that no exit path that runs
// code leaves one behind: a destructor removes its own, and a signal that ends
// the process (SIGPIPE, a second SIGTERM, ...) removes all of them first. What
// no code runs for (SIGKILL, a power cut) is cleaned at the next start by
// RemoveStaleTemporaryFiles.

// The temporary file of the output at `path` in this process: PATH.tmp-PID.
std::string TemporaryFileName(const std::string& path);

// Records `temp_path` as a file to remove should the process die by a signal.
// Returns a slot for ForgetTemporaryFile, or -1 if every slot is taken (the
// file is then only removed by its owner; there are a handful of outputs).
int RememberTemporaryFile(const std::string& temp_path);
// Stops tracking the slot (before its file is renamed or removed). -1 is a no-op.
void ForgetTemporaryFile(int slot);

// Removes every remembered temporary file. Async-signal-safe: for handlers.
void RemoveTemporaryFilesNow();

// Installs, for each signal, a handler that removes the temporary files and
// then ends the process by the same signal with its default action, so the
// exit status still tells what happened.
void RemoveTemporaryFilesOnSignals(std::initializer_list<int> signals);
// The handler itself, for a handler of one's own that hands a signal over.
void RemoveTemporaryFilesAndDie(int signal);

// Before an output is created at `path`: removes the PATH.tmp-PID files beside
// it whose PID is not a live process (left by a run that was killed). A PID
// that is alive, even if reused by another program, keeps its file: never
// remove what a running writer may still rename.
void RemoveStaleTemporaryFiles(const std::string& path);

}  // namespace tally
