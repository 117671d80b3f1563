#include "cli/crash_report.h"

#include <execinfo.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "sink/temporary_files.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TALLY_SANITIZER_REPORTS_CRASHES 1
#endif

namespace tally {
#ifndef TALLY_SANITIZER_REPORTS_CRASHES
namespace {

void WriteText(const char* text) {
  ssize_t ignored = write(STDERR_FILENO, text, strlen(text));
  (void)ignored;
}

// Async-signal-safe but for backtrace(), whose first call may load libgcc:
// InstallCrashReport makes that call up front.
void OnCrash(int signal) {
  WriteText("tally: crashed with signal ");
  WriteText(sigabbrev_np(signal) != nullptr ? sigabbrev_np(signal) : "?");
  WriteText("; a bug: please report it with this stack and the command line\n");
  void* frames[64];
  const int n = backtrace(frames, 64);
  backtrace_symbols_fd(frames, n, STDERR_FILENO);
  RemoveTemporaryFilesAndDie(signal);
}

}  // namespace
#endif

void InstallCrashReport() {
#ifndef TALLY_SANITIZER_REPORTS_CRASHES
  void* warm[1];
  backtrace(warm, 1);
  // The handler runs on its own stack, so a stack overflow is reported too.
  static char alternate_stack[64 * 1024];
  stack_t ss{};
  ss.ss_sp = alternate_stack;
  ss.ss_size = sizeof alternate_stack;
  sigaltstack(&ss, nullptr);
  struct sigaction action {};
  action.sa_handler = &OnCrash;
  action.sa_flags = SA_ONSTACK | SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  for (int signal : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) sigaction(signal, &action, nullptr);
#endif
}

}  // namespace tally
