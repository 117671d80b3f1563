#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "cli/generate_command.h"
#include "cli/kafka_flags.h"

namespace tally {

// Flags of `tally produce`, as given (validated when the command runs).
struct ProduceFlags {
  std::string to;
  std::string from;  // file:PATH or -; empty: the generator
  GeneratorFlags generator;
  double rate = 0;   // records per second; 0: as fast as the broker takes them
  std::string key_field = "UserUUID";
  KafkaClientFlags kafka;
};

// Declares `produce` and its flags on `app`; the flags land in *flags.
CLI::App* AddProduceCommand(CLI::App& app, ProduceFlags* flags);

// Produces the records. Returns the process exit code; reports on stderr.
int ProduceCommand(const ProduceFlags& flags);

}  // namespace tally
