#pragma once

#include <cstdint>
#include <string>

#include "CLI/CLI.hpp"
#include "generate/event_generator.h"

namespace tally {

// The generator's knobs, shared by `tally generate` and `tally produce`, as
// given (validated when the command runs).
struct GeneratorFlags {
  int64_t events = 100'000;
  int64_t learners = 1'000;
  int64_t days = 7;
  std::string start_date = "2024-01-01";
  double duplicate_ratio = 0.05;
  double late_ratio = 0.01;
  double invalid_ratio = 0.01;
  std::string lateness = "7d";
  std::string out_of_order = "1h";
  int64_t oversized_bytes = 0;
  std::string time_format = "mixed";
  std::string timezone = "UTC";
  std::string uuid_case = "mixed";
  int64_t seed = 1;
};

// Declares the generator's flags on `command`.
void AddGeneratorFlags(CLI::App* command, GeneratorFlags* flags);

// Checks the flags and turns them into options; throws UsageError naming a
// bad flag.
GeneratorOptions GeneratorOptionsFromFlags(const GeneratorFlags& flags);

// Flags of `tally generate`.
struct GenerateFlags {
  GeneratorFlags generator;
  std::string output = "-";
};

// Declares `generate` and its flags on `app`; the flags land in *flags.
CLI::App* AddGenerateCommand(CLI::App& app, GenerateFlags* flags);

// Writes the stream. Returns the process exit code; reports on stderr.
int GenerateCommand(const GenerateFlags& flags);

}  // namespace tally
