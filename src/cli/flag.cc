#include "cli/flag.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "cli/usage_error.h"
#include "runtime/log.h"

namespace tally {
namespace {

constexpr char kConfigFlag[] = "--config";


// True if `flag` is given in `args`, as "--flag VALUE" or "--flag=VALUE".
const std::string* FindFlag(const std::vector<std::string>& args, const std::string& flag) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == flag) return i + 1 < args.size() ? &args[i + 1] : &args[i];
    if (args[i].size() > flag.size() && args[i].compare(0, flag.size(), flag) == 0 && args[i][flag.size()] == '=') {
      return &args[i];
    }
  }
  return nullptr;
}

// Appends the config file's values for flags that neither `args` nor the
// environment set. CLI11 itself would let the file override the environment.
std::vector<std::string> MergeConfigFile(const CLI::App& command, std::vector<std::string> args) {
  std::string path;
  if (const std::string* given = FindFlag(args, kConfigFlag)) {
    path = *given == kConfigFlag ? "" : given->substr(given->find('=') == std::string::npos ? 0 : given->find('=') + 1);
    if (path.empty()) throw UsageError{"--config needs a file path"};
  } else if (const char* env = std::getenv("TALLY_CONFIG"); env != nullptr && *env != '\0') {
    path = env;
  } else {
    return args;
  }
  // CLI11 reads a directory, or a file it cannot open, as an empty config:
  // a typo would silently run with the defaults.
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    throw UsageError{absl::StrCat("--config ", path, ": ", std::strerror(errno))};
  }
  if (!S_ISREG(st.st_mode)) throw UsageError{absl::StrCat("--config ", path, ": not a regular file")};
  if (std::FILE* f = std::fopen(path.c_str(), "r"); f != nullptr) {
    std::fclose(f);
  } else {
    throw UsageError{absl::StrCat("--config ", path, ": cannot be read: ", std::strerror(errno))};
  }
  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_file(path);
  } catch (const CLI::Error& e) {
    throw UsageError{absl::StrCat("--config ", path, ": cannot read the file (", e.what(), ")")};
  }
  std::vector<std::string> merged = args;
  for (const CLI::ConfigItem& item : items) {
    if (!item.parents.empty() && !(item.parents.size() == 1 && item.parents[0] == command.get_name())) {
      throw UsageError{absl::StrCat("--config ", path, ": unknown section [", item.parents[0], "]")};
    }
    std::string flag = "--" + item.name;
    std::replace(flag.begin() + 2, flag.end(), '_', '-');
    if (flag == kConfigFlag || command.get_option_no_throw(flag) == nullptr) {
      throw UsageError{absl::StrCat("--config ", path, ": unknown key '", item.name, "' (keys are the flags of 'tally ",
                                    command.get_name(), "' without dashes)")};
    }
    if (FindFlag(args, flag) != nullptr || std::getenv(FlagEnvName(flag).c_str()) != nullptr) continue;
    if (command.get_option(flag)->get_expected_max() == 0) {  // an on/off switch takes true/false after '='
      merged.push_back(absl::StrCat(flag, "=", item.inputs.empty() ? "true" : item.inputs.front()));
      continue;
    }
    merged.push_back(flag);
    merged.insert(merged.end(), item.inputs.begin(), item.inputs.end());
  }
  return merged;
}

}  // namespace

CLI::Validator WholeNumber(long double min, long double max) {
  return CLI::Validator(
      [min, max](std::string& text) -> std::string {
        const std::string range = absl::StrCat("a whole number from ", static_cast<long long>(min), " to ",
                                               max > 9.2e18L ? absl::StrCat(static_cast<unsigned long long>(max))
                                                             : absl::StrCat(static_cast<long long>(max)));
        size_t digits = text.size() > 0 && text[0] == '-' ? 1 : 0;
        if (digits == text.size() || text.size() > 20 ||
            text.find_first_not_of("0123456789", digits) != std::string::npos) {
          return absl::StrCat("'", text, "' is not ", range);
        }
        long double value = 0;
        for (size_t i = digits; i < text.size(); ++i) value = value * 10 + (text[i] - '0');
        if (digits == 1) value = -value;
        if (value < min || value > max) return absl::StrCat("'", text, "' is not ", range);
        return "";
      },
      "INT");
}

std::string FlagEnvName(const std::string& flag) {
  std::string name = "TALLY_";
  for (char c : flag.substr(flag.find_first_not_of('-'))) {
    name.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return name;
}

void AddConfigFlag(CLI::App* command) {
  command->add_option(kConfigFlag, "Read flags from a TOML/INI file: keys are the flags without dashes "
                                   "(lateness = \"7d\"); the command line and the environment win over it")
      ->envname("TALLY_CONFIG");
}

namespace {

int Parse(CLI::App& app, int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (!args.empty() && !args[0].empty() && args[0][0] != '-') {
      CLI::App* command = nullptr;
      for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
        if (sub->get_name() == args[0]) command = sub;
      }
      if (command == nullptr) {
        std::string names;
        for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
          absl::StrAppend(&names, names.empty() ? "" : ", ", sub->get_name());
        }
        throw UsageError{absl::StrCat("unknown command '", args[0], "' (commands: ", names, ")")};
      }
      std::vector<std::string> rest = MergeConfigFile(*command, {args.begin() + 1, args.end()});
      rest.insert(rest.begin(), args[0]);
      args = std::move(rest);
    }
    std::reverse(args.begin(), args.end());  // CLI11 takes its arguments reversed
    app.parse(std::move(args));
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    LogLine("tally", e.what());
    std::fprintf(stderr, "Run 'tally --help' or 'tally <command> --help' for usage.\n");
    return kExitUsage;
  }
  return -1;
}

}  // namespace

int ParseCommandLine(CLI::App& app, int argc, char** argv) {
  return RunCommandLine("tally", [&] { return Parse(app, argc, argv); });
}

}  // namespace tally
