#include "cli/stop_signal.h"

#include <signal.h>

#include <cstdlib>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "runtime/log.h"
#include "sink/temporary_files.h"

namespace tally {
namespace {

std::atomic<bool> stop_requested{false};
std::atomic<int> stop_signal{0};

void OnStopSignal(int signal) {
  int none = 0;
  stop_signal.compare_exchange_strong(none, signal);
  stop_requested.store(true, std::memory_order_relaxed);
  // The next one ends the process: a person pressing Ctrl-C twice means it.
  struct sigaction action {};
  action.sa_handler = &RemoveTemporaryFilesAndDie;
  sigemptyset(&action.sa_mask);
  sigaction(signal, &action, nullptr);
}

}  // namespace

void InstallStopSignalHandlers() {
  struct sigaction action {};
  action.sa_handler = &OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  // A closed pipe on standard output (tally run ... | head) or a lost
  // terminal still ends the process by its signal, but not with temporary
  // files left behind.
  RemoveTemporaryFilesOnSignals({SIGPIPE, SIGHUP});
}

const std::atomic<bool>& StopRequestedFlag() { return stop_requested; }

int StopSignal() { return stop_signal.load(); }

void ExitIfStopOverruns(absl::Duration bound, std::string what) {
  std::thread([bound, what = std::move(what)] {
    while (!StopRequested()) absl::SleepFor(absl::Milliseconds(100));
    absl::SleepFor(bound);
    LogLine("tally", absl::StrCat("did not stop within ", absl::FormatDuration(bound), " of ",
                                  StopSignal() == SIGINT ? "SIGINT" : "SIGTERM", " (", what,
                                  " hangs); exiting without committing: the next start redoes the uncommitted "
                                  "work"));
    RemoveTemporaryFilesNow();
    std::_Exit(1);
  }).detach();
}

int StoppedExitCode() { return 128 + (StopSignal() == SIGINT ? SIGINT : SIGTERM); }

}  // namespace tally
