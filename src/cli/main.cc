// tally: per-learner daily event counts from a stream of app events.
// See README.md; `tally --help` and `tally <command> --help` are the reference.

#include "CLI/CLI.hpp"
#include "cli/crash_report.h"
#include "cli/flag.h"
#include "cli/generate_command.h"
#include "cli/produce_command.h"
#include "cli/run_command.h"
#include "cli/stop_signal.h"
#include "cli/usage_error.h"

int main(int argc, char** argv) {
  // Before anything else: a SIGTERM a moment after the start must take the
  // documented path, not the signal's default action.
  tally::InstallStopSignalHandlers();
  tally::InstallCrashReport();
  CLI::App app{"tally: exact per-learner daily event counts from a stream of app events"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tally 0.1.0");

  tally::RunFlags run_flags;
  CLI::App* run = tally::AddRunCommand(app, &run_flags);
  tally::GenerateFlags generate_flags;
  CLI::App* generate = tally::AddGenerateCommand(app, &generate_flags);
  tally::ProduceFlags produce_flags;
  CLI::App* produce = tally::AddProduceCommand(app, &produce_flags);

  if (int code = tally::ParseCommandLine(app, argc, argv); code >= 0) return code;
  if (run->parsed()) return tally::RunCommand(run_flags);
  if (generate->parsed()) return tally::GenerateCommand(generate_flags);
  if (produce->parsed()) return tally::ProduceCommand(produce_flags);
  return tally::kExitUsage;
}
