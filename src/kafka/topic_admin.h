#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "kafka/kafka_config.h"

namespace tally {

// The few admin requests tally makes (librdkafka's Admin API), each bounded
// by a deadline. `client` is any connected librdkafka handle.

// Milliseconds left until `deadline`, at least 1 (librdkafka takes 0 as
// "don't wait").
int RemainingMs(absl::Time deadline);

// Options of one admin request of kind `op`, bounded by `deadline`.
KafkaAdminOptions MakeAdminOptions(rd_kafka_t* client, rd_kafka_admin_op_t op, absl::Time deadline);

// Waits for the result of an admin request sent to `queue`; nullptr if none
// came by `deadline`.
KafkaEvent AwaitResult(rd_kafka_queue_t* queue, absl::Time deadline);

// What CreateTopic got: NO_ERROR if the topic was made; else librdkafka's
// error (TOPIC_ALREADY_EXISTS if it was there, __TIMED_OUT if no answer came)
// and its text.
struct CreateTopicResult {
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::string text;
};

// Asks the cluster to create `topic` with `partitions` partitions (-1: the
// broker's num.partitions), the broker's default replication factor and the
// given topic configs, and waits for the answer until `deadline`.
CreateTopicResult CreateTopic(rd_kafka_t* client, const std::string& topic, int32_t partitions,
                              const std::vector<std::pair<std::string, std::string>>& configs, absl::Time deadline);

// The bootstrap.servers `client` was made with, for messages.
std::string ClientBootstrapServers(rd_kafka_t* client);

// The value of `topic`'s config `name` (e.g. cleanup.policy: "delete",
// "compact", "compact,delete"), asked with DescribeConfigs. Unavailable,
// naming the topic, if the cluster does not answer by `deadline`, answers
// with an error, or has no such config.
absl::StatusOr<std::string> TopicConfig(rd_kafka_t* client, const std::string& topic, absl::string_view name,
                                        absl::Time deadline);

// `topic`'s partition count; 0 if the cluster's metadata says it does not
// exist. With `wait_for_it`, waits until the metadata shows the topic with a
// leader for every partition (a topic just created). Asks for every topic's
// metadata, never the one's: a request naming a missing topic would have a
// broker that auto-creates topics create it, with the wrong settings.
// Unavailable if the cluster does not answer (or show the leaders) by
// `deadline`.
absl::StatusOr<int> TopicPartitionCount(rd_kafka_t* client, const std::string& topic, bool wait_for_it,
                                        absl::Time deadline);

// Deletes the records of `topic` before each (partition, offset) of
// `before` (Kafka's DeleteRecords: the log start moves up to the offset).
// What the broker refuses or does not answer by `deadline` is returned, and
// nothing else is undone: deleting is only a cleanup.
absl::Status DeleteRecordsBefore(rd_kafka_t* client, const std::string& topic,
                                 const std::vector<std::pair<int32_t, int64_t>>& before, absl::Time deadline);

}  // namespace tally
