// tally: per-learner daily event counts from a stream of app events.
// See README.md; `tally --help` and `tally <command> --help` are the reference.

#include <cstdio>

#include "CLI/CLI.hpp"
#include "cli/exit_codes.h"
#include "cli/run_command.h"

int main(int argc, char** argv) {
  CLI::App app{"tally: exact per-learner daily event counts from a stream of app events"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tally 0.1.0");

  tally::RunFlags run_flags;
  CLI::App* run = tally::AddRunCommand(app, &run_flags);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "tally: %s\nRun 'tally --help' or 'tally <command> --help' for usage.\n", e.what());
    return tally::kExitUsage;
  }
  if (run->parsed()) return tally::RunCommand(run_flags);
  return tally::kExitUsage;
}
