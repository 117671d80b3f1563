#pragma once

#include <string>

#include "CLI/CLI.hpp"

namespace tally {

// The environment variable of a flag: "--input-timezone" -> TALLY_INPUT_TIMEZONE.
std::string FlagEnvName(const std::string& flag);

// Declares a flag with a value. Every flag can also come from its environment
// variable and, under the same name without dashes, from the --config file.
// Precedence: command line, then environment, then config file, then default.
template <typename T>
CLI::Option* AddFlag(CLI::App* command, const std::string& flag, T* value, const std::string& help) {
  return command->add_option(flag, *value, help)->envname(FlagEnvName(flag))->capture_default_str();
}

// Adds --config FILE (TOML or INI keys named as the flags) to a command.
void AddConfigFlag(CLI::App* command);

}  // namespace tally
