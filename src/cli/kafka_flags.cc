#include "cli/kafka_flags.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sys/stat.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cli/flag.h"
#include "cli/usage_error.h"

namespace tally {
namespace {

struct SecretVariable {
  const char* variable;
  const char* property;
};
constexpr SecretVariable kSecretVariables[] = {
    {"TALLY_KAFKA_SASL_PASSWORD", "sasl.password"},
    {"TALLY_KAFKA_SSL_KEY_PASSWORD", "ssl.key.password"},
    {"TALLY_KAFKA_SSL_KEYSTORE_PASSWORD", "ssl.keystore.password"},
    {"TALLY_KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET", "sasl.oauthbearer.client.secret"},
};

// The KEY=VALUE lines of a properties file, as settings.
std::vector<std::string> ReadPropertiesFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    throw UsageError{absl::StrCat("--kafka-config ", path, ": ", std::strerror(errno))};
  }
  if (!S_ISREG(st.st_mode)) throw UsageError{absl::StrCat("--kafka-config ", path, ": not a regular file")};
  std::ifstream in(path);
  if (!in) throw UsageError{absl::StrCat("--kafka-config ", path, ": cannot be read: ", std::strerror(errno))};
  std::vector<std::string> settings;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty() || text[0] == '#' || text[0] == '!') continue;
    const size_t eq = text.find('=');
    if (eq == absl::string_view::npos || eq == 0) {
      throw UsageError{absl::StrCat("--kafka-config ", path, " line ", number, ": expected KEY=VALUE")};
    }
    settings.push_back(absl::StrCat(absl::StripTrailingAsciiWhitespace(text.substr(0, eq)), "=",
                                    absl::StripLeadingAsciiWhitespace(text.substr(eq + 1))));
  }
  return settings;
}

}  // namespace

void AddKafkaClientFlags(CLI::App* command, KafkaClientFlags* flags) {
  AddFlag(command, "--kafka-config", &flags->config_file,
          "A librdkafka properties file (KEY=VALUE lines) for every Kafka client; --kafka wins over it");
  AddFlag(command, "--kafka", &flags->settings,
          "A librdkafka property KEY=VALUE for every Kafka client (repeatable), e.g. security.protocol=SASL_SSL; "
          "secrets rather in --kafka-config or TALLY_KAFKA_SASL_PASSWORD");
}

KafkaProperties KafkaClientProperties(const KafkaClientFlags& flags) {
  std::vector<std::string> settings;
  if (!flags.config_file.empty()) settings = ReadPropertiesFile(flags.config_file);
  for (const SecretVariable& secret : kSecretVariables) {
    if (const char* value = std::getenv(secret.variable); value != nullptr && *value != '\0') {
      settings.push_back(absl::StrCat(secret.property, "=", value));
    }
  }
  settings.insert(settings.end(), flags.settings.begin(), flags.settings.end());
  auto properties = ParseKafkaProperties(settings);
  if (!properties.ok()) {
    throw UsageError{absl::StrCat(flags.config_file.empty() ? "--kafka " : "--kafka / --kafka-config ",
                                  properties.status().message())};
  }
  return std::move(*properties);
}

}  // namespace tally
