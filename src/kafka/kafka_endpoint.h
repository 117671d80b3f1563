#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tally {

// A topic on a Kafka cluster, as the command line names it:
//   kafka://HOST:PORT[,HOST:PORT...]/TOPIC
struct KafkaEndpoint {
  std::string bootstrap_servers;  // "HOST:PORT,HOST:PORT", librdkafka's bootstrap.servers
  std::string topic;

  // "kafka://127.0.0.1:9092/babbel"
  std::string Describe() const;
};

// Parses a kafka:// endpoint. Fails with a message that names `text` and says
// what the form is. A topic name is 1-249 of [a-zA-Z0-9._-], as Kafka requires.
absl::StatusOr<KafkaEndpoint> ParseKafkaEndpoint(std::string_view text);

// True if `text` starts with "kafka://".
bool IsKafkaEndpoint(std::string_view text);

}  // namespace tally
