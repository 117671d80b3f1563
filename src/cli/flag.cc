#include "cli/flag.h"

#include <cctype>

namespace tally {

std::string FlagEnvName(const std::string& flag) {
  std::string name = "TALLY_";
  for (char c : flag.substr(flag.find_first_not_of('-'))) {
    name.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return name;
}

void AddConfigFlag(CLI::App* command) {
  command->set_config("--config", "", "Read flags from a TOML/INI file (keys as the flags, without dashes)")
      ->envname("TALLY_CONFIG");
}

}  // namespace tally
