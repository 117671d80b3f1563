#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace tally {

// librdkafka properties given by the user (`--kafka key=value`, repeatable):
// TLS, SASL and tuning for MSK or Confluent Cloud pass straight through.
using KafkaProperties = std::vector<std::pair<std::string, std::string>>;

// Parses "key=value" texts and has librdkafka check each key and value. Fails
// (InvalidArgument) naming the first bad text and what is wrong with it, or
// naming the first key tally owns (OwnedKafkaProperty) and why.
absl::StatusOr<KafkaProperties> ParseKafkaProperties(const std::vector<std::string>& texts);

// If tally sets `key` itself and a user's value would break exactly once or
// the job's identity (isolation.level, transactional.id, ...; also under an
// alias librdkafka accepts, or with a "topic." prefix): why, in a few words.
// nullopt for a key the user may set.
std::optional<std::string_view> OwnedKafkaProperty(std::string_view key);

// Owners of librdkafka's handles.
struct KafkaConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
struct KafkaHandleDeleter {
  void operator()(rd_kafka_t* k) const { rd_kafka_destroy(k); }
};
struct KafkaPartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
struct KafkaQueueDeleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
struct KafkaEventDeleter {
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
};
struct KafkaAdminOptionsDeleter {
  void operator()(rd_kafka_AdminOptions_t* o) const { rd_kafka_AdminOptions_destroy(o); }
};
struct KafkaMetadataDeleter {
  void operator()(const rd_kafka_metadata_t* m) const { rd_kafka_metadata_destroy(m); }
};
using KafkaConf = std::unique_ptr<rd_kafka_conf_t, KafkaConfDeleter>;
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaHandleDeleter>;
using KafkaPartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, KafkaPartitionListDeleter>;
using KafkaQueue = std::unique_ptr<rd_kafka_queue_t, KafkaQueueDeleter>;
using KafkaEvent = std::unique_ptr<rd_kafka_event_t, KafkaEventDeleter>;
using KafkaAdminOptions = std::unique_ptr<rd_kafka_AdminOptions_t, KafkaAdminOptionsDeleter>;
using KafkaMetadata = std::unique_ptr<const rd_kafka_metadata_t, KafkaMetadataDeleter>;

// A librdkafka configuration: tally's `defaults` first, then the user's
// `properties` over them. Fails naming the first property librdkafka refuses.
// librdkafka's own log goes through a callback that passes on only critical
// lines: its connection errors repeat on every retry and would drown tally's
// report, and the errors that matter come back to tally as values.
absl::StatusOr<KafkaConf> MakeKafkaConf(const std::vector<std::pair<std::string, std::string>>& defaults,
                                        const KafkaProperties& properties);

// Sets one property; fails naming it and librdkafka's reason.
absl::Status SetKafkaProperty(rd_kafka_conf_t* conf, const std::string& key, const std::string& value);

// A message for a librdkafka error code, e.g. "Local: Broker transport failure".
std::string KafkaErrorText(rd_kafka_resp_err_t err);

// A timeout as librdkafka takes it, in milliseconds.
int KafkaTimeoutMs(absl::Duration d);

// The error of a cluster that did not answer a metadata request within
// `timeout`: names the servers, librdkafka's reason and what to do.
absl::Status KafkaUnreachableError(const std::string& bootstrap_servers, absl::Duration timeout,
                                   rd_kafka_resp_err_t err);

}  // namespace tally
