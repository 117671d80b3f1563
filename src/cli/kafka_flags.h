#pragma once

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "kafka/kafka_config.h"

namespace tally {

// The Kafka client settings of a command, as given.
struct KafkaClientFlags {
  std::string config_file;            // --kafka-config FILE
  std::vector<std::string> settings;  // --kafka KEY=VALUE, repeatable
};

// Declares --kafka-config and --kafka on `command`.
void AddKafkaClientFlags(CLI::App* command, KafkaClientFlags* flags);

// The librdkafka properties for every Kafka client of a command, from three
// sources, each later one winning over the earlier:
//   1. --kafka-config FILE: a properties file, KEY=VALUE a line, '#' or '!'
//      comments (the client.properties of Java clients), so secrets need not
//      be on a command line, where process lists and shell histories show it;
//   2. secrets from the environment: TALLY_KAFKA_SASL_PASSWORD (sasl.password),
//      TALLY_KAFKA_SSL_KEY_PASSWORD (ssl.key.password),
//      TALLY_KAFKA_SSL_KEYSTORE_PASSWORD (ssl.keystore.password),
//      TALLY_KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET (sasl.oauthbearer.client.secret);
//   3. --kafka KEY=VALUE.
// Throws UsageError naming the file and line or the setting, never a secret's
// value, if one is malformed or librdkafka refuses it.
KafkaProperties KafkaClientProperties(const KafkaClientFlags& flags);

}  // namespace tally
