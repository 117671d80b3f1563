#pragma once

#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"

namespace tally {

// The environment variable of a flag: "--input-timezone" -> TALLY_INPUT_TIMEZONE.
std::string FlagEnvName(const std::string& flag);

// A check for a whole-number flag: its text must be a decimal integer from
// `min` to `max`. CLI11 alone clamps 99999999999999999999 to the type's
// largest value and wraps -1 around to a huge unsigned one, both silently.
CLI::Validator WholeNumber(long double min, long double max);

// Declares a flag with a value. Every flag can also come from its environment
// variable and, under its name without dashes, from the --config file.
// Precedence: command line, then environment, then config file, then default.
// An integer flag takes only whole numbers its type holds.
template <typename T>
CLI::Option* AddFlag(CLI::App* command, const std::string& flag, T* value, const std::string& help) {
  CLI::Option* option = command->add_option(flag, *value, help)->envname(FlagEnvName(flag))->capture_default_str();
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    option->check(WholeNumber(static_cast<long double>(std::numeric_limits<T>::min()),
                              static_cast<long double>(std::numeric_limits<T>::max())));
  }
  return option;
}

// Declares an on/off flag (`--available-now`), with the same sources as AddFlag;
// in the environment or the config file it reads true/false.
inline CLI::Option* AddSwitch(CLI::App* command, const std::string& flag, bool* value, const std::string& help) {
  return command->add_flag(flag, *value, help)->envname(FlagEnvName(flag));
}

// Adds --config FILE to a command (read by ParseCommandLine, not by CLI11).
void AddConfigFlag(CLI::App* command);

// Parses argv into `app`, whose subcommands were declared with AddFlag and
// AddConfigFlag, after merging in the --config file (or $TALLY_CONFIG) of the
// chosen subcommand. Returns the exit code to stop with (help, version, usage
// error: message printed), or -1 to go on.
int ParseCommandLine(CLI::App& app, int argc, char** argv);

}  // namespace tally
